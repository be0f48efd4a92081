#include "scheduler.h"

#include <apr_general.h>
#include <apr_network_io.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "keys.h"
#include "log.h"
#include "lua.h"
#include "product.h"
#include "slot.h"

/* How often the loop wakes: a standby retries the lock this often, so a released lock is taken
 * over within a second; the leader renews at the same pace, far inside any leader_ttl >= 3. */
#define TICK apr_time_from_sec(1)

typedef struct {
    seckill_worker *w;
    const seckill_worker_config *cfg;
    seckill_worker_conn conn;
    seckill_lua_script cache, status, renew, release;
    char holder[320]; /* hostname:pid:random, the lock's value */
    int leader;
    int standby_logged;
    apr_time_t next_status, next_preheat;
    int status_failing, preheat_failing; /* a failure was logged, no success since */
} scheduler;

typedef struct {
    long long id;
    int status;
    time_t start, end;
} due_row;

typedef struct {
    long long id;
    int status;
} status_item;

typedef struct {
    int slot;
    time_t start, end;
    char date[9];
    char key[64]; /* its slot set */
} slot_win;

/* ---- leadership ------------------------------------------------------------------------- */

static void make_holder(apr_pool_t *p, char *buf, size_t n)
{
    char host[APRMAXHOSTLEN + 1] = "localhost";
    unsigned char rnd[6] = {0};
    apr_gethostname(host, sizeof host, p);
    apr_generate_random_bytes(rnd, sizeof rnd);
    snprintf(buf, n, "%s:%d:%02x%02x%02x%02x%02x%02x", host, (int)getpid(), rnd[0], rnd[1], rnd[2],
             rnd[3], rnd[4], rnd[5]);
}

static void lose(scheduler *s, const char *why)
{
    s->leader = 0;
    s->standby_logged = 0;
    seckill_worker_log(SECKILL_LOG_WARN, SKW_LEADER_LOST, "scheduler: leadership lost: %s", why);
}

static int acquire(scheduler *s, redisContext *c)
{
    redisReply *r = redisCommand(c, "SET %s %s NX PX %d", SECKILL_KEY_LEADER, s->holder,
                                 s->cfg->leader_ttl * 1000);
    if (!(r = seckill_worker_reply(&s->conn, r, "SET leader")))
        return 0;
    s->leader = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (s->leader)
        seckill_worker_log(SECKILL_LOG_INFO, SKW_LEADER_GAINED,
                           "scheduler: leadership gained as %s (ttl %ds)", s->holder,
                           s->cfg->leader_ttl);
    else if (!s->standby_logged) {
        s->standby_logged = 1;
        seckill_worker_log(SECKILL_LOG_DEBUG, SKW_LEADER_STANDBY,
                           "scheduler: another worker leads, standing by");
    }
    return s->leader;
}

static int renew(scheduler *s, redisContext *c)
{
    char ttl[16];
    const char *argv[3] = {SECKILL_KEY_LEADER, s->holder, ttl};
    redisReply *r;
    int ok;

    snprintf(ttl, sizeof ttl, "%d", s->cfg->leader_ttl * 1000);
    r = seckill_worker_reply(&s->conn, seckill_lua_call(c, &s->renew, 1, 3, argv, NULL),
                             "leader_renew");
    ok = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    if (!ok)
        lose(s, r ? "the lock expired or another worker holds it" : "cannot renew the lock");
    if (r)
        freeReplyObject(r);
    return ok;
}

/* 1 when this worker holds the lock for the next leader_ttl seconds. A job that outlives the
 * lock may overlap the next leader's for a while: both jobs are idempotent, so that is safe. */
static int lead(scheduler *s)
{
    redisContext *c = seckill_worker_redis(&s->conn);
    if (!c) {
        if (s->leader)
            lose(s, "redis is unreachable");
        return 0;
    }
    if (s->leader && renew(s, c))
        return 1;
    return s->conn.redis ? acquire(s, s->conn.redis) : 0;
}

