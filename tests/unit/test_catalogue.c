/* test_catalogue.c -- the video list: JSON format, ordering, cache and ETag; the videos table. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalogue.h"
#include "clock.h"
#include "db.h"
#include "dbfixture.h"
#include "log.h"
#include "video.h"

Test(catalogue_render, keys_in_contract_order_and_formats)
{
    const struct catalogue_item items[] = {
        { 7, 1751636000123456, "Big \"Buck\"", "A rabbit\nline two", "Drama", true },
        { 3, 0, "Ümlaut ☃", "", "", false },
    };
    size_t len = 0;
    char *s = catalogue_render(items, 2, "http://127.0.0.1:8000", &len);
    cr_assert_not_null(s);
    cr_expect_str_eq(
        s, "[{\"id\":7,\"created_at\":\"2025-07-04T13:33:20.123456Z\",\"title\":\"Big "
           "\\\"Buck\\\"\",\"description\":\"A rabbit\\nline two\",\"thumbnail_url\":"
           "\"http://127.0.0.1:8000/media/thumbnails/7.jpg\",\"category\":\"Drama\"},"
           "{\"id\":3,\"created_at\":\"1970-01-01T00:00:00.000000Z\",\"title\":\"Ümlaut ☃\","
           "\"description\":\"\",\"thumbnail_url\":null,\"category\":\"\"}]");
    cr_expect_eq(len, strlen(s));
    free(s);
}

Test(catalogue_render, empty_list_is_an_empty_array)
{
    size_t len = 0;
    char *s = catalogue_render(NULL, 0, "http://x", &len);
    cr_assert_not_null(s);
    cr_expect_str_eq(s, "[]");
    free(s);
}

Test(catalogue_render, large_ids_stay_integers)
{
    const struct catalogue_item it = { 3000000000LL, 1, "t", "d", "c", false };
    char *s = catalogue_render(&it, 1, "", NULL);
    cr_assert_not_null(s);
    cr_expect(strncmp(s, "[{\"id\":3000000000,", 17) == 0, "%s", s);
    free(s);
}

Test(catalogue_etag, if_none_match_forms)
{
    static const struct {
        const char *inm;
        bool match;
    } cases[] = {
        { "\"v1-2-abc\"", true },
        { "W/\"v1-2-abc\"", true },
        { "\"x\", \"v1-2-abc\"", true },
        { "\"x\",W/\"v1-2-abc\" ", true },
        { "*", true },
        { "\"v1-2-ab\"", false },
        { "\"v1-2-abcd\"", false },
        { "v1-2-abc", false },
        { "", false },
        { "\"v1-2-abc", false },
        { NULL, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_expect_eq(catalogue_etag_match(cases[i].inm, "\"v1-2-abc\""), cases[i].match, "%s",
                     cases[i].inm ? cases[i].inm : "(null)");
}

/* ---- against real databases migrated with the shipped schema: SQLite always, PostgreSQL
 * when script/test's cluster is there (VF_TEST_PG_HOST/PORT/USER), else skipped ---- */

static const struct dbfixture_setup fixture = { "catalogue", VF_SRCDIR "/schema", 0 };

/* One case, registered for both engines: catalogue_sqlite/<name> and catalogue_postgres/<name>. */
#define DB_CASE(name) DBFIXTURE_CASE(fixture, catalogue_sqlite, catalogue_postgres, name)

static int64_t
ready_video(struct db *db, const char *title, int64_t created_us, bool thumb)
{
    int64_t id = 0;
    clock_set_us(created_us);
    cr_assert_eq(video_create(db, title, "desc", "Drama", "uploads/x.mp4", 0, &id), VF_OK);
    struct video_rendition r[2] = {
        { 720, 1280, 2800000, 2500000, "avc1.64001f,mp4a.40.2", "720p", 29.97, 0 },
        { 480, 854, 1400000, 1200000, "avc1.64001e,mp4a.40.2", "480p", 29.97, 0 },
    };
    cr_assert_eq(video_set_ready(db, id, 12.345, 1280, 720, r, 2, thumb), VF_OK);
    return id;
}

