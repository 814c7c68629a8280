/* test_mediafile.c -- the HLS path allow-list and safe opening (RELIABILITY.md item 11). */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mediafile.h"

struct good_case {
    const char *path;
    enum mediafile_kind kind;
    int64_t id;
    enum mediafile_res res;
    const char *name;
};

static const struct good_case good[] = {
    { "/api/video/7/480p/index.m3u8", MEDIAFILE_PLAYLIST, 7, MEDIAFILE_480P, "index.m3u8" },
    { "/api/video/7/720p/iframes.m3u8", MEDIAFILE_PLAYLIST, 7, MEDIAFILE_720P, "iframes.m3u8" },
    { "/api/video/7/720p/000.ts", MEDIAFILE_SEGMENT, 7, MEDIAFILE_720P, "000.ts" },
    { "/api/video/7/1080p/000.ts/", MEDIAFILE_SEGMENT, 7, MEDIAFILE_1080P, "000.ts" },
    { "/api/video/123/480p/1234.ts", MEDIAFILE_SEGMENT, 123, MEDIAFILE_480P, "1234.ts" },
    { "/api/video/9/master.m3u8", MEDIAFILE_MASTER, 9, MEDIAFILE_480P, "master.m3u8" },
    /* one decoding of harmless escapes is fine */
    { "/api/video/%37/480p/%30%30%30.ts", MEDIAFILE_SEGMENT, 7, MEDIAFILE_480P, "000.ts" },
};

Test(mediafile, allow_list_accepts_the_contract_paths)
{
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct mediafile_path p;
        cr_assert_eq(mediafile_parse(good[i].path, &p), VF_OK, "%s", good[i].path);
        cr_expect_eq(p.kind, good[i].kind, "%s", good[i].path);
        cr_expect_eq(p.video_id, good[i].id, "%s", good[i].path);
        if (p.kind != MEDIAFILE_MASTER)
            cr_expect_eq(p.res, good[i].res, "%s", good[i].path);
        cr_expect_str_eq(p.name, good[i].name, "%s", good[i].path);
    }
}

/* The traversal corpus: none of these may ever name a file. */
static const char *const bad[] = {
    "/api/video/7/480p/../../../etc/passwd",
    "/api/video/7/480p/..",
    "/api/video/7/../480p/000.ts",
    "/api/video/../7/480p/000.ts",
    "/api/video/7/480p/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/api/video/7/480p/%2e%2e",
    "/api/video/7/480p/..%2f000.ts",
    "/api/video/7/480p/%252e%252e%252f000.ts",
    "/api/video/7/480p/%252e%252e",
    "/api/video/7/480p/000.ts%00",
    "/api/video/7/480p/000.ts%00.m3u8",
    "/api/video/7/480p/%00",
    "/api/video/7/480p/..\\..\\etc\\passwd",
    "/api/video/7/480p/000.ts\\",
    "/api/video/7/480p%5c000.ts",
    "/api/video/7/480p%2f000.ts/..",
    "/api/video/7/480p/%2F000.ts",
    "/api/video/7/480p//000.ts",
    "/api/video/7//480p/000.ts",
    "/api/video/7/480p/000.ts//",
    "/api/video/7/480p/000.mp4",
    "/api/video/7/480p/000.ts.bak",
    "/api/video/7/480p/.ts",
    "/api/video/7/480p/a00.ts",
    "/api/video/7/480p/-1.ts",
    "/api/video/7/480p/1234567890.ts",
    "/api/video/7/480p/index.m3u8/",
    "/api/video/7/480p/iframes.m3u8/",
    "/api/video/7/480p/iframe.m3u8",
    "/api/video/7/iframes.m3u8",
    "/api/video/7/480p/master.m3u8",
    "/api/video/7/480p/",
    "/api/video/7/480p",
    "/api/video/7/360p/000.ts",
    "/api/video/7/480P/000.ts",
    "/api/video/7/master.m3u8/",
    "/api/video/7/index.m3u8",
    "/api/video/07/480p/000.ts",
    "/api/video/0/480p/000.ts",
    "/api/video/-7/480p/000.ts",
    "/api/video/7a/480p/000.ts",
    "/api/video/99999999999999999999/480p/000.ts",
    "/api/video/7/480p/000.ts/x",
    "/api/video/",
    "/api/video",
    "/video/7/480p/000.ts",
    "/API/video/7/480p/000.ts",
    "/api/video/7/480p/%",
    "/api/video/7/480p/%zz.ts",
    "/api/video/7/480p/000.ts?x",
    "/api/video/7/480p/ 000.ts",
    "/api/video/7/480p/000.ts\n",
    "",
};

