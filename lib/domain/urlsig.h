/* urlsig.h -- short-lived segment URL signatures the web server verifies by itself. */
#ifndef VF_URLSIG_H
#define VF_URLSIG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * A signed segment URL is the normal segment URL plus a query string,
 *     /api/video/<id>/<res>/<n>.ts?e=<E>&s=<S>
 * so the playlist keeps bare relative names ("000.ts?e=...&s=...") and a request the
 * web server cannot verify (unsigned, expired, altered, another video's signature, or
 * a server without the check) simply falls through to the cookie-checked route.
 *
 * Two schemes, one per web server, because each verifies with what it has built in:
 *  - URLSIG_NGINX (ngx_http_secure_link_module):
 *        E = expiry, Unix seconds, decimal
 *        S = base64url-nopad(MD5("<E><uri><client-addr> <key>"))
 *    matching   secure_link $arg_s,$arg_e;
 *               secure_link_md5 "$secure_link_expires$uri$remote_addr <key>";
 *    Bound to the exact URI (video, rendition, segment) and the client address.
 *  - URLSIG_LIGHTTPD (mod_magnet script etc/lighttpd/videoflix-hls-sign.lua, since
 *    lighttpd 1.4.68 dropped mod_secdownload):
 *        E = expiry, Unix seconds, decimal
 *        S = base64url-nopad(HMAC-SHA256(key, "<E>|<uri>|<client-addr>"))
 *    Same binding, with a real MAC.
 * MD5 is what nginx's stock module offers; it is keyed only by concatenation, which is
 * acceptable for URLs that expire within SEGMENT_URL_TTL and grant read access to one
 * segment from one address.
 */
enum urlsig_scheme { URLSIG_NONE = 0, URLSIG_NGINX, URLSIG_LIGHTTPD };

/* Longest query string urlsig_query() writes, including the NUL. */
#define URLSIG_QUERY_MAX 96

/*
 * Write "e=<E>&s=<S>" for `uri` (the decoded path the client will request, e.g.
 * "/api/video/7/480p/000.ts") requested from `client_addr`, valid until `expires`
 * (Unix seconds).  Returns VF_OK, VF_ERR_INVALID for URLSIG_NONE/an empty key, or
 * VF_ERR_TOOBIG when `len` is too small.
 */
enum vf_err urlsig_query(enum urlsig_scheme scheme, const char *key, const char *uri,
                         const char *client_addr, int64_t expires, char *buf, size_t len);

/*
 * Verify a query string the way the web server does (tests, and the application's
 * own check when it receives a signed URL it could serve without the cookie).
 * Returns VF_OK when valid at `now`, VF_ERR_AUTH otherwise (missing, malformed,
 * expired, wrong signature; compared in constant time).
 */
enum vf_err urlsig_verify(enum urlsig_scheme scheme, const char *key, const char *uri,
                          const char *client_addr, const char *query, int64_t now);

#endif
