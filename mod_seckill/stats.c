#include "stats.h"

#include "ap_mpm.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "scoreboard.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "amqp_pool.h"
#include "buy.h"
#include "config.h"
#include "runtime.h"
#include "snowflake.h"

_Static_assert(SECKILL_STAT_OF_BUY(SECKILL_BUY_OK) == SECKILL_STAT_BUY_OK &&
                   SECKILL_STAT_OF_BUY(SECKILL_BUY_NO_SUCH_PRODUCT) ==
                       SECKILL_STAT_BUY_NO_SUCH_PRODUCT &&
                   SECKILL_STAT_OF_BUY(SECKILL_BUY_NOT_STARTED) == SECKILL_STAT_BUY_NOT_STARTED &&
                   SECKILL_STAT_OF_BUY(SECKILL_BUY_ENDED) == SECKILL_STAT_BUY_ENDED &&
                   SECKILL_STAT_OF_BUY(SECKILL_BUY_SOLD_OUT) == SECKILL_STAT_BUY_SOLD_OUT &&
                   SECKILL_STAT_OF_BUY(SECKILL_BUY_ALREADY_BOUGHT) ==
                       SECKILL_STAT_BUY_ALREADY_BOUGHT &&
                   SECKILL_STAT_OF_BUY(SECKILL_BUY_RATE_LIMITED) == SECKILL_STAT_BUY_RATE_LIMITED &&
                   SECKILL_STAT_OF_BUY(SECKILL_BUY_UNAVAILABLE) == SECKILL_STAT_BUY_UNAVAILABLE,
               "seckill_stat's buy counters follow seckill_buy_code");

/* One child slot; a cache line of its own, so children never share one. */
typedef struct {
    unsigned long long counters[SECKILL_STAT_COUNT];
    seckill_pool_stats pools[SECKILL_POOL_KINDS];
    long long pid, processes, started;
} __attribute__((aligned(64))) stats_slot;

typedef struct {
    unsigned long long magic;
    long long since;
    long long gauges[SECKILL_GAUGE_COUNT];
    stats_slot slots[SECKILL_SNOWFLAKE_SLOTS];
} stats_shm;

/* A module built with another layout makes new counters at a restart instead of misreading. */
#define STATS_MAGIC                                                                                \
    (0x53544154ULL << 32 | (unsigned long long)SECKILL_STAT_COUNT << 16 |                          \
     (unsigned long long)SECKILL_GAUGE_COUNT << 8 | (unsigned long long)SECKILL_POOL_KINDS)
#define USERDATA_KEY "seckill_stats_shm"

static stats_shm *shm; /* set in the parent by post_config, inherited by every child */

unsigned long long *seckill_stats_mine;
static seckill_pool_stats *my_pools;
static int attach_state; /* 0 not yet, 1 being attached, 2 done (with or without a slot) */

void seckill_stats_init(server_rec *s)
{
    apr_pool_t *pp = s->process->pool; /* lives as long as httpd: restarts keep the counters */
    apr_shm_t *m = NULL;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&m, USERDATA_KEY, pp);
    if (m && apr_shm_size_get(m) == sizeof(stats_shm) &&
        ((stats_shm *)apr_shm_baseaddr_get(m))->magic == STATS_MAGIC) {
        shm = apr_shm_baseaddr_get(m);
        return;
    }
    /* anonymous: nothing on disk to clean up; children inherit it across fork */
    if ((rv = apr_shm_create(&m, sizeof(stats_shm), NULL, pp)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "SK1101: no shared memory for the status counters: they stay at 0");
        shm = NULL;
        return;
    }
    shm = apr_shm_baseaddr_get(m);
    memset(shm, 0, sizeof *shm);
    shm->magic = STATS_MAGIC;
    shm->since = (long long)apr_time_sec(apr_time_now());
    apr_pool_userdata_set(m, USERDATA_KEY, apr_pool_cleanup_null, pp);
}