Test(mediafile, traversal_corpus_is_refused)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct mediafile_path p;
        cr_expect_eq(mediafile_parse(bad[i], &p), VF_ERR_NOTFOUND, "accepted: %s", bad[i]);
    }
    struct mediafile_path p;
    cr_expect_eq(mediafile_parse(NULL, &p), VF_ERR_NOTFOUND);
}

Test(mediafile, segment_names_allow_more_than_999)
{
    cr_expect(mediafile_is_segment_name("000.ts", 6));
    cr_expect(mediafile_is_segment_name("1000.ts", 7));
    cr_expect(mediafile_is_segment_name("123456789.ts", 12));
    cr_expect_not(mediafile_is_segment_name("1234567890.ts", 13));
    cr_expect_not(mediafile_is_segment_name(".ts", 3));
    cr_expect_not(mediafile_is_segment_name("01.tsx", 6));
}

Test(mediafile, res_helpers_map_heights_to_the_ladder)
{
    cr_expect_str_eq(mediafile_res_name(MEDIAFILE_1080P), "1080p");
    cr_expect_null(mediafile_res_name(MEDIAFILE_NRES));
    cr_expect_eq(mediafile_res_height(MEDIAFILE_720P), 720);
    cr_expect_eq(mediafile_res_for_height(240), MEDIAFILE_480P);
    cr_expect_eq(mediafile_res_for_height(480), MEDIAFILE_480P);
    cr_expect_eq(mediafile_res_for_height(576), MEDIAFILE_720P);
    cr_expect_eq(mediafile_res_for_height(1080), MEDIAFILE_1080P);
    cr_expect_eq(mediafile_res_for_height(2160), MEDIAFILE_1080P);
    /* A stored rendition: by its name, else (an old row) by its short side. */
    cr_expect_eq(mediafile_res_of("720p", 1080, 1920), MEDIAFILE_720P);
    cr_expect_eq(mediafile_res_of("", 480, 854), MEDIAFILE_480P);
    cr_expect_eq(mediafile_res_of("", 1080, 1920), MEDIAFILE_1080P);
    cr_expect_eq(mediafile_res_of("bogus", 720, 1280), MEDIAFILE_720P);
    cr_expect_eq(mediafile_res_of(NULL, 640, 360), MEDIAFILE_480P);
}

/* ---- opening: a media tree in a temp dir ---- */

static char root[64];

static void
put(const char *rel, const char *content)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(content, f);
    fclose(f);
}

static void
mk(const char *rel)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
}

