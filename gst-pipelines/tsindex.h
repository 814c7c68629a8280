/* tsindex.h -- where a segment's keyframe lies, for I-frame playlists; free of GStreamer. */
#ifndef VF_TSINDEX_H
#define VF_TSINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * The I-frame of a segment as an HLS I-frame playlist addresses it (RFC 8216 4.3.3.6,
 * EXT-X-BYTERANGE): the bytes from the segment's start -- its PAT and PMT, which a player needs
 * first -- to the end of the first video PES packet, the keyframe every one of our segments
 * opens with.  Packets of other streams in between are part of the range and are ignored by
 * players.  *end gets the length in bytes (a multiple of 188).  VF_ERR_INVALID when the buffer
 * is not whole 188-byte packets or holds no video PES.
 */
enum vf_err tsindex_keyframe(const uint8_t *buf, size_t len, size_t *end);

/* The same for a file; VF_ERR_IO (errno set) when it cannot be read, VF_ERR_NOMEM. */
enum vf_err tsindex_keyframe_file(const char *path, size_t *end);

#endif
