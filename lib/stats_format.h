/* The status page's numbers as plain data (counter ids, names, a snapshot of every child slot)
 * and their three forms: mod_status-like "Key: value" lines (?auto), the Prometheus text
 * exposition format 0.0.4, and a view tree for the HTML page and JSON. Pure: no httpd, no
 * shared memory (mod_seckill/stats.c keeps the counters and fills a snapshot). */
#ifndef SECKILL_STATS_FORMAT_H
#define SECKILL_STATS_FORMAT_H

#include <apr_pools.h>

#include "value.h"

/* Counters, one set per child slot. README.md "Status page" names each. */
typedef enum {
    /* buys by the code of the answer; the first eight in the order of seckill_buy_code */
    SECKILL_STAT_BUY_OK = 0,
    SECKILL_STAT_BUY_NO_SUCH_PRODUCT,
    SECKILL_STAT_BUY_NOT_STARTED,
    SECKILL_STAT_BUY_ENDED,
    SECKILL_STAT_BUY_SOLD_OUT,
    SECKILL_STAT_BUY_ALREADY_BOUGHT,
    SECKILL_STAT_BUY_RATE_LIMITED,
    SECKILL_STAT_BUY_UNAVAILABLE,
    SECKILL_STAT_BUY_BAD_REQUEST, /* 400 and 413 */
    SECKILL_STAT_BUY_FORBIDDEN,   /* no identity, bad CSRF token */
    SECKILL_STAT_BUY_METHOD_NOT_ALLOWED,
    /* listings: from the Redis cache, from MySQL (a miss), or 503 */
    SECKILL_STAT_LISTING_HIT,
    SECKILL_STAT_LISTING_MISS,
    SECKILL_STAT_LISTING_UNAVAILABLE,
    /* Alipay notifies by outcome */
    SECKILL_STAT_NOTIFY_PAID,          /* an order became paid */
    SECKILL_STAT_NOTIFY_REPLAY,        /* a notify for an order already paid: answered success */
    SECKILL_STAT_NOTIFY_REFUSED,       /* bad or forged signature, wrong app or seller id */
    SECKILL_STAT_NOTIFY_MISMATCH,      /* signed, but amount or order does not match ours */
    SECKILL_STAT_NOTIFY_LATE_REFUND,   /* paid after the order was cancelled: refunded */
    SECKILL_STAT_NOTIFY_REFUND_FAILED, /* that refund failed: kept for an operator */
    SECKILL_STAT_NOTIFY_UNAVAILABLE,   /* a server was down: answered failure, Alipay retries */
    SECKILL_STAT_NOTIFY_NOT_PAID,      /* WAIT_BUYER_PAY or TRADE_CLOSED: nothing to do */
    /* order messages RabbitMQ did not confirm */
    SECKILL_STAT_PUBLISH_UNCONFIRMED, /* the buy was revoked (or the worker had it anyway) */
    SECKILL_STAT_PUBLISH_UNREVOKED,   /* neither published nor revoked: SK0507, a held unit */
    SECKILL_STAT_COUNT
} seckill_stat;

/* Shop-wide gauges (not per child), fed by whoever knows the value. */
typedef enum {
    SECKILL_GAUGE_PENDING_REFUNDS = 0, /* late payments whose refund is still to be done */
    SECKILL_GAUGE_COUNT
} seckill_gauge;

typedef enum {
    SECKILL_POOL_REDIS = 0,
    SECKILL_POOL_MYSQL,
    SECKILL_POOL_AMQP,
    SECKILL_POOL_KINDS
} seckill_pool_kind;

/* One connection pool's health in one child; summed over the child's pools of that kind. */
typedef struct {
    long long open;           /* connections open now */
    long long in_use;         /* of those, held by a request now */
    long long connects;       /* connections opened, ever */
    long long connect_errors; /* connects that failed */
    long long lost;           /* connections found lost and discarded */
    long long epochs;         /* times the pool presumed its server restarted (conn_pool.c) */
} seckill_pool_stats;

/* The queues whose depth the page shows, in this order (names: seckill_stats_queue_name). */
#define SECKILL_STATS_QUEUES 3

typedef struct {
    int slot;            /* the httpd child's scoreboard slot, as in order ids */
    long long pid;       /* the last process that counted in this slot */
    int alive;           /* that process still runs */
    long long processes; /* processes that have counted in this slot */
    long long started;   /* when pid began counting (epoch seconds) */
    unsigned long long counters[SECKILL_STAT_COUNT];
    seckill_pool_stats pools[SECKILL_POOL_KINDS];
} seckill_stats_child;

typedef struct {
    int node_id;          /* SeckillNodeId */
    long long now, since; /* epoch seconds: now, and when counting began */
    long long gauges[SECKILL_GAUGE_COUNT];
    int pool_size[SECKILL_POOL_KINDS]; /* connections a child may keep, per kind */
    int nchildren;                     /* slots that ever counted, ascending */
    const seckill_stats_child *children;
    int queues_up; /* RabbitMQ answered: the numbers below are known */
    long long queue_messages[SECKILL_STATS_QUEUES]; /* ready, not counting unacked */
    long long queue_consumers[SECKILL_STATS_QUEUES];
    long long timeout_waiting; /* ready in the pay-timeout waiting room (wait queue + ladder) */
} seckill_stats_snapshot;

const char *seckill_stats_queue_name(int i);
/* The outcome word of a counter ("sold_out") and its family ("buys"). */
const char *seckill_stat_outcome(seckill_stat id);
const char *seckill_stat_family(seckill_stat id);

/* ?auto: "Key: value" lines, totals first, then per child "Child<slot>.<Key>: value". */
void seckill_stats_auto(const seckill_stats_snapshot *s, seckill_write_fn out, void *ctx);
/* Prometheus text format 0.0.4: totals as seckill_<family>_total{outcome}, per child as
 * seckill_child_<family>_total{child,outcome}, pools, queues, gauges; # HELP and # TYPE
 * before each family. */
void seckill_stats_prometheus(const seckill_stats_snapshot *s, seckill_write_fn out, void *ctx);
/* The view the HTML page (templates/status.html) and JSON render. */
seckill_value *seckill_stats_view(apr_pool_t *p, const seckill_stats_snapshot *s);

#endif
