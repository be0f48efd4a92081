#include "timeout.h"

#include <apr_tables.h>
#include <apr_time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "conn.h"
#include "keys.h"
#include "log.h"
#include "lua.h"
#include "order.h"
#include "outbox.h"

typedef enum {
    T_NEW,           /* verified, its deadline passed: to cancel if unpaid */
    T_WAIT,          /* verified, its deadline still ahead: on to the next wait queue */
    T_BAD,           /* malformed or forged: dead-lettered as is */
    T_CANCELLED,     /* cancelled by this message: stock back in MySQL, Redis next */
    T_WAS_CANCELLED, /* cancelled before (shopper, or a timeout whose Redis step was lost) */
    T_SETTLED,       /* paid or completed: nothing to do */
    T_NO_ORDER,      /* no row: nothing to do */
    T_FAILED         /* a statement failed: retried, then dead-lettered */
} item_state;

typedef struct {
    seckill_batch_order o; /* first: worker/batch.h */
    item_state st;
    int status;   /* the row's status after the transaction */
    int restored; /* order_restore gave the units back just now */
    const char *why;
} item;

typedef struct {
    const seckill_worker_config *cfg;
    seckill_worker *w;
    seckill_worker_conn conn;
    seckill_lua_script restore;
    item **todo; /* the batch's T_NEW items in lock order */
    int ntodo;
} timeouts;

/* One item an order: the worker joins the timeouts of a wait queue into one message
 * (worker/outbox.h), and each order is decided alone. */
static item *items_of(timeouts *t, apr_pool_t *p, apr_array_header_t *ds, int *n)
{
    item *it = seckill_batch_split(p, ds, sizeof *it, t->cfg->secret, t->cfg->secret_len, n);
    long long now_ms = apr_time_as_msec(apr_time_now());
    for (int i = 0; i < *n; i++) {
        if (it[i].o.bad) {
            it[i].st = T_BAD;
            it[i].why = it[i].o.bad;
        } else if (it[i].o.m.pay_deadline_ms > now_ms) {
            it[i].st = T_WAIT; /* left a wait step shorter than the time to its deadline */
        }
    }
    return it;
}

/* ---- MySQL ------------------------------------------------------------------------------- */

static seckill_worker_txn_step failed(timeouts *t, item *it, unsigned err_no)
{
    seckill_worker_txn_step r;
    if (!err_no) /* not prepared: a lost connection or a broken query, for every item alike */
        return SECKILL_TXN_ABORT;
    r = seckill_worker_txn_error(&t->conn, err_no);
    if (r == SECKILL_TXN_UNDO) {
        it->st = T_FAILED;
        it->why = "a MySQL statement failed (see SKW304)";
    }
    return r;
}

/* Runs an UPDATE of the batch; its affected rows, or -1 with *r set. */
static long long update(timeouts *t, item *it, seckill_query q, MYSQL_BIND *in, unsigned n,
                        const char *name, seckill_worker_txn_step *r)
{
    MYSQL_STMT *st = seckill_worker_stmt(&t->conn, q, n, 0, name);
    if (st && mysql_stmt_bind_param(st, in) == 0 && mysql_stmt_execute(st) == 0)
        return (long long)mysql_stmt_affected_rows(st);
    *r = failed(t, it, st ? seckill_worker_stmt_error(&t->conn, st, name) : 0);
    return -1;
}

/* status 0 -> 2 only if still unpaid; the stock comes back only with that change, so a second
 * timeout message (or the shopper's cancel before) returns nothing twice. */
static int cancel(timeouts *t, item *it, seckill_worker_txn_step *r)
{
    unsigned long long id = it->o.m.order_id;
    MYSQL_BIND in[2];
    long long n;

    seckill_worker_bind(&in[0], MYSQL_TYPE_LONGLONG, &id, 0);
    in[0].is_unsigned = 1;
    if ((n = update(t, it, SECKILL_Q_WORKER_ORDER_EXPIRE, in, 1, "ORDER_EXPIRE", r)) <= 0)
        return (int)n;
    seckill_worker_bind(&in[0], MYSQL_TYPE_LONG, &it->o.m.quantity, 0);
    seckill_worker_bind(&in[1], MYSQL_TYPE_LONGLONG, &it->o.m.product_id, 0);
    return update(t, it, SECKILL_Q_WORKER_STOCK_RETURN, in, 2, "STOCK_RETURN", r) < 0 ? -1 : 1;
}

