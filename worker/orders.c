#include "orders.h"

#include <apr_strings.h>
#include <apr_tables.h>
#include <mysqld_error.h>
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

/* The failure marker the module's result page reads: a day is far beyond any polling. */
#define MARKER_TTL_S 86400

typedef enum {
    ST_NEW,       /* verified, not written yet */
    ST_BAD,       /* malformed or forged: dead-lettered as is, nothing compensated */
    ST_REVOKED,   /* the module revoked it before our claim: dropped */
    ST_INSERTED,  /* its row written and its stock taken in this batch */
    ST_DUPLICATE, /* its row existed already: a redelivery */
    ST_FAILED     /* could not be written: retried, or dead-lettered and compensated */
} item_state;

typedef struct {
    seckill_batch_order o; /* first: worker/batch.h */
    item_state st;
    const char *why; /* ST_BAD, ST_FAILED: for the log */
    /* the row's parameters as bound by a multi-row INSERT (they must outlive the binding) */
    unsigned long long id;
    char total[32];
    MYSQL_TIME created;
} item;

typedef struct {
    const seckill_worker_config *cfg;
    seckill_worker *w;
    seckill_worker_conn conn;
    seckill_lua_script claim, restore;
    item **write; /* the batch's ST_NEW items in lock order, for the transaction steps */
    int nwrite;
} orders;

typedef struct {
    int inserted, duplicate, bad, revoked, retried, failed;
} counts;

/* ---- decode ------------------------------------------------------------------------------ */

/* One item an order: a message of the module's publisher carries the orders of several buys,
 * each decided alone (a bad one is dead-lettered by itself, a failing one retried by itself). */
static item *items_of(orders *o, apr_pool_t *p, apr_array_header_t *ds, int *n)
{
    item *it = seckill_batch_split(p, ds, sizeof *it, o->cfg->secret, o->cfg->secret_len, n);
    for (int i = 0; i < *n; i++) {
        if (it[i].o.bad) {
            it[i].st = ST_BAD;
            it[i].why = it[i].o.bad;
        }
    }
    return it;
}

/* ---- claim (Redis) ----------------------------------------------------------------------- */

static void claim_append(orders *o, redisContext *c, const item *it)
{
    char key[64], id[24];
    const char *argv[5] = {"EVALSHA", o->claim.sha, "1", key, id};

    snprintf(key, sizeof key, SECKILL_KEY_ORDERS, it->o.m.product_id);
    snprintf(id, sizeof id, "%llu", (unsigned long long)it->o.m.order_id);
    redisAppendCommandArgv(c, 5, argv, NULL);
}

/* Reads the replies for new[0..n): 0 all good, 1 the script is unknown there, -1 error. */
static int claim_replies(orders *o, redisContext *c, item **new, int n)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        redisReply *r;
        if (redisGetReply(c, (void **)&r) != REDIS_OK) {
            seckill_worker_redis_lost(&o->conn, "order_claim");
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
            rc = rc ? rc : 1;
        } else if (r->type != REDIS_REPLY_INTEGER) {
            seckill_worker_log(SECKILL_LOG_ERROR, SKW_SCRIPT_ERROR, "redis: order_claim: %s",
                               r->type == REDIS_REPLY_ERROR ? r->str : "not an integer");
            rc = -1;
        } else if (r->integer == 0) {
            new[i]->st = ST_REVOKED;
        }
        freeReplyObject(r);
    }
    return rc;
}

static int claim_pipeline(orders *o, redisContext *c, item **new, int n)
{
    for (int i = 0; i < n; i++)
        claim_append(o, c, new[i]);
    return claim_replies(o, c, new, n);
}

/* Claims every ST_NEW item in one round trip. A claim is idempotent, so after NOSCRIPT (a
 * restarted Redis) the script is loaded and the whole pipeline sent again. */
