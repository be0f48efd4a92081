#include "buy.h"

#include "ap_mpm.h"
#include "apr_strings.h"
#include "http_log.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>

#include "amqp_pool.h"
#include "config.h"
#include "fmt.h"
#include "keys.h"
#include "listing.h"
#include "mysql_pool.h"
#include "order.h"
#include "redis_batch.h"
#include "redis_pool.h"
#include "runtime.h"
#include "slot.h"
#include "stats.h"

#define QUANTITY 1
#define MARKER_TTL 86400

typedef struct {
    request_rec *r;
    long long pid;
    const char *user;
    uint64_t order_id;
    char oid[24];
    long long code, n;
    char price[16];
    int passed;     /* the pipeline handed its order to a publisher (pub) */
    int maybe_sold; /* a connection broke after its EVALSHA went out: it may have run */
    seckill_amqp_job pub;
    char body[512]; /* its order message */
} buy_job;

/* seckill_fmt, not snprintf: ten keys and numbers a buy (lib/fmt.h) */
static void key(char *buf, size_t cap, const char *fmt, long long pid)
{
    seckill_fmt(buf, cap, fmt, pid);
}

/* KEYS and ARGV of lua/buy.lua for j: the sale and, on success, the order marker that
 * GET /order/{id} reads until the row exists. */
typedef struct {
    char k_prod[64], k_stock[64], k_buyers[64], k_rate[160], k_orders[64], k_marker[48];
    char a_qty[8], a_ulim[16], a_rl[16], a_rw[16], a_marker[SECKILL_USER_MAX + 40], a_ttl[16];
    const char *argv[14];
} script_args;

static void make_args(request_rec *r, const buy_job *j, script_args *a)
{
    const seckill_server_conf *sc = seckill_conf(r->server);
    const char *argv[14] = {a->k_prod,   a->k_stock, a->k_buyers, a->k_rate, a->k_orders,
                            a->k_marker, j->user,    a->a_qty,    a->a_ulim, a->a_rl,
                            a->a_rw,     j->oid,     a->a_marker, a->a_ttl};
    memcpy(a->argv, argv, sizeof argv);
    key(a->k_prod, sizeof a->k_prod, SECKILL_KEY_PRODUCT, j->pid);
    key(a->k_stock, sizeof a->k_stock, SECKILL_KEY_STOCK, j->pid);
    key(a->k_buyers, sizeof a->k_buyers, SECKILL_KEY_BUYERS, j->pid);
    key(a->k_orders, sizeof a->k_orders, SECKILL_KEY_ORDERS, j->pid);
    seckill_fmt(a->k_rate, sizeof a->k_rate, SECKILL_KEY_RATE, j->pid, j->user);
    seckill_fmt(a->k_marker, sizeof a->k_marker, SECKILL_KEY_ORDER,
                (unsigned long long)j->order_id);
    seckill_fmt(a->a_qty, sizeof a->a_qty, "%d", QUANTITY);
    seckill_fmt(a->a_ulim, sizeof a->a_ulim, "%d", sc->user_limit);
    seckill_fmt(a->a_rl, sizeof a->a_rl, "%d", sc->rate_limit);
    seckill_fmt(a->a_rw, sizeof a->a_rw, "%d", sc->rate_window * 1000);
    seckill_fmt(a->a_marker, sizeof a->a_marker, "%s|%lld|queued", j->user, j->pid);
    seckill_fmt(a->a_ttl, sizeof a->a_ttl, "%d", MARKER_TTL);
}

/* The script's answer {code, n, price} into j; 0 for an error or another shape. */
static int parse_reply(buy_job *j, const redisReply *rep)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER ||
        rep->element[1]->type != REDIS_REPLY_INTEGER)
        return 0;
    j->code = rep->element[0]->integer;
    j->n = rep->element[1]->integer;
    j->price[0] = 0;
    if (rep->elements >= 3 && rep->element[2]->type == REDIS_REPLY_STRING &&
        rep->element[2]->len < sizeof j->price)
        memcpy(j->price, rep->element[2]->str, rep->element[2]->len + 1);
    return 1;
}

/* parse_reply, and FAIL (logged) for an error or another shape. */
static seckill_conn_result take_reply(request_rec *r, buy_job *j, const redisReply *rep)
{
    if (parse_reply(j, rep))
        return SECKILL_CONN_OK;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0503: redis: buy script: %s",
                  rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    return SECKILL_CONN_FAIL;
}