DB_CASE(list_is_ready_only_newest_first_ties_higher_id_first)
{
    int64_t a = ready_video(fx->db, "a", 1000000, true);
    int64_t b = ready_video(fx->db, "b", 3000000, false);
    int64_t c = ready_video(fx->db, "c", 3000000, false); /* same instant as b */
    int64_t hidden = 0;
    cr_assert_eq(video_create(fx->db, "uploaded only", "", "Drama", "uploads/y.mp4", 0, &hidden),
                 VF_OK);
    int64_t failed = 0;
    cr_assert_eq(video_create(fx->db, "failed", "", "Drama", "uploads/f.mp4", 0, &failed), VF_OK);
    cr_assert_eq(video_set_processing(fx->db, failed), VF_OK);
    cr_assert_eq(video_set_failed(fx->db, failed, "bad input"), VF_OK);
    /* A ready video whose re-transcode failed stays listed (it plays its old renditions). */
    cr_assert_eq(video_set_processing(fx->db, a), VF_OK);
    cr_assert_eq(video_set_failed(fx->db, a, "the new source is broken"), VF_OK);

    struct catalogue *cat = catalogue_new("http://h", "/tmp");
    const char *body, *etag;
    size_t len;
    cr_assert_eq(catalogue_get(cat, fx->db, &body, &len, &etag), VF_OK);
    char want[64];
    const char *p = body;
    int64_t order[] = { c, b, a };
    for (size_t i = 0; i < 3; i++) {
        snprintf(want, sizeof(want), "{\"id\":%lld,", (long long)order[i]);
        const char *q = strstr(p, want);
        cr_assert_not_null(q, "id %lld not in order in %s", (long long)order[i], body);
        p = q + 1;
    }
    cr_expect_null(strstr(body, "uploaded only"));
    cr_expect_null(strstr(body, "\"failed\""));
    cr_expect_not_null(strstr(body, "\"thumbnail_url\":\"http://h/media/thumbnails/"));
    cr_expect_eq(strncmp(etag, "\"v", 2), 0, "%s", etag);
    catalogue_free(cat);
}

DB_CASE(cache_serves_until_the_version_changes)
{
    ready_video(fx->db, "first", 1000000, false);
    struct catalogue *cat = catalogue_new("http://h", "/tmp");
    const char *body, *etag;
    size_t len;
    char etag1[80];
    cr_assert_eq(catalogue_get(cat, fx->db, &body, &len, &etag), VF_OK);
    snprintf(etag1, sizeof(etag1), "%s", etag);
    const char *body1 = body;
    cr_assert_eq(catalogue_get(cat, fx->db, &body, &len, &etag), VF_OK);
    cr_expect_eq(body, body1, "unchanged catalogue re-rendered");
    cr_expect_str_eq(etag, etag1);

    /* Every kind of write moves the version and so the ETag. */
    int64_t v0 = 0, v1 = 0;
    cr_assert_eq(video_catalogue_version(fx->db, &v0), VF_OK);
    int64_t id = ready_video(fx->db, "second", 2000000, false);
    cr_assert_eq(video_catalogue_version(fx->db, &v1), VF_OK);
    cr_expect_gt(v1, v0);
    cr_assert_eq(catalogue_get(cat, fx->db, &body, &len, &etag), VF_OK);
    cr_expect_not_null(strstr(body, "second"));
    cr_expect_str_neq(etag, etag1);
    snprintf(etag1, sizeof(etag1), "%s", etag);

    cr_assert_eq(video_update_meta(fx->db, id, "renamed", NULL, NULL), VF_OK);
    cr_assert_eq(catalogue_get(cat, fx->db, &body, &len, &etag), VF_OK);
    cr_expect_not_null(strstr(body, "renamed"));
    cr_expect_not_null(strstr(body, "\"description\":\"desc\""));
    cr_expect_str_neq(etag, etag1);
    snprintf(etag1, sizeof(etag1), "%s", etag);

    cr_assert_eq(video_delete(fx->db, id), VF_OK);
    cr_assert_eq(catalogue_get(cat, fx->db, &body, &len, &etag), VF_OK);
    cr_expect_null(strstr(body, "renamed"));
    cr_expect_str_neq(etag, etag1);
    catalogue_free(cat);
}

DB_CASE(video_round_trip_with_renditions_ascending)
{
    int64_t id = ready_video(fx->db, "t", 42, true);
    struct video *v = NULL;
    cr_assert_eq(video_get(fx->db, id, &v), VF_OK);
    cr_expect_str_eq(v->title, "t");
    cr_expect_str_eq(v->category, "Drama");
    cr_expect_str_eq(v->source_path, "uploads/x.mp4");
    cr_expect_eq(v->state, VIDEO_READY);
    cr_expect_eq(v->created_at, 42);
    cr_expect(v->duration > 12.34 && v->duration < 12.35);
    cr_expect_eq(v->width, 1280);
    cr_expect(v->has_thumbnail);
    cr_assert_eq(v->nrenditions, 2);
    cr_expect_eq(v->renditions[0].height, 480);
    cr_expect_eq(v->renditions[1].height, 720);
    cr_expect_eq(v->renditions[1].avg_bandwidth, 2500000);
    cr_expect_str_eq(v->renditions[1].codecs, "avc1.64001f,mp4a.40.2");
    cr_expect_str_eq(v->renditions[0].name, "480p");
    cr_expect_str_eq(v->renditions[1].name, "720p");
    cr_expect(v->renditions[1].frame_rate > 29.969 && v->renditions[1].frame_rate < 29.971);
    video_free(v);

    /* A re-transcode replaces the renditions. */
    struct video_rendition one = { 480, 854, 1, 1, "avc1", "480p", 25.0, 0 };
    cr_assert_eq(video_set_processing(fx->db, id), VF_OK);
    cr_assert_eq(video_set_ready(fx->db, id, 1, 854, 480, &one, 1, false), VF_OK);
    cr_assert_eq(video_get(fx->db, id, &v), VF_OK);
    cr_expect_eq(v->nrenditions, 1);
    cr_expect_not(v->has_thumbnail);
    video_free(v);

    struct video **all = NULL;
    size_t n = 0;
    cr_assert_eq(video_list_all(fx->db, &all, &n), VF_OK);
    cr_assert_eq(n, 1);
    cr_expect_eq(all[0]->nrenditions, 1);
    video_list_free(all, n);
}

