/* multipart.h -- a streaming multipart/form-data parser with bounded memory. */
#ifndef VF_MULTIPART_H
#define VF_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/*
 * The parser is fed arbitrary chunks of a body (RFC 7578 / RFC 2046) and reports
 * each part through callbacks: its headers once they are complete, then its body
 * bytes in as many pieces as the input arrived in, then its end.  It never holds
 * more than one part's header block (MULTIPART_MAX_HEADER_BYTES); body bytes are
 * handed straight from the caller's buffer, so a part of several GB costs nothing.
 *
 * Strictness: lines end in CRLF; a delimiter is CRLF "--" boundary followed by
 * optional spaces/tabs and CRLF, or "--" for the last one; a part must carry
 * Content-Disposition: form-data with a name; folded header lines, bare LF,
 * duplicate parameters, more than MULTIPART_MAX_PARTS parts and a body that ends
 * before the close delimiter are errors (VF_ERR_INVALID).  A preamble (at most
 * MULTIPART_MAX_PREAMBLE bytes) and the epilogue are ignored, as RFC 2046 says.
 */

#define MULTIPART_MAX_BOUNDARY     70
#define MULTIPART_MAX_HEADER_BYTES 8192
#define MULTIPART_MAX_HEADERS      16
#define MULTIPART_MAX_PARTS        32
#define MULTIPART_MAX_PREAMBLE     1024
#define MULTIPART_MAX_NAME         128
#define MULTIPART_MAX_FILENAME     1024
#define MULTIPART_MAX_CTYPE        256

/* One part's headers, borrowed by the callbacks for the duration of the part. */
struct multipart_part {
    const char *name;         /* form field name (never NULL) */
    const char *filename;     /* NULL when the part is not a file */
    const char *content_type; /* as sent, trimmed; NULL when absent */
};

/*
 * Callbacks return VF_OK to go on; any other value stops the parser, and
 * multipart_feed() returns that value (so a callback can say VF_ERR_TOOBIG).
 * Any callback may be NULL.
 */
struct multipart_callbacks {
    enum vf_err (*part_begin)(void *ctx, const struct multipart_part *part);
    enum vf_err (*part_data)(void *ctx, const char *data, size_t len);
    enum vf_err (*part_end)(void *ctx);
};

struct multipart;

/* Extract the boundary parameter of a Content-Type value whose media type is
 * multipart/form-data into out (>= MULTIPART_MAX_BOUNDARY + 1 bytes).  Returns
 * VF_ERR_MEDIATYPE for another media type, VF_ERR_INVALID for a missing or
 * malformed boundary. */
enum vf_err multipart_boundary(const char *content_type, char *out, size_t outlen);

/* A parser for `boundary` (copied).  `cb` and `ctx` are borrowed for its lifetime.
 * Returns NULL on a malformed boundary or allocation failure.  Free with
 * multipart_free(). */
struct multipart *multipart_new(const char *boundary, const struct multipart_callbacks *cb,
                                void *ctx);
/* NULL-safe. */
void multipart_free(struct multipart *mp);

/* Feed the next `len` bytes.  Returns VF_OK, VF_ERR_INVALID for a malformed body
 * (the parser then refuses further input), or a callback's error. */
enum vf_err multipart_feed(struct multipart *mp, const char *data, size_t len);
/* Call at the end of input: VF_OK when the close delimiter was seen, else
 * VF_ERR_INVALID (truncated body). */
enum vf_err multipart_finish(struct multipart *mp);
/* Short static description of the first error, for logs and 400 messages. */
const char *multipart_error(const struct multipart *mp);
/* Number of parts begun so far. */
size_t multipart_parts(const struct multipart *mp);

#endif