/* The EVALSHA on a connection of the pool (the way when the child's pipeline could not tell). */
static seckill_conn_result run_script(request_rec *r, void *conn, void *baton)
{
    redisContext *c = conn;
    buy_job *j = baton;
    script_args a;
    redisReply *rep;
    seckill_conn_result res;

    make_args(r, j, &a);
    rep = seckill_lua_call_in(r->pool, c, &seckill_conf(r->server)->rt->buy, 6, 14, a.argv, NULL);
    res = seckill_redis_check(c, rep);
    if (res == SECKILL_CONN_LOST)
        j->maybe_sold = 1; /* or it never went out: the undo (below) is right for both */
    return res == SECKILL_CONN_LOST ? res : take_reply(r, j, rep);
}

/* j's signed order message (lib/order.h) into j->body: its length, or <= 0 when it does not fit. */
static int order_body(buy_job *j)
{
    const seckill_server_conf *sc = seckill_conf(j->r->server);
    seckill_order_msg m;

    memset(&m, 0, sizeof m);
    m.order_id = j->order_id;
    apr_cpystrn(m.user_id, j->user, sizeof m.user_id);
    m.product_id = j->pid;
    apr_cpystrn(m.price, j->price, sizeof m.price);
    m.quantity = QUANTITY;
    m.created_ms = (int64_t)seckill_snowflake_ms(j->order_id);
    m.pay_deadline_ms = m.created_ms + (int64_t)sc->pay_timeout * 1000;
    seckill_order_sign(&m, sc->secret, sc->secret_len);
    return seckill_order_encode(&m, j->body, sizeof j->body);
}

/* On the pipeline's thread: a sold buy's order goes straight to a publisher, and the request
 * wakes once, with its confirm (bench/README.md: a sleep less a buy). Anything else, and an
 * order it cannot queue, wakes the request as before, which publishes itself. */
static int pass_on(void *baton, const redisReply *rep, sem_t *done)
{
    buy_job *j = baton;
    int len;
    if (!parse_reply(j, rep) || j->code != 0 || (len = order_body(j)) <= 0)
        return 0;
    j->passed = 1;
    /* queued, j is the request's again once the publisher posts: not touched after */
    if (seckill_amqp_publish_start(j->r, &j->pub, SECKILL_RK_ORDER_CREATE, j->body, (size_t)len,
                                   done))
        return 1;
    j->passed = 0;
    return 0;
}

static int publish_late(void *baton, struct timespec *when)
{
    buy_job *j = baton;
    return seckill_amqp_publish_late(&j->pub, when);
}

/* The EVALSHA through the child's pipeline (redis_batch.h). LOST when it cannot tell: no
 * connection, the reply cut off (*unknown: it may have sold), or a Redis without the script
 * (NOSCRIPT: nothing ran; the pool's way loads it). A sale is recorded under its order id, so
 * the pool's way may safely repeat it. */
static seckill_conn_result piped_script(request_rec *r, buy_job *j, int *unknown)
{
    seckill_runtime *rt = seckill_conf(r->server)->rt;
    script_args a;
    char *cmd;
    size_t len;
    redisReply *rep;
    seckill_redis_then then = {pass_on, publish_late, j, 1000};

    make_args(r, j, &a);
    if (!(len = seckill_lua_command(r->pool, &rt->buy, 6, 14, a.argv, NULL, &cmd)) ||
        !(rep = seckill_redis_batch_call(rt->rbatch, r, cmd, len, unknown, &then)))
        return SECKILL_CONN_LOST;
    if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0)
        return SECKILL_CONN_LOST;
    return take_reply(r, j, rep);
}

/* lua/order_revoke.lua for one order (fence: its sale's outcome is unknown); the reply, or NULL
 * on a connection error (c->err set). Both callers free it. */
static redisReply *call_revoke(redisContext *c, const seckill_lua_script *script, long long pid,
                               uint64_t order_id, const char *oid, const char *user, int fence)
{
    char k_stock[64], k_buyers[64], k_orders[64], k_marker[48], a_qty[8];
    const char *argv[8] = {k_stock, k_buyers, k_orders, k_marker, oid, user, a_qty, "fence"};
    key(k_stock, sizeof k_stock, SECKILL_KEY_STOCK, pid);
    key(k_buyers, sizeof k_buyers, SECKILL_KEY_BUYERS, pid);
    key(k_orders, sizeof k_orders, SECKILL_KEY_ORDERS, pid);
    seckill_fmt(k_marker, sizeof k_marker, SECKILL_KEY_ORDER, (unsigned long long)order_id);
    seckill_fmt(a_qty, sizeof a_qty, "%d", QUANTITY);
    return seckill_lua_call(c, script, 4, fence ? 8 : 7, argv, NULL);
}

