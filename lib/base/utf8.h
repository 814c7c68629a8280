/* utf8.h -- small helpers over UTF-8 text. */
#ifndef VF_UTF8_H
#define VF_UTF8_H

#include <stddef.h>

/* Code points of the NUL-terminated UTF-8 string s (continuation bytes are not counted;
 * the text is not validated). */
size_t utf8_len(const char *s);

#endif
