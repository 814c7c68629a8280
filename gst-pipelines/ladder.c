/* ladder.c -- the rendition table and the size/GOP math of the HLS ladder. */
#include "autoconf.h"

#include "ladder.h"

#include <math.h>
#include <stdio.h>

/* Measured on bench/transcode (see bench/README.md): speed-preset and rates are chosen there. */
const struct ladder_rung ladder_rungs[LADDER_MAX] = {
    { 480, 1000, 1400, 23, "main" },
    { 720, 2800, 4000, 23, "high" },
    { 1080, 5000, 7500, 23, "high" },
};

/* Largest even number <= v (at least 2). */
static int
even_floor(int v)
{
    v &= ~1;
    return v < 2 ? 2 : v;
}

/* Nearest even number to x (at least 2). */
static int
even_round(double x)
{
    int v = 2 * (int)lround(x / 2.0);
    return v < 2 ? 2 : v;
}

size_t
ladder_plan(int src_w, int src_h, struct rendition out[LADDER_MAX])
{
    if (src_w < 2 || src_h < 2)
        return 0;
    int portrait = src_h > src_w;
    int s_short = portrait ? src_w : src_h;
    int s_long = portrait ? src_h : src_w;
    size_t n = 0;

    for (size_t i = 0; i < LADDER_MAX; i++) {
        const struct ladder_rung *r = &ladder_rungs[i];
        int o_short, o_long;
        if (r->label <= s_short) {
            o_short = r->label;
            o_long = even_round((double)s_long * r->label / s_short);
            if (o_long > even_floor(s_long))
                o_long = even_floor(s_long);
        } else if (i == 0) {
            /* Smaller than the lowest rung: keep the source size (never upscale). */
            o_short = even_floor(s_short);
            o_long = even_floor(s_long);
        } else {
            break;
        }
        struct rendition *o = &out[n++];
        snprintf(o->name, sizeof(o->name), "%dp", r->label);
        o->label = r->label;
        o->width = portrait ? o_short : o_long;
        o->height = portrait ? o_long : o_short;
        o->rung = r;
    }
    return n;
}

int
ladder_gop_frames(double fps, int segment_seconds)
{
    if (!(fps > 0.0) || !isfinite(fps))
        fps = 25.0;
    if (segment_seconds < 1)
        segment_seconds = 1;
    double g = round(fps * segment_seconds);
    if (g < 1.0)
        return 1;
    if (g > 1000.0)
        return 1000;
    return (int)g;
}

double
ladder_thumbnail_time(double duration)
{
    if (!(duration > 0.0))
        return 0.0;
    return duration >= 10.0 ? 1.0 : duration * 0.1;
}

const char *
ladder_colorimetry(int src_h)
{
    return src_h > 576 ? "bt709" : "bt601";
}