/* A buy that never heard whether it sold: its sale, if it happened, is undone by the child's
 * pipeline once Redis answers again (order_revoke.lua with 'fence': a sale not made yet can no
 * longer happen), so its 503 holds nothing. */
typedef struct {
    server_rec *s;
    const seckill_lua_script *script;
    long long pid;
    uint64_t order_id;
    char oid[24];
    char user[SECKILL_USER_MAX + 1];
} undo_job;

static void log_held(const undo_job *u, const char *why, const char *detail)
{
    ap_log_error(APLOG_MARK, APLOG_CRIT, 0, u->s,
                 "SK0512: order %s (product %" APR_INT64_T_FMT
                 ", user %s): %s%s; if it sold, one unit is held until an operator restores it",
                 u->oid, (apr_int64_t)u->pid, u->user, why, detail);
}

/* An error a Redis answers while it cannot run commands yet (loading its data after a restart,
 * a script running past its limit): asked again, it may answer. */
static int not_ready(const redisReply *rep)
{
    static const char *const words[] = {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN"};
    if (rep->type != REDIS_REPLY_ERROR)
        return 0;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strncmp(rep->str, words[i], strlen(words[i])) == 0)
            return 1;
    return 0;
}

static int undo_sale(void *baton, redisContext *c)
{
    undo_job *u = baton;
    redisReply *rep;

    if (!c) {
        log_held(u, "Redis did not answer before the child stopped", "");
        free(u);
        return 1;
    }
    rep = call_revoke(c, u->script, u->pid, u->order_id, u->oid, u->user, 1);
    if (!rep || c->err || not_ready(rep)) {
        if (rep)
            freeReplyObject(rep);
        return 0;
    }
    if (rep->type == REDIS_REPLY_ERROR)
        log_held(u, "undoing its sale failed: ", rep->str);
    else
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, u->s,
                     "SK0511: order %s: Redis answers again; its sale, if it happened, is undone",
                     u->oid);
    freeReplyObject(rep);
    free(u);
    return 1;
}

static void undo_later(request_rec *r, const buy_job *j)
{
    seckill_runtime *rt = seckill_conf(r->server)->rt;
    undo_job job = {r->server, &rt->order_revoke, j->pid, j->order_id, "", ""}, *u;

    memcpy(job.oid, j->oid, sizeof job.oid);
    apr_cpystrn(job.user, j->user, sizeof job.user);
    if (!rt->rbatch || !(u = malloc(sizeof *u))) {
        log_held(&job, "Redis did not answer and its sale cannot be undone later", "");
        return;
    }
    *u = job;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "SK0510: order %s (product %" APR_INT64_T_FMT
                  ", user %s): Redis did not answer whether it sold; answered 503, and the sale "
                  "is undone once Redis answers again",
                  j->oid, (apr_int64_t)j->pid, j->user);
    seckill_redis_batch_later(rt->rbatch, undo_sale, u);
}

/* A buy whose script may have run (its reply lost with the connection) is asked again until
 * Redis answers, for up to twice SeckillRedisTimeout: a Redis restarting (SHUTDOWN keeps what
 * it ran) then answers `ok` for a sale it made instead of a 503. An error answer does not tell
 * either (a restarted Redis answers LOADING until its data is back): asked again too. Past
 * that, the sale is undone later (undo_later). */
#define UNKNOWN_RETRY_MS 100

static seckill_conn_result sell(request_rec *r, buy_job *j)
{
    const seckill_server_conf *sc = seckill_conf(r->server);
    int unknown = 0;
    seckill_conn_result res = sc->rt->rbatch ? piped_script(r, j, &unknown) : SECKILL_CONN_LOST;
    apr_time_t until = apr_time_now() + apr_time_from_msec(2 * sc->redis_timeout_ms);

    if (res != SECKILL_CONN_LOST)
        return res;
    for (;;) {
        j->maybe_sold = 0;
        res = seckill_redis_run(r, run_script, j);
        if (res == SECKILL_CONN_OK || (res == SECKILL_CONN_FAIL && !unknown))
            return res;
        unknown |= j->maybe_sold;
        if (!unknown || apr_time_now() >= until)
            break;
        apr_sleep(apr_time_from_msec(UNKNOWN_RETRY_MS));
    }
    if (unknown)
        undo_later(r, j);
    return res;
}

