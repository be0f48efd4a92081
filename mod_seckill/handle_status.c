#include "handlers.h"

#include "apr_lib.h"
#include "apr_strings.h"
#include "http_log.h"
#include "http_protocol.h"
#include "util_filter.h"

#include "config.h"
#include "payment.h"
#include "respond.h"
#include "stats.h"

#define REFRESH_MAX 3600

typedef enum { AS_HTML, AS_AUTO, AS_PROMETHEUS } status_format;

/* What Prometheus sends: "...,text/plain;version=0.0.4;q=0.5,..." */
static int wants_prometheus(const request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    return accept && ap_strcasestr(accept, "text/plain") && ap_strcasestr(accept, "version=0.0.4");
}

/* ?auto, ?prometheus, refresh=N (the HTML page reloads every N s); other parameters are
 * ignored, as mod_status does. NULL ok, else the problem. */
static const char *parse_query(request_rec *r, status_format *fmt, int *refresh)
{
    char *args, *pair, *last;
    int formats = 0;
    *fmt = wants_prometheus(r) ? AS_PROMETHEUS : AS_HTML;
    *refresh = 0;
    if (!r->args || !*r->args)
        return NULL;
    args = apr_pstrdup(r->pool, r->args);
    for (pair = apr_strtok(args, "&", &last); pair; pair = apr_strtok(NULL, "&", &last)) {
        char *eq = strchr(pair, '='), *end = NULL;
        if (eq)
            *eq++ = 0;
        if (strcmp(pair, "auto") == 0 || strcmp(pair, "prometheus") == 0) {
            if (formats++)
                return "give one of auto and prometheus";
            *fmt = pair[0] == 'a' ? AS_AUTO : AS_PROMETHEUS;
        } else if (strcmp(pair, "refresh") == 0) {
            long n = eq && apr_isdigit(*eq) ? strtol(eq, &end, 10) : -1;
            if (n < 1 || n > REFRESH_MAX || *end)
                return "refresh must be a number of seconds from 1 to 3600";
            *refresh = (int)n;
        }
    }
    return NULL;
}

static void write_bb(void *ctx, const char *s, size_t n)
{
    apr_brigade_write(ctx, NULL, NULL, s, n);
}

static int send_text(request_rec *r, const char *type, const seckill_stats_snapshot *snap,
                     void (*format)(const seckill_stats_snapshot *, seckill_write_fn, void *))
{
    apr_bucket_brigade *bb;
    apr_table_mergen(r->headers_out, "Vary", "Accept");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_type(r, type);
    if (r->header_only)
        return OK;
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    format(snap, write_bb, bb);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS ? OK : AP_FILTER_ERROR;
}

static int render(request_rec *r, status_format fmt, int refresh,
                  const seckill_stats_snapshot *snap)
{
    seckill_value *view;
    if (fmt == AS_AUTO)
        return send_text(r, "text/plain; charset=utf-8", snap, seckill_stats_auto);
    if (fmt == AS_PROMETHEUS)
        return send_text(r, "text/plain; version=0.0.4; charset=utf-8", snap,
                         seckill_stats_prometheus);
    view = seckill_stats_view(r->pool, snap);
    seckill_v_set_str(view, "title", "秒杀状态 Status");
    if (refresh)
        seckill_v_set_int(view, "refresh", refresh);
    return seckill_respond(r, HTTP_OK, "status", view);
}

int seckill_status_handler(request_rec *r)
{
    seckill_stats_snapshot snap;
    long long pending;
    status_format fmt;
    const char *bad;
    int refresh;

    if (!r->handler || strcmp(r->handler, "seckill-status") != 0)
        return DECLINED;
    if (!seckill_conf(r->server)->rt) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SK1104: SetHandler seckill-status needs SeckillRedis and SeckillMySQL");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return seckill_respond_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                     "只支持 GET");
    }
    if ((bad = parse_query(r, &fmt, &refresh)) != NULL)
        return seckill_respond_error(r, HTTP_BAD_REQUEST, "bad_request", bad);
    /* counters first: the queue questions below hold one of this child's AMQP connections,
     * and the refunds question one of its MySQL connections */
    seckill_stats_collect(r, &snap);
    /* the truth of this gauge is MySQL's: late payments still to refund */
    if (seckill_pay_pending_refunds(r, &pending) == OK) {
        seckill_stats_gauge_set(SECKILL_GAUGE_PENDING_REFUNDS, pending);
        snap.gauges[SECKILL_GAUGE_PENDING_REFUNDS] = pending;
    }
    seckill_stats_collect_queues(r, &snap);
    return render(r, fmt, refresh, &snap);
}
