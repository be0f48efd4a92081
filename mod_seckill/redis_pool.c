#include "redis_pool.h"

#include "apr_strings.h"

#include <stdio.h>
#include <stdlib.h>

#include "redis_conn.h"
#include "runtime.h"

typedef struct {
    const seckill_endpoint *ep;
    struct timeval timeout;
} redis_params;

static void *redis_open(void *params, char *err, size_t errlen)
{
    redis_params *rp = params;
    char why[256];
    redisContext *c = seckill_redis_connect(rp->ep, rp->timeout, rp->timeout, why, sizeof why);
    if (!c)
        snprintf(err, errlen, "%s: %s", rp->ep->url, why);
    return c;
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