static seckill_conn_result revoke_order(request_rec *r, void *conn, void *baton)
{
    redisContext *c = conn;
    buy_job *j = baton;
    redisReply *rep = call_revoke(c, &seckill_conf(r->server)->rt->order_revoke, j->pid,
                                  j->order_id, j->oid, j->user, 0);
    seckill_conn_result res = seckill_redis_check(c, rep);
    if (res == SECKILL_CONN_OK)
        j->code = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1 ? 1 : 0;
    if (rep)
        freeReplyObject(rep);
    return res;
}

/* The product is known to MySQL but not (wholly) cached: cache its slot again. */
typedef struct {
    long long pid;
    time_t start;
    int found;
} start_job;

static seckill_conn_result product_start(request_rec *r, void *conn, void *baton)
{
    start_job *j = baton;
    char err[256];
    MYSQL_STMT *st = seckill_db_stmt(conn, SECKILL_Q_PRODUCT_START, err, sizeof err);
    MYSQL_BIND param, res;
    MYSQL_TIME t;
    int rc;
    if (!st) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0509: mysql: %s", err);
        return seckill_mysql_check(seckill_db_prepare_errno(conn));
    }
    memset(&param, 0, sizeof param);
    memset(&res, 0, sizeof res);
    param.buffer_type = MYSQL_TYPE_LONGLONG;
    param.buffer = &j->pid;
    res.buffer_type = MYSQL_TYPE_DATETIME;
    res.buffer = &t;
    if (mysql_stmt_bind_param(st, &param) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, &res)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0504: mysql: %s", mysql_stmt_error(st));
        return seckill_mysql_check(mysql_stmt_errno(st) ?: 1);
    }
    rc = mysql_stmt_fetch(st);
    j->found = rc == 0 || rc == MYSQL_DATA_TRUNCATED;
    if (j->found)
        j->start = seckill_db_time_from(&t);
    mysql_stmt_free_result(st);
    return SECKILL_CONN_OK;
}

static int recache(request_rec *r, long long pid)
{
    start_job j = {pid, 0, 0};
    if (seckill_mysql_run(r, product_start, &j) != SECKILL_CONN_OK || !j.found)
        return 0;
    return seckill_listing_refill(r, j.start, seckill_slot_of_time(j.start)) == OK;
}

/* The child's order-id generator, set up on its first buy: the child's scoreboard slot comes
 * from the connection id, which the MPMs make as slot * ThreadLimit + thread. */
static int ids_ready(request_rec *r, seckill_runtime *rt)
{
    int state = __atomic_load_n(&rt->ids_ready, __ATOMIC_ACQUIRE), zero = 0, threads = 0;
    unsigned slot;
    if (state == 2)
        return 1;
    if (!__atomic_compare_exchange_n(&rt->ids_ready, &zero, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        while ((state = __atomic_load_n(&rt->ids_ready, __ATOMIC_ACQUIRE)) == 1)
            apr_sleep(10);
        return state == 2;
    }
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_THREADS, &threads);
    slot = (unsigned)(threads > 0 ? r->connection->id / threads : 0);
    if (seckill_snowflake_init(&rt->ids, (unsigned)seckill_conf(r->server)->node_id, slot)) {
        ap_log_rerror(APLOG_MARK, APLOG_CRIT, 0, r,
                      "SK0505: child slot %u is beyond the %d order ids can carry", slot,
                      SECKILL_SNOWFLAKE_SLOTS);
        __atomic_store_n(&rt->ids_ready, 0, __ATOMIC_RELEASE);
        return 0;
    }
    __atomic_store_n(&rt->ids_ready, 2, __ATOMIC_RELEASE);
    return 1;
}

/* The order of a sold buy to RabbitMQ, confirmed (or its confirm, when the pipeline passed it
 * on already); unconfirmed, the unit goes back. */
static seckill_buy_code publish(request_rec *r, buy_job *j)
{
    seckill_conn_result sent;
    int len;

    if (j->passed)
        sent = seckill_amqp_publish_result(r, &j->pub);
    else if ((len = order_body(j)) > 0)
        sent = seckill_amqp_publish_confirmed(r, SECKILL_RK_ORDER_CREATE, j->body, (size_t)len);
    else
        sent = SECKILL_CONN_FAIL;
    if (sent == SECKILL_CONN_OK)
        return SECKILL_BUY_OK;
    /* Not confirmed: give the unit back, unless the worker got the message after all. */
    if (seckill_redis_run(r, revoke_order, j) != SECKILL_CONN_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_CRIT, 0, r,
                      "SK0507: order %s (product %" APR_INT64_T_FMT
                      ", user %s) was neither published nor "
                      "revoked: one unit is held until an operator restores it",
                      j->oid, (apr_int64_t)j->pid, j->user);
        seckill_stats_add(r, SECKILL_STAT_PUBLISH_UNREVOKED);
        return SECKILL_BUY_UNAVAILABLE;
    }
    if (j->code == 0)
        return SECKILL_BUY_OK; /* the worker claimed it: the order lives */
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SK0508: order %s revoked: not published",
                  j->oid);
    return SECKILL_BUY_UNAVAILABLE;
}