static int process_exists(long long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* The child's scoreboard slot: where the scoreboard has our pid, else from the connection id
 * (slot * ThreadLimit + thread), as the order ids take it (buy.c). -1 when out of range. */
static int find_slot(request_rec *r)
{
    int limit = 0, threads = 0;
    long slot;
    pid_t me = getpid();
    conn_rec *c = r->connection;

    if (ap_scoreboard_image && ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &limit) == APR_SUCCESS)
        for (int i = 0; i < limit && i < SECKILL_SNOWFLAKE_SLOTS; i++) {
            process_score *ps = ap_get_scoreboard_process(i);
            if (ps && ps->pid == me)
                return i;
        }
    while (c->master)
        c = c->master;
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_THREADS, &threads);
    slot = threads > 0 ? c->id / threads : 0;
    return slot >= 0 && slot < SECKILL_SNOWFLAKE_SLOTS ? (int)slot : -1;
}

/* Once per child, before its first count: take over the slot. A previous process of the slot
 * that is gone (a crash, or it exited) holds no connection any more; one still finishing its
 * requests after a graceful restart keeps counting its own. */
static void attach(request_rec *r)
{
    int zero = 0, slot;
    stats_slot *sl;

    if (__atomic_load_n(&attach_state, __ATOMIC_ACQUIRE) == 2)
        return;
    if (!__atomic_compare_exchange_n(&attach_state, &zero, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&attach_state, __ATOMIC_ACQUIRE) == 1)
            apr_sleep(10);
        return;
    }
    if (shm && (slot = find_slot(r)) >= 0) {
        sl = &shm->slots[slot];
        if (!process_exists(__atomic_load_n(&sl->pid, __ATOMIC_ACQUIRE)))
            for (int k = 0; k < SECKILL_POOL_KINDS; k++) {
                __atomic_store_n(&sl->pools[k].open, 0, __ATOMIC_RELAXED);
                __atomic_store_n(&sl->pools[k].in_use, 0, __ATOMIC_RELAXED);
            }
        __atomic_store_n(&sl->started, (long long)apr_time_sec(apr_time_now()), __ATOMIC_RELAXED);
        __atomic_fetch_add(&sl->processes, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&sl->pid, (long long)getpid(), __ATOMIC_RELEASE);
        my_pools = sl->pools;
        __atomic_store_n(&seckill_stats_mine, sl->counters, __ATOMIC_RELEASE);
    } else if (shm) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "SK1102: this child's slot is unknown: its events are not counted");
    }
    __atomic_store_n(&attach_state, 2, __ATOMIC_RELEASE);
}

void seckill_stats_add_slow(request_rec *r, seckill_stat id)
{
    attach(r);
    if (seckill_stats_mine)
        __atomic_fetch_add(&seckill_stats_mine[id], 1, __ATOMIC_RELAXED);
}

void seckill_stats_gauge_set(seckill_gauge id, long long value)
{
    if (shm)
        __atomic_store_n(&shm->gauges[id], value, __ATOMIC_RELAXED);
}

void seckill_stats_gauge_add(seckill_gauge id, long long delta)
{
    if (shm)
        __atomic_fetch_add(&shm->gauges[id], delta, __ATOMIC_RELAXED);
}

seckill_pool_stats *seckill_stats_pool(request_rec *r, const char *name)
{
    static const char *const names[SECKILL_POOL_KINDS] = {[SECKILL_POOL_REDIS] = "redis",
                                                          [SECKILL_POOL_MYSQL] = "mysql",
                                                          [SECKILL_POOL_AMQP] = "amqp"};
    attach(r);
    if (!my_pools)
        return NULL;
    for (int k = 0; k < SECKILL_POOL_KINDS; k++)
        if (strcmp(names[k], name) == 0)
            return &my_pools[k];
    return NULL;
}

