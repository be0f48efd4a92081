#include "conn.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

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

void seckill_worker_conn_init(seckill_worker_conn *c, const seckill_worker_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->redis_bo.delay_s = c->db_bo.delay_s = 1;
}

void seckill_worker_conn_close(seckill_worker_conn *c)
{
    if (c->redis)
        redisFree(c->redis);
    if (c->db)
        seckill_db_close(c->db);
    c->redis = NULL;
    c->db = NULL;
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

static int setup_cmd(redisContext *c, redisReply *r, char *err, size_t n)
{
    int ok = r && r->type != REDIS_REPLY_ERROR;
    if (!ok)
        snprintf(err, n, "%s", r ? r->str : c->errstr);
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

static int redis_setup(redisContext *c, const seckill_endpoint *ep, char *err, size_t n)
{
    if (ep->password && ep->user && *ep->user &&
        setup_cmd(c, redisCommand(c, "AUTH %s %s", ep->user, ep->password), err, n) != 0)
        return -1;
    if (ep->password && !(ep->user && *ep->user) &&
        setup_cmd(c, redisCommand(c, "AUTH %s", ep->password), err, n) != 0)
        return -1;
    if (*ep->path && setup_cmd(c, redisCommand(c, "SELECT %s", ep->path), err, n) != 0)
        return -1;
    return 0;
}

static redisContext *redis_open(const seckill_endpoint *ep, char *err, size_t n)
{
    struct timeval cto = {CONNECT_TIMEOUT_S, 0}, rto = {IO_TIMEOUT_S, 0};
    redisContext *c = redisConnectWithTimeout(ep->host, ep->port, cto);

    if (!c || c->err) {
        snprintf(err, n, "%s", c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    if (redisSetTimeout(c, rto) != REDIS_OK || redisEnableKeepAlive(c) != REDIS_OK ||
        redis_setup(c, ep, err, n) != 0) {
        if (!*err)
            snprintf(err, n, "%s", c->errstr);
        redisFree(c);
        return NULL;
    }
    return c;
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