void seckill_buy(request_rec *r, const char *user, long long pid, seckill_buy_result *out)
{
    const seckill_server_conf *sc = seckill_conf(r->server);
    seckill_runtime *rt = sc->rt;
    buy_job j;
    seckill_conn_result res;

    memset(out, 0, sizeof *out);
    if (!seckill_bloom_mirror_maybe(r, rt->bloom, pid)) {
        out->code = SECKILL_BUY_NO_SUCH_PRODUCT;
        return;
    }
    if (seckill_soldout_is(rt->soldout, pid, apr_time_now())) {
        out->code = SECKILL_BUY_SOLD_OUT;
        return;
    }
    if (!rt->amqp || !sc->secret || !ids_ready(r, rt)) {
        out->code = SECKILL_BUY_UNAVAILABLE;
        return;
    }
    memset(&j, 0, sizeof j);
    j.r = r;
    j.pid = pid;
    j.user = user;
    j.order_id = seckill_snowflake_next(&rt->ids, (uint64_t)apr_time_as_msec(apr_time_now()));
    seckill_fmt(j.oid, sizeof j.oid, "%llu", (unsigned long long)j.order_id);

    res = sell(r, &j);
    if (res == SECKILL_CONN_OK && (j.code == 1 || j.code == 7) && recache(r, pid))
        res = sell(r, &j);
    if (res != SECKILL_CONN_OK) {
        out->code = SECKILL_BUY_UNAVAILABLE;
        return;
    }
    switch (j.code) {
    case 0:
        out->code = publish(r, &j);
        if (out->code == SECKILL_BUY_OK)
            out->order_id = j.order_id;
        return;
    case 1:
        out->code = SECKILL_BUY_NO_SUCH_PRODUCT;
        return;
    case 2:
        out->code = SECKILL_BUY_NOT_STARTED;
        out->wait_ms = j.n;
        return;
    case 3:
        out->code = SECKILL_BUY_ENDED;
        return;
    case 4:
        seckill_soldout_mark(rt->soldout, pid, apr_time_now());
        out->code = SECKILL_BUY_SOLD_OUT;
        return;
    case 5:
        out->code = SECKILL_BUY_ALREADY_BOUGHT;
        return;
    case 6:
        out->code = SECKILL_BUY_RATE_LIMITED;
        out->wait_ms = j.n;
        return;
    default:
        out->code = SECKILL_BUY_UNAVAILABLE;
        return;
    }
}

static const struct {
    const char *word;
    int status;
    const char *msg;
} answers[] = {
    [SECKILL_BUY_OK] = {"ok", HTTP_OK, "抢购成功，正在生成订单…"},
    [SECKILL_BUY_NO_SUCH_PRODUCT] = {"no_such_product", HTTP_NOT_FOUND, "商品不存在"},
    [SECKILL_BUY_NOT_STARTED] = {"not_started", HTTP_CONFLICT, "秒杀尚未开始"},
    [SECKILL_BUY_ENDED] = {"ended", HTTP_CONFLICT, "秒杀已结束"},
    [SECKILL_BUY_SOLD_OUT] = {"sold_out", HTTP_CONFLICT, "商品已抢完"},
    [SECKILL_BUY_ALREADY_BOUGHT] = {"already_bought", HTTP_CONFLICT, "您已购买过该商品"},
    [SECKILL_BUY_RATE_LIMITED] = {"rate_limited", HTTP_TOO_MANY_REQUESTS, "操作太频繁，请稍后再试"},
    [SECKILL_BUY_UNAVAILABLE] = {"unavailable", HTTP_SERVICE_UNAVAILABLE, "系统繁忙，请稍后再试"},
};

const char *seckill_buy_code_word(seckill_buy_code code)
{
    return answers[code].word;
}

int seckill_buy_http_status(seckill_buy_code code)
{
    return answers[code].status;
}

const char *seckill_buy_message(seckill_buy_code code)
{
    return answers[code].msg;
}
