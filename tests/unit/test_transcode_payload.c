/* test_transcode_payload.c -- the "transcode" job payload: what is accepted and what never is. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <string.h>

#include "transcode_payload.h"

Test(transcode_payload, accepts_what_enqueue_writes)
{
    struct transcode_payload p;
    cr_assert_eq(
        transcode_payload_parse(
            "{\"video_id\":42,\"source\":\"uploads/a1B2-c3_d4.mp4\",\"overwrite\":true}", &p),
        VF_OK);
    cr_expect_eq(p.video_id, 42);
    cr_expect_str_eq(p.source, "uploads/a1B2-c3_d4.mp4");
    cr_expect(p.overwrite);
    cr_assert_eq(transcode_payload_parse("{\"video_id\":7,\"source\":\"uploads/x.mov\"}", &p),
                 VF_OK);
    cr_expect(!p.overwrite, "overwrite defaults to false");
    cr_expect_eq(p.duration, 0.0, "the duration is optional (older jobs)");
    cr_assert_eq(transcode_payload_parse(
                     "{\"video_id\":7,\"source\":\"uploads/x.mov\",\"duration\":5423.25}", &p),
                 VF_OK);
    cr_expect_eq(p.duration, 5423.25);
}

Test(transcode_payload, limits_grow_with_the_length_of_the_source)
{
    struct config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.transcode_timeout = 7200;
    cfg.transcode_timeout_per_second = 10;
    cr_expect_eq(transcode_payload_timeout(&cfg, 0), 7200, "unknown: the base");
    cr_expect_eq(transcode_payload_timeout(&cfg, 3.5), 7235);
    /* A two-hour film: ~15,600 CPU-s of work fits in 79,200 s x cores. */
    cr_expect_eq(transcode_payload_timeout(&cfg, 7200), 79200);
    cr_expect_eq(transcode_payload_timeout(&cfg, -1), 7200);
    cr_expect_eq(transcode_payload_timeout(&cfg, 1e12), 7200 + 48 * 3600 * 10, "capped");
    cfg.transcode_timeout_per_second = 0;
    cr_expect_eq(transcode_payload_timeout(&cfg, 7200), 7200, "the old fixed limit");
}

Test(transcode_payload, refuses_paths_and_ids_we_never_generate)
{
    static const char *const bad[] = {
        NULL,
        "",
        "[]",
        "{\"video_id\":0,\"source\":\"uploads/x.mp4\"}",
        "{\"video_id\":-3,\"source\":\"uploads/x.mp4\"}",
        "{\"video_id\":1.5,\"source\":\"uploads/x.mp4\"}",
        "{\"video_id\":\"1\",\"source\":\"uploads/x.mp4\"}",
        "{\"video_id\":1}",
        "{\"video_id\":1,\"source\":\"/etc/passwd\"}",
        "{\"video_id\":1,\"source\":\"uploads/../../etc/passwd\"}",
        "{\"video_id\":1,\"source\":\"..\"}",
        "{\"video_id\":1,\"source\":\"uploads//x.mp4\"}",
        "{\"video_id\":1,\"source\":\"uploads/./x.mp4\"}",
        "{\"video_id\":1,\"source\":\"uploads/x y.mp4\"}",
        "{\"video_id\":1,\"source\":\"uploads/x.mp4 ! fakesink\"}",
        "{\"video_id\":1,\"source\":\"uploads/%d.mp4\"}",
        "{\"video_id\":1,\"source\":\"uploads/x.mp4\",\"overwrite\":\"yes\"}",
        "{\"video_id\":1,\"source\":\"uploads/x.mp4\",\"duration\":-1}",
        "{\"video_id\":1,\"source\":\"uploads/x.mp4\",\"duration\":\"60\"}",
        "{\"video_id\":1,\"source\":\"uploads/x.mp4\",\"duration\":1e12}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct transcode_payload p;
        cr_expect_eq(transcode_payload_parse(bad[i], &p), VF_ERR_INVALID, "case %zu: %s", i,
                     bad[i] ? bad[i] : "NULL");
    }
}

Test(transcode_payload, enqueue_refuses_a_bad_path_before_touching_the_database)
{
    cr_expect_eq(transcode_payload_enqueue(NULL, 1, "../x.mp4", false, 0, NULL), VF_ERR_INVALID);
    cr_expect_eq(transcode_payload_enqueue(NULL, 0, "uploads/x.mp4", false, 0, NULL),
                 VF_ERR_INVALID);
    cr_expect_eq(transcode_payload_enqueue(NULL, 1, "uploads/x.mp4", false, -5, NULL),
                 VF_ERR_INVALID);
}
