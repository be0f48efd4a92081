/* A per-child pool of connections to one server (apr_reslist, as mod_dbd), shared by the
 * threads of an httpd child. A request acquires a connection once and gives it back in a
 * request-pool cleanup; one that failed is discarded, and seckill_conn_run retries the work
 * on another, so a server restart costs the next request a reconnect, never an error. */
#ifndef SECKILL_CONN_POOL_H
#define SECKILL_CONN_POOL_H

#include "httpd.h"

typedef struct seckill_conn_pool seckill_conn_pool;

/* Opens a connection (NULL + message on failure) / closes one. */
typedef void *(*seckill_conn_open_fn)(void *params, char *err, size_t errlen);
typedef void (*seckill_conn_close_fn)(void *conn);

typedef enum {
    SECKILL_CONN_OK = 0,
    SECKILL_CONN_FAIL,       /* the work failed; the connection is fine */
    SECKILL_CONN_LOST,       /* the connection is gone: discard it and retry */
    SECKILL_CONN_BROKEN,     /* the work failed and left the connection unusable: discard
                                it, do not retry (e.g. a confirm that never came) */
    SECKILL_CONN_UNAVAILABLE /* no working connection could be had */
} seckill_conn_result;

/* The work to do on a connection. */
typedef seckill_conn_result (*seckill_conn_work_fn)(request_rec *r, void *conn, void *baton);

seckill_conn_pool *seckill_conn_pool_create(apr_pool_t *pchild, server_rec *s, const char *name,
                                            int hmax, seckill_conn_open_fn open,
                                            seckill_conn_close_fn close, void *params);

/* Runs work on this request's connection from pool, reconnecting when it reports LOST. */
seckill_conn_result seckill_conn_run(request_rec *r, seckill_conn_pool *pool,
                                     seckill_conn_work_fn work, void *baton);

#endif
