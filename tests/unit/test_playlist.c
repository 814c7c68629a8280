/* test_playlist.c -- HLS playlist parsing, the VOD fix-up, validation and the master playlist. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "playlist.h"

static char dir[] = "/tmp/vf-test-playlist-XXXXXX";

static void
setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

static void
put(const char *name, const char *body, size_t n)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp);
    cr_assert_eq(fwrite(body, 1, n, fp), n);
    fclose(fp);
}

static char *
slurp(const char *name)
{
    static char buf[8192];
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp);
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* What hlssink2 (GStreamer 1.22) writes: live-style, no playlist type. */
static const char HLSSINK2[] = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:0\n"
                               "#EXT-X-TARGETDURATION:4\n\n#EXTINF:4,\n000.ts\n"
                               "#EXTINF:4.4000000953674316,\n001.ts\n#EXTINF:1.5,\n002.ts\n"
                               "#EXT-X-ENDLIST\n";

TestSuite(playlist, .init = setup, .fini = teardown);

/* HLSSINK2 written as <dir>/index.m3u8 (its path into path) and loaded; playlist_free it. */
static struct playlist *
load_hlssink2(char *path, size_t len)
{
    char why[128] = "";
    struct playlist *pl = NULL;
    put("index.m3u8", HLSSINK2, strlen(HLSSINK2));
    snprintf(path, len, "%s/index.m3u8", dir);
    cr_assert_eq(playlist_load(path, &pl, why, sizeof(why)), VF_OK, "%s", why);
    return pl;
}

Test(playlist, parses_hlssink2_output)
{
    put("index.m3u8", HLSSINK2, strlen(HLSSINK2));
    struct playlist *pl = NULL;
    char why[128] = "";
    cr_assert_eq(playlist_load("/dev/null", &pl, why, sizeof(why)), VF_ERR_INVALID,
                 "an empty file is not a playlist");
    char path[256];
    snprintf(path, sizeof(path), "%s/index.m3u8", dir);
    cr_assert_eq(playlist_load(path, &pl, why, sizeof(why)), VF_OK, "%s", why);
    cr_expect_eq(pl->n, 3);
    cr_expect(pl->endlist);
    cr_expect(!pl->vod);
    cr_expect_eq(pl->target_duration, 4);
    cr_expect_str_eq(pl->seg[2].uri, "002.ts");
    cr_expect_float_eq(playlist_duration(pl), 9.9, 1e-6);
    playlist_free(pl);
}

Test(playlist, vod_fixup_adds_type_endlist_and_a_covering_target_duration)
{
    char path[256], why[128] = "";
    struct playlist *pl = load_hlssink2(path, sizeof(path));
    pl->endlist = false; /* as if hlssink2 had not written it */
    cr_assert_eq(playlist_write_vod(pl, path), VF_OK);
    playlist_free(pl);
    const char *body = slurp("index.m3u8");
    cr_expect_not_null(strstr(body, "#EXT-X-PLAYLIST-TYPE:VOD\n"));
    cr_expect_not_null(strstr(body, "#EXT-X-ENDLIST\n"));
    cr_expect_not_null(strstr(body, "#EXT-X-TARGETDURATION:4\n"));
    cr_expect_eq(strncmp(body, "#EXTM3U\n", 8), 0);
    cr_assert_eq(playlist_load(path, &pl, why, sizeof(why)), VF_OK, "%s", why);
    cr_expect(pl->vod && pl->endlist);
    cr_expect_eq(pl->n, 3);
    playlist_free(pl);
}

Test(playlist, target_duration_rounds_up_a_long_segment)
{
    static const char long_seg[] = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.6,\n000.ts\n";
    put("index.m3u8", long_seg, strlen(long_seg));
    char path[256], why[128] = "";
    snprintf(path, sizeof(path), "%s/index.m3u8", dir);
    struct playlist *pl = NULL;
    cr_assert_eq(playlist_load(path, &pl, why, sizeof(why)), VF_OK, "%s", why);
    cr_assert_eq(playlist_write_vod(pl, path), VF_OK);
    playlist_free(pl);
    cr_expect_not_null(strstr(slurp("index.m3u8"), "#EXT-X-TARGETDURATION:5\n"));
}

