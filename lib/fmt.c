#include "fmt.h"

#include <stdarg.h>
#include <string.h>

/* The decimal digits of v into buf, backwards from its end; returns where they start. */
static char *digits(char *end, unsigned long long v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

int seckill_fmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    size_t n = 0;
    int ok = cap > 0;

    va_start(ap, fmt);
    for (const char *f = fmt; ok && *f; f++) {
        char num[24], *start = num + sizeof num;
        const char *s;
        size_t len;
        if (*f != '%') { /* the literal text up to the next conversion, in one copy */
            s = f;
            len = strcspn(f, "%");
            f += len - 1;
        } else if (f[1] == '%') {
            s = f++;
            len = 1;
        } else if (f[1] == 'd') {
            int v = va_arg(ap, int);
            start = digits(start, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v);
            if (v < 0)
                *--start = '-';
            s = start;
            len = (size_t)(num + sizeof num - start);
            f++;
        } else if (strncmp(f + 1, "lld", 3) == 0) {
            long long v = va_arg(ap, long long);
            start = digits(start, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v);
            if (v < 0)
                *--start = '-';
            s = start;
            len = (size_t)(num + sizeof num - start);
            f += 3;
        } else if (strncmp(f + 1, "llu", 3) == 0) {
            start = digits(start, va_arg(ap, unsigned long long));
            s = start;
            len = (size_t)(num + sizeof num - start);
            f += 3;
        } else if (f[1] == 's') {
            s = va_arg(ap, const char *);
            len = strlen(s);
            f++;
        } else {
            ok = 0;
            break;
        }
        if (n + len >= cap) {
            ok = 0;
            break;
        }
        memcpy(buf + n, s, len);
        n += len;
    }
    va_end(ap);
    if (!ok) {
        if (cap > 0)
            buf[0] = 0;
        return -1;
    }
    buf[n] = 0;
    return (int)n;
}
