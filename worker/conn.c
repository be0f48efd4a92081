#include "conn.h"

#include <errmsg.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "redis_conn.h"

#define BACKOFF_MAX_S 10

/* Seconds hiredis waits to connect and then for each reply; MySQL gets the longer one for
 * everything. Bounded so a hung server delays a job, never the stop of the worker for long. */
#define CONNECT_TIMEOUT_S 2
#define IO_TIMEOUT_S 5

typedef struct {
    const char *server; /* "redis" / "mysql" */
    int lost_id, up_id, retry_id;
} server_ids;

static const server_ids redis_ids = {"redis", SKW_REDIS_LOST, SKW_REDIS_UP, SKW_REDIS_RETRY};
static const server_ids mysql_ids = {"mysql", SKW_MYSQL_LOST, SKW_MYSQL_UP, SKW_MYSQL_RETRY};
static const server_ids amqp_ids = {"amqp", SKW_AMQP_LOST, SKW_AMQP_UP, SKW_AMQP_RETRY};

void seckill_worker_conn_init(seckill_worker_conn *c, const seckill_worker_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->redis_bo.delay_s = c->db_bo.delay_s = c->amqp_bo.delay_s = 1;
}

void seckill_worker_conn_close(seckill_worker_conn *c)
{
    if (c->redis)
        redisFree(c->redis);
    if (c->db)
        seckill_db_close(c->db);
    seckill_amqp_close(c->amqp);
    seckill_amqp_close(c->consumer);
    c->redis = NULL;
    c->db = NULL;
    c->amqp = c->consumer = NULL;
}

/* The first failure of an outage is a warning; the retries that follow only debug lines. */
static void failed(seckill_worker_backoff *b, const server_ids *s, const char *url, const char *why)
{
    char where[320] = "";
    if (!strstr(why, url)) /* lib/db.c's messages name the URL already */
        snprintf(where, sizeof where, " (%s)", url);
    if (!b->down)
        seckill_worker_log(SECKILL_LOG_WARN, s->lost_id, "%s: %s%s, reconnecting in %ds", s->server,
                           why, where, b->delay_s);
    else
        seckill_worker_log(SECKILL_LOG_DEBUG, s->retry_id, "%s: reconnect failed: %s, next in %ds",
                           s->server, why, b->delay_s);
    b->down = 1;
    b->next_try = apr_time_now() + apr_time_from_sec(b->delay_s);
    b->delay_s = b->delay_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : b->delay_s * 2;
}

static void came_up(seckill_worker_backoff *b, const server_ids *s, const char *url)
{
    seckill_worker_log(SECKILL_LOG_INFO, s->up_id, "%s: connected to %s%s", s->server, url,
                       b->down ? " again" : "");
    b->down = 0;
    b->delay_s = 1;
}

static redisContext *redis_open(const seckill_endpoint *ep, char *err, size_t n)
{
    struct timeval cto = {CONNECT_TIMEOUT_S, 0}, rto = {IO_TIMEOUT_S, 0};
    return seckill_redis_connect(ep, cto, rto, err, n);
}

redisContext *seckill_worker_redis(seckill_worker_conn *c)
{
    char err[256] = "";
    if (c->redis || apr_time_now() < c->redis_bo.next_try)
        return c->redis;
    c->redis = redis_open(&c->cfg->redis, err, sizeof err);
    if (c->redis)
        came_up(&c->redis_bo, &redis_ids, c->cfg->redis.url);
    else
        failed(&c->redis_bo, &redis_ids, c->cfg->redis.url, err);
    return c->redis;
}

seckill_db *seckill_worker_db(seckill_worker_conn *c)
{
    char err[256] = "";
    if (c->db || apr_time_now() < c->db_bo.next_try)
        return c->db;
    c->db = seckill_db_open(&c->cfg->mysql, IO_TIMEOUT_S, err, sizeof err);
    if (c->db)
        came_up(&c->db_bo, &mysql_ids, c->cfg->mysql.url);
    else
        failed(&c->db_bo, &mysql_ids, c->cfg->mysql.url, err);
    return c->db;
}