static void
setup_tree(void)
{
    strcpy(root, "/tmp/vf-mediafile-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    mk("hls");
    mk("hls/7");
    mk("hls/7/480p");
    mk("hls/7/720p");
    put("hls/7/480p/index.m3u8", "#EXTM3U\n480\n");
    put("hls/7/480p/000.ts", "seg480");
    put("hls/7/720p/index.m3u8", "#EXTM3U\n720\n");
    put("hls/7/720p/000.ts", "seg720");
    put("hls/7/master.m3u8", "#EXTM3U\nmaster\n");
    mk("hls/7/720p/001.ts"); /* a directory where a segment should be */
    char fifo[256];
    snprintf(fifo, sizeof(fifo), "%s/hls/7/720p/002.ts", root);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    /* planted symlinks */
    char link[256];
    snprintf(link, sizeof(link), "%s/hls/7/480p/003.ts", root);
    cr_assert_eq(symlink("/etc/passwd", link), 0);
    snprintf(link, sizeof(link), "%s/hls/8", root);
    cr_assert_eq(symlink("7", link), 0);
    mk("hls/9");
    snprintf(link, sizeof(link), "%s/hls/9/480p", root);
    cr_assert_eq(symlink("/etc", link), 0);
}

static void
teardown_tree(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (root[0] && system(cmd) != 0)
        cr_log_warn("could not remove %s", root);
}

static enum vf_err
open_path(const char *url, char *content, size_t len, enum mediafile_res *used)
{
    struct mediafile_path p;
    struct stat st;
    int fd;
    enum vf_err err = mediafile_parse(url, &p);
    if (err)
        return err;
    err = mediafile_open(root, &p, &fd, &st, used);
    if (err)
        return err;
    ssize_t n = read(fd, content, len - 1);
    close(fd);
    cr_assert_geq(n, 0);
    content[n] = '\0';
    cr_expect_eq((off_t)n, st.st_size);
    return VF_OK;
}

TestSuite(mediafile_open, .init = setup_tree, .fini = teardown_tree);

Test(mediafile_open, opens_playlists_segments_and_master)
{
    char buf[64];
    enum mediafile_res used;
    cr_assert_eq(open_path("/api/video/7/480p/index.m3u8", buf, sizeof(buf), &used), VF_OK);
    cr_expect_str_eq(buf, "#EXTM3U\n480\n");
    cr_expect_eq(used, MEDIAFILE_480P);
    cr_assert_eq(open_path("/api/video/7/720p/000.ts/", buf, sizeof(buf), &used), VF_OK);
    cr_expect_str_eq(buf, "seg720");
    cr_assert_eq(open_path("/api/video/7/master.m3u8", buf, sizeof(buf), NULL), VF_OK);
    cr_expect_str_eq(buf, "#EXTM3U\nmaster\n");
}

Test(mediafile_open, resolution_above_source_maps_to_highest_rendition)
{
    char buf[64];
    enum mediafile_res used = MEDIAFILE_480P;
    cr_assert_eq(open_path("/api/video/7/1080p/index.m3u8", buf, sizeof(buf), &used), VF_OK);
    cr_expect_str_eq(buf, "#EXTM3U\n720\n");
    cr_expect_eq(used, MEDIAFILE_720P);
    cr_assert_eq(open_path("/api/video/7/1080p/000.ts", buf, sizeof(buf), &used), VF_OK);
    cr_expect_str_eq(buf, "seg720");
    char rel[64];
    struct mediafile_path p;
    cr_assert_eq(mediafile_parse("/api/video/7/1080p/000.ts", &p), VF_OK);
    cr_expect_eq(mediafile_relpath(&p, used, rel, sizeof(rel)), 13);
    cr_expect_str_eq(rel, "7/720p/000.ts");
    cr_expect_eq(mediafile_relpath(&p, used, rel, 5), -1);
}

Test(mediafile_open, missing_symlinked_and_special_files_are_not_found)
{
    char buf[64];
    static const char *const cases[] = {
        "/api/video/7/480p/999.ts",     /* missing */
        "/api/video/7/480p/003.ts",     /* symlink to /etc/passwd */
        "/api/video/8/480p/000.ts",     /* symlinked video directory */
        "/api/video/9/480p/index.m3u8", /* symlinked rendition directory */
        "/api/video/7/720p/001.ts",     /* a directory */
        "/api/video/7/720p/002.ts",     /* a FIFO: must not block */
        "/api/video/6/480p/000.ts",     /* unknown video */
        "/api/video/8/master.m3u8",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_expect_eq(open_path(cases[i], buf, sizeof(buf), NULL), VF_ERR_NOTFOUND, "%s", cases[i]);
}

Test(mediafile_open, symlinked_rendition_is_not_replaced_by_a_fallback)
{
    /* hls/9/480p is a symlink: refused, not "missing", so no fallback happens. */
    char buf[64];
    cr_expect_eq(open_path("/api/video/9/480p/000.ts", buf, sizeof(buf), NULL), VF_ERR_NOTFOUND);
}

Test(mediafile, content_types)
{
    cr_expect_str_eq(mediafile_content_type(MEDIAFILE_SEGMENT), "video/MP2T");
    cr_expect_str_eq(mediafile_content_type(MEDIAFILE_PLAYLIST), "application/vnd.apple.mpegurl");
    cr_expect_str_eq(mediafile_content_type(MEDIAFILE_MASTER), "application/vnd.apple.mpegurl");
}
