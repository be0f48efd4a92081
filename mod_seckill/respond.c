#include "respond.h"

#include "apr_strings.h"
#include "http_protocol.h"
#include "util_filter.h"

#include "templates.h"

#include <stdlib.h>
#include <time.h>

int seckill_wants_json(const request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    return accept && ap_strcasestr(accept, "application/json") != NULL;
}

static void set_headers(request_rec *r, int status, int json)
{
    r->status = status;
    apr_table_mergen(r->headers_out, "Vary", "Accept");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_type(r, json ? "application/json; charset=utf-8" : "text/html; charset=utf-8");
}

/* One bucket for the whole body (not one a token, as rendering writes it). */
static int send_body(request_rec *r, const char *body, size_t len)
{
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, ba);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(body, len, r->pool, ba));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(ba));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS ? OK : AP_FILTER_ERROR;
}

int seckill_render(request_rec *r, int json, const char *tmpl, const seckill_value *view,
                   seckill_buf *out)
{
    if (!json)
        return seckill_template_render_buf(r, tmpl, view, out);
    seckill_v_json(view, seckill_buf_write, out);
    seckill_buf_write(out, "\n", 1);
    return OK;
}

int seckill_respond_body(request_rec *r, int status, int json, const char *body, size_t len)
{
    set_headers(r, status, json);
    return r->header_only ? OK : send_body(r, body, len);
}

int seckill_respond(request_rec *r, int status, const char *tmpl, seckill_value *view)
{
    return seckill_respond_as(r, status, tmpl, view, seckill_wants_json(r));
}

int seckill_respond_as(request_rec *r, int status, const char *tmpl, seckill_value *view, int json)
{
    seckill_buf b;
    int rc;

    set_headers(r, status, json);
    if (r->header_only)
        return OK;
    seckill_buf_init(&b, r->pool);
    if ((rc = seckill_render(r, json, tmpl, view, &b)) != OK)
        return rc;
    return send_body(r, b.data, b.len);
}

int seckill_respond_error(request_rec *r, int status, const char *code, const char *msg)
{
    seckill_value *v = seckill_v_obj(r->pool);
    seckill_v_set_bool(v, "ok", 0);
    seckill_v_set_str(v, "code", code);
    seckill_v_set_str(v, "msg", msg);
    seckill_v_set_int(v, "status", status);
    return seckill_respond(r, status, "message", v);
}

/* Every answer carries "now": each thread keeps the text of the last second it wrote. */
static __thread time_t iso_last = (time_t)-1;
static __thread char iso_text[40];

const char *seckill_iso8601(apr_pool_t *p, time_t t)
{
    struct tm tm;
    char buf[32];
    long off;
    if (t == iso_last)
        return apr_pstrdup(p, iso_text);
    localtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    off = tm.tm_gmtoff / 60;
    apr_snprintf(iso_text, sizeof iso_text, "%s%c%02ld:%02ld", buf, off < 0 ? '-' : '+',
                 labs(off) / 60, labs(off) % 60);
    iso_last = t;
    return apr_pstrdup(p, iso_text);
}

const char *seckill_hms(apr_pool_t *p, long long secs)
{
    if (secs < 0)
        secs = 0;
    return apr_psprintf(p, "%02" APR_INT64_T_FMT ":%02d:%02d", (apr_int64_t)(secs / 3600),
                        (int)(secs / 60 % 60), (int)(secs % 60));
}