/* Without it a standby would wait up to leader_ttl for the lock to expire. */
static void release(scheduler *s)
{
    const char *argv[2] = {SECKILL_KEY_LEADER, s->holder};
    redisContext *c;
    redisReply *r;

    if (!s->leader)
        return;
    s->leader = 0;
    if (!(c = seckill_worker_redis(&s->conn)))
        return;
    r = seckill_lua_call(c, &s->release, 1, 2, argv, NULL);
    if (!(r = seckill_worker_reply(&s->conn, r, "leader_release")))
        return;
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 1)
        seckill_worker_log(SECKILL_LOG_INFO, SKW_LEADER_RELEASED, "scheduler: leadership released");
    freeReplyObject(r);
}

/* ---- MySQL ------------------------------------------------------------------------------- */

static int stmt_failed(scheduler *s, MYSQL_STMT *st, const char *what)
{
    seckill_worker_stmt_error(&s->conn, st, what);
    return -1;
}

static void bind_one(MYSQL_BIND *b, enum enum_field_types type, void *buf)
{
    memset(b, 0, sizeof *b);
    b->buffer_type = type;
    b->buffer = buf;
}

/* Products not ended in MySQL whose start is <= now: those whose status may be due to move. */
static int due_fetch(scheduler *s, seckill_db *db, apr_pool_t *p, time_t now,
                     apr_array_header_t **out)
{
    MYSQL_STMT *st = seckill_worker_stmt(&s->conn, SECKILL_Q_STATUS_DUE, 1, 4, "STATUS_DUE");
    MYSQL_TIME t_now, t_start, t_end;
    MYSQL_BIND in[1], res[4];
    due_row row;
    int rc;

    if (!st)
        return -1;
    seckill_db_time_to(now, &t_now);
    bind_one(&in[0], MYSQL_TYPE_DATETIME, &t_now);
    bind_one(&res[0], MYSQL_TYPE_LONGLONG, &row.id);
    bind_one(&res[1], MYSQL_TYPE_LONG, &row.status);
    bind_one(&res[2], MYSQL_TYPE_DATETIME, &t_start);
    bind_one(&res[3], MYSQL_TYPE_DATETIME, &t_end);
    if (mysql_stmt_bind_param(st, in) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, res) || mysql_stmt_store_result(st))
        return stmt_failed(s, st, "status due");
    *out = apr_array_make(p, 16, sizeof(due_row));
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        row.start = seckill_db_time_from(&t_start);
        row.end = seckill_db_time_from(&t_end);
        APR_ARRAY_PUSH(*out, due_row) = row;
    }
    if (rc != MYSQL_NO_DATA)
        return stmt_failed(s, st, "status due fetch");
    mysql_stmt_free_result(st);
    return 0;
}

/* The guarded UPDATE: 1 moved, 0 already moved by another scheduler, -1 error. */
static int status_set(scheduler *s, seckill_db *db, long long id, int from, int to)
{
    MYSQL_STMT *st = seckill_worker_stmt(&s->conn, SECKILL_Q_STATUS_SET, 3, 0, "STATUS_SET");
    MYSQL_BIND in[3];

    if (!st)
        return -1;
    bind_one(&in[0], MYSQL_TYPE_LONG, &to);
    bind_one(&in[1], MYSQL_TYPE_LONGLONG, &id);
    bind_one(&in[2], MYSQL_TYPE_LONG, &from);
    if (mysql_stmt_bind_param(st, in) || mysql_stmt_execute(st))
        return stmt_failed(s, st, "status set");
    return mysql_stmt_affected_rows(st) == 1;
}

static int window_products(scheduler *s, apr_pool_t *p, time_t from, time_t to,
                           apr_array_header_t **out)
{
    char err[256];
    unsigned int err_no;
    seckill_db *db = seckill_worker_db(&s->conn);

    if (!db)
        return -1;
    if (seckill_products_in_window(db, p, from, to, out, &err_no, err, sizeof err) == 0)
        return 0;
    seckill_worker_db_error(&s->conn, err_no, err);
    return -1;
}

/* ---- status ------------------------------------------------------------------------------ */

static int status_at(time_t t, time_t start, time_t end)
{
    return t >= end ? 2 : t >= start ? 1 : 0;
}

/* Moves each due row in MySQL; row->status becomes the status by time. Stops at the first
 * error (the rest are retried next run). The count of rows moved goes to *moved. */
