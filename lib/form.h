/* application/x-www-form-urlencoded, read strictly: '+' is a space, %XX one byte, and a
 * broken escape, a %00 or a parameter given twice makes the whole input refused (which
 * value was meant?). Also the strict decimal ids of the shop's URLs. */
#ifndef SECKILL_FORM_H
#define SECKILL_FORM_H

#include <apr_pools.h>
#include <stddef.h>

#define SECKILL_FORM_OK 0
#define SECKILL_FORM_MALFORMED -1
#define SECKILL_FORM_TWICE -2

/* One decoded parameter. */
typedef struct {
    const char *key;
    const char *value;
} seckill_form_pair;

/* Every parameter of input[0..len), in order, into *out (allocated from p); their count,
 * or SECKILL_FORM_MALFORMED. A name without '=' has the value "". */
int seckill_form_parse(apr_pool_t *p, const char *input, size_t len, seckill_form_pair **out);
/* The same, but a name given twice refuses the whole input: SECKILL_FORM_TWICE. */
int seckill_form_parse_unique(apr_pool_t *p, const char *input, size_t len,
                              seckill_form_pair **out);
/* The decoded value of `name` in input[0..len) into *value (NULL when absent, and on any
 * error: nothing of a refused input is used). */
int seckill_form_value(apr_pool_t *p, const char *input, size_t len, const char *name,
                       const char **value);
/* 1 to 18 decimal digits, above 0, no sign or spaces. 0 ok, -1 bad. */
int seckill_parse_id(const char *s, long long *id);
/* 1 to 20 decimal digits, above 0, no overflow of 64 bits. 0 ok, -1 bad. */
int seckill_parse_u64(const char *s, unsigned long long *id);

/* Cookie headers, as httpd's ap_cookie_read reads them (cookies split at ';' and ',', blanks
 * before a name skipped) but without copying: the value of cookie `name` in line into
 * val and vlen (pointing into line), merged with what earlier lines found. Returns 1 found,
 * 0 not (yet), -1 found with two different values: refused, as ap_cookie_read does. */
int seckill_cookie_find(const char *line, const char *name, const char **val, size_t *vlen);

#endif
