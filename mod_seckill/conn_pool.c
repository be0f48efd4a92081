#include "conn_pool.h"

#include "apr_reslist.h"
#include "apr_strings.h"
#include "http_config.h"
#include "http_log.h"

#include <stdlib.h>

#include "config.h"
#include "stats.h"

#define ACQUIRE_TIMEOUT apr_time_from_sec(2)
#define IDLE_TTL apr_time_from_sec(60)
#define MAX_POOLS_PER_REQUEST 4

struct seckill_conn_pool {
    apr_reslist_t *list;
    int hmax;
    /* bumped when a connection is found lost: every connection made before then is presumed
     * stale too (the server restarted) and dropped when next acquired, unused */
    unsigned long epoch;
    server_rec *s;
    const char *name;
    seckill_conn_open_fn open;
    seckill_conn_close_fn close;
    void *params;
    seckill_pool_stats *stats; /* this child's numbers on the status page, set on first use */
};

/* Moves one of the pool's numbers on the status page (stats.h). */
#define COUNT(cp, field, d)                                                                        \
    SECKILL_POOL_STAT(__atomic_load_n(&(cp)->stats, __ATOMIC_RELAXED), field, d)

/* One pooled connection; `uses` tells a fresh connection from one that may have gone stale
 * in the pool while its server restarted. Outlives requests, so it is malloc'd. */
typedef struct {
    seckill_conn_pool *pool;
    void *conn;
    unsigned long uses;
    unsigned long epoch; /* the pool's epoch when it was made */
} pooled;

/* What a request holds: at most one connection per pool. */
typedef struct {
    seckill_conn_pool *pool;
    pooled *held;
} hold;

typedef struct {
    hold h[MAX_POOLS_PER_REQUEST];
} request_holds;

static apr_status_t construct(void **res, void *params, apr_pool_t *p)
{
    seckill_conn_pool *cp = params;
    char err[256] = "";
    void *conn = cp->open(cp->params, err, sizeof err);
    pooled *pc;
    if (!conn) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, cp->s, "SK0201: %s: cannot connect: %s", cp->name,
                     err);
        COUNT(cp, connect_errors, 1);
        return APR_EGENERAL;
    }
    pc = calloc(1, sizeof *pc);
    if (!pc) {
        cp->close(conn);
        return APR_ENOMEM;
    }
    pc->pool = cp;
    pc->conn = conn;
    pc->epoch = __atomic_load_n(&cp->epoch, __ATOMIC_ACQUIRE);
    *res = pc;
    COUNT(cp, open, 1);
    COUNT(cp, connects, 1);
    return APR_SUCCESS;
}

static apr_status_t destruct(void *res, void *params, apr_pool_t *p)
{
    pooled *pc = res;
    COUNT(pc->pool, open, -1);
    pc->pool->close(pc->conn);
    free(pc);
    return APR_SUCCESS;
}

seckill_conn_pool *seckill_conn_pool_create(apr_pool_t *pchild, server_rec *s, const char *name,
                                            int hmax, seckill_conn_open_fn open,
                                            seckill_conn_close_fn close, void *params)
{
    seckill_conn_pool *cp = apr_pcalloc(pchild, sizeof *cp);
    apr_status_t rv;
    cp->s = s;
    cp->hmax = hmax;
    cp->name = name;
    cp->open = open;
    cp->close = close;
    cp->params = params;
    /* min 0: a child starts even while the server is down, and connects on first use. */
    rv = apr_reslist_create(&cp->list, 0, hmax, hmax, IDLE_TTL, construct, destruct, cp, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "SK0202: %s: cannot create pool", name);
        return NULL;
    }
    apr_reslist_timeout_set(cp->list, ACQUIRE_TIMEOUT);
    apr_reslist_cleanup_order_set(cp->list, APR_RESLIST_CLEANUP_FIRST);
    return cp;
}

