/* One worker thread's connections to Redis, MySQL and RabbitMQ (never shared), opened on first
 * use. A failure is logged once per outage (SKW201/301/601), the connection dropped, reopening
 * tried after 1, 2, 4, 8, then every 10 s: an outage costs log lines, never a crash. */
#ifndef SECKILL_WORKER_CONN_H
#define SECKILL_WORKER_CONN_H

#include <apr_tables.h>
#include <apr_time.h>
#include <hiredis/hiredis.h>

#include "amqp_conn.h"
#include "config.h"
#include "db.h"
#include "worker.h"

typedef struct {
    apr_time_t next_try; /* no attempt before */
    int delay_s;         /* wait after the next failure */
    int down;            /* the outage was logged and has not ended */
} seckill_worker_backoff;

typedef struct {
    const seckill_worker_config *cfg;
    redisContext *redis;
    seckill_db *db;
    seckill_amqp *amqp;     /* publishes (confirm mode) */
    seckill_amqp *consumer; /* consumes one queue; never publishes (lib/amqp_conn.h) */
    seckill_worker_backoff redis_bo;
    seckill_worker_backoff db_bo;
    seckill_worker_backoff amqp_bo; /* both RabbitMQ connections: one server */
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

/* ---- RabbitMQ ---- */

/* The publishing connection, (re)opened if due; NULL while RabbitMQ is down (logged). */
seckill_amqp *seckill_worker_amqp(seckill_worker_conn *c);
/* The consuming connection, subscribed to queue with prefetch when (re)opened. */
seckill_amqp *seckill_worker_consumer(seckill_worker_conn *c, const char *queue, int prefetch);
/* A publish failed with r: logs; drops the publishing connection unless the broker merely
 * refused the message (NACK), since after a timeout a late confirm could still arrive. */
void seckill_worker_publish_failed(seckill_worker_conn *c, seckill_amqp_result r, const char *what);
/* seckill_amqp_publish_all on the publishing connection. 0 when every message was confirmed;
 * -1 otherwise (logged, the connection dropped when broken). */
int seckill_worker_publish(seckill_worker_conn *c, const seckill_amqp_message *m, int n);
/* The consuming connection failed: logs the outage, drops it. */
void seckill_worker_consumer_lost(seckill_worker_conn *c, const char *what);
/* Gives back every unacked delivery (closing the consuming connection requeues them), for a
 * batch that cannot be finished now. Not an outage: nothing logged here. */
void seckill_worker_consumer_drop(seckill_worker_conn *c);
/* Deliveries already received, up to max: waits up to wait_ms for the first only, so a busy
 * queue gives big batches and a quiet one low latency. Each is a seckill_amqp_delivery in p.
 * -1 when the consumer connection failed (dropped, logged; deliveries so far are void). */
int seckill_worker_collect(seckill_worker_conn *c, apr_pool_t *p, int max, int wait_ms,
                           apr_array_header_t **out);

/* ---- MySQL ---- */

/* The prepared statement q of the open connection, checked to have nparams parameters and
 * ncols result columns (SKW131 otherwise); NULL on error (logged, the connection dropped when
 * it is gone). */
/* Logs a MySQL error; when it means (or a ping says) the connection is gone, drops it. */
void seckill_worker_db_error(seckill_worker_conn *c, unsigned err_no, const char *what);
MYSQL_STMT *seckill_worker_stmt(seckill_worker_conn *c, seckill_query q, unsigned nparams,
                                unsigned ncols, const char *name);
/* After a failed statement: logs it (SKW304) or, when the connection is gone, drops it
 * (c->db becomes NULL). Returns the MySQL error number. */
unsigned seckill_worker_stmt_error(seckill_worker_conn *c, MYSQL_STMT *st, const char *what);
/* Runs constant SQL without parameters (START TRANSACTION, SAVEPOINT, COMMIT ...). 0 ok, else
 * the error number, handled as seckill_worker_stmt_error does. */
unsigned seckill_worker_exec(seckill_worker_conn *c, const char *sql);

/* An input or result binding of type over buf (len: strings only). */
void seckill_worker_bind(MYSQL_BIND *b, enum enum_field_types type, const void *buf, size_t len);
/* The status of order id: 1 with *status set, 0 when it has no row, -1 when the statement
 * failed (*err_no set as by seckill_worker_stmt_error, 0 when it could not be prepared). */
int seckill_worker_order_status(seckill_worker_conn *c, uint64_t id, int *status, unsigned *err_no);

/* What a transaction step did with its item (seckill_worker_txn). */
typedef enum {
    SECKILL_TXN_KEEP,  /* keep its changes */
    SECKILL_TXN_UNDO,  /* roll back to the savepoint taken before it; the batch goes on */
    SECKILL_TXN_RETRY, /* deadlock or lock wait timeout: the whole transaction again */
    SECKILL_TXN_ABORT  /* the connection is gone (dropped already) or cannot go on */
} seckill_worker_txn_step;

/* One transaction over n items: step(state, i) for each under a savepoint of its own (so one
 * failing item spoils nothing else), then COMMIT. A RETRY rolls everything back, calls
 * reset(state) and starts again, at most 3 times. 0 when committed, -1 otherwise (rolled
 * back, or the connection dropped and the outcome of a COMMIT unknown). */
int seckill_worker_txn(seckill_worker_conn *c, int n,
                       seckill_worker_txn_step (*step)(void *state, int i),
                       void (*reset)(void *state), void *state);
/* What a statement error means for the step that saw it (after seckill_worker_stmt_error). */
seckill_worker_txn_step seckill_worker_txn_error(seckill_worker_conn *c, unsigned err_no);

/* ---- a consumer role's loop ---- */

typedef struct {
    const char *role;  /* for logs */
    const char *queue; /* what it consumes */
    int consuming_id;  /* log id: (re)subscribed */
    int abandoned_id;  /* log id: a batch given back / batches succeed again */
    /* Everything but the ack for a batch of deliveries (seckill_amqp_delivery in p): 0 to ack
     * them all, -1 to give them all back for redelivery (the cause logged already). */
    int (*batch)(void *state, apr_pool_t *p, apr_array_header_t *deliveries);
} seckill_worker_consumer_def;

/* Until stop: collect a batch (prefetch, batch_max of the config), run def->batch, ack. Only
 * consumes while Redis, MySQL and a publishing connection are up; a batch given back is retried
 * after 1, 2, 4, 8, then 10 s. Closes nothing: the role closes c when this returns. */
void seckill_worker_consume(seckill_worker *w, seckill_worker_conn *c,
                            const seckill_worker_consumer_def *def, void *state, apr_pool_t *pool);

#endif
