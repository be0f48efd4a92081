#include "payment.h"

#include "apr_strings.h"
#include "http_core.h"
#include "http_log.h"

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <stdio.h>

#include "alipay.h"
#include "config.h"
#include "keys.h"
#include "mysql_pool.h"
#include "redis_pool.h"

/* With less than this left the cashier would open on a trade about to close. */
#define PAY_MIN_SECONDS_LEFT 2
/* The "trade opened" marker outlives the pay window, for a cancel that comes late. */
#define PAYING_TTL_EXTRA 3600

static const char *url_of(request_rec *r, const char *configured, const char *path)
{
    return configured ? configured : ap_construct_url(r->pool, path, r);
}

static const char *biz_content(apr_pool_t *p, const seckill_order_row *o, time_t deadline)
{
    struct json_object *b = json_object_new_object();
    char expire[20];
    const char *text;
    seckill_alipay_timestamp(deadline, expire);
    json_object_object_add(
        b, "out_trade_no",
        json_object_new_string(apr_psprintf(p, "%" APR_UINT64_T_FMT, (apr_uint64_t)o->order_id)));
    json_object_object_add(b, "total_amount", json_object_new_string(o->total));
    json_object_object_add(b, "subject", json_object_new_string(o->product_name));
    json_object_object_add(b, "product_code", json_object_new_string("FAST_INSTANT_TRADE_PAY"));
    json_object_object_add(b, "time_expire", json_object_new_string(expire));
    text = apr_pstrdup(p, json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(b);
    return text;
}

typedef struct {
    apr_uint64_t order_id;
    int ttl;
} paying_job;

static seckill_conn_result mark_paying(request_rec *r, void *conn, void *baton)
{
    paying_job *j = baton;
    redisContext *c = conn;
    char key[48];
    redisReply *rep;
    seckill_conn_result res;
    snprintf(key, sizeof key, SECKILL_KEY_PAYING, (unsigned long long)j->order_id);
    rep = redisCommand(c, "SET %s 1 EX %d", key, j->ttl);
    res = seckill_redis_check(c, rep);
    if (rep)
        freeReplyObject(rep);
    return res;
}

int seckill_pay_start(request_rec *r, const char *user, apr_uint64_t order_id, const char **url,
                      const char **code)
{
    seckill_server_conf *c = seckill_conf(r->server);
    time_t now = (time_t)apr_time_sec(r->request_time), deadline;
    seckill_order_row o;
    paying_job pj;
    int rc;

    *url = *code = NULL;
    if (!c->alipay) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SK0910: a shopper wants to pay, but SeckillAlipayAppId is not set");
        *code = "not_configured";
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if ((rc = seckill_order_get(r, user, order_id, &o)) != OK)
        return rc;
    deadline = o.created + c->pay_timeout;
    if (o.code != 0) {
        *code = o.code == 2 ? "cancelled" : "paid";
        return HTTP_CONFLICT;
    }
    if (deadline - now < PAY_MIN_SECONDS_LEFT) {
        *code = "expired";
        return HTTP_CONFLICT;
    }
    /* Written before the redirect: a cancel must know a cashier page may be open. */
    pj.order_id = order_id;
    pj.ttl = c->pay_timeout + PAYING_TTL_EXTRA;
    if (seckill_redis_run(r, mark_paying, &pj) != SECKILL_CONN_OK)
        return HTTP_SERVICE_UNAVAILABLE;
    *url = seckill_alipay_page_pay_url(r->pool, c->alipay, biz_content(r->pool, &o, deadline),
                                       url_of(r, c->alipay_notify_url, "/alipay/notify/"),
                                       url_of(r, c->alipay_return_url, "/result/"), now);
    if (!*url) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SK0911: cannot sign alipay.trade.page.pay with SeckillAlipayAppPrivateKey");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "SK0912: order %" APR_UINT64_T_FMT ": to Alipay to pay %s (pay by %ld)", order_id,
                  o.total, (long)deadline);
    return OK;
}

typedef struct {
    apr_uint64_t order_id;
    short status;
    int found;
} refund_job;

