#include "body.h"

#include "apr_strings.h"
#include "http_protocol.h"

#include "form.h"

/* The whole body into *out, or an HTTP status once it passes max. */
static int read_body(request_rec *r, apr_size_t max, char **out, apr_size_t *len)
{
    char *buf = apr_palloc(r->pool, max + 1);
    apr_size_t n = 0;
    long got;
    int rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rc != OK)
        return rc;
    if (ap_should_client_block(r)) {
        char chunk[HUGE_STRING_LEN];
        while ((got = ap_get_client_block(r, chunk, sizeof chunk)) > 0) {
            if (n + (apr_size_t)got > max) {
                /* the rest is not read: this connection cannot carry another request */
                r->connection->keepalive = AP_CONN_CLOSE;
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            memcpy(buf + n, chunk, (size_t)got);
            n += (apr_size_t)got;
        }
        if (got < 0)
            return HTTP_BAD_REQUEST;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return OK;
}

int seckill_form_field(request_rec *r, const char *name, apr_size_t max_bytes, const char **value)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    char *body;
    apr_size_t len;
    int rc;
    *value = NULL;
    if ((rc = read_body(r, max_bytes, &body, &len)) != OK)
        return rc;
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
        return OK; /* API clients send the token as a header and no form */
    return seckill_form_value(r->pool, body, len, name, value) == SECKILL_FORM_OK
               ? OK
               : HTTP_BAD_REQUEST;
}

int seckill_form_body(request_rec *r, apr_size_t max_bytes, seckill_form_pair **pairs, int *n)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    char *body;
    apr_size_t len;
    int rc;
    *pairs = NULL;
    *n = 0;
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
        (ct[33] && ct[33] != ';' && ct[33] != ' '))
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    if ((rc = read_body(r, max_bytes, &body, &len)) != OK)
        return rc;
    if ((*n = seckill_form_parse_unique(r->pool, body, len, pairs)) < 0) {
        *n = 0;
        return HTTP_BAD_REQUEST;
    }
    return OK;
}