static int claim(orders *o, apr_pool_t *p, item *it, int n)
{
    redisContext *c = seckill_worker_redis(&o->conn);
    item **new = apr_palloc(p, sizeof *new *(size_t)n);
    redisReply *r;
    int k = 0, rc;

    for (int i = 0; i < n; i++) {
        if (it[i].st == ST_NEW)
            new[k++] = &it[i];
    }
    if (k == 0)
        return 0;
    if (!c || (rc = claim_pipeline(o, c, new, k)) < 0)
        return -1;
    if (rc == 0)
        return 0;
    r = redisCommand(c, "SCRIPT LOAD %b", o->claim.body, o->claim.len);
    if (!(r = seckill_worker_reply(&o->conn, r, "SCRIPT LOAD order_claim")))
        return -1;
    freeReplyObject(r);
    return claim_pipeline(o, c, new, k) == 0 ? 0 : -1;
}

/* ---- write (MySQL) ----------------------------------------------------------------------- */

/* A statement of the item failed: what that means for the transaction. A plain statement error
 * fails the item (retried later); a lost connection or a deadlock end this attempt. */
static seckill_worker_txn_step stmt_failed(orders *o, MYSQL_STMT *st, item *it, const char *what)
{
    seckill_worker_txn_step r;
    if (!st) /* not prepared: a lost connection or a broken query, for every item alike */
        return SECKILL_TXN_ABORT;
    r = seckill_worker_txn_error(&o->conn, seckill_worker_stmt_error(&o->conn, st, what));
    if (r == SECKILL_TXN_UNDO) {
        it->st = ST_FAILED;
        it->why = "a MySQL statement failed (see SKW304)";
    }
    return r;
}

/* stock - quantity under the guard: 1 taken, 0 not (no stock, no product), -1 failed (*r). */
static int take_stock(orders *o, item *it, seckill_worker_txn_step *r)
{
    MYSQL_STMT *st = seckill_worker_stmt(&o->conn, SECKILL_Q_WORKER_STOCK_TAKE, 3, 0, "STOCK_TAKE");
    MYSQL_BIND in[3];

    seckill_worker_bind(&in[0], MYSQL_TYPE_LONG, &it->o.m.quantity, 0);
    seckill_worker_bind(&in[1], MYSQL_TYPE_LONGLONG, &it->o.m.product_id, 0);
    seckill_worker_bind(&in[2], MYSQL_TYPE_LONG, &it->o.m.quantity, 0);
    if (!st || mysql_stmt_bind_param(st, in) || mysql_stmt_execute(st)) {
        *r = stmt_failed(o, st, it, "stock take");
        return -1;
    }
    return mysql_stmt_affected_rows(st) == 1;
}

/* 1 when the order has a row (committed, or written earlier in this transaction), 0 when not,
 * -1 failed (*r). */
static int order_exists(orders *o, item *it, seckill_worker_txn_step *r)
{
    unsigned err_no;
    int status, n = seckill_worker_order_status(&o->conn, it->o.m.order_id, &status, &err_no);

    if (n >= 0)
        return n;
    *r = err_no ? seckill_worker_txn_error(&o->conn, err_no) : SECKILL_TXN_ABORT;
    if (*r == SECKILL_TXN_UNDO) {
        it->st = ST_FAILED;
        it->why = "a MySQL statement failed (see SKW304)";
    }
    return -1;
}

/* price x quantity, exactly: in cents, as DECIMAL text. */
static void total_of(const seckill_order_msg *m, char *buf, size_t n)
{
    long long cents = 0;
    for (const char *c = m->price; *c; c++) {
        if (*c != '.')
            cents = cents * 10 + (*c - '0');
    }
    cents *= m->quantity;
    snprintf(buf, n, "%lld.%02lld", cents / 100, cents % 100);
}

/* The row, named after the product: 1 written, 0 the key exists, 2 nothing written (the product
 * row is gone: cannot be while the stock UPDATE holds its lock), -1 failed (*r). */
