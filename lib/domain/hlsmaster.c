/* hlsmaster.c -- a video's HLS master (multivariant) playlist, rendered from its renditions. */
#include "autoconf.h"

#include "hlsmaster.h"

#include <inttypes.h>
#include <string.h>

#include "strbuf.h"

/* A typical peak rate when none was measured (bits per second), by the short side. */
static int64_t
default_bandwidth(const struct video_rendition *r)
{
    int s = r->width < r->height ? r->width : r->height;
    return s <= 480 ? 1400000 : s <= 720 ? 2800000 : 5000000;
}

static void
variant(struct strbuf *b, const struct video_rendition *r)
{
    strbuf_printf(b, "#EXT-X-STREAM-INF:BANDWIDTH=%" PRId64,
                  r->bandwidth > 0 ? r->bandwidth : default_bandwidth(r));
    if (r->avg_bandwidth > 0)
        strbuf_printf(b, ",AVERAGE-BANDWIDTH=%" PRId64, r->avg_bandwidth);
    strbuf_printf(b, ",RESOLUTION=%dx%d", r->width, r->height);
    if (r->frame_rate > 0.0)
        strbuf_printf(b, ",FRAME-RATE=%.3f", r->frame_rate);
    if (r->codecs[0] != '\0' && strpbrk(r->codecs, "\"\r\n") == NULL)
        strbuf_printf(b, ",CODECS=\"%s\"", r->codecs);
    strbuf_printf(b, "\n%s/index.m3u8\n", r->name);
}

/* EXT-X-I-FRAME-STREAM-INF of r's I-frame playlist (Apple: MUST): video only, so CODECS is
 * the part of r's before the audio. */
static void
iframe_variant(struct strbuf *b, const struct video_rendition *r)
{
    strbuf_printf(b, "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=%" PRId64 ",RESOLUTION=%dx%d",
                  r->iframe_bandwidth, r->width, r->height);
    if (r->codecs[0] != '\0' && strpbrk(r->codecs, "\"\r\n") == NULL)
        strbuf_printf(b, ",CODECS=\"%.*s\"", (int)strcspn(r->codecs, ","), r->codecs);
    strbuf_printf(b, ",URI=\"%s/iframes.m3u8\"\n", r->name);
}

static int64_t
peak(const struct video_rendition *r)
{
    return r->bandwidth > 0 ? r->bandwidth : default_bandwidth(r);
}

/* How far r's typical rate is from the default's, as a ratio >= 1. */
static double
distance_from_default(const struct video_rendition *r)
{
    double bps = (double)(r->avg_bandwidth > 0 ? r->avg_bandwidth : peak(r));
    double d = bps / HLSMASTER_DEFAULT_BPS;
    return d >= 1.0 ? d : 1.0 / d;
}

char *
hlsmaster_render(const struct video_rendition *r, size_t n, size_t *len)
{
    /* Indices of the named renditions, ascending by peak rate (insertion sort: n <= 3). */
    size_t idx[VIDEO_MAX_RENDITIONS], m = 0;
    for (size_t i = 0; i < n && m < VIDEO_MAX_RENDITIONS; i++) {
        if (r[i].name[0] == '\0')
            continue;
        size_t k = m++;
        while (k > 0 && peak(&r[idx[k - 1]]) > peak(&r[i])) {
            idx[k] = idx[k - 1];
            k--;
        }
        idx[k] = i;
    }
    size_t def = 0;
    for (size_t k = 1; k < m; k++)
        if (distance_from_default(&r[idx[k]]) < distance_from_default(&r[idx[def]]))
            def = k;

    struct strbuf b = { 0 };
    strbuf_str(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    if (m > 0)
        variant(&b, &r[idx[def]]);
    for (size_t k = 0; k < m; k++)
        if (k != def)
            variant(&b, &r[idx[k]]);
    for (size_t k = 0; k < m; k++)
        if (r[idx[k]].iframe_bandwidth > 0)
            iframe_variant(&b, &r[idx[k]]);
    *len = b.len;
    return strbuf_take(&b);
}