void seckill_worker_redis_lost(seckill_worker_conn *c, const char *what)
{
    char why[384];
    if (!c->redis)
        return;
    snprintf(why, sizeof why, "%s: %s", what, c->redis->errstr[0] ? c->redis->errstr : "lost");
    redisFree(c->redis);
    c->redis = NULL;
    failed(&c->redis_bo, &redis_ids, c->cfg->redis.url, why);
}

void seckill_worker_db_lost(seckill_worker_conn *c, const char *what)
{
    if (!c->db)
        return;
    seckill_db_close(c->db);
    c->db = NULL;
    failed(&c->db_bo, &mysql_ids, c->cfg->mysql.url, what);
}

redisReply *seckill_worker_reply(seckill_worker_conn *c, redisReply *r, const char *what)
{
    if (!r) {
        seckill_worker_redis_lost(c, what);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        seckill_worker_log(SECKILL_LOG_ERROR, SKW_SCRIPT_ERROR, "redis: %s: %s", what, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

int seckill_worker_redis_drain(seckill_worker_conn *c, int n, const char *what)
{
    int bad = 0;
    for (int i = 0; i < n; i++) {
        void *v;
        if (redisGetReply(c->redis, &v) != REDIS_OK) {
            seckill_worker_redis_lost(c, what);
            return -1;
        }
        redisReply *r = v;
        if (r->type == REDIS_REPLY_ERROR && !bad++)
            seckill_worker_log(SECKILL_LOG_ERROR, SKW_SCRIPT_ERROR, "redis: %s: %s", what, r->str);
        freeReplyObject(r);
    }
    return bad ? -1 : 0;
}

/* ---- RabbitMQ ---------------------------------------------------------------------------- */

static seckill_amqp *amqp_open(seckill_worker_conn *c)
{
    char err[512] = "";
    seckill_amqp *a;

    if (apr_time_now() < c->amqp_bo.next_try)
        return NULL;
    a = seckill_amqp_open(&c->cfg->amqp, IO_TIMEOUT_S * 1000, err, sizeof err);
    if (a)
        came_up(&c->amqp_bo, &amqp_ids, c->cfg->amqp.url);
    else
        failed(&c->amqp_bo, &amqp_ids, c->cfg->amqp.url, err);
    return a;
}

seckill_amqp *seckill_worker_amqp(seckill_worker_conn *c)
{
    if (!c->amqp)
        c->amqp = amqp_open(c);
    return c->amqp;
}

static void amqp_lost(seckill_worker_conn *c, seckill_amqp **a, const char *what)
{
    char why[512];
    if (!*a)
        return;
    snprintf(why, sizeof why, "%s: %s", what, seckill_amqp_error(*a));
    seckill_amqp_close(*a);
    *a = NULL;
    failed(&c->amqp_bo, &amqp_ids, c->cfg->amqp.url, why);
}

seckill_amqp *seckill_worker_consumer(seckill_worker_conn *c, const char *queue, int prefetch)
{
    if (c->consumer || !(c->consumer = amqp_open(c)))
        return c->consumer;
    if (seckill_amqp_consume(c->consumer, queue, prefetch) != SECKILL_AMQP_OK)
        amqp_lost(c, &c->consumer, "basic.consume");
    return c->consumer;
}

void seckill_worker_publish_failed(seckill_worker_conn *c, seckill_amqp_result r, const char *what)
{
    if (r == SECKILL_AMQP_LOST) {
        amqp_lost(c, &c->amqp, what);
        return;
    }
    seckill_worker_log(SECKILL_LOG_ERROR, SKW_AMQP_PUBLISH, "amqp: %s: %s", what,
                       c->amqp ? seckill_amqp_error(c->amqp) : "not connected");
    if (r == SECKILL_AMQP_TIMEOUT) {
        seckill_amqp_close(c->amqp);
        c->amqp = NULL;
    }
}

int seckill_worker_publish(seckill_worker_conn *c, const seckill_amqp_message *m, int n)
{
    seckill_amqp *a;
    seckill_amqp_result r;

    if (n == 0)
        return 0;
    if (!(a = seckill_worker_amqp(c)))
        return -1;
    if ((r = seckill_amqp_publish_all(a, m, n)) == SECKILL_AMQP_OK)
        return 0;
    seckill_worker_publish_failed(c, r, n == 1 ? m->routing_key : "a batch of publishes");
    return -1;
}

void seckill_worker_consumer_lost(seckill_worker_conn *c, const char *what)
{
    amqp_lost(c, &c->consumer, what);
}

void seckill_worker_consumer_drop(seckill_worker_conn *c)
{
    seckill_amqp_close(c->consumer);
    c->consumer = NULL;
}

int seckill_worker_collect(seckill_worker_conn *c, apr_pool_t *p, int max, int wait_ms,
                           apr_array_header_t **out)
{
    seckill_amqp_delivery d;
    seckill_amqp_result r = SECKILL_AMQP_OK;

    *out = apr_array_make(p, max < 64 ? max : 64, sizeof d);
    while ((*out)->nelts < max) {
        r = seckill_amqp_next(c->consumer, p, (*out)->nelts ? 0 : wait_ms, &d);
        if (r != SECKILL_AMQP_OK)
            break;
        APR_ARRAY_PUSH(*out, seckill_amqp_delivery) = d;
    }
    if (r == SECKILL_AMQP_LOST) {
        seckill_worker_consumer_lost(c, "consumer");
        return -1;
    }
    return 0;
}

/* ---- MySQL ------------------------------------------------------------------------------- */

/* Some errors do not say whether the connection survived (a failed prepare may report the
 * statement's errno): ask the server before keeping a connection that may be dead. */
void seckill_worker_db_error(seckill_worker_conn *c, unsigned err_no, const char *what)
{
    if (seckill_db_lost(err_no) || (c->db && mysql_ping(seckill_db_mysql(c->db)) != 0))
        seckill_worker_db_lost(c, what);
    else
        seckill_worker_log(SECKILL_LOG_ERROR, SKW_MYSQL_ERROR, "mysql: %s", what);
}

MYSQL_STMT *seckill_worker_stmt(seckill_worker_conn *c, seckill_query q, unsigned nparams,
                                unsigned ncols, const char *name)
{
    char err[256];
    MYSQL_STMT *st;

    if (!c->db)
        return NULL;
    if (!(st = seckill_db_stmt(c->db, q, err, sizeof err))) {
        seckill_worker_db_error(c, seckill_db_prepare_errno(c->db), err);
        return NULL;
    }
    if (mysql_stmt_param_count(st) != nparams || mysql_stmt_field_count(st) != ncols) {
        seckill_worker_log(SECKILL_LOG_ERROR, SKW_QUERY_MISMATCH,
                           "mysql: query %s has %lu params and %u columns, expected %u and %u",
                           name, mysql_stmt_param_count(st), mysql_stmt_field_count(st), nparams,
                           ncols);
        return NULL;
    }
    return st;
}

unsigned seckill_worker_stmt_error(seckill_worker_conn *c, MYSQL_STMT *st, const char *what)
{
    char msg[384];
    unsigned err_no = mysql_stmt_errno(st);

    snprintf(msg, sizeof msg, "%s: %s", what, mysql_stmt_error(st));
    mysql_stmt_free_result(st);
    if (!seckill_db_lost(err_no))
        mysql_stmt_reset(st);
    seckill_worker_db_error(c, err_no, msg);
    return err_no ? err_no : 1;
}

unsigned seckill_worker_exec(seckill_worker_conn *c, const char *sql)
{
    char msg[384];
    MYSQL *m;
    unsigned err_no;

    if (!c->db)
        return CR_SERVER_LOST;
    m = seckill_db_mysql(c->db);
    if (mysql_real_query(m, sql, strlen(sql)) == 0)
        return 0;
    err_no = mysql_errno(m);
    snprintf(msg, sizeof msg, "%s: %s", sql, mysql_error(m));
    seckill_worker_db_error(c, err_no, msg);
    return err_no ? err_no : 1;
}

void seckill_worker_bind(MYSQL_BIND *b, enum enum_field_types type, const void *buf, size_t len)
{
    memset(b, 0, sizeof *b);
    b->buffer_type = type;
    b->buffer = (void *)buf;
    b->buffer_length = (unsigned long)len;
}

int seckill_worker_order_status(seckill_worker_conn *c, uint64_t id, int *status, unsigned *err_no)
{
    MYSQL_STMT *st = seckill_worker_stmt(c, SECKILL_Q_WORKER_ORDER_STATUS, 1, 1, "ORDER_STATUS");
    unsigned long long key = id;
    MYSQL_BIND in[1], out[1];
    int rc;

    *err_no = 0;
    if (!st)
        return -1;
    seckill_worker_bind(&in[0], MYSQL_TYPE_LONGLONG, &key, 0);
    in[0].is_unsigned = 1;
    seckill_worker_bind(&out[0], MYSQL_TYPE_LONG, status, 0);
    if (mysql_stmt_bind_param(st, in) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, out) || mysql_stmt_store_result(st)) {
        *err_no = seckill_worker_stmt_error(c, st, "order status");
        return -1;
    }
    rc = mysql_stmt_fetch(st);
    mysql_stmt_free_result(st);
    return rc == 0 || rc == MYSQL_DATA_TRUNCATED;
}

/* ---- transactions ------------------------------------------------------------------------ */

#define TXN_TRIES 3

seckill_worker_txn_step seckill_worker_txn_error(seckill_worker_conn *c, unsigned err_no)
{
    if (!c->db)
        return SECKILL_TXN_ABORT;
    /* InnoDB rolled back the whole transaction (deadlock) or the statement (lock wait): the
     * savepoints may be gone, start over */
    if (err_no == ER_LOCK_DEADLOCK || err_no == ER_LOCK_WAIT_TIMEOUT)
        return SECKILL_TXN_RETRY;
    return SECKILL_TXN_UNDO;
}

/* The items of one attempt; KEEP when all went through, else RETRY or ABORT. */
static seckill_worker_txn_step txn_items(seckill_worker_conn *c, int n,
                                         seckill_worker_txn_step (*step)(void *state, int i),
                                         void *state)
{
    unsigned e;
    for (int i = 0; i < n; i++) {
        seckill_worker_txn_step r;
        /* constant text: a savepoint of the same name replaces the previous one */
        if ((e = seckill_worker_exec(c, "SAVEPOINT item")))
            return seckill_worker_txn_error(c, e) == SECKILL_TXN_RETRY ? SECKILL_TXN_RETRY
                                                                       : SECKILL_TXN_ABORT;
        r = step(state, i);
        if (r == SECKILL_TXN_UNDO && (e = seckill_worker_exec(c, "ROLLBACK TO SAVEPOINT item")))
            r = seckill_worker_txn_error(c, e) == SECKILL_TXN_RETRY ? SECKILL_TXN_RETRY
                                                                    : SECKILL_TXN_ABORT;
        if (r == SECKILL_TXN_RETRY || r == SECKILL_TXN_ABORT)
            return r;
    }
    return SECKILL_TXN_KEEP;
}

int seckill_worker_txn(seckill_worker_conn *c, int n,
                       seckill_worker_txn_step (*step)(void *state, int i),
                       void (*reset)(void *state), void *state)
{
    for (int attempt = 1; attempt <= TXN_TRIES; attempt++) {
        seckill_worker_txn_step r;
        if (seckill_worker_exec(c, "START TRANSACTION"))
            break;
        r = txn_items(c, n, step, state);
        if (r == SECKILL_TXN_KEEP && seckill_worker_exec(c, "COMMIT") == 0)
            return 0;
        if (r != SECKILL_TXN_RETRY || !c->db || seckill_worker_exec(c, "ROLLBACK"))
            break;
        reset(state);
    }
    /* a connection left inside a transaction would commit it with the next batch's */
    if (c->db && seckill_worker_exec(c, "ROLLBACK"))
        seckill_worker_db_lost(c, "ROLLBACK");
    return -1;
}

/* ---- a consumer role's loop -------------------------------------------------------------- */

/* How long a consumer waits for a first delivery: the pace at which it sees stop when idle. */
#define CONSUME_WAIT_MS 1000

/* 1 when every server is up and the consumer subscribed. While one is down the consumer lets
 * go of its unacked deliveries, so that another worker can write them meanwhile. */
static int consumer_ready(seckill_worker_conn *c, const seckill_worker_consumer_def *def)
{
    int had = c->consumer != NULL;

    if (!seckill_worker_redis(c) || !seckill_worker_db(c) || !seckill_worker_amqp(c)) {
        seckill_worker_consumer_drop(c);
        return 0;
    }
    if (!seckill_worker_consumer(c, def->queue, c->cfg->prefetch))
        return 0;
    if (!had)
        seckill_worker_log(SECKILL_LOG_INFO, def->consuming_id,
                           "%s: consuming %s (prefetch %d, batches of up to %d)", def->role,
                           def->queue, c->cfg->prefetch, c->cfg->batch_max);
    return 1;
}

/* One batch: 1 done and acked, 0 nothing came, -1 given back. */
static int consume_batch(seckill_worker_conn *c, const seckill_worker_consumer_def *def,
                         void *state, apr_pool_t *p, int *n)
{
    apr_array_header_t *ds;
    uint64_t last;

    *n = 0;
    if (seckill_worker_collect(c, p, c->cfg->batch_max, CONSUME_WAIT_MS, &ds) != 0)
        return -1;
    if ((*n = ds->nelts) == 0)
        return 0;
    if (def->batch(state, p, ds) != 0)
        return -1;
    /* multiple: the whole batch, and nothing before it is left unacked on this channel */
    last = APR_ARRAY_IDX(ds, ds->nelts - 1, seckill_amqp_delivery).tag;
    if (seckill_amqp_ack(c->consumer, last, 1) != SECKILL_AMQP_OK) {
        seckill_worker_consumer_lost(c, "basic.ack");
        return -1;
    }
    return 1;
}

void seckill_worker_consume(seckill_worker *w, seckill_worker_conn *c,
                            const seckill_worker_consumer_def *def, void *state, apr_pool_t *pool)
{
    apr_pool_t *p;
    int abandoned = 0, n, rc, delay;

    apr_pool_create(&p, pool);
    while (!seckill_worker_stopping(w)) {
        if (!consumer_ready(c, def)) {
            seckill_worker_wait(w, apr_time_from_sec(1));
            continue;
        }
        rc = consume_batch(c, def, state, p, &n);
        apr_pool_clear(p);
        if (rc >= 0) {
            if (rc > 0 && abandoned)
                seckill_worker_log(SECKILL_LOG_INFO, def->abandoned_id, "%s: batches succeed again",
                                   def->role);
            abandoned = rc > 0 ? 0 : abandoned;
            continue;
        }
        seckill_worker_consumer_drop(c); /* requeues what this connection still holds */
        if (n == 0)
            continue; /* the consumer connection failed while idle: logged, backing off */
        delay = abandoned >= 4 ? BACKOFF_MAX_S : 1 << abandoned;
        if (!abandoned++)
            seckill_worker_log(SECKILL_LOG_WARN, def->abandoned_id,
                               "%s: a batch of %d messages was not acked; RabbitMQ delivers it "
                               "again, next try in %ds",
                               def->role, n, delay);
        seckill_worker_wait(w, apr_time_from_sec(delay));
    }
    apr_pool_destroy(p);
}
