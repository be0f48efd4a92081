/* The status page's counters, shared by all httpd children: one slot per child (its
 * scoreboard slot, as in order ids) in anonymous shared memory made once per httpd start, so
 * graceful restarts keep them. Counting is one atomic add in the child's own slot, no lock.
 * Ids and names: lib/stats_format.h; what each means: README.md "Status page". */
#ifndef SECKILL_STATS_H
#define SECKILL_STATS_H

#include "httpd.h"

#include "stats_format.h"

/* post_config: makes the shared counters, or finds those of the previous generation. */
void seckill_stats_init(server_rec *s);

/* This child's counters; NULL until its first count has found the child's slot. */
extern unsigned long long *seckill_stats_mine;
void seckill_stats_add_slow(request_rec *r, seckill_stat id);

/* Counts one event in this child, e.g. seckill_stats_add(r, SECKILL_STAT_NOTIFY_PAID). */
static inline void seckill_stats_add(request_rec *r, seckill_stat id)
{
    unsigned long long *c = __atomic_load_n(&seckill_stats_mine, __ATOMIC_ACQUIRE);
    if (c)
        __atomic_fetch_add(&c[id], 1, __ATOMIC_RELAXED);
    else
        seckill_stats_add_slow(r, id);
}

/* The counter of a buy's answer (a seckill_buy_code: the same order, checked in stats.c). */
#define SECKILL_STAT_OF_BUY(code) ((seckill_stat)(SECKILL_STAT_BUY_OK + (int)(code)))

/* The counter of the buy handler's refusal with this HTTP status. */
static inline seckill_stat seckill_stat_of_refusal(int status)
{
    return status == HTTP_FORBIDDEN            ? SECKILL_STAT_BUY_FORBIDDEN
           : status == HTTP_METHOD_NOT_ALLOWED ? SECKILL_STAT_BUY_METHOD_NOT_ALLOWED
                                               : SECKILL_STAT_BUY_BAD_REQUEST;
}

/* Shop-wide gauges, e.g. SECKILL_GAUGE_PENDING_REFUNDS: set from the truth when it is
 * known (a count in MySQL), or moved by +1/-1 as things happen. */
void seckill_stats_gauge_set(seckill_gauge id, long long value);
void seckill_stats_gauge_add(seckill_gauge id, long long delta);

/* This child's numbers for its connection pools named name ("redis", "mysql", "amqp"), NULL
 * when counting is off; conn_pool.c moves them with SECKILL_POOL_STAT. */
seckill_pool_stats *seckill_stats_pool(request_rec *r, const char *name);
#define SECKILL_POOL_STAT(ps, field, d)                                                            \
    do {                                                                                           \
        if (ps)                                                                                    \
            __atomic_fetch_add(&(ps)->field, (d), __ATOMIC_RELAXED);                               \
    } while (0)

/* Every child slot that ever counted, the gauges and the server's settings, into r->pool;
 * then the RabbitMQ queue depths when the server has SeckillAMQP (queues_up says). */
void seckill_stats_collect(request_rec *r, seckill_stats_snapshot *out);
void seckill_stats_collect_queues(request_rec *r, seckill_stats_snapshot *out);

#endif
