#include "bloom_mirror.h"

#include "apr_strings.h"
#include "apr_time.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "keys.h"
#include "redis_pool.h"

#define BYTES (SECKILL_BLOOM_BITS / 8)
#define CHECK apr_time_from_msec(SECKILL_BLOOM_CHECK_MS)

/* Two buffers: a refresh fills the idle one and then flips `active`, so readers never see
 * a half-copied filter (a reader keeps its buffer for nanoseconds; refreshes are at least
 * SECKILL_BLOOM_CHECK_MS apart). */
struct seckill_bloom_mirror {
    unsigned char *buf[2];
    size_t len[2];
    int active;
    int busy;
    char version[48]; /* stamp of the copy in buf[active] ("" before the first read) */
    apr_time_t checked;
};

seckill_bloom_mirror *seckill_bloom_mirror_create(apr_pool_t *pchild)
{
    seckill_bloom_mirror *m = apr_pcalloc(pchild, sizeof *m);
    m->buf[0] = apr_pcalloc(pchild, BYTES);
    m->buf[1] = apr_pcalloc(pchild, BYTES);
    return m;
}

static seckill_conn_result fetch(request_rec *r, void *conn, void *baton)
{
    redisContext *c = conn;
    seckill_bloom_mirror *m = baton;
    int idle = !__atomic_load_n(&m->active, __ATOMIC_ACQUIRE);
    redisReply *rep = redisCommand(c, "GET " SECKILL_KEY_BLOOM_VERSION);
    seckill_conn_result res = seckill_redis_check(c, rep);
    char version[sizeof m->version];
    size_t n;

    if (res != SECKILL_CONN_OK) {
        if (rep)
            freeReplyObject(rep);
        return res;
    }
    /* no stamp yet reads as "-", so a first copy is always taken */
    apr_cpystrn(version, rep->type == REDIS_REPLY_STRING ? rep->str : "-", sizeof version);
    freeReplyObject(rep);
    if (strcmp(version, m->version) == 0)
        return SECKILL_CONN_OK;
    rep = redisCommand(c, "GET " SECKILL_KEY_BLOOM);
    if ((res = seckill_redis_check(c, rep)) == SECKILL_CONN_OK) {
        n = rep->type == REDIS_REPLY_STRING ? rep->len : 0;
        if (n > BYTES)
            n = BYTES;
        memcpy(m->buf[idle], rep->str, n);
        m->len[idle] = n;
        memcpy(m->version, version, sizeof version);
        __atomic_store_n(&m->active, idle, __ATOMIC_RELEASE);
    }
    if (rep)
        freeReplyObject(rep);
    return res;
}

static void refresh(request_rec *r, seckill_bloom_mirror *m, apr_time_t now)
{
    int idle = 0;
    if (now - __atomic_load_n(&m->checked, __ATOMIC_RELAXED) < CHECK)
        return;
    if (!__atomic_compare_exchange_n(&m->busy, &idle, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return; /* another thread is at it */
    if (seckill_redis_run(r, fetch, m) == SECKILL_CONN_OK)
        __atomic_store_n(&m->checked, now, __ATOMIC_RELAXED);
    __atomic_store_n(&m->busy, 0, __ATOMIC_RELEASE);
}

int seckill_bloom_mirror_maybe(request_rec *r, seckill_bloom_mirror *m, long long id)
{
    apr_time_t now = apr_time_now();
    int a;
    refresh(r, m, now);
    a = __atomic_load_n(&m->active, __ATOMIC_ACQUIRE);
    if (m->len[a] == 0 || seckill_bloom_maybe(m->buf[a], m->len[a], id))
        return 1;
    /* "no" is only as good as the copy: one older than two checks (Redis unreachable, or a
     * refresh under way in another thread) may not know a product cached since */
    return now - __atomic_load_n(&m->checked, __ATOMIC_RELAXED) >= 2 * CHECK;
}