static int due_apply(scheduler *s, seckill_db *db, apr_array_header_t *due, time_t now, int *moved)
{
    *moved = 0;
    for (int i = 0; i < due->nelts; i++) {
        due_row *r = &APR_ARRAY_IDX(due, i, due_row);
        int to = status_at(now, r->start, r->end), n;
        if (to <= r->status)
            continue;
        if ((n = status_set(s, db, r->id, r->status, to)) < 0)
            return -1;
        if (n)
            seckill_worker_log(SECKILL_LOG_INFO, SKW_STATUS_MOVED, "status: product %lld %d -> %d",
                               r->id, r->status, to);
        *moved += n;
        r->status = to; /* n == 0: another scheduler moved it; time says `to` all the same */
    }
    return 0;
}

/* Start of the slot before the one holding now: how far back Redis is healed. */
static time_t heal_from(time_t now)
{
    time_t cs, ce, ps, pe;
    seckill_slot_window(now, seckill_slot_of_time(now), &cs, &ce);
    seckill_slot_window(cs - 1, seckill_slot_of_time(cs - 1), &ps, &pe);
    return ps;
}

/* What to push to Redis: MySQL's status of every product started in the current or previous
 * slot, so a push lost to a Redis outage is redone by the next run whoever leads by then, plus
 * the due rows that started earlier (long sales). Without a window (MySQL failed): due rows. */
static int collect_pushes(scheduler *s, apr_pool_t *p, int with_window, time_t now,
                          const apr_array_header_t *due, apr_array_header_t *push)
{
    apr_array_header_t *win;
    time_t from = heal_from(now);
    int rc = with_window ? window_products(s, p, from, now + 1, &win) : -1;

    if (rc == 0) {
        for (int i = 0; i < win->nelts; i++) {
            const seckill_product *pr = &APR_ARRAY_IDX(win, i, seckill_product);
            APR_ARRAY_PUSH(push, status_item) = (status_item){pr->id, pr->status};
        }
    }
    for (int i = 0; i < due->nelts; i++) {
        const due_row *r = &APR_ARRAY_IDX(due, i, due_row);
        if (rc != 0 || r->start < from)
            APR_ARRAY_PUSH(push, status_item) = (status_item){r->id, r->status};
    }
    return with_window ? rc : 0;
}

static int push_statuses(scheduler *s, const apr_array_header_t *items)
{
    redisContext *c = seckill_worker_redis(&s->conn);
    redisReply *r;
    char key[64];

    if (!c)
        return -1;
    if (items->nelts == 0)
        return 0;
    /* Replies of a pipeline cannot fall back on NOSCRIPT one by one: load the script first. */
    r = redisCommand(c, "SCRIPT LOAD %b", s->status.body, s->status.len);
    if (!(r = seckill_worker_reply(&s->conn, r, "SCRIPT LOAD product_status")))
        return -1;
    freeReplyObject(r);
    for (int i = 0; i < items->nelts; i++) {
        const status_item *it = &APR_ARRAY_IDX(items, i, status_item);
        snprintf(key, sizeof key, SECKILL_KEY_PRODUCT, it->id);
        redisAppendCommand(c, "EVALSHA %s 1 %s %d", s->status.sha, key, it->status);
    }
    return seckill_worker_redis_drain(&s->conn, items->nelts, "product_status");
}

static int status_run(scheduler *s, apr_pool_t *p, time_t now)
{
    seckill_db *db = seckill_worker_db(&s->conn);
    apr_array_header_t *due, *push;
    int moved = 0, applied, rc;

    if (!db || due_fetch(s, db, p, now, &due) != 0)
        return -1;
    applied = due_apply(s, db, due, now, &moved) == 0;
    push = apr_array_make(p, due->nelts + 16, sizeof(status_item));
    rc = collect_pushes(s, p, applied, now, due, push);
    rc |= push_statuses(s, push);
    seckill_worker_log(SECKILL_LOG_DEBUG, SKW_STATUS_RUN,
                       "status: %d due, %d moved in mysql, %d pushed to redis%s", due->nelts, moved,
                       push->nelts, rc ? " (with errors)" : "");
    return applied && rc == 0 ? 0 : -1;
}