static seckill_worker_txn_step expire_one(void *state, int i)
{
    timeouts *t = state;
    item *it = t->todo[i];
    seckill_worker_txn_step r = SECKILL_TXN_KEEP;
    unsigned err_no;
    int now, found;

    if ((now = cancel(t, it, &r)) < 0)
        return r;
    found = seckill_worker_order_status(&t->conn, it->o.m.order_id, &it->status, &err_no);
    if (found < 0)
        return failed(t, it, err_no);
    it->st = !found            ? T_NO_ORDER
             : it->status != 2 ? T_SETTLED
             : now             ? T_CANCELLED
                               : T_WAS_CANCELLED;
    return SECKILL_TXN_KEEP;
}

static void expire_reset(void *state)
{
    timeouts *t = state;
    for (int i = 0; i < t->ntodo; i++) {
        t->todo[i]->st = T_NEW;
        t->todo[i]->why = NULL;
    }
}

static int is_new(const void *it)
{
    return ((const item *)it)->st == T_NEW;
}

static int expire_all(timeouts *t, apr_pool_t *p, item *it, int n)
{
    t->todo = (item **)seckill_batch_pick(p, it, sizeof *it, n, is_new, &t->ntodo);
    if (t->ntodo == 0)
        return 0;
    if (!seckill_worker_db(&t->conn))
        return -1;
    return seckill_worker_txn(&t->conn, t->ntodo, expire_one, expire_reset, t);
}

/* ---- Redis and the broker ---------------------------------------------------------------- */

/* Cancelled now or before: a crash between the commit and this step would otherwise keep the
 * units from Redis for good; order_restore gives back at most once per order. */
static int restore_one(timeouts *t, redisContext *c, item *it)
{
    char stock[64], buyers[64], states[64], id[24], qty[16];
    const char *argv[6] = {stock, buyers, states, id, it->o.m.user_id, qty};
    redisReply *r;

    snprintf(stock, sizeof stock, SECKILL_KEY_STOCK, it->o.m.product_id);
    snprintf(buyers, sizeof buyers, SECKILL_KEY_BUYERS, it->o.m.product_id);
    snprintf(states, sizeof states, SECKILL_KEY_ORDERS, it->o.m.product_id);
    snprintf(id, sizeof id, "%llu", (unsigned long long)it->o.m.order_id);
    snprintf(qty, sizeof qty, "%d", it->o.m.quantity);
    r = seckill_lua_call(c, &t->restore, 3, 6, argv, NULL);
    if (!(r = seckill_worker_reply(&t->conn, r, "order_restore")))
        return -1;
    it->restored = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return 0;
}

static int restore_all(timeouts *t, item *it, int n)
{
    for (int i = 0; i < n; i++) {
        redisContext *c;
        if (it[i].st != T_CANCELLED && it[i].st != T_WAS_CANCELLED)
            continue;
        if (!(c = seckill_worker_redis(&t->conn)) || restore_one(t, c, &it[i]) != 0)
            return -1;
    }
    return 0;
}

static int final_failure(const timeouts *t, const item *it)
{
    return it->st == T_FAILED && it->o.d->retries >= t->cfg->retry_max;
}

/* Waits going on (joined, a wait queue's orders a message, unless a retry count rides along),
 * dead letters and retries, confirmed before the ack. */
static int publish_all(timeouts *t, apr_pool_t *p, item *it, int n)
{
    seckill_outbox *out = seckill_outbox_make(p, n);
    long long now_ms = apr_time_as_msec(apr_time_now());
    long exp;

    for (int i = 0; i < n; i++) {
        int retries = it[i].o.d->retries;
        if (it[i].st == T_WAIT) {
            it[i].why = seckill_amqp_delay_route(it[i].o.m.pay_deadline_ms - now_ms, &exp);
            if (retries)
                seckill_outbox_add(out, it[i].why, it[i].o.body, it[i].o.len, exp, retries);
            else
                seckill_outbox_join(out, it[i].why, it[i].o.body, it[i].o.len, exp);
        } else if (it[i].st == T_BAD || final_failure(t, &it[i])) {
            seckill_outbox_add(out, SECKILL_RK_ORDER_DEAD, it[i].o.body, it[i].o.len, 0,
                               retries ? retries : -1);
        } else if (it[i].st == T_FAILED) {
            seckill_outbox_add(out, SECKILL_RK_ORDER_TIMEOUT, it[i].o.body, it[i].o.len, 0,
                               retries + 1);
        }
    }
    return seckill_outbox_send(out, &t->conn);
}

/* ---- the batch --------------------------------------------------------------------------- */