static seckill_conn_result refund_status(request_rec *r, void *conn, void *baton)
{
    refund_job *j = baton;
    char err[256];
    MYSQL_STMT *st = seckill_db_stmt(conn, SECKILL_Q_REFUND_STATUS, err, sizeof err);
    MYSQL_BIND in, out;
    int rc;
    if (!st) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0913: mysql: %s", err);
        return seckill_mysql_check(seckill_db_prepare_errno(conn));
    }
    seckill_mysql_bind(&in, MYSQL_TYPE_LONGLONG, &j->order_id, 0);
    in.is_unsigned = 1;
    seckill_mysql_bind(&out, MYSQL_TYPE_SHORT, &j->status, 0);
    if (mysql_stmt_bind_param(st, &in) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, &out)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0914: mysql: %s", mysql_stmt_error(st));
        return seckill_mysql_check(mysql_stmt_errno(st) ?: 1);
    }
    rc = mysql_stmt_fetch(st);
    j->found = rc == 0 || rc == MYSQL_DATA_TRUNCATED;
    mysql_stmt_free_result(st);
    return SECKILL_CONN_OK;
}

int seckill_pay_refund_state(request_rec *r, apr_uint64_t order_id, int *state)
{
    refund_job j = {order_id, 0, 0};
    if (seckill_mysql_run(r, refund_status, &j) != SECKILL_CONN_OK)
        return HTTP_SERVICE_UNAVAILABLE;
    *state = j.found ? j.status : -1;
    return OK;
}

/* The notify has not come: Alipay's own word, signed, on whether the trade is paid. */
static const char *ask_alipay(request_rec *r, apr_uint64_t order_id)
{
    const seckill_alipay_client *ali = seckill_conf(r->server)->alipay;
    struct json_object *resp;
    char err[512];
    const char *biz =
                   apr_psprintf(r->pool, "{\"out_trade_no\":\"%" APR_UINT64_T_FMT "\"}", order_id),
               *ts;
    int rc = seckill_alipay_call(r->pool, ali, "alipay.trade.query", biz, &resp, err, sizeof err);
    if (rc != SECKILL_ALIPAY_CALL_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SK0915: order %" APR_UINT64_T_FMT ": %s",
                      order_id, err);
        return "waiting";
    }
    ts = seckill_alipay_succeeded(resp) ? seckill_alipay_field(resp, "trade_status") : NULL;
    if (ts && (!strcmp(ts, "TRADE_SUCCESS") || !strcmp(ts, "TRADE_FINISHED")))
        return "confirming";
    return "waiting";
}

int seckill_pay_result(request_rec *r, const char *user, const seckill_form_pair *params, int n,
                       seckill_pay_outcome *out)
{
    seckill_server_conf *c = seckill_conf(r->server);
    const char *app_id = seckill_alipay_param_get(params, n, "app_id");
    const char *otn = seckill_alipay_param_get(params, n, "out_trade_no");
    unsigned long long id;
    int rc, vr;

    if (!c->alipay)
        return HTTP_SERVICE_UNAVAILABLE;
    vr = seckill_alipay_verify_params(r->pool, c->alipay->alipay_key, params, n,
                                      SECKILL_ALIPAY_SKIP_SIGN_TYPE);
    if (vr != SECKILL_ALIPAY_OK || !app_id || strcmp(app_id, c->alipay->app_id) || !otn ||
        seckill_parse_u64(otn, &id) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "SK0916: return page with params that are not Alipay's for this app "
                      "(signature check %d, app_id %s, out_trade_no %s)",
                      vr, app_id ? app_id : "-", otn ? otn : "-");
        return HTTP_BAD_REQUEST;
    }
    if ((rc = seckill_order_get(r, user, id, &out->order)) != OK)
        return rc;
    out->refund = -1;
    switch (out->order.code) {
    case 0:
        out->state = ask_alipay(r, id);
        return OK;
    case 2:
        out->state = "cancelled";
        return seckill_pay_refund_state(r, id, &out->refund);
    default:
        out->state = "paid";
        return OK;
    }
}
