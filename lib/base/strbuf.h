/* strbuf.h -- a growable NUL-terminated string on the heap. */
#ifndef VF_STRBUF_H
#define VF_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Start from a zeroed struct ({ 0 }).  Appends grow the string; once one fails for want of
 * memory `oom` sticks and later appends do nothing, so a caller may append a series and
 * check once.  The string belongs to the buffer until strbuf_take(); strbuf_free() releases it.
 */
struct strbuf {
    char *s;    /* NUL-terminated once anything was appended; NULL before */
    size_t len; /* bytes in s, without the NUL */
    size_t cap; /* bytes allocated */
    bool oom;   /* an append failed */
};

/* Append n bytes of s.  Returns false when out of memory (now or before). */
bool strbuf_add(struct strbuf *b, const char *s, size_t n);
/* Append the NUL-terminated string s; as strbuf_add. */
bool strbuf_str(struct strbuf *b, const char *s);
/* Append printf-formatted text; as strbuf_add (false also for an encoding error). */
bool strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The string, now the caller's to free: "" when nothing was appended, NULL after an
 * allocation failure.  Leaves the buffer empty (zeroed). */
char *strbuf_take(struct strbuf *b);
/* Free the string and zero the buffer.  NULL-safe. */
void strbuf_free(struct strbuf *b);

#endif
