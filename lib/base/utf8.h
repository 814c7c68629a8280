/* utf8.h -- small helpers over UTF-8 text. */
#ifndef VF_UTF8_H
#define VF_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Code points of the NUL-terminated UTF-8 string s (continuation bytes are not counted;
 * the text is not validated). */
size_t utf8_len(const char *s);

/* The code point at *s, advancing *s past it; 0 at the terminating NUL (not advanced); -1 for
 * a malformed sequence (overlong, surrogate, beyond U+10FFFF, truncated), *s then moved on. */
int32_t utf8_next(const char **s);

/* Whether code point cp is a digit in the sense of Python's str.isdigit() (Django's "entirely
 * numeric" password rule): 0-9, U+FF10-FF19, Arabic-Indic, Devanagari, superscripts... */
bool utf8_is_digit(uint32_t cp);

#endif
