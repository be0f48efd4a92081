/* One worker thread's connections to Redis and MySQL, opened on first use. A failure is logged
 * once per outage (SKW201/SKW301), the connection dropped, and reopening waits 1, 2, 4, 8, then
 * 10 s between attempts: a server outage costs log lines, never a crash. Never shared. */
#ifndef SECKILL_WORKER_CONN_H
#define SECKILL_WORKER_CONN_H

#include <apr_time.h>
#include <hiredis/hiredis.h>

#include "config.h"
#include "db.h"

typedef struct {
    apr_time_t next_try; /* no attempt before */
    int delay_s;         /* wait after the next failure */
    int down;            /* the outage was logged and has not ended */
} seckill_worker_backoff;

typedef struct {
    const seckill_worker_config *cfg;
    redisContext *redis;
    seckill_db *db;
    seckill_worker_backoff redis_bo;
    seckill_worker_backoff db_bo;
} seckill_worker_conn;

void seckill_worker_conn_init(seckill_worker_conn *c, const seckill_worker_config *cfg);
void seckill_worker_conn_close(seckill_worker_conn *c);

/* The connection, (re)opened if due; NULL while the server is down (already logged). */
redisContext *seckill_worker_redis(seckill_worker_conn *c);
seckill_db *seckill_worker_db(seckill_worker_conn *c);

/* Report a broken connection (a NULL hiredis reply, a lost MySQL error): logs, drops it. */
void seckill_worker_redis_lost(seckill_worker_conn *c, const char *what);
void seckill_worker_db_lost(seckill_worker_conn *c, const char *what);

/* r when it is a good reply. NULL after dropping the connection (r NULL) or logging and freeing
 * an error reply; what names the command for the log. */
redisReply *seckill_worker_reply(seckill_worker_conn *c, redisReply *r, const char *what);

/* Reads the replies of n pipelined commands; 0 when all were good, -1 otherwise (logged). */
int seckill_worker_redis_drain(seckill_worker_conn *c, int n, const char *what);

#endif
