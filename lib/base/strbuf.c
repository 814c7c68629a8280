/* strbuf.c -- a growable NUL-terminated string on the heap. */
#include "autoconf.h"

#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and the NUL; false (oom set) when that cannot be had. */
static bool
reserve(struct strbuf *b, size_t n)
{
    if (b->oom)
        return false;
    if (n > SIZE_MAX / 2 - b->len) {
        b->oom = true;
        return false;
    }
    size_t need = b->len + n + 1;
    if (b->s != NULL && need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->s, cap);
    if (p == NULL) {
        b->oom = true;
        return false;
    }
    b->s = p;
    b->cap = cap;
    return true;
}

bool
strbuf_add(struct strbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return false;
    if (n > 0)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return true;
}

bool
strbuf_str(struct strbuf *b, const char *s)
{
    return strbuf_add(b, s, strlen(s));
}

bool
strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (w < 0) {
        b->oom = true;
        return false;
    }
    if (!reserve(b, (size_t)w))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)w;
    return true;
}

char *
strbuf_take(struct strbuf *b)
{
    char *s = b->oom ? NULL : b->s;
    if (b->oom)
        free(b->s);
    else if (s == NULL)
        s = strdup("");
    memset(b, 0, sizeof(*b));
    return s;
}

void
strbuf_free(struct strbuf *b)
{
    if (b == NULL)
        return;
    free(b->s);
    memset(b, 0, sizeof(*b));
}
