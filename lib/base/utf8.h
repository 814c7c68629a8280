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

/* The code point at *s, advancing *s past it; 0 at the terminating NUL (not advanced); -1 for
 * a malformed sequence (overlong, surrogate, beyond U+10FFFF, truncated), *s then moved on. */
int32_t utf8_next(const char **s);

/* Whether code point cp is a digit in the sense of Python's str.isdigit() (Django's "entirely
 * numeric" password rule): 0-9, U+FF10-FF19, Arabic-Indic, Devanagari, superscripts... */
bool utf8_is_digit(uint32_t cp);

#endif
