#include "form.h"

#include "apr_strings.h"
#include "http_protocol.h"
#include "util_script.h"

int seckill_form_field(request_rec *r, const char *name, apr_size_t max_bytes, const char **value)
{
    apr_array_header_t *pairs = NULL;
    const char *len = apr_table_get(r->headers_in, "Content-Length");
    int rc;
    *value = NULL;
    if (len && apr_atoi64(len) > (apr_int64_t)max_bytes)
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    rc = ap_parse_form_data(r, NULL, &pairs, 16, max_bytes);
    if (rc != OK)
        return rc;
    for (int i = 0; pairs && i < pairs->nelts; i++) {
        ap_form_pair_t *f = &APR_ARRAY_IDX(pairs, i, ap_form_pair_t);
        apr_off_t n;
        apr_size_t size;
        char *buf;
        if (strcmp(f->name, name) != 0)
            continue;
        if (*value)
            return HTTP_BAD_REQUEST; /* given twice: which one was meant? */
        apr_brigade_length(f->value, 1, &n);
        size = (apr_size_t)n;
        buf = apr_palloc(r->pool, size + 1);
        apr_brigade_flatten(f->value, buf, &size);
        buf[size] = 0;
        *value = buf;
    }
    return OK;
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
