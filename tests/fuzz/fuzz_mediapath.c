/* fuzz_mediapath.c -- libFuzzer target over the HLS path allow-list, signed-URL query
 * parsing and If-None-Match matching.  Oracles: no crash or sanitizer report; a path that
 * passes the allow-list names exactly one file inside one rendition directory (its name is
 * index.m3u8, iframes.m3u8, master.m3u8 or digits + .ts, and it re-parses to the same thing); no
 * query verifies unless it is the one we would issue. */
#define _POSIX_C_SOURCE 200809L /* strndup */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "mediafile.h"
#include "urlsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY "fuzz-media-signing-key-0123456789abcdef"

static void
check_path(const char *s)
{
    struct mediafile_path p, q;
    if (mediafile_parse(s, &p) != VF_OK)
        return;
    size_t n = strlen(p.name);
    if (p.video_id <= 0 || strchr(p.name, '/') || strstr(p.name, "..") || n == 0)
        abort();
    bool ok = p.kind == MEDIAFILE_SEGMENT ? mediafile_is_segment_name(p.name, n)
              : p.kind == MEDIAFILE_PLAYLIST
                  ? strcmp(p.name, "index.m3u8") == 0 || strcmp(p.name, "iframes.m3u8") == 0
                  : strcmp(p.name, "master.m3u8") == 0;
    if (!ok || (p.kind != MEDIAFILE_MASTER && mediafile_res_name(p.res) == NULL))
        abort();
    char again[128];
    if (p.kind == MEDIAFILE_MASTER)
        snprintf(again, sizeof(again), "/api/video/%lld/%s", (long long)p.video_id, p.name);
    else
        snprintf(again, sizeof(again), "/api/video/%lld/%s/%s", (long long)p.video_id,
                 mediafile_res_name(p.res), p.name);
    if (mediafile_parse(again, &q) != VF_OK || q.kind != p.kind || q.video_id != p.video_id ||
        (p.kind != MEDIAFILE_MASTER && q.res != p.res) || strcmp(q.name, p.name) != 0)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = strndup((const char *)data, size); /* C string: up to the first NUL */
    if (s == NULL)
        return 0;

    check_path(s);

    /* The input as a query string: only the exact signature we issue verifies. */
    for (int scheme = URLSIG_NGINX; scheme <= URLSIG_LIGHTTPD; scheme++) {
        if (urlsig_verify((enum urlsig_scheme)scheme, KEY, "/api/video/7/480p/000.ts", "127.0.0.1",
                          s, 1000) == VF_OK) {
            char want[URLSIG_QUERY_MAX];
            const char *e = strstr(s, "e=");
            long long exp = e ? strtoll(e + 2, NULL, 10) : 0;
            if (urlsig_query((enum urlsig_scheme)scheme, KEY, "/api/video/7/480p/000.ts",
                             "127.0.0.1", exp, want, sizeof(want)) != VF_OK ||
                strstr(s, strchr(want, '&') + 1) == NULL)
                abort();
        }
    }

    (void)catalogue_etag_match(s, "\"v1-2-0123456789abcdef\"");
    free(s);
    return 0;
}
