/* hlsmaster.h -- a video's HLS master (multivariant) playlist, rendered from its renditions. */
#ifndef VF_HLSMASTER_H
#define VF_HLSMASTER_H

#include <stddef.h>

#include "video.h"

#define HLSMASTER_DEFAULT_BPS 2000000

/*
 * The one writer of master playlists: the transcoder writes its master.m3u8 with it and the
 * catalogue serves /api/video/<id>/master.m3u8 with it from the stored rows, so both say the
 * same.  Each variant is described by what the rendition really is, as measured when it was
 * made: RESOLUTION (its own width x height, portrait included), BANDWIDTH (peak segment rate),
 * AVERAGE-BANDWIDTH, FRAME-RATE and CODECS; its URI is "<name>/index.m3u8", the rung's
 * directory.  A rendition without a name is left out (the URI would be a guess); a missing
 * bandwidth is estimated from the short side, a missing frame rate or unsafe codecs string
 * omits that attribute.
 *
 * Order: a client starts with the first variant listed, so the first is the default, the one
 * whose average rate (the peak when there is none) is nearest to HLSMASTER_DEFAULT_BPS by ratio
 * (Apple's authoring spec suggests ~2 Mbit/s; the lower one on a tie); the others follow by
 * ascending BANDWIDTH.  Listing the lowest first started every viewer at 480p.  Then, for each
 * rendition with an I-frame playlist (iframe_bandwidth > 0), an EXT-X-I-FRAME-STREAM-INF for
 * "<name>/iframes.m3u8" (scrubbing and trick play), ascending.
 *
 * Returns the playlist (malloc'd, NUL-terminated, caller frees) and its length in *len, or
 * NULL when out of memory.
 */
char *hlsmaster_render(const struct video_rendition *r, size_t n, size_t *len);

#endif
