#include "notify.h"

#include "apr_strings.h"
#include "http_log.h"

#include <stdio.h>

#include "alipay.h"
#include "config.h"
#include "mysql_pool.h"
#include "order_status.h"
#include "payment.h"

typedef struct {
    request_rec *r;
    const seckill_form_pair *params;
    int n;
    apr_uint64_t order_id;
    const char *trade_no;
    seckill_order_row order;
} notify_ctx;

static const char *param(const notify_ctx *x, const char *key)
{
    return seckill_alipay_param_get(x->params, x->n, key);
}

static seckill_notify_outcome refuse(notify_ctx *x, seckill_notify_outcome o, const char *why)
{
    const char *otn = param(x, "out_trade_no"), *id = param(x, "notify_id");
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, x->r,
                  "SK0920: Alipay notify refused (%s): %s; out_trade_no %s, notify_id %s",
                  seckill_notify_name(o), why, otn ? otn : "-", id ? id : "-");
    return o;
}

typedef struct {
    seckill_query q;
    MYSQL_BIND *in;
    long long affected;
} exec_job;

static seckill_conn_result exec_one(request_rec *r, void *conn, void *baton)
{
    exec_job *j = baton;
    return seckill_mysql_exec(r, conn, j->q, j->in, &j->affected);
}

/* Runs q with its params; 0, or -1 when MySQL could not be reached. */
static int run(notify_ctx *x, seckill_query q, MYSQL_BIND *in, long long *affected)
{
    exec_job j = {q, in, 0};
    if (seckill_mysql_run(x->r, exec_one, &j) != SECKILL_CONN_OK)
        return -1;
    if (affected)
        *affected = j.affected;
    return 0;
}

static void bind_str(MYSQL_BIND *b, const char *s)
{
    seckill_mysql_bind(b, MYSQL_TYPE_STRING, (void *)s, strlen(s));
}

static void bind_id(MYSQL_BIND *b, notify_ctx *x)
{
    seckill_mysql_bind(b, MYSQL_TYPE_LONGLONG, &x->order_id, 0);
    b->is_unsigned = 1;
}

/* Paid, but the order was cancelled (its pay window ran out, or the shopper cancelled, with
 * the cashier page open): the money goes back, once, by alipay.trade.refund. */
static seckill_notify_outcome refund(notify_ctx *x)
{
    const seckill_alipay_client *ali = seckill_conf(x->r->server)->alipay;
    struct json_object *b, *resp;
    const char *biz, *why;
    char err[512];
    MYSQL_BIND in[3];
    int state, rc;

    if (!x->trade_no || !*x->trade_no || strlen(x->trade_no) > 64)
        return refuse(x, SECKILL_NOTIFY_MALFORMED, "a payment without a trade_no");
    bind_id(&in[0], x);
    bind_str(&in[1], x->trade_no);
    bind_str(&in[2], x->order.total);
    if (run(x, SECKILL_Q_REFUND_RECORD, in, NULL) != 0 ||
        seckill_pay_refund_state(x->r, x->order_id, &state) != OK)
        return SECKILL_NOTIFY_UNAVAILABLE;
    if (state == 1)
        return SECKILL_NOTIFY_REFUNDED;
    b = json_object_new_object();
    json_object_object_add(
        b, "out_trade_no",
        json_object_new_string(apr_psprintf(x->r->pool, "%" APR_UINT64_T_FMT, x->order_id)));
    json_object_object_add(b, "refund_amount", json_object_new_string(x->order.total));
    /* one refund request per order: a retried notify repeats it, Alipay does it once */
    json_object_object_add(
        b, "out_request_no",
        json_object_new_string(apr_psprintf(x->r->pool, "late%" APR_UINT64_T_FMT, x->order_id)));
    json_object_object_add(b, "refund_reason", json_object_new_string("订单已取消，款项原路退回"));
    biz = apr_pstrdup(x->r->pool, json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN));
    json_object_put(b);
    rc = seckill_alipay_call(x->r->pool, ali, "alipay.trade.refund", biz, &resp, err, sizeof err);
    if (rc == SECKILL_ALIPAY_CALL_OK && seckill_alipay_succeeded(resp)) {
        bind_id(&in[0], x);
        if (run(x, SECKILL_Q_REFUND_DONE, in, NULL) != 0)
            return SECKILL_NOTIFY_UNAVAILABLE; /* the next notify finds it done at Alipay */
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, x->r,
                      "SK0921: order %" APR_UINT64_T_FMT
                      " was paid (trade %s, %s) after it was cancelled: "
                      "refunded in full",
                      x->order_id, x->trade_no, x->order.total);
        return SECKILL_NOTIFY_REFUNDED;
    }
    why = rc != SECKILL_ALIPAY_CALL_OK
              ? err
              : apr_psprintf(x->r->pool, "alipay.trade.refund answered %s %s",
                             seckill_alipay_field(resp, "code") ?: "?",
                             seckill_alipay_field(resp, "sub_code") ?: "");
    bind_str(&in[0], apr_pstrndup(x->r->pool, why, 255));
    bind_id(&in[1], x);
    run(x, SECKILL_Q_REFUND_FAILED, in, NULL);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, x->r,
                  "SK0922: order %" APR_UINT64_T_FMT
                  " was paid (trade %s, %s) after it was cancelled; the "
                  "refund failed: %s. Recorded in seckill_refunds (status 0) for an operator; "
                  "Alipay's next notify retries it",
                  x->order_id, x->trade_no, x->order.total, why);
    return SECKILL_NOTIFY_REFUND_PENDING;
}