/* ---- preheat ----------------------------------------------------------------------------- */

static void slot_at(time_t t, slot_win *w)
{
    w->slot = seckill_slot_of_time(t);
    seckill_slot_window(t, w->slot, &w->start, &w->end);
    seckill_slot_date(w->start, w->date);
    snprintf(w->key, sizeof w->key, SECKILL_KEY_SLOT, w->date, w->slot);
}

/* SISMEMBER: 1, 0, or -1 on error. */
static int is_member(scheduler *s, const char *key, const char *member)
{
    redisContext *c = seckill_worker_redis(&s->conn);
    redisReply *r;
    int yes;

    if (!c)
        return -1;
    r = redisCommand(c, "SISMEMBER %s %s", key, member);
    if (!(r = seckill_worker_reply(&s->conn, r, "SISMEMBER")))
        return -1;
    yes = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return yes;
}

static int load_slot(scheduler *s, apr_pool_t *p, const slot_win *w)
{
    apr_array_header_t *prods;
    redisContext *c;
    char err[256];

    if (window_products(s, p, w->start, w->end, &prods) != 0)
        return -1;
    if (!(c = seckill_worker_redis(&s->conn)))
        return -1;
    if (seckill_products_cache(c, &s->cache, w->date, w->slot, w->end, prods, err, sizeof err)) {
        if (c->err)
            seckill_worker_redis_lost(&s->conn, err);
        else
            seckill_worker_log(SECKILL_LOG_ERROR, SKW_SCRIPT_ERROR, "redis: %s", err);
        return -1;
    }
    /* seckill_products_cache also put the ids in the Bloom filter */
    seckill_worker_log(SECKILL_LOG_INFO, SKW_PREHEAT_LOADED,
                       "preheat: slot %s:%d loaded into redis, %d products", w->date, w->slot,
                       prods->nelts);
    return 0;
}

/* Loads the slot when it is not cached yet or force says a product is missing from it. */
static int preheat_slot(scheduler *s, apr_pool_t *p, const slot_win *w, int force)
{
    int loaded = force ? 0 : is_member(s, w->key, SECKILL_SLOT_LOADED);
    if (loaded < 0)
        return -1;
    return loaded ? 0 : load_slot(s, p, w);
}

/* 1 when product id is fully cached for slot w: listed in its set and its hash present (a hash
 * evicted under memory pressure would leave a listed product unbuyable). -1 on error. */
static int cached(scheduler *s, const slot_win *w, long long id)
{
    redisContext *c = seckill_worker_redis(&s->conn);
    redisReply *r[2];
    int yes = 1;

    if (!c)
        return -1;
    redisAppendCommand(c, "SISMEMBER %s %lld", w->key, id);
    redisAppendCommand(c, "EXISTS " SECKILL_KEY_PRODUCT, id);
    for (int i = 0; i < 2; i++) {
        if (redisGetReply(c, (void **)&r[i]) != REDIS_OK) {
            seckill_worker_redis_lost(&s->conn, "SISMEMBER/EXISTS");
            return -1;
        }
        yes &= r[i]->type == REDIS_REPLY_INTEGER && r[i]->integer == 1;
        freeReplyObject(r[i]);
    }
    return yes;
}

/* force[i] = 1 when a product starting within preheat_ahead is not cached in slot win[i]:
 * added after the slot was cached, it would otherwise never be listed. preheat_ahead <= one
 * slot (config.c), so such products start in win[0] (current) or win[1] (next). */
static int soon_missing(scheduler *s, apr_pool_t *p, time_t now, const slot_win win[2],
                        int force[2])
{
    apr_array_header_t *soon;

    if (s->cfg->preheat_ahead == 0)
        return 0;
    if (window_products(s, p, now, now + s->cfg->preheat_ahead, &soon) != 0)
        return -1;
    for (int i = 0; i < soon->nelts; i++) {
        const seckill_product *pr = &APR_ARRAY_IDX(soon, i, seckill_product);
        int k = pr->start >= win[0].end, yes;
        if (force[k] || pr->start >= win[1].end) /* only on a short DST day */
            continue;
        if ((yes = cached(s, &win[k], pr->id)) < 0)
            return -1;
        force[k] = !yes;
    }
    return 0;
}