static int insert_order(orders *o, item *it, seckill_worker_txn_step *r)
{
    MYSQL_STMT *st =
        seckill_worker_stmt(&o->conn, SECKILL_Q_WORKER_ORDER_INSERT, 7, 0, "ORDER_INSERT");
    unsigned long long id = it->o.m.order_id;
    char total[32];
    MYSQL_TIME ct;
    MYSQL_BIND in[7];

    total_of(&it->o.m, total, sizeof total);
    seckill_db_time_to((time_t)(it->o.m.created_ms / 1000), &ct);
    ct.second_part = (unsigned long)(it->o.m.created_ms % 1000) * 1000;
    seckill_worker_bind(&in[0], MYSQL_TYPE_LONGLONG, &id, 0);
    in[0].is_unsigned = 1;
    seckill_worker_bind(&in[1], MYSQL_TYPE_STRING, it->o.m.user_id, strlen(it->o.m.user_id));
    seckill_worker_bind(&in[2], MYSQL_TYPE_STRING, it->o.m.price, strlen(it->o.m.price));
    seckill_worker_bind(&in[3], MYSQL_TYPE_LONG, &it->o.m.quantity, 0);
    seckill_worker_bind(&in[4], MYSQL_TYPE_STRING, total, strlen(total));
    seckill_worker_bind(&in[5], MYSQL_TYPE_DATETIME, &ct, sizeof ct);
    seckill_worker_bind(&in[6], MYSQL_TYPE_LONGLONG, &it->o.m.product_id, 0);
    if (st && mysql_stmt_bind_param(st, in) == 0 && mysql_stmt_execute(st) == 0)
        return mysql_stmt_affected_rows(st) == 1 ? 1 : 2;
    if (st && mysql_stmt_errno(st) == ER_DUP_ENTRY)
        return 0;
    *r = stmt_failed(o, st, it, "order insert");
    return -1;
}

/* One order in the batch's transaction. The stock goes first: its UPDATE locks the product row
 * exclusively at once, where INSERT ... SELECT would take a shared lock that two workers could
 * not both upgrade (a deadlock on every hot product). A redelivered order is found by its key. */
static seckill_worker_txn_step write_one(void *state, int i)
{
    orders *o = state;
    item *it = o->write[i];
    seckill_worker_txn_step r = SECKILL_TXN_KEEP;
    int n;

    if ((n = take_stock(o, it, &r)) < 0)
        return r;
    if (n == 0) {
        /* nothing changed: either this order took its units before, or there are none */
        if ((n = order_exists(o, it, &r)) < 0)
            return r;
        it->st = n ? ST_DUPLICATE : ST_FAILED;
        it->why = n ? NULL : "no stock left in MySQL, or no such product";
        return SECKILL_TXN_KEEP;
    }
    if ((n = insert_order(o, it, &r)) < 0)
        return r;
    if (n == 1) {
        it->st = ST_INSERTED;
        return SECKILL_TXN_KEEP;
    }
    /* the stock taken above goes back with the savepoint */
    it->st = n == 0 ? ST_DUPLICATE : ST_FAILED;
    it->why = n == 0 ? NULL : "no such product";
    return SECKILL_TXN_UNDO;
}

/* ---- write, the batch's fast way ----------------------------------------------------------
 * One stock UPDATE a product (the units of all its orders, under the same optimistic guard) and
 * the rows in multi-row INSERTs: a batch of one product is 4 statements (START, UPDATE, INSERT,
 * COMMIT) where the per-order way makes 3 an order. It is all or nothing: too little stock in
 * MySQL for a product's orders, a row that exists already (a redelivery) or any error rolls it
 * back, and the batch goes the per-order way (write_one under savepoints), which decides each
 * order alone exactly as before. */

typedef enum { FAST_DONE, FAST_FALLBACK, FAST_ABORT } fast_result;

#define ROW_PARAMS 8

