/* utf8.c -- small helpers over UTF-8 text. */
#include "autoconf.h"

#include "utf8.h"

size_t
utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}
