/* test_hlsmaster.c -- the master playlist rendered from rendition rows. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hlsmaster.h"

static char *
render(const struct video_rendition *r, size_t n)
{
    size_t len = 0;
    char *s = hlsmaster_render(r, n, &len);
    cr_assert_not_null(s);
    cr_assert_eq(strlen(s), len);
    return s;
}

Test(hlsmaster, a_portrait_ladder_is_described_by_what_each_rendition_is)
{
    struct video_rendition r[3] = {
        { 854, 480, 1100000, 900000, "avc1.4d401e,mp4a.40.2", "480p", 30.0, 0 },
        { 1280, 720, 2900000, 2400000, "avc1.64001f,mp4a.40.2", "720p", 30.0, 0 },
        { 1920, 1080, 5300000, 4800000, "avc1.640028,mp4a.40.2", "1080p", 30.0, 0 },
    };
    char *s = render(r, 3);
    /* 720p (2.4 Mbit/s on average) is nearest to 2 Mbit/s: listed first, the default. */
    cr_expect_str_eq(s, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
                        "#EXT-X-STREAM-INF:BANDWIDTH=2900000,AVERAGE-BANDWIDTH=2400000,"
                        "RESOLUTION=720x1280,FRAME-RATE=30.000,CODECS=\"avc1.64001f,mp4a.40.2\"\n"
                        "720p/index.m3u8\n"
                        "#EXT-X-STREAM-INF:BANDWIDTH=1100000,AVERAGE-BANDWIDTH=900000,"
                        "RESOLUTION=480x854,FRAME-RATE=30.000,CODECS=\"avc1.4d401e,mp4a.40.2\"\n"
                        "480p/index.m3u8\n"
                        "#EXT-X-STREAM-INF:BANDWIDTH=5300000,AVERAGE-BANDWIDTH=4800000,"
                        "RESOLUTION=1080x1920,FRAME-RATE=30.000,CODECS=\"avc1.640028,mp4a.40.2\"\n"
                        "1080p/index.m3u8\n");
    free(s);
}

Test(hlsmaster, old_rows_and_odd_values)
{
    struct video_rendition r[3] = {
        /* no measurements (an old row): estimated bandwidth, no FRAME-RATE, no CODECS */
        { 480, 854, 0, 0, "", "480p", 0.0, 0 },
        /* codecs that would break the attribute list are left out; 59.94 fps */
        { 720, 1280, 3000000, 2000000, "avc1\"x", "720p", 60000.0 / 1001.0, 0 },
        /* without a name there is no URI to give */
        { 1080, 1920, 6000000, 5000000, "avc1.640028", "", 25.0, 0 },
    };
    char *s = render(r, 3);
    cr_expect_not_null(strstr(s, "#EXT-X-STREAM-INF:BANDWIDTH=1400000,RESOLUTION=854x480\n"
                                 "480p/index.m3u8\n"));
    cr_expect_not_null(strstr(s, "#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2000000,"
                                 "RESOLUTION=1280x720,FRAME-RATE=59.940\n720p/index.m3u8\n"));
    cr_expect_null(strstr(s, "1920"));
    cr_expect_null(strstr(s, "CODECS"));
    free(s);
    s = render(r, 0);
    cr_expect_str_eq(s, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    free(s);
}

/* The URIs in the order listed. */
static void
order(const struct video_rendition *r, size_t n, const char *want)
{
    char *s = render(r, n), got[64] = "";
    size_t used = 0;
    for (const char *p = s; (p = strstr(p, "\n")) != NULL; p++) {
        if (p[1] != '#' && p[1] != '\0') {
            int l = (int)strcspn(p + 1, "/");
            int w = snprintf(got + used, sizeof(got) - used, "%.*s ", l, p + 1);
            cr_assert(w > 0 && (size_t)w < sizeof(got) - used);
            used += (size_t)w;
        }
    }
    cr_expect_str_eq(got, want);
    free(s);
}

Test(hlsmaster, the_default_is_the_variant_nearest_2_mbits_the_rest_ascending)
{
    struct video_rendition r[3] = {
        { 1080, 1920, 7000000, 5000000, "a", "1080p", 25.0, 0 },
        { 480, 854, 1400000, 1000000, "a", "480p", 25.0, 0 },
        { 720, 1280, 3800000, 2800000, "a", "720p", 25.0, 0 },
    };
    order(r, 3, "720p 480p 1080p ");
    /* Easy content: 1080p at 2.1 Mbit/s is the nearest. */
    r[0].avg_bandwidth = 2100000;
    r[0].bandwidth = 2600000;
    r[2].avg_bandwidth = 1100000;
    r[2].bandwidth = 1500000;
    r[1].avg_bandwidth = 500000;
    order(r, 3, "1080p 480p 720p ");
    /* Only big ones: the lowest; one alone is simply listed. */
    struct video_rendition big[2] = { { 1080, 1920, 9000000, 8000000, "a", "1080p", 25.0, 0 },
                                      { 720, 1280, 6000000, 5000000, "a", "720p", 25.0, 0 } };
    order(big, 2, "720p 1080p ");
    order(big, 1, "1080p ");
    /* A tie goes to the lower: 1 and 4 Mbit/s are both 2x from 2. */
    struct video_rendition tie[2] = { { 720, 1280, 4000000, 4000000, "a", "720p", 25.0, 0 },
                                      { 480, 854, 1000000, 1000000, "a", "480p", 25.0, 0 } };
    order(tie, 2, "480p 720p ");
}

Test(hlsmaster, i_frame_playlists_are_listed_after_the_variants)
{
    struct video_rendition r[2] = {
        { 720, 1280, 3800000, 2800000, "avc1.64001f,mp4a.40.2", "720p", 25.0, 310000 },
        { 480, 854, 1400000, 1000000, "avc1.4d401e,mp4a.40.2", "480p", 25.0, 120000 },
    };
    char *s = render(r, 2);
    const char *want = "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=120000,RESOLUTION=854x480,"
                       "CODECS=\"avc1.4d401e\",URI=\"480p/iframes.m3u8\"\n"
                       "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=310000,RESOLUTION=1280x720,"
                       "CODECS=\"avc1.64001f\",URI=\"720p/iframes.m3u8\"\n";
    const char *at = strstr(s, want);
    cr_expect_not_null(at, "%s", s);
    cr_expect(at != NULL && strlen(at) == strlen(want), "after every variant");
    free(s);
    /* None for a row without one (an old row). */
    r[0].iframe_bandwidth = 0;
    s = render(r, 2);
    cr_expect_null(strstr(s, "720p/iframes.m3u8"));
    cr_expect_not_null(strstr(s, "480p/iframes.m3u8"));
    free(s);
}