static const struct {
    int rows;
    seckill_query q;
    const char *name;
} row_stmts[] = {
    {128, SECKILL_Q_WORKER_ORDER_ROWS_128, "ORDER_ROWS_128"},
    {32, SECKILL_Q_WORKER_ORDER_ROWS_32, "ORDER_ROWS_32"},
    {8, SECKILL_Q_WORKER_ORDER_ROWS_8, "ORDER_ROWS_8"},
    {1, SECKILL_Q_WORKER_ORDER_ROWS_1, "ORDER_ROWS_1"},
};

/* What a failed statement of the fast way means: a duplicate key is no error (a redelivered
 * order: the per-order way finds it), a lost connection ends the attempt, anything else is
 * logged and left to the per-order way. */
static fast_result fast_failed(orders *o, MYSQL_STMT *st, const char *what)
{
    if (st && mysql_stmt_errno(st) == ER_DUP_ENTRY) {
        mysql_stmt_reset(st);
        return FAST_FALLBACK;
    }
    if (st)
        seckill_worker_stmt_error(&o->conn, st, what);
    return o->conn.db ? FAST_FALLBACK : FAST_ABORT;
}

/* The units of one product's orders, all or none. */
static fast_result take_group(orders *o, long long product_id, int units)
{
    MYSQL_STMT *st = seckill_worker_stmt(&o->conn, SECKILL_Q_WORKER_STOCK_TAKE, 3, 0, "STOCK_TAKE");
    MYSQL_BIND in[3];

    seckill_worker_bind(&in[0], MYSQL_TYPE_LONG, &units, 0);
    seckill_worker_bind(&in[1], MYSQL_TYPE_LONGLONG, &product_id, 0);
    seckill_worker_bind(&in[2], MYSQL_TYPE_LONG, &units, 0);
    if (!st || mysql_stmt_bind_param(st, in) || mysql_stmt_execute(st))
        return fast_failed(o, st, "stock take (batch)");
    return mysql_stmt_affected_rows(st) == 1 ? FAST_DONE : FAST_FALLBACK;
}

static void bind_row(MYSQL_BIND *b, item *it)
{
    it->id = it->o.m.order_id;
    total_of(&it->o.m, it->total, sizeof it->total);
    seckill_db_time_to((time_t)(it->o.m.created_ms / 1000), &it->created);
    it->created.second_part = (unsigned long)(it->o.m.created_ms % 1000) * 1000;
    seckill_worker_bind(&b[0], MYSQL_TYPE_LONGLONG, &it->id, 0);
    b[0].is_unsigned = 1;
    seckill_worker_bind(&b[1], MYSQL_TYPE_STRING, it->o.m.user_id, strlen(it->o.m.user_id));
    seckill_worker_bind(&b[2], MYSQL_TYPE_LONGLONG, &it->o.m.product_id, 0);
    seckill_worker_bind(&b[3], MYSQL_TYPE_LONGLONG, &it->o.m.product_id, 0);
    seckill_worker_bind(&b[4], MYSQL_TYPE_STRING, it->o.m.price, strlen(it->o.m.price));
    seckill_worker_bind(&b[5], MYSQL_TYPE_LONG, &it->o.m.quantity, 0);
    seckill_worker_bind(&b[6], MYSQL_TYPE_STRING, it->total, strlen(it->total));
    seckill_worker_bind(&b[7], MYSQL_TYPE_DATETIME, &it->created, sizeof it->created);
}

/* Every row of the batch, in INSERTs of 128, 32, 8 and 1 rows. */
static fast_result insert_rows(orders *o, apr_pool_t *p)
{
    MYSQL_BIND *b = apr_palloc(p, sizeof *b * ROW_PARAMS * 128);
    int done = 0;

    for (size_t k = 0; k < sizeof row_stmts / sizeof row_stmts[0]; k++) {
        int rows = row_stmts[k].rows;
        while (o->nwrite - done >= rows) {
            MYSQL_STMT *st = seckill_worker_stmt(
                &o->conn, row_stmts[k].q, (unsigned)(ROW_PARAMS * rows), 0, row_stmts[k].name);
            for (int i = 0; i < rows; i++)
                bind_row(&b[i * ROW_PARAMS], o->write[done + i]);
            if (!st || mysql_stmt_bind_param(st, b) || mysql_stmt_execute(st))
                return fast_failed(o, st, "order rows");
            if (mysql_stmt_affected_rows(st) != (my_ulonglong)rows)
                return FAST_FALLBACK;
            done += rows;
        }
    }
    return FAST_DONE;
}

