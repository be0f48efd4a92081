/* The buys' EVALSHAs, pipelined: each httpd child runs one thread with one Redis connection
 * of its own that sends all the commands queued meanwhile in one write and reads their
 * replies in order, each into its request's pool. Redis then reads and answers once for many
 * buys instead of once a buy (bench/README.md). */
#ifndef SECKILL_REDIS_BATCH_H
#define SECKILL_REDIS_BATCH_H

#include "httpd.h"
#include <hiredis/hiredis.h>
#include <semaphore.h>
#include <time.h>

#include "config.h"

typedef struct seckill_redis_batch seckill_redis_batch;

/* In child_init; NULL (logged) when the thread cannot start: buys then use the pool. */
seckill_redis_batch *seckill_redis_batch_create(apr_pool_t *pchild, server_rec *s,
                                                const seckill_server_conf *c);

/* What a request does next with its reply without waking for it: the pipeline's thread calls
 * pass_on, which returns nonzero when it passed the request on to another thread that posts done
 * (publishing a sold buy's order). While it waits, the request asks late when *when passes
 * (first after patience_ms): nonzero when it gave up there (nothing will post). */
typedef struct {
    int (*pass_on)(void *baton, const redisReply *reply, sem_t *done);
    int (*late)(void *baton, struct timespec *when);
    void *baton;
    int patience_ms;
} seckill_redis_then;

/* Sends cmd (RESP, one command) and waits for its reply, made in r->pool. NULL when there was
 * no connection (*unknown 0) or it broke after cmd went out and before its reply came (*unknown
 * 1: the command may have run); a reply, any reply, tells (*unknown 0). With then (or NULL), the
 * reply may have been passed on: it returns once that is done. */
redisReply *seckill_redis_batch_call(seckill_redis_batch *b, request_rec *r, const char *cmd,
                                     size_t len, int *unknown, const seckill_redis_then *then);

/* Work for the pipeline's thread to do once it has a connection (a buy's undo after Redis
 * went away): fn returns 1 when done (and frees baton), 0 when the connection failed under it
 * (it is dropped, and fn runs again on the next, every LATER_RETRY_MS). Work still pending when
 * the child stops is dropped with a log line: fn(baton, NULL) lets it say what and free baton. */
typedef int (*seckill_redis_later_fn)(void *baton, redisContext *c);
void seckill_redis_batch_later(seckill_redis_batch *b, seckill_redis_later_fn fn, void *baton);

#endif
