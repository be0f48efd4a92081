/* Redis connections as module and worker open them (AUTH and SELECT of the endpoint done), and
 * the hot path's way around hiredis's allocations: commands written from the caller's memory,
 * replies made in an APR pool (nothing to free). */
#ifndef SECKILL_REDIS_CONN_H
#define SECKILL_REDIS_CONN_H

#include <apr_pools.h>
#include <hiredis/hiredis.h>
#include <sys/uio.h>

#include "endpoint.h"

/* A connection to ep: connect_timeout to connect, io_timeout on every read and write, TCP
 * keepalive, AUTH and SELECT when ep has them. NULL with err set (without the URL). */
redisContext *seckill_redis_connect(const seckill_endpoint *ep, struct timeval connect_timeout,
                                    struct timeval io_timeout, char *err, size_t errlen);

/* Writes the n buffers on c whole, past hiredis's output buffer (empty between the commands of
 * a blocking context, so the bytes go out in order); 0 with c->err set on failure. */
int seckill_redis_send(redisContext *c, struct iovec *iov, int n);

/* Reads the next reply on c into p; NULL on a connection error (c->err set). */
redisReply *seckill_redis_read_in(apr_pool_t *p, redisContext *c);

#endif