DB_CASE(invalid_input_and_missing_rows)
{
    int64_t id = 0;
    struct video *v = NULL;
    cr_expect_eq(video_create(fx->db, "", "d", "c", "s", 0, &id), VF_ERR_INVALID);
    cr_expect_eq(video_create(fx->db, "t", "d", "", "s", 0, &id), VF_ERR_INVALID);
    cr_expect_eq(video_create(fx->db, "t", "d", NULL, "s", 0, &id), VF_ERR_INVALID);
    cr_expect_eq(video_get(fx->db, 999, &v), VF_ERR_NOTFOUND);
    cr_expect_null(v);
    cr_expect_eq(video_set_processing(fx->db, 999), VF_ERR_NOTFOUND);
    cr_expect_eq(video_set_failed(fx->db, 999, "x"), VF_ERR_NOTFOUND);
    cr_expect_eq(video_set_ready(fx->db, 999, 1, 1, 1, NULL, 0, false), VF_ERR_NOTFOUND);
    cr_expect_eq(video_update_meta(fx->db, 999, "t", NULL, NULL), VF_ERR_NOTFOUND);
    cr_expect_eq(video_delete(fx->db, 999), VF_ERR_NOTFOUND);
    cr_assert_eq(video_create(fx->db, "t", NULL, "c", NULL, 0, &id), VF_OK);
    cr_expect_eq(video_update_meta(fx->db, id, "", NULL, NULL), VF_ERR_INVALID);
    cr_expect_eq(video_update_meta(fx->db, id, NULL, NULL, ""), VF_ERR_INVALID);
    struct video_rendition four[4] = { 0 };
    cr_expect_eq(video_set_ready(fx->db, id, 1, 1, 1, four, 4, false), VF_ERR_INVALID);
    cr_expect_eq(video_set_ready(fx->db, id, -1, 1, 1, NULL, 0, false), VF_ERR_INVALID);
    /* A name is a directory: [0-9a-z] only, one rendition per name; frame rates 0..1000. */
    static const char *const bad_names[] = { "../x", "480P", "a/b", "1080p!", " 480p" };
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        struct video_rendition one = { 480, 854, 1, 1, "avc1", "", 25.0, 0 };
        snprintf(one.name, sizeof(one.name), "%s", bad_names[i]);
        cr_expect_eq(video_set_ready(fx->db, id, 1, 1, 1, &one, 1, false), VF_ERR_INVALID, "%s",
                     bad_names[i]);
    }
    struct video_rendition twins[2] = { { 480, 854, 1, 1, "a", "480p", 25.0, 0 },
                                        { 720, 1280, 1, 1, "b", "480p", 25.0, 0 } };
    cr_expect_eq(video_set_ready(fx->db, id, 1, 1, 1, twins, 2, false), VF_ERR_INVALID);
    struct video_rendition fast = { 480, 854, 1, 1, "a", "480p", 1001.0, 0 };
    cr_expect_eq(video_set_ready(fx->db, id, 1, 1, 1, &fast, 1, false), VF_ERR_INVALID);
    /* A failed set_ready leaves nothing half-written. */
    struct video_rendition bad[2] = { { 480, 854, 1, 1, "a", "", 0.0, 0 },
                                      { 480, 854, 1, 1, "dup", "", 0.0, 0 } };
    cr_expect_eq(video_set_ready(fx->db, id, 1, 1, 1, bad, 2, false), VF_ERR_CONFLICT);
    cr_assert_eq(video_get(fx->db, id, &v), VF_OK);
    cr_expect_eq(v->state, VIDEO_UPLOADED);
    cr_expect_eq(v->nrenditions, 0);
    video_free(v);
    cr_expect_str_eq(video_state_name(VIDEO_PROCESSING), "processing");
    cr_expect_eq(video_state_parse("ready"), VIDEO_READY);
    cr_expect_eq(video_state_parse("bogus"), -1);
}
