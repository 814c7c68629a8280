/* utf8.h -- UTF-8 text: one strict decoder, and what is built on it. */
#ifndef VF_UTF8_H
#define VF_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Code points of the NUL-terminated UTF-8 string s (continuation bytes are not counted;
 * the text is not validated: use utf8_valid first where it matters). */
size_t utf8_len(const char *s);

/*
 * Decode the code point at s[0..len): strict UTF-8 (no overlong forms, no surrogates,
 * nothing past U+10FFFF, no truncated sequence).  Returns its length in bytes (1..4) and
 * stores it in *cp, or 0 for an invalid sequence (or len == 0).
 */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* True when s[0..len) is entirely strict UTF-8 (utf8_decode of every code point). */
bool utf8_valid(const unsigned char *s, size_t len);

#endif
