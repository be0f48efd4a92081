#include "redis_pool.h"

#include "apr_strings.h"

#include <stdio.h>
#include <stdlib.h>

#include "runtime.h"

typedef struct {
    const seckill_endpoint *ep;
    struct timeval timeout;
} redis_params;

redisContext *seckill_redis_connect(const seckill_endpoint *ep, struct timeval timeout, char *err,
                                    size_t errlen)
{
    redisContext *c = redisConnectWithTimeout(ep->host, ep->port, timeout);
    redisReply *rep = NULL;

    if (!c || c->err) {
        snprintf(err, errlen, "%s: %s", ep->url, c ? c->errstr : "out of memory");
        goto fail;
    }
    redisSetTimeout(c, timeout);
    redisEnableKeepAlive(c);
    if (ep->password) {
        rep = ep->user ? redisCommand(c, "AUTH %s %s", ep->user, ep->password)
                       : redisCommand(c, "AUTH %s", ep->password);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "%s: AUTH failed: %s", ep->url, rep ? rep->str : c->errstr);
            goto fail;
        }
        freeReplyObject(rep);
    }
    if (*ep->path && strcmp(ep->path, "0") != 0) {
        rep = redisCommand(c, "SELECT %s", ep->path);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "%s: SELECT failed: %s", ep->url, rep ? rep->str : c->errstr);
            goto fail;
        }
        freeReplyObject(rep);
    }
    return c;
fail:
    if (rep)
        freeReplyObject(rep);
    if (c)
        redisFree(c);
    return NULL;
}

static void *redis_open(void *params, char *err, size_t errlen)
{
    redis_params *rp = params;
    return seckill_redis_connect(rp->ep, rp->timeout, err, errlen);
}

static void redis_close(void *conn)
{
    redisFree(conn);
}

seckill_conn_pool *seckill_redis_pool_create(apr_pool_t *pchild, server_rec *s,
                                             const seckill_server_conf *c)
{
    redis_params *rp = apr_pcalloc(pchild, sizeof *rp);
    rp->ep = c->redis;
    rp->timeout.tv_sec = c->redis_timeout_ms / 1000;
    rp->timeout.tv_usec = (c->redis_timeout_ms % 1000) * 1000;
    return seckill_conn_pool_create(pchild, s, "redis", c->redis_pool_max, redis_open, redis_close,
                                    rp);
}

seckill_conn_result seckill_redis_check(const redisContext *c, const redisReply *rep)
{
    if (!rep || c->err)
        return SECKILL_CONN_LOST;
    return rep->type == REDIS_REPLY_ERROR ? SECKILL_CONN_FAIL : SECKILL_CONN_OK;
}

seckill_conn_result seckill_redis_run(request_rec *r, seckill_conn_work_fn work, void *baton)
{
    return seckill_conn_run(r, seckill_conf(r->server)->rt->redis, work, baton);
}