static fast_result fast_write(orders *o, apr_pool_t *p)
{
    fast_result r = FAST_DONE;

    if (seckill_worker_exec(&o->conn, "START TRANSACTION"))
        return o->conn.db ? FAST_FALLBACK : FAST_ABORT;
    /* o->write is sorted by product: each run of one product is one UPDATE */
    for (int i = 0, j; i < o->nwrite && r == FAST_DONE; i = j) {
        int units = 0;
        for (j = i; j < o->nwrite && o->write[j]->o.m.product_id == o->write[i]->o.m.product_id;
             j++)
            units += o->write[j]->o.m.quantity;
        r = take_group(o, o->write[i]->o.m.product_id, units);
    }
    if (r == FAST_DONE)
        r = insert_rows(o, p);
    if (r == FAST_DONE) {
        if (seckill_worker_exec(&o->conn, "COMMIT") == 0) {
            for (int i = 0; i < o->nwrite; i++)
                o->write[i]->st = ST_INSERTED;
            return FAST_DONE;
        }
        r = FAST_ABORT; /* its outcome unknown: given back, the redelivery finds what was done */
    }
    if (o->conn.db && seckill_worker_exec(&o->conn, "ROLLBACK"))
        seckill_worker_db_lost(&o->conn, "ROLLBACK");
    return o->conn.db ? r : FAST_ABORT;
}

static void write_reset(void *state)
{
    orders *o = state;
    for (int i = 0; i < o->nwrite; i++) {
        o->write[i]->st = ST_NEW;
        o->write[i]->why = NULL;
    }
}

static int is_new(const void *it)
{
    return ((const item *)it)->st == ST_NEW;
}

static int write_all(orders *o, apr_pool_t *p, item *it, int n)
{
    o->write = (item **)seckill_batch_pick(p, it, sizeof *it, n, is_new, &o->nwrite);
    if (o->nwrite == 0)
        return 0;
    if (!seckill_worker_db(&o->conn))
        return -1;
    switch (fast_write(o, p)) {
    case FAST_DONE:
        return 0;
    case FAST_ABORT:
        return -1;
    case FAST_FALLBACK:
        break;
    }
    seckill_worker_log(SECKILL_LOG_DEBUG, SKW_ORDERS_PER_ORDER,
                       "orders: a batch of %d goes the per-order way (a redelivery, or too little "
                       "stock in MySQL)",
                       o->nwrite);
    return seckill_worker_txn(&o->conn, o->nwrite, write_one, write_reset, o);
}

/* ---- after the commit -------------------------------------------------------------------- */

/* The pay timeout: the order message itself, waiting (lib/amqp_conn.h: the ladder, then
 * seckill.order.timeout.wait) until its deadline, then in seckill.order.timeout. A row found
 * already gets one again when the message was delivered before: the worker that wrote it may have
 * died before scheduling it (a second timeout message is harmless, the timeout consumer is
 * idempotent). */
static int needs_timeout(const item *it)
{
    return it->st == ST_INSERTED ||
           (it->st == ST_DUPLICATE && (it->o.d->redelivered || it->o.d->retries > 0));
}

static long long time_left_ms(const item *it)
{
    return it->o.m.pay_deadline_ms - apr_time_as_msec(apr_time_now());
}

static int final_failure(const orders *o, const item *it)
{
    return it->st == ST_FAILED && it->o.d->retries >= o->cfg->retry_max;
}

