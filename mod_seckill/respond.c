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

static void write_bb(void *ctx, const char *s, size_t n)
{
    apr_brigade_write(ctx, NULL, NULL, s, n);
}

static int send_json(request_rec *r, const seckill_value *view)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    seckill_v_json(view, write_bb, bb);
    apr_brigade_write(bb, NULL, NULL, "\n", 1);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS ? OK : AP_FILTER_ERROR;
}

int seckill_respond(request_rec *r, int status, const char *tmpl, seckill_value *view)
{
    return seckill_respond_as(r, status, tmpl, view, seckill_wants_json(r));
}

int seckill_respond_as(request_rec *r, int status, const char *tmpl, seckill_value *view, int json)
{
    r->status = status;
    apr_table_mergen(r->headers_out, "Vary", "Accept");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    if (json) {
        ap_set_content_type(r, "application/json; charset=utf-8");
        return r->header_only ? OK : send_json(r, view);
    }
    ap_set_content_type(r, "text/html; charset=utf-8");
    if (r->header_only)
        return OK;
    return seckill_template_render(r, tmpl, view);
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

const char *seckill_iso8601(apr_pool_t *p, time_t t)
{
    struct tm tm;
    char buf[32];
    long off;
    localtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    off = tm.tm_gmtoff / 60;
    return apr_psprintf(p, "%s%c%02ld:%02ld", buf, off < 0 ? '-' : '+', labs(off) / 60,
                        labs(off) % 60);
}

const char *seckill_hms(apr_pool_t *p, long long secs)
{
    if (secs < 0)
        secs = 0;
    return apr_psprintf(p, "%02" APR_INT64_T_FMT ":%02d:%02d", (apr_int64_t)(secs / 3600),
                        (int)(secs / 60 % 60), (int)(secs % 60));
}