static int preheat_run(scheduler *s, apr_pool_t *p, time_t now)
{
    slot_win win[2];
    int force[2] = {0, 0};

    if (!seckill_worker_redis(&s->conn) || !seckill_worker_db(&s->conn))
        return -1;
    slot_at(now, &win[0]);
    slot_at(win[0].end, &win[1]);
    if (soon_missing(s, p, now, win, force) != 0 || preheat_slot(s, p, &win[0], force[0]) != 0)
        return -1;
    if (win[1].start - now > s->cfg->preheat_ahead)
        return 0;
    return preheat_slot(s, p, &win[1], force[1]);
}

/* ---- the role ---------------------------------------------------------------------------- */

/* A failing job logs once when it starts failing and once when it recovers, not every run:
 * the cause (server down, script error) has its own line already. */
static void job_result(int rc, int *failing, int fail_id, const char *job, int interval)
{
    if (rc != 0 && !*failing)
        seckill_worker_log(SECKILL_LOG_WARN, fail_id, "%s: run failed, retrying every %ds", job,
                           interval);
    else if (rc == 0 && *failing)
        seckill_worker_log(SECKILL_LOG_INFO, fail_id, "%s: runs succeed again", job);
    *failing = rc != 0;
}

static void run_due_jobs(scheduler *s, apr_pool_t *job)
{
    apr_time_t now = apr_time_now();
    int rc;

    if (now >= s->next_status) {
        s->next_status = now + apr_time_from_sec(s->cfg->status_interval);
        rc = status_run(s, job, time(NULL));
        job_result(rc, &s->status_failing, SKW_STATUS_FAILED, "status", s->cfg->status_interval);
        apr_pool_clear(job);
    }
    if (now >= s->next_preheat && !seckill_worker_stopping(s->w)) {
        s->next_preheat = now + apr_time_from_sec(s->cfg->preheat_interval);
        rc = preheat_run(s, job, time(NULL));
        job_result(rc, &s->preheat_failing, SKW_PREHEAT_FAILED, "preheat",
                   s->cfg->preheat_interval);
        apr_pool_clear(job);
    }
}

const char *seckill_scheduler_init(apr_pool_t *p, seckill_worker *w, void **state)
{
    scheduler *s = apr_pcalloc(p, sizeof *s);
    const struct {
        const char *name;
        seckill_lua_script *script;
    } scripts[] = {{"product_cache", &s->cache},
                   {"product_status", &s->status},
                   {"leader_renew", &s->renew},
                   {"leader_release", &s->release}};
    const char *err;

    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        if ((err = seckill_lua_load(p, w->cfg->lua_dir, scripts[i].name, scripts[i].script)))
            return err;
    }
    s->w = w;
    s->cfg = w->cfg;
    seckill_worker_conn_init(&s->conn, w->cfg);
    *state = s;
    return NULL;
}

void seckill_scheduler_run(void *state, apr_pool_t *thread_pool)
{
    scheduler *s = state;
    apr_pool_t *job;

    make_holder(thread_pool, s->holder, sizeof s->holder); /* after detaching: our real pid */
    apr_pool_create(&job, thread_pool);
    while (!seckill_worker_stopping(s->w)) {
        if (lead(s))
            run_due_jobs(s, job);
        seckill_worker_wait(s->w, TICK);
    }
    release(s);
    seckill_worker_conn_close(&s->conn);
    apr_pool_destroy(job);
}

int seckill_scheduler_once(void *state, apr_pool_t *p)
{
    scheduler *s = state;
    int st = status_run(s, p, time(NULL));
    int ph = preheat_run(s, p, time(NULL));

    seckill_worker_log(st || ph ? SECKILL_LOG_ERROR : SECKILL_LOG_INFO, SKW_ONCE,
                       "once: status %s, preheat %s", st ? "failed" : "ok", ph ? "failed" : "ok");
    seckill_worker_conn_close(&s->conn);
    return st || ph ? -1 : 0;
}
