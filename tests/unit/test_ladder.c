/* test_ladder.c -- the rendition table: sizes, "never above the source", portrait, odd sizes, GOP.
 */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdio.h>

#include "ladder.h"

struct want {
    const char *name;
    int w, h;
};

struct plan_case {
    const char *what;
    int src_w, src_h;
    size_t n;
    struct want r[LADDER_MAX];
};

static const struct plan_case cases[] = {
    { "landscape 1080p gets all three",
      1920,
      1080,
      3,
      { { "480p", 854, 480 }, { "720p", 1280, 720 }, { "1080p", 1920, 1080 } } },
    { "720p source gets no 1080p", 1280, 720, 2, { { "480p", 854, 480 }, { "720p", 1280, 720 } } },
    { "4k source stops at 1080p",
      3840,
      2160,
      3,
      { { "480p", 854, 480 }, { "720p", 1280, 720 }, { "1080p", 1920, 1080 } } },
    { "portrait scales by the short side",
      1080,
      1920,
      3,
      { { "480p", 480, 854 }, { "720p", 720, 1280 }, { "1080p", 1080, 1920 } } },
    { "portrait 720x1280 gets no 1080p",
      720,
      1280,
      2,
      { { "480p", 480, 854 }, { "720p", 720, 1280 } } },
    { "4:3 keeps its aspect",
      1440,
      1080,
      3,
      { { "480p", 640, 480 }, { "720p", 960, 720 }, { "1080p", 1440, 1080 } } },
    { "odd size rounds widths to even", 1001, 563, 1, { { "480p", 854, 480 } } },
    { "just below 720 gets only 480p", 1278, 719, 1, { { "480p", 854, 480 } } },
    { "odd width at exactly 1080 never exceeds the source",
      1921,
      1080,
      3,
      { { "480p", 854, 480 }, { "720p", 1280, 720 }, { "1080p", 1920, 1080 } } },
    { "tiny source keeps its own size (even), never upscaled",
      321,
      241,
      1,
      { { "480p", 320, 240 } } },
    { "square source",
      1080,
      1080,
      3,
      { { "480p", 480, 480 }, { "720p", 720, 720 }, { "1080p", 1080, 1080 } } },
    { "cinemascope 1920x800 by the short side",
      1920,
      800,
      2,
      { { "480p", 1152, 480 }, { "720p", 1728, 720 } } },
    { "degenerate size plans nothing", 1, 1080, 0, { { NULL, 0, 0 } } },
};

Test(ladder, plan_matches_the_table)
{
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct plan_case *k = &cases[c];
        struct rendition r[LADDER_MAX];
        size_t n = ladder_plan(k->src_w, k->src_h, r);
        cr_assert_eq(n, k->n, "%s: %zu renditions, want %zu", k->what, n, k->n);
        for (size_t i = 0; i < n; i++) {
            cr_expect_str_eq(r[i].name, k->r[i].name, "%s [%zu]", k->what, i);
            cr_expect_eq(r[i].width, k->r[i].w, "%s %s: width %d want %d", k->what, r[i].name,
                         r[i].width, k->r[i].w);
            cr_expect_eq(r[i].height, k->r[i].h, "%s %s: height %d want %d", k->what, r[i].name,
                         r[i].height, k->r[i].h);
            cr_expect_not_null(r[i].rung);
        }
    }
}

Test(ladder, every_rendition_is_even_and_never_above_the_source)
{
    for (int w = 16; w <= 2200; w += 37) {
        for (int h = 16; h <= 2200; h += 41) {
            struct rendition r[LADDER_MAX];
            size_t n = ladder_plan(w, h, r);
            cr_assert(n >= 1, "%dx%d", w, h);
            for (size_t i = 0; i < n; i++) {
                cr_assert(r[i].width % 2 == 0 && r[i].height % 2 == 0, "%dx%d %s odd", w, h,
                          r[i].name);
                cr_assert(r[i].width <= w && r[i].height <= h, "%dx%d %s upscaled to %dx%d", w, h,
                          r[i].name, r[i].width, r[i].height);
                if (i > 0)
                    cr_assert(r[i].rung->label > r[i - 1].rung->label);
            }
        }
    }
}

Test(ladder, rates_grow_with_the_rung)
{
    for (size_t i = 1; i < LADDER_MAX; i++) {
        cr_expect(ladder_rungs[i].bitrate_kbps > ladder_rungs[i - 1].bitrate_kbps);
        cr_expect(ladder_rungs[i].maxrate_kbps >= ladder_rungs[i].bitrate_kbps);
    }
}

Test(ladder, gop_is_one_segment_of_frames)
{
    cr_expect_eq(ladder_gop_frames(25.0, 4), 100);
    cr_expect_eq(ladder_gop_frames(30000.0 / 1001.0, 4), 120);
    cr_expect_eq(ladder_gop_frames(24.0, 6), 144);
    cr_expect_eq(ladder_gop_frames(0.0, 4), 100, "unknown frame rate counts as 25 fps");
    cr_expect_eq(ladder_gop_frames(1000.0, 60), 1000, "capped");
    cr_expect_eq(ladder_gop_frames(0.1, 1), 1, "at least one frame");
}

Test(ladder, thumbnail_at_one_second_or_ten_percent_of_a_short_video)
{
    cr_expect_float_eq(ladder_thumbnail_time(30.0), 1.0, 1e-9);
    cr_expect_float_eq(ladder_thumbnail_time(10.0), 1.0, 1e-9);
    cr_expect_float_eq(ladder_thumbnail_time(4.0), 0.4, 1e-9);
    cr_expect_float_eq(ladder_thumbnail_time(0.0), 0.0, 1e-9);
}

Test(ladder, one_colorimetry_per_ladder_as_gstreamer_assumes_for_the_source)
{
    cr_expect_str_eq(ladder_colorimetry(1080), "bt709", "HD: 480p is not converted to BT.601");
    cr_expect_str_eq(ladder_colorimetry(720), "bt709");
    cr_expect_str_eq(ladder_colorimetry(1920), "bt709", "portrait HD");
    cr_expect_str_eq(ladder_colorimetry(2160), "bt709", "UHD sources give an HD ladder");
    cr_expect_str_eq(ladder_colorimetry(577), "bt709");
    cr_expect_str_eq(ladder_colorimetry(576), "bt601", "SD stays BT.601");
    cr_expect_str_eq(ladder_colorimetry(480), "bt601");
}