static seckill_notify_outcome pay(notify_ctx *x)
{
    long long changed = 0;
    MYSQL_BIND in;
    if (x->order.code == 0) {
        bind_id(&in, x);
        if (run(x, SECKILL_Q_ORDER_PAY, &in, &changed) != 0)
            return SECKILL_NOTIFY_UNAVAILABLE;
        if (changed == 1) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, x->r,
                          "SK0923: order %" APR_UINT64_T_FMT " paid (trade %s, %s)", x->order_id,
                          x->trade_no ? x->trade_no : "-", x->order.total);
            return SECKILL_NOTIFY_PAID;
        }
        /* the timeout, the shopper or another copy of this notify came first */
        if (seckill_order_get(x->r, NULL, x->order_id, &x->order) != OK)
            return SECKILL_NOTIFY_UNAVAILABLE;
    }
    if (x->order.code == 2)
        return refund(x);
    if (x->order.code == 0)
        return SECKILL_NOTIFY_UNAVAILABLE; /* cannot be: the guarded UPDATE changed nothing */
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, x->r,
                  "SK0924: Alipay notify for order %" APR_UINT64_T_FMT
                  ", paid already: nothing changed",
                  x->order_id);
    return SECKILL_NOTIFY_REPLAY;
}

seckill_notify_outcome seckill_notify_handle(request_rec *r, const seckill_form_pair *params, int n)
{
    seckill_server_conf *c = seckill_conf(r->server);
    notify_ctx x = {r, params, n, 0, NULL, {0}};
    const char *app_id, *seller, *otn, *status, *amount;
    unsigned long long id;
    long long cents;
    int rc;

    if (!c->alipay)
        return refuse(&x, SECKILL_NOTIFY_UNAVAILABLE, "SeckillAlipayAppId is not set");
    rc = seckill_alipay_verify_params(r->pool, c->alipay->alipay_key, params, n,
                                      SECKILL_ALIPAY_SKIP_SIGN_TYPE);
    if (rc != SECKILL_ALIPAY_OK)
        return refuse(&x, SECKILL_NOTIFY_FORGED,
                      rc == SECKILL_ALIPAY_NO_SIGNATURE ? "no signature"
                                                        : "the signature does not verify with "
                                                          "SeckillAlipayPublicKey");
    app_id = param(&x, "app_id");
    seller = param(&x, "seller_id");
    otn = param(&x, "out_trade_no");
    status = param(&x, "trade_status");
    amount = param(&x, "total_amount");
    x.trade_no = param(&x, "trade_no");
    if (!app_id || !otn || !status || !amount)
        return refuse(&x, SECKILL_NOTIFY_MALFORMED,
                      "app_id, out_trade_no, trade_status and total_amount are required");
    if (strcmp(app_id, c->alipay->app_id))
        return refuse(&x, SECKILL_NOTIFY_MISMATCH,
                      apr_psprintf(r->pool, "app_id %s is not ours", app_id));
    if (c->alipay_seller_id && (!seller || strcmp(seller, c->alipay_seller_id)))
        return refuse(&x, SECKILL_NOTIFY_MISMATCH,
                      apr_psprintf(r->pool, "seller_id %s is not ours", seller ? seller : "-"));
    if (seckill_parse_u64(otn, &id) != 0)
        return refuse(&x, SECKILL_NOTIFY_UNKNOWN_ORDER, "out_trade_no is not an order id");
    x.order_id = id;
    if ((cents = seckill_alipay_cents(amount)) < 0)
        return refuse(&x, SECKILL_NOTIFY_MALFORMED, "total_amount is not an amount");
    rc = seckill_order_get(r, NULL, x.order_id, &x.order);
    if (rc == HTTP_NOT_FOUND)
        return refuse(&x, SECKILL_NOTIFY_UNKNOWN_ORDER, "no such order");
    if (rc != OK)
        return SECKILL_NOTIFY_UNAVAILABLE;
    if (cents != seckill_alipay_cents(x.order.total))
        return refuse(
            &x, SECKILL_NOTIFY_MISMATCH,
            apr_psprintf(r->pool, "total_amount %s, the order's is %s", amount, x.order.total));
    if (!strcmp(status, "TRADE_SUCCESS") || !strcmp(status, "TRADE_FINISHED"))
        return pay(&x);
    if (!strcmp(status, "WAIT_BUYER_PAY") || !strcmp(status, "TRADE_CLOSED"))
        return SECKILL_NOTIFY_NOT_PAID;
    return refuse(&x, SECKILL_NOTIFY_MALFORMED,
                  apr_psprintf(r->pool, "unknown trade_status %s", status));
}

int seckill_notify_acknowledged(seckill_notify_outcome o)
{
    return o == SECKILL_NOTIFY_PAID || o == SECKILL_NOTIFY_REPLAY || o == SECKILL_NOTIFY_NOT_PAID ||
           o == SECKILL_NOTIFY_REFUNDED;
}

const char *seckill_notify_name(seckill_notify_outcome o)
{
    static const char *const names[] = {"paid",           "replay",     "not_paid", "refunded",
                                        "refund_pending", "forged",     "mismatch", "unknown_order",
                                        "malformed",      "unavailable"};
    return (unsigned)o < sizeof names / sizeof *names ? names[o] : "?";
}