/* Everything sent on before the ack, confirmed in one burst: nothing is acked that is not
 * stored somewhere. The pay timeouts of a wait queue go joined, many orders a message. */
static int publish_all(orders *o, apr_pool_t *p, const item *it, int n)
{
    seckill_outbox *out = seckill_outbox_make(p, n);
    for (int i = 0; i < n; i++) {
        const item *x = &it[i];
        if (needs_timeout(x)) {
            long exp;
            const char *rk = seckill_amqp_delay_route(time_left_ms(x), &exp);
            seckill_outbox_join(out, rk, x->o.body, x->o.len, exp);
        } else if (x->st == ST_BAD)
            seckill_outbox_add(out, SECKILL_RK_ORDER_DEAD, x->o.body, x->o.len, 0,
                               x->o.d->retries ? x->o.d->retries : -1);
        else if (final_failure(o, x))
            seckill_outbox_add(out, SECKILL_RK_ORDER_DEAD, x->o.body, x->o.len, 0, x->o.d->retries);
        else if (x->st == ST_FAILED)
            seckill_outbox_add(out, SECKILL_RK_ORDER_CREATE, x->o.body, x->o.len, 0,
                               x->o.d->retries + 1);
    }
    return seckill_outbox_send(out, &o->conn);
}

/* An order that failed for good: its units and the shopper's limit back in Redis (exactly once,
 * by the order-state hash), and the marker the result page reads. */
static int compensate_one(orders *o, redisContext *c, const item *it)
{
    char stock[64], buyers[64], states[64], id[24], qty[16], marker[64], val[160];
    const char *argv[6] = {stock, buyers, states, id, it->o.m.user_id, qty};
    redisReply *r;

    snprintf(stock, sizeof stock, SECKILL_KEY_STOCK, it->o.m.product_id);
    snprintf(buyers, sizeof buyers, SECKILL_KEY_BUYERS, it->o.m.product_id);
    snprintf(states, sizeof states, SECKILL_KEY_ORDERS, it->o.m.product_id);
    snprintf(id, sizeof id, "%llu", (unsigned long long)it->o.m.order_id);
    snprintf(qty, sizeof qty, "%d", it->o.m.quantity);
    r = seckill_lua_call(c, &o->restore, 3, 6, argv, NULL);
    if (!(r = seckill_worker_reply(&o->conn, r, "order_restore")))
        return -1;
    freeReplyObject(r);
    snprintf(marker, sizeof marker, SECKILL_KEY_ORDER, (unsigned long long)it->o.m.order_id);
    snprintf(val, sizeof val, "%s|%lld|failed", it->o.m.user_id, it->o.m.product_id);
    r = redisCommand(c, "SET %s %s EX %d", marker, val, MARKER_TTL_S);
    if (!(r = seckill_worker_reply(&o->conn, r, "SET order marker")))
        return -1;
    freeReplyObject(r);
    return 0;
}

static int compensate(orders *o, const item *it, int n)
{
    for (int i = 0; i < n; i++) {
        redisContext *c;
        if (!final_failure(o, &it[i]))
            continue;
        if (!(c = seckill_worker_redis(&o->conn)) || compensate_one(o, c, &it[i]) != 0)
            return -1;
    }
    return 0;
}

/* ---- the batch --------------------------------------------------------------------------- */