static void copy_pool(seckill_pool_stats *to, seckill_pool_stats *from, int alive)
{
    /* a process that is gone holds no connection, whatever it left behind */
    to->open = alive ? __atomic_load_n(&from->open, __ATOMIC_RELAXED) : 0;
    to->in_use = alive ? __atomic_load_n(&from->in_use, __ATOMIC_RELAXED) : 0;
    to->connects = __atomic_load_n(&from->connects, __ATOMIC_RELAXED);
    to->connect_errors = __atomic_load_n(&from->connect_errors, __ATOMIC_RELAXED);
    to->lost = __atomic_load_n(&from->lost, __ATOMIC_RELAXED);
    to->epochs = __atomic_load_n(&from->epochs, __ATOMIC_RELAXED);
}

void seckill_stats_collect(request_rec *r, seckill_stats_snapshot *out)
{
    const seckill_server_conf *c = seckill_conf(r->server);
    seckill_stats_child *kids;

    memset(out, 0, sizeof *out);
    attach(r); /* the child showing the page is among them */
    out->node_id = c->node_id;
    out->now = (long long)apr_time_sec(apr_time_now());
    out->pool_size[SECKILL_POOL_REDIS] = c->redis_pool_max;
    out->pool_size[SECKILL_POOL_MYSQL] = c->mysql_pool_max;
    out->pool_size[SECKILL_POOL_AMQP] = c->amqp ? c->amqp_pool_max : 0;
    if (!shm)
        return;
    out->since = shm->since;
    for (int g = 0; g < SECKILL_GAUGE_COUNT; g++)
        out->gauges[g] = __atomic_load_n(&shm->gauges[g], __ATOMIC_RELAXED);
    kids = apr_pcalloc(r->pool, sizeof *kids * SECKILL_SNOWFLAKE_SLOTS);
    for (int i = 0; i < SECKILL_SNOWFLAKE_SLOTS; i++) {
        stats_slot *sl = &shm->slots[i];
        seckill_stats_child *k = &kids[out->nchildren];
        long long pid = __atomic_load_n(&sl->pid, __ATOMIC_ACQUIRE);
        if (!pid)
            continue;
        k->slot = i;
        k->pid = pid;
        k->alive = process_exists(pid);
        k->processes = __atomic_load_n(&sl->processes, __ATOMIC_RELAXED);
        k->started = __atomic_load_n(&sl->started, __ATOMIC_RELAXED);
        for (int id = 0; id < SECKILL_STAT_COUNT; id++)
            k->counters[id] = __atomic_load_n(&sl->counters[id], __ATOMIC_RELAXED);
        for (int p = 0; p < SECKILL_POOL_KINDS; p++)
            copy_pool(&k->pools[p], &sl->pools[p], k->alive);
        out->nchildren++;
    }
    out->children = kids;
}

void seckill_stats_collect_queues(request_rec *r, seckill_stats_snapshot *out)
{
    enum { WAITS = 1 + SECKILL_AMQP_LADDER_STEPS, N = SECKILL_STATS_QUEUES + WAITS };
    const char *names[N];
    long long messages[N], consumers[N];
    int n = 0;

    if (!seckill_conf(r->server)->amqp)
        return;
    for (int q = 0; q < SECKILL_STATS_QUEUES; q++)
        names[n++] = seckill_stats_queue_name(q);
    names[n++] = SECKILL_AMQP_QUEUE_ORDER_TIMEOUT_WAIT;
    for (int k = 0; k < SECKILL_AMQP_LADDER_STEPS; k++)
        names[n++] = apr_psprintf(r->pool, SECKILL_AMQP_LADDER_QUEUE, 1L << k);
    if (seckill_amqp_queue_depths(r, names, n, messages, consumers) != SECKILL_CONN_OK)
        return;
    out->queues_up = 1;
    for (int q = 0; q < SECKILL_STATS_QUEUES; q++) {
        out->queue_messages[q] = messages[q];
        out->queue_consumers[q] = consumers[q];
    }
    out->timeout_waiting = 0;
    for (int i = SECKILL_STATS_QUEUES; i < n; i++)
        out->timeout_waiting += messages[i];
}
