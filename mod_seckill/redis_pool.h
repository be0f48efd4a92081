/* Redis connections of one httpd child (see conn_pool.h). Work functions get a
 * redisContext and report SECKILL_CONN_LOST through seckill_redis_check when hiredis
 * saw an I/O error, so the pool reconnects. */
#ifndef SECKILL_REDIS_POOL_H
#define SECKILL_REDIS_POOL_H

#include <hiredis/hiredis.h>

#include "config.h"
#include "conn_pool.h"

seckill_conn_pool *seckill_redis_pool_create(apr_pool_t *pchild, server_rec *s,
                                             const seckill_server_conf *c);
/* LOST when the reply is missing because the connection failed, else FAIL for an error
 * reply, else OK. */
seckill_conn_result seckill_redis_check(const redisContext *c, const redisReply *rep);
/* Runs work (whose conn argument is a redisContext *) on this request's Redis connection. */
seckill_conn_result seckill_redis_run(request_rec *r, seckill_conn_work_fn work, void *baton);

#endif
