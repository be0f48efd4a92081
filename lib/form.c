#include "form.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into out (room for n + 1); -1 on a broken escape or a NUL. */
static int decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n || (hi = hex(s[i + 1])) < 0 || (lo = hex(s[i + 2])) < 0)
                return -1;
            if (hi == 0 && lo == 0)
                return -1;
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (s[i] == 0) {
            return -1;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = 0;
    return 0;
}

int seckill_form_parse(apr_pool_t *p, const char *input, size_t len, seckill_form_pair **out)
{
    size_t at = 0;
    int n = 0, cap = 1;
    seckill_form_pair *pairs;
    for (size_t i = 0; i < len; i++)
        cap += input[i] == '&';
    pairs = apr_palloc(p, sizeof *pairs * (size_t)cap);
    while (at < len) {
        const char *pair = input + at, *amp = memchr(pair, '&', len - at), *eq;
        size_t plen = amp ? (size_t)(amp - pair) : len - at, klen;
        char *key, *val;
        at += plen + 1;
        if (plen == 0)
            continue; /* "a=1&&b=2" */
        eq = memchr(pair, '=', plen);
        klen = eq ? (size_t)(eq - pair) : plen;
        key = apr_palloc(p, klen + 1);
        val = apr_palloc(p, plen - klen + 1);
        if (decode(pair, klen, key) != 0 ||
            decode(eq ? eq + 1 : pair + plen, eq ? plen - klen - 1 : 0, val) != 0)
            return SECKILL_FORM_MALFORMED;
        pairs[n].key = key;
        pairs[n].value = val;
        n++;
    }
    *out = pairs;
    return n;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const seckill_form_pair *)a)->key, ((const seckill_form_pair *)b)->key);
}

int seckill_form_parse_unique(apr_pool_t *p, const char *input, size_t len, seckill_form_pair **out)
{
    seckill_form_pair *sorted;
    int n = seckill_form_parse(p, input, len, out);
    if (n < 2)
        return n;
    sorted = apr_pmemdup(p, *out, sizeof *sorted * (size_t)n);
    qsort(sorted, (size_t)n, sizeof *sorted, by_key);
    for (int i = 1; i < n; i++)
        if (!strcmp(sorted[i - 1].key, sorted[i].key))
            return SECKILL_FORM_TWICE;
    return n;
}

int seckill_form_value(apr_pool_t *p, const char *input, size_t len, const char *name,
                       const char **value)
{
    seckill_form_pair *pairs;
    int n = seckill_form_parse(p, input, len, &pairs);
    *value = NULL;
    if (n < 0)
        return SECKILL_FORM_MALFORMED;
    for (int i = 0; i < n; i++) {
        if (strcmp(pairs[i].key, name) != 0)
            continue;
        if (*value) {
            *value = NULL; /* given twice: which one was meant? */
            return SECKILL_FORM_TWICE;
        }
        *value = pairs[i].value;
    }
    return SECKILL_FORM_OK;
}

int seckill_parse_id(const char *s, long long *id)
{
    long long v = 0;
    size_t n = 0;
    for (; s && s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 18)
            return -1;
        v = v * 10 + (s[n] - '0');
    }
    if (n == 0 || v == 0)
        return -1;
    *id = v;
    return 0;
}

int seckill_parse_u64(const char *s, unsigned long long *id)
{
    unsigned long long v = 0;
    size_t n = 0;
    for (; s && s[n]; n++) {
        unsigned d = (unsigned)(s[n] - '0');
        if (d > 9 || n >= 20 || v > (~0ULL - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (n == 0 || v == 0)
        return -1;
    *id = v;
    return 0;
}

int seckill_cookie_find(const char *line, const char *name, const char **val, size_t *vlen)
{
    size_t nlen = strlen(name);
    int state = *val ? 1 : 0;
    const char *p = line;

    while (*p && state >= 0) {
        const char *end = p + strcspn(p, ";,");
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if ((size_t)(end - p) > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t n = (size_t)(end - v);
            if (*val && (n != *vlen || memcmp(v, *val, n) != 0))
                state = -1;
            else {
                *val = v;
                *vlen = n;
                state = 1;
            }
        }
        p = *end ? end + 1 : end;
    }
    return state;
}
