/* The worker's log: one line per event, "2025-01-31 12:00:00.123 [pid] warn SKW201 text", to
 * stderr or a file opened for append. Every message carries a stable id (catalogue below) that
 * admins can grep and alert on. Thread-safe: each line is a single write(2). */
#ifndef SECKILL_WORKER_LOG_H
#define SECKILL_WORKER_LOG_H

#include <apr_pools.h>

typedef enum {
    SECKILL_LOG_ERROR,
    SECKILL_LOG_WARN,
    SECKILL_LOG_INFO,
    SECKILL_LOG_DEBUG
} seckill_worker_log_level;

/* Message ids: 0xx life cycle, 1xx scheduler, 2xx Redis, 3xx MySQL, 4xx order-create consumer,
 * 5xx timeout consumer, 6xx RabbitMQ.
 * An id keeps its meaning forever; add new ones, never renumber. */
enum {
    SKW_STARTED = 1,      /* info: starting, with version and config file */
    SKW_STOPPING = 2,     /* info: stop signal received, finishing the current job */
    SKW_STOPPED = 3,      /* info: every role stopped, exiting 0 */
    SKW_CONFIG = 4,       /* error: the config file or environment is wrong */
    SKW_PIDFILE = 5,      /* error: the pid file cannot be written */
    SKW_STARTUP = 6,      /* error: cannot start: Lua script, log file, detach, thread */
    SKW_LOG_REOPENED = 7, /* info: log file reopened on SIGHUP */
    SKW_ONCE = 8,         /* info/error: result of --once */

    SKW_LEADER_GAINED = 101,   /* info: this worker now runs the scheduler jobs */
    SKW_LEADER_LOST = 102,     /* warn: the lock expired or went to another worker */
    SKW_LEADER_RELEASED = 103, /* info: lock given back on shutdown */
    SKW_LEADER_STANDBY = 104,  /* debug: another worker leads */
    SKW_STATUS_MOVED = 110,    /* info: a product's sale status moved in MySQL */
    SKW_STATUS_RUN = 111,      /* debug: one status run's counts */
    SKW_STATUS_FAILED = 112,   /* warn: status runs started failing; info: they succeed again */
    SKW_PREHEAT_LOADED = 120,  /* info: a slot was loaded from MySQL into Redis */
    SKW_PREHEAT_BLOOM = 121,   /* debug: a slot already cached; its ids re-added to the bloom */
    SKW_PREHEAT_FAILED = 122,  /* warn: preheat runs started failing; info: they succeed again */
    SKW_SCRIPT_ERROR = 130,    /* error: Redis answered a command or script with an error */
    SKW_QUERY_MISMATCH = 131,  /* error: a query of lib/db.c has unexpected params/columns */

    SKW_REDIS_LOST = 201,  /* warn: connection failed or lost; logged once per outage */
    SKW_REDIS_UP = 202,    /* info: connected (again) */
    SKW_REDIS_RETRY = 203, /* debug: a reconnect attempt failed */
    SKW_MYSQL_LOST = 301,  /* warn: connection failed or lost; logged once per outage */
    SKW_MYSQL_UP = 302,    /* info: connected (again) */
    SKW_MYSQL_RETRY = 303, /* debug: a reconnect attempt failed */
    SKW_MYSQL_ERROR = 304, /* error: a statement failed without losing the connection */

    SKW_ORDERS_CONSUMING = 401, /* info: consuming seckill.order.create (prefetch, batch) */
    SKW_ORDER_CREATED = 402,    /* debug: an order row written, stock taken in MySQL */
    SKW_ORDER_DUPLICATE = 403,  /* info: a redelivered order already has its row: no-op */
    SKW_ORDER_BAD = 404,        /* warn: malformed body or bad token: dead-lettered as is */
    SKW_ORDER_REVOKED = 405,    /* info: the module revoked the order before the claim: dropped */
    SKW_ORDER_RETRY = 406,      /* warn: writing the order failed (no stock in MySQL, no such
                                 * product, a statement error): republished to try again */
    SKW_ORDER_FAILED = 407,     /* error: failed retry_max + 1 times: dead-lettered, Redis stock
                                 * and the shopper's limit given back */
    SKW_ORDERS_BATCH = 408,     /* debug: one batch's counts and time */
    SKW_ORDERS_ABANDONED = 409, /* warn: a batch not acked (server lost, publish not confirmed):
                                 * RabbitMQ delivers it again; info: batches succeed again */
    SKW_ORDERS_PER_ORDER = 410, /* debug: a batch's fast way (one UPDATE a product, multi-row
                                 * INSERTs) rolled back: written order by order instead */

    SKW_TIMEOUT_CONSUMING = 501, /* info: consuming seckill.order.timeout */
    SKW_TIMEOUT_CANCELLED = 502, /* info: an order unpaid at its deadline cancelled, stock back */
    SKW_TIMEOUT_NOTHING = 503,   /* debug: the order was paid or cancelled before: nothing to do */
    SKW_TIMEOUT_BAD = 504,       /* warn: malformed body or bad token: dead-lettered as is */
    SKW_TIMEOUT_NO_ORDER = 505,  /* warn: orders of a timeout batch have no row (one line a
                                  * batch: their count, the first ids); debug: each order */
    SKW_TIMEOUT_RESTORED = 506,  /* debug: Redis stock and limit of a cancelled order given back */
    SKW_TIMEOUT_RETRY = 507,     /* warn: a statement failed for a message: republished to try
                                  * again; error: failed retry_max + 1 times, dead-lettered */
    SKW_TIMEOUT_WAIT = 508,      /* debug: a message left a wait step before its deadline:
                                  * routed on to the next (lib/amqp_conn.h, the ladder) */
    SKW_TIMEOUT_ABANDONED = 509, /* warn: a batch not acked, delivered again; info: recovered */

    SKW_AMQP_LOST = 601,    /* warn: connection failed or lost; logged once per outage */
    SKW_AMQP_UP = 602,      /* info: connected (again), topology declared */
    SKW_AMQP_RETRY = 603,   /* debug: a reconnect attempt failed */
    SKW_AMQP_PUBLISH = 604, /* error: a publish was refused or not confirmed in time */
};

/* "error", "warn", "info", "debug" -> level; 0 ok, -1 unknown. */
int seckill_worker_log_level_parse(const char *s, seckill_worker_log_level *out);

/* Logs to path (appending), or to stderr when path is NULL, dropping messages above level.
 * NULL on success, else a message. Before this call messages go to stderr at info. */
const char *seckill_worker_log_open(apr_pool_t *p, const char *path,
                                    seckill_worker_log_level level);
/* Reopens the log file in place (after logrotate moved it); NULL ok, else a message. */
const char *seckill_worker_log_reopen(void);

void seckill_worker_log(seckill_worker_log_level level, int id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