static void log_item(const timeouts *t, const item *it)
{
    unsigned long long id = (unsigned long long)it->o.m.order_id;
    const char *redis = it->restored ? "given back in redis" : "already given back in redis";

    switch (it->st) {
    case T_CANCELLED:
        seckill_worker_log(SECKILL_LOG_INFO, SKW_TIMEOUT_CANCELLED,
                           "timeout: order %llu unpaid at its deadline: cancelled, %d units of "
                           "product %lld returned in mysql and %s, user %s's limit lifted",
                           id, it->o.m.quantity, it->o.m.product_id, redis, it->o.m.user_id);
        break;
    case T_WAS_CANCELLED:
        seckill_worker_log(SECKILL_LOG_DEBUG, SKW_TIMEOUT_RESTORED,
                           "timeout: order %llu was cancelled before; its units %s", id, redis);
        break;
    case T_SETTLED:
        seckill_worker_log(SECKILL_LOG_DEBUG, SKW_TIMEOUT_NOTHING,
                           "timeout: order %llu has status %d, nothing to do", id, it->status);
        break;
    case T_NO_ORDER: /* one warning a batch: see log_no_rows */
        seckill_worker_log(SECKILL_LOG_DEBUG, SKW_TIMEOUT_NO_ORDER,
                           "timeout: order %llu has no row, nothing to do", id);
        break;
    case T_BAD:
        seckill_worker_log(SECKILL_LOG_WARN, SKW_TIMEOUT_BAD,
                           "timeout: %s (order %llu, %zu bytes): sent to %s", it->why, id,
                           it->o.len, SECKILL_AMQP_QUEUE_ORDER_DEAD);
        break;
    case T_FAILED:
        seckill_worker_log(final_failure(t, it) ? SECKILL_LOG_ERROR : SECKILL_LOG_WARN,
                           SKW_TIMEOUT_RETRY, "timeout: order %llu failed (%s), %s", id, it->why,
                           final_failure(t, it) ? "sent to " SECKILL_AMQP_QUEUE_ORDER_DEAD
                                                : "retrying");
        break;
    case T_WAIT:
        seckill_worker_log(SECKILL_LOG_DEBUG, SKW_TIMEOUT_WAIT,
                           "timeout: order %llu has %lld ms left to pay, waits on (%s)", id,
                           (long long)(it->o.m.pay_deadline_ms - apr_time_as_msec(apr_time_now())),
                           it->why);
        break;
    case T_NEW:
        break;
    }
}

/* Orders without a row come in crowds (a benchmark's products deleted with their rows, 110,000
 * timeouts 5 minutes later): one warning a batch with their count and a few ids, not one each. */
static void log_no_rows(const item *it, int n)
{
    char ids[96] = "";
    size_t len = 0;
    int k = 0;

    for (int i = 0; i < n; i++) {
        if (it[i].st != T_NO_ORDER)
            continue;
        if (k++ < 3)
            len += (size_t)snprintf(ids + len, sizeof ids - len, "%s%llu", k > 1 ? ", " : "",
                                    (unsigned long long)it[i].o.m.order_id);
    }
    if (k == 1)
        seckill_worker_log(SECKILL_LOG_WARN, SKW_TIMEOUT_NO_ORDER,
                           "timeout: order %s has no row, nothing to do", ids);
    else if (k > 1)
        seckill_worker_log(SECKILL_LOG_WARN, SKW_TIMEOUT_NO_ORDER,
                           "timeout: %d orders of a batch have no row, nothing to do (order %s%s)",
                           k, ids, k > 3 ? ", ..." : "");
}

static int batch(void *state, apr_pool_t *p, apr_array_header_t *ds)
{
    timeouts *t = state;
    int n;
    item *it = items_of(t, p, ds, &n);

    if (expire_all(t, p, it, n) != 0 || restore_all(t, it, n) != 0 || publish_all(t, p, it, n) != 0)
        return -1;
    for (int i = 0; i < n; i++)
        log_item(t, &it[i]);
    log_no_rows(it, n);
    return 0;
}

static const seckill_worker_consumer_def consumer = {
    "timeout", SECKILL_AMQP_QUEUE_ORDER_TIMEOUT, SKW_TIMEOUT_CONSUMING, SKW_TIMEOUT_ABANDONED,
    batch,
};

const char *seckill_timeout_init(apr_pool_t *p, seckill_worker *w, void **state)
{
    timeouts *t = apr_pcalloc(p, sizeof *t);
    const char *err;

    if ((err = seckill_worker_config_need_consumers(p, w->cfg)) ||
        (err = seckill_lua_load(p, w->cfg->lua_dir, "order_restore", &t->restore)))
        return err;
    t->w = w;
    t->cfg = w->cfg;
    seckill_worker_conn_init(&t->conn, w->cfg);
    *state = t;
    return NULL;
}

void seckill_timeout_run(void *state, apr_pool_t *thread_pool)
{
    timeouts *t = state;
    seckill_worker_consume(t->w, &t->conn, &consumer, t, thread_pool);
    seckill_worker_conn_close(&t->conn);
}