static void log_item(const orders *o, const item *it, counts *k)
{
    unsigned long long id = (unsigned long long)it->o.m.order_id;
    switch (it->st) {
    case ST_INSERTED:
        k->inserted++;
        seckill_worker_log(SECKILL_LOG_DEBUG, SKW_ORDER_CREATED,
                           "orders: order %llu created: user %s, product %lld, %d x %s", id,
                           it->o.m.user_id, it->o.m.product_id, it->o.m.quantity, it->o.m.price);
        break;
    case ST_DUPLICATE:
        k->duplicate++;
        seckill_worker_log(SECKILL_LOG_INFO, SKW_ORDER_DUPLICATE,
                           "orders: order %llu was written before, nothing done%s", id,
                           needs_timeout(it) ? " (its timeout scheduled again)" : "");
        break;
    case ST_BAD:
        k->bad++;
        seckill_worker_log(SECKILL_LOG_WARN, SKW_ORDER_BAD,
                           "orders: %s (order %llu, %zu bytes): sent to %s", it->why, id, it->o.len,
                           SECKILL_AMQP_QUEUE_ORDER_DEAD);
        break;
    case ST_REVOKED:
        k->revoked++;
        seckill_worker_log(SECKILL_LOG_INFO, SKW_ORDER_REVOKED,
                           "orders: order %llu was revoked by the module, dropped", id);
        break;
    case ST_FAILED:
        if (final_failure(o, it)) {
            k->failed++;
            seckill_worker_log(SECKILL_LOG_ERROR, SKW_ORDER_FAILED,
                               "orders: order %llu failed %d times (%s): sent to %s, %d units "
                               "of product %lld and user %s's limit given back in redis",
                               id, it->o.d->retries + 1, it->why, SECKILL_AMQP_QUEUE_ORDER_DEAD,
                               it->o.m.quantity, it->o.m.product_id, it->o.m.user_id);
        } else {
            k->retried++;
            seckill_worker_log(SECKILL_LOG_WARN, SKW_ORDER_RETRY,
                               "orders: order %llu failed (%s), retry %d of %d", id, it->why,
                               it->o.d->retries + 1, o->cfg->retry_max);
        }
        break;
    case ST_NEW:
        break;
    }
}

static void report(const orders *o, const item *it, int n, apr_time_t t0)
{
    counts k = {0};
    for (int i = 0; i < n; i++)
        log_item(o, &it[i], &k);
    seckill_worker_log(SECKILL_LOG_DEBUG, SKW_ORDERS_BATCH,
                       "orders: batch of %d in %ld ms: %d created, %d duplicate, %d revoked, %d "
                       "bad, %d retried, %d failed",
                       n, (long)apr_time_as_msec(apr_time_now() - t0), k.inserted, k.duplicate,
                       k.revoked, k.bad, k.retried, k.failed);
}

/* Claim, write, send on, compensate: each step idempotent, so a batch given back halfway and
 * delivered again ends the same. */
static int batch(void *state, apr_pool_t *p, apr_array_header_t *ds)
{
    orders *o = state;
    apr_time_t t0 = apr_time_now();
    int n;
    item *it = items_of(o, p, ds, &n);

    if (claim(o, p, it, n) != 0 || write_all(o, p, it, n) != 0 || publish_all(o, p, it, n) != 0 ||
        compensate(o, it, n) != 0)
        return -1;
    report(o, it, n, t0);
    return 0;
}

static const seckill_worker_consumer_def consumer = {
    "orders", SECKILL_AMQP_QUEUE_ORDER_CREATE, SKW_ORDERS_CONSUMING, SKW_ORDERS_ABANDONED, batch,
};

const char *seckill_orders_init(apr_pool_t *p, seckill_worker *w, void **state)
{
    orders *o = apr_pcalloc(p, sizeof *o);
    const char *err;

    if ((err = seckill_worker_config_need_consumers(p, w->cfg)) ||
        (err = seckill_lua_load(p, w->cfg->lua_dir, "order_claim", &o->claim)) ||
        (err = seckill_lua_load(p, w->cfg->lua_dir, "order_restore", &o->restore)))
        return err;
    o->w = w;
    o->cfg = w->cfg;
    seckill_worker_conn_init(&o->conn, w->cfg);
    *state = o;
    return NULL;
}

void seckill_orders_run(void *state, apr_pool_t *thread_pool)
{
    orders *o = state;
    seckill_worker_consume(o->w, &o->conn, &consumer, o, thread_pool);
    seckill_worker_conn_close(&o->conn);
}