static apr_status_t release_holds(void *data)
{
    request_holds *rh = data;
    for (int i = 0; i < MAX_POOLS_PER_REQUEST; i++)
        if (rh->h[i].held) {
            COUNT(rh->h[i].pool, in_use, -1);
            apr_reslist_release(rh->h[i].pool->list, rh->h[i].held);
            rh->h[i].held = NULL;
        }
    return APR_SUCCESS;
}

static hold *hold_for(request_rec *r, seckill_conn_pool *cp)
{
    request_holds *rh = ap_get_module_config(r->request_config, &seckill_module);
    if (!rh) {
        rh = apr_pcalloc(r->pool, sizeof *rh);
        ap_set_module_config(r->request_config, &seckill_module, rh);
        apr_pool_cleanup_register(r->pool, rh, release_holds, apr_pool_cleanup_null);
    }
    for (int i = 0; i < MAX_POOLS_PER_REQUEST; i++)
        if (rh->h[i].pool == cp || !rh->h[i].pool) {
            rh->h[i].pool = cp;
            return &rh->h[i];
        }
    return NULL;
}

/* A connection of the current epoch, dropping older ones unused. APR_SUCCESS or the error. */
static apr_status_t acquire(seckill_conn_pool *cp, pooled **out)
{
    for (int i = 0; i <= cp->hmax; i++) {
        void *res;
        apr_status_t rv = apr_reslist_acquire(cp->list, &res);
        if (rv != APR_SUCCESS)
            return rv;
        *out = res;
        COUNT(cp, in_use, 1);
        if ((*out)->epoch >= __atomic_load_n(&cp->epoch, __ATOMIC_ACQUIRE))
            return APR_SUCCESS;
        COUNT(cp, in_use, -1);
        apr_reslist_invalidate(cp->list, res);
    }
    return APR_EGENERAL;
}

static void lost(seckill_conn_pool *cp, pooled *pc)
{
    unsigned long seen = pc->epoch;
    /* the first thread to see a loss of this epoch moves the pool on; the others find it done */
    if (__atomic_compare_exchange_n(&cp->epoch, &seen, seen + 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        COUNT(cp, epochs, 1);
    COUNT(cp, lost, 1);
    COUNT(cp, in_use, -1);
    apr_reslist_invalidate(cp->list, pc);
}

seckill_conn_result seckill_conn_run(request_rec *r, seckill_conn_pool *cp,
                                     seckill_conn_work_fn work, void *baton)
{
    hold *h;
    if (!cp || !(h = hold_for(r, cp)))
        return SECKILL_CONN_UNAVAILABLE;
    if (!__atomic_load_n(&cp->stats, __ATOMIC_RELAXED))
        __atomic_store_n(&cp->stats, seckill_stats_pool(r, cp->name), __ATOMIC_RELAXED);
    /* A loss makes every older connection go (see acquire), so the retry runs on a new one;
     * that one failing too means the server is really down. */
    for (int attempt = 0; attempt < 3; attempt++) {
        seckill_conn_result res;
        int fresh;
        if (!h->held) {
            apr_status_t rv = acquire(cp, &h->held);
            if (rv != APR_SUCCESS) {
                h->held = NULL;
                ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "SK0203: %s: no connection", cp->name);
                return SECKILL_CONN_UNAVAILABLE;
            }
        }
        fresh = h->held->uses++ == 0;
        res = work(r, h->held->conn, baton);
        if (res == SECKILL_CONN_BROKEN) {
            COUNT(cp, in_use, -1);
            apr_reslist_invalidate(cp->list, h->held);
            h->held = NULL;
            return SECKILL_CONN_FAIL;
        }
        if (res != SECKILL_CONN_LOST)
            return res;
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "SK0204: %s: connection lost, discarding it%s", cp->name,
                      fresh ? "" : " and every older one; retrying");
        lost(cp, h->held);
        h->held = NULL;
        if (fresh)
            return SECKILL_CONN_UNAVAILABLE;
    }
    return SECKILL_CONN_UNAVAILABLE;
}
