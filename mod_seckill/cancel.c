#include "cancel.h"

#include "apr_strings.h"
#include "http_log.h"

#include <hiredis/hiredis.h>
#include <stdio.h>

#include "config.h"
#include "keys.h"
#include "mysql_pool.h"
#include "order_status.h"
#include "redis_pool.h"
#include "runtime.h"

typedef struct {
    apr_uint64_t order_id;
    const seckill_order_row *o;
    long long cancelled; /* rows the guarded UPDATE changed: 1 when this cancel won */
    int paying;          /* a trade was opened at Alipay */
} cancel_job;

static seckill_conn_result rollback(MYSQL *m, seckill_conn_result res)
{
    mysql_rollback(m);
    mysql_autocommit(m, 1);
    return res;
}

static seckill_conn_result cancel_in_mysql(request_rec *r, void *conn, void *baton)
{
    cancel_job *j = baton;
    MYSQL *m = seckill_db_mysql(conn);
    MYSQL_BIND in[2];
    int qty = j->o->quantity;
    long long pid = j->o->product_id, n = 0;
    seckill_conn_result res;

    j->cancelled = 0;
    if (mysql_autocommit(m, 0))
        return seckill_mysql_check(mysql_errno(m));
    seckill_mysql_bind(&in[0], MYSQL_TYPE_LONGLONG, &j->order_id, 0);
    in[0].is_unsigned = 1;
    if ((res = seckill_mysql_exec(r, conn, SECKILL_Q_WORKER_ORDER_EXPIRE, in, &n)) !=
        SECKILL_CONN_OK)
        return rollback(m, res);
    if (n == 1) {
        seckill_mysql_bind(&in[0], MYSQL_TYPE_LONG, &qty, 0);
        seckill_mysql_bind(&in[1], MYSQL_TYPE_LONGLONG, &pid, 0);
        if ((res = seckill_mysql_exec(r, conn, SECKILL_Q_WORKER_STOCK_RETURN, in, NULL)) !=
            SECKILL_CONN_OK)
            return rollback(m, res);
    }
    if (mysql_commit(m))
        return rollback(m, seckill_mysql_check(mysql_errno(m)));
    mysql_autocommit(m, 1);
    j->cancelled = n;
    return SECKILL_CONN_OK;
}

static seckill_conn_result restore_in_redis(request_rec *r, void *conn, void *baton)
{
    cancel_job *j = baton;
    redisContext *c = conn;
    seckill_runtime *rt = seckill_conf(r->server)->rt;
    char stock[64], buyers[64], states[64], id[24], qty[16], paying[48];
    const char *argv[6] = {stock, buyers, states, id, j->o->user, qty};
    seckill_conn_result res;
    redisReply *rep;

    snprintf(stock, sizeof stock, SECKILL_KEY_STOCK, j->o->product_id);
    snprintf(buyers, sizeof buyers, SECKILL_KEY_BUYERS, j->o->product_id);
    snprintf(states, sizeof states, SECKILL_KEY_ORDERS, j->o->product_id);
    snprintf(id, sizeof id, "%llu", (unsigned long long)j->order_id);
    snprintf(qty, sizeof qty, "%d", j->o->quantity);
    rep = seckill_lua_call(c, &rt->order_restore, 3, 6, argv, NULL);
    res = seckill_redis_check(c, rep);
    if (rep)
        freeReplyObject(rep);
    if (res != SECKILL_CONN_OK)
        return res;
    snprintf(paying, sizeof paying, SECKILL_KEY_PAYING, (unsigned long long)j->order_id);
    rep = redisCommand(c, "EXISTS %s", paying);
    res = seckill_redis_check(c, rep);
    j->paying = res == SECKILL_CONN_OK && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
    if (rep)
        freeReplyObject(rep);
    return res;
}

/* A cashier page may still be open: close the trade so it cannot be paid. A payment that
 * slips in anyway is refunded when its notify comes (notify.c). */
static void close_trade(request_rec *r, apr_uint64_t order_id)
{
    const seckill_alipay_client *ali = seckill_conf(r->server)->alipay;
    struct json_object *resp;
    char err[512];
    const char *biz =
        apr_psprintf(r->pool, "{\"out_trade_no\":\"%" APR_UINT64_T_FMT "\"}", order_id);
    int rc = seckill_alipay_call(r->pool, ali, "alipay.trade.close", biz, &resp, err, sizeof err);
    const char *sub = rc == SECKILL_ALIPAY_CALL_OK ? seckill_alipay_field(resp, "sub_code") : NULL;
    if (rc != SECKILL_ALIPAY_CALL_OK)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "SK0903: order %" APR_UINT64_T_FMT
                      " cancelled, but its Alipay trade was not closed: %s "
                      "(a payment still made will be refunded when notified)",
                      order_id, err);
    else if (seckill_alipay_succeeded(resp) || (sub && !strcmp(sub, "ACQ.TRADE_NOT_EXIST")))
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "SK0904: order %" APR_UINT64_T_FMT ": Alipay trade %s", order_id,
                      sub ? "never opened at the cashier" : "closed");
    else
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "SK0905: order %" APR_UINT64_T_FMT
                      " cancelled; alipay.trade.close answered %s %s (a "
                      "payment already made will be refunded when notified)",
                      order_id, seckill_alipay_field(resp, "code") ?: "?", sub ?: "");
}

int seckill_order_cancel(request_rec *r, const char *user, apr_uint64_t order_id, const char **code)
{
    seckill_server_conf *c = seckill_conf(r->server);
    seckill_order_row o;
    cancel_job j;
    int rc = seckill_order_get(r, user, order_id, &o);

    *code = NULL;
    if (rc != OK)
        return rc;
    if (o.code != 0) {
        *code = o.code == 2 ? "cancelled" : "paid";
        return HTTP_CONFLICT;
    }
    memset(&j, 0, sizeof j);
    j.order_id = order_id;
    j.o = &o;
    if (seckill_mysql_run(r, cancel_in_mysql, &j) != SECKILL_CONN_OK)
        return HTTP_SERVICE_UNAVAILABLE;
    if (j.cancelled != 1) { /* paid, or cancelled by the timeout, since the read */
        rc = seckill_order_get(r, user, order_id, &o);
        *code = rc == OK && o.code == 2 ? "cancelled" : "paid";
        return rc == OK ? HTTP_CONFLICT : rc;
    }
    /* Committed: the order is cancelled. If Redis fails now, the pay-timeout message at the
     * deadline runs order_restore for this order (the worker's "was cancelled" case). */
    if (seckill_redis_run(r, restore_in_redis, &j) != SECKILL_CONN_OK)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "SK0901: order %" APR_UINT64_T_FMT
                      " cancelled in MySQL; Redis did not take the units back "
                      "now: the pay-timeout consumer will at the deadline",
                      order_id);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "SK0902: order %" APR_UINT64_T_FMT
                  " cancelled by its shopper: %d unit(s) of product %" APR_INT64_T_FMT " back",
                  order_id, o.quantity, (apr_int64_t)o.product_id);
    if (j.paying && c->alipay)
        close_trade(r, order_id);
    return OK;
}
