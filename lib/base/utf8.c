/* utf8.c -- UTF-8 text: the one strict decoder of the tree, and what is built on it. */
#include "autoconf.h"

#include "utf8.h"

#include <stdbool.h>

size_t
utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    size_t n;
    uint32_t c;

    if (len == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0) {
        n = 2;
        c = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3;
        c = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4;
        c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    /* overlong forms, surrogates and values past U+10FFFF */
    if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
        (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
        return 0;
    *cp = c;
    return n;
}

bool
utf8_valid(const unsigned char *s, size_t len)
{
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}
/*
 * Code points that Python's str.isdigit() accepts (Numeric_Type Decimal or Digit: every script's
 * decimal digits, full-width digits, superscripts, circled and parenthesised digits...), which
 * Django's NumericPasswordValidator tests.  Generated from Unicode 14.0.0 with
 *   python3 -c 'import sys; [print(hex(c)) for c in range(sys.maxunicode + 1) if chr(c).isdigit()]'
 * folded into ranges.
 */
static const struct {
    uint32_t lo, hi;
} digit_ranges[] = {
    { 0x30, 0x39 },       { 0xB2, 0xB3 },       { 0xB9, 0xB9 },       { 0x660, 0x669 },
    { 0x6F0, 0x6F9 },     { 0x7C0, 0x7C9 },     { 0x966, 0x96F },     { 0x9E6, 0x9EF },
    { 0xA66, 0xA6F },     { 0xAE6, 0xAEF },     { 0xB66, 0xB6F },     { 0xBE6, 0xBEF },
    { 0xC66, 0xC6F },     { 0xCE6, 0xCEF },     { 0xD66, 0xD6F },     { 0xDE6, 0xDEF },
    { 0xE50, 0xE59 },     { 0xED0, 0xED9 },     { 0xF20, 0xF29 },     { 0x1040, 0x1049 },
    { 0x1090, 0x1099 },   { 0x1369, 0x1371 },   { 0x17E0, 0x17E9 },   { 0x1810, 0x1819 },
    { 0x1946, 0x194F },   { 0x19D0, 0x19DA },   { 0x1A80, 0x1A89 },   { 0x1A90, 0x1A99 },
    { 0x1B50, 0x1B59 },   { 0x1BB0, 0x1BB9 },   { 0x1C40, 0x1C49 },   { 0x1C50, 0x1C59 },
    { 0x2070, 0x2070 },   { 0x2074, 0x2079 },   { 0x2080, 0x2089 },   { 0x2460, 0x2468 },
    { 0x2474, 0x247C },   { 0x2488, 0x2490 },   { 0x24EA, 0x24EA },   { 0x24F5, 0x24FD },
    { 0x24FF, 0x24FF },   { 0x2776, 0x277E },   { 0x2780, 0x2788 },   { 0x278A, 0x2792 },
    { 0xA620, 0xA629 },   { 0xA8D0, 0xA8D9 },   { 0xA900, 0xA909 },   { 0xA9D0, 0xA9D9 },
    { 0xA9F0, 0xA9F9 },   { 0xAA50, 0xAA59 },   { 0xABF0, 0xABF9 },   { 0xFF10, 0xFF19 },
    { 0x104A0, 0x104A9 }, { 0x10A40, 0x10A43 }, { 0x10D30, 0x10D39 }, { 0x10E60, 0x10E68 },
    { 0x11052, 0x1105A }, { 0x11066, 0x1106F }, { 0x110F0, 0x110F9 }, { 0x11136, 0x1113F },
    { 0x111D0, 0x111D9 }, { 0x112F0, 0x112F9 }, { 0x11450, 0x11459 }, { 0x114D0, 0x114D9 },
    { 0x11650, 0x11659 }, { 0x116C0, 0x116C9 }, { 0x11730, 0x11739 }, { 0x118E0, 0x118E9 },
    { 0x11950, 0x11959 }, { 0x11C50, 0x11C59 }, { 0x11D50, 0x11D59 }, { 0x11DA0, 0x11DA9 },
    { 0x16A60, 0x16A69 }, { 0x16AC0, 0x16AC9 }, { 0x16B50, 0x16B59 }, { 0x1D7CE, 0x1D7FF },
    { 0x1E140, 0x1E149 }, { 0x1E2F0, 0x1E2F9 }, { 0x1E950, 0x1E959 }, { 0x1F100, 0x1F10A },
    { 0x1FBF0, 0x1FBF9 },
};

bool
utf8_is_digit(uint32_t cp)
{
    size_t lo = 0, hi = sizeof(digit_ranges) / sizeof(digit_ranges[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < digit_ranges[mid].lo)
            hi = mid;
        else if (cp > digit_ranges[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

int32_t
utf8_next(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    uint32_t cp;
    if (p[0] == '\0')
        return 0;
    /* at most 4 bytes, never past the terminating NUL */
    size_t avail = p[1] == '\0' ? 1 : p[2] == '\0' ? 2 : p[3] == '\0' ? 3 : 4;
    size_t n = utf8_decode(p, avail, &cp);
    if (n == 0) {
        /* moved on past the malformed sequence: its lead byte and its continuation bytes */
        size_t k = 1;
        while (k < 4 && (p[k] & 0xc0) == 0x80)
            k++;
        *s += k;
        return -1;
    }
    *s += n;
    return (int32_t)cp;
}
