/* compress.h -- the gzip content coding of generated bodies (playlists), when the client takes it.
 */
#ifndef VF_COMPRESS_H
#define VF_COMPRESS_H

#include <stdbool.h>

#include "error.h"
#include "http.h"

/*
 * Whether an Accept-Encoding value (NULL: the header is absent) accepts gzip (RFC 9110 12.5.3):
 * "gzip" or "x-gzip" with a q-value above 0, or "*" above 0 when gzip is not named.  Codings
 * are case-insensitive; "gzip;q=0" refuses it whatever "*" says.
 */
bool compress_accepts_gzip(const char *accept_encoding);

/*
 * Apple's HLS authoring spec: playlists MUST be gzip-compressed for clients that accept it (a
 * two-hour media playlist is ~190 KB, ~77 KB gzipped).  When `req` accepts gzip, replaces the
 * memory body of `res` by its gzip encoding and sets Content-Encoding: gzip.  Either way it adds
 * Accept-Encoding to Vary: the response depends on it.  VF_OK, or VF_ERR_NOMEM / VF_ERR_INTERNAL
 * with `res` unchanged (still a valid identity response).
 */
enum vf_err compress_body(const struct http_request *req, struct http_response *res);

#endif