Test(playlist, rejects_what_we_never_write)
{
    static const char *const bad[] = {
        "#EXTM3U\n#EXTINF:4,\n../etc/passwd\n",
        "#EXTM3U\n#EXTINF:4,\nhttp://evil/000.ts\n",
        "#EXTM3U\n000.ts\n",
        "#EXTM3U\n#EXTINF:-1,\n000.ts\n",
        "#EXTM3U\n#EXTINF:abc,\n000.ts\n",
        "NOTM3U\n#EXTINF:4,\n000.ts\n",
        "",
    };
    char path[256];
    snprintf(path, sizeof(path), "%s/bad.m3u8", dir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        put("bad.m3u8", bad[i], strlen(bad[i]));
        struct playlist *pl = NULL;
        char why[128] = "";
        cr_expect_eq(playlist_load(path, &pl, why, sizeof(why)), VF_ERR_INVALID, "case %zu", i);
        cr_expect_null(pl);
        cr_expect(why[0] != '\0', "case %zu has a reason", i);
    }
}

Test(playlist, measure_needs_every_segment_and_computes_peak_and_average)
{
    char path[256], why[128] = "";
    struct playlist *pl = load_hlssink2(path, sizeof(path));
    struct playlist_stats st;
    put("000.ts", "x", 1);
    cr_expect_eq(playlist_measure(pl, dir, &st, why, sizeof(why)), VF_ERR_INVALID);
    cr_expect_not_null(strstr(why, "001.ts"), "%s", why);

    static char big[100000];
    put("000.ts", big, 50000); /* 100 kbit/s over 4 s */
    put("001.ts", big, 88000); /* 160 kbit/s over 4.4 s: the peak */
    put("002.ts", big, 40000); /* 213 kbit/s but a short tail: not the peak */
    cr_assert_eq(playlist_measure(pl, dir, &st, why, sizeof(why)), VF_OK, "%s", why);
    cr_expect_eq(st.bytes, 178000);
    cr_expect(st.peak_bps >= 159999 && st.peak_bps <= 160001, "peak %lld", (long long)st.peak_bps);
    cr_expect_eq(st.avg_bps, (int64_t)(178000 * 8 / 9.9));
    playlist_free(pl);
}

Test(playlist, master_lists_every_variant)
{
    struct video_rendition v[2] = {
        { 480, 854, 1200000, 900000, "avc1.4d401e,mp4a.40.2", "480p", 25.0, 0 },
        { 720, 1280, 3000000, 2500000, "avc1.64001f,mp4a.40.2", "720p", 25.0, 0 },
    };
    char path[256];
    snprintf(path, sizeof(path), "%s/master.m3u8", dir);
    cr_assert_eq(playlist_write_master(path, v, 2), VF_OK);
    const char *body = slurp("master.m3u8");
    cr_expect_not_null(strstr(body, "#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=900000,"
                                    "RESOLUTION=854x480,FRAME-RATE=25.000,"
                                    "CODECS=\"avc1.4d401e,mp4a.40.2\"\n"
                                    "480p/index.m3u8\n"));
    cr_expect_not_null(strstr(body, "RESOLUTION=1280x720"));
}

Test(playlist, iframe_playlist_addresses_each_segments_keyframe)
{
    static const char two[] = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\n000.ts\n"
                              "#EXTINF:1.5,\n001.ts\n#EXT-X-ENDLIST\n";
    put("index.m3u8", two, strlen(two));
    char path[256], why[256] = "";
    snprintf(path, sizeof(path), "%s/index.m3u8", dir);
    struct playlist *pl = NULL;
    cr_assert_eq(playlist_load(path, &pl, why, sizeof(why)), VF_OK, "%s", why);
    size_t len[2] = { 188 * 40, 188 * 12 };
    snprintf(path, sizeof(path), "%s/iframes.m3u8", dir);
    cr_assert_eq(playlist_write_iframes(pl, len, path), VF_OK);
    cr_expect_str_eq(slurp("iframes.m3u8"),
                     "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-I-FRAMES-ONLY\n"
                     "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:4\n"
                     "#EXT-X-MEDIA-SEQUENCE:0\n"
                     "#EXTINF:4.000000,\n#EXT-X-BYTERANGE:7520@0\n000.ts\n"
                     "#EXTINF:1.500000,\n#EXT-X-BYTERANGE:2256@0\n001.ts\n#EXT-X-ENDLIST\n");
    playlist_free(pl);
}
