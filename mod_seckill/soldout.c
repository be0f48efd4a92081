#include "soldout.h"

#include <stdint.h>

/* Open table without locks: each entry is one 64-bit word (product id << 20 | expiry in ms
 * modulo 2^20), read and written atomically, so threads never see a torn entry. A collision
 * just drops the other product's mark, costing it one Redis round trip. */
#define ENTRIES 1024
#define TIME_BITS 20
#define TIME_MASK ((1u << TIME_BITS) - 1)

struct seckill_soldout {
    uint64_t entry[ENTRIES];
};

static unsigned slot_of(long long id)
{
    uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;
    return (unsigned)(h >> 54) & (ENTRIES - 1);
}

seckill_soldout *seckill_soldout_create(apr_pool_t *p)
{
    return apr_pcalloc(p, sizeof(seckill_soldout));
}

void seckill_soldout_mark(seckill_soldout *s, long long id, apr_time_t now)
{
    uint64_t until = (uint64_t)(apr_time_as_msec(now) + SECKILL_SOLDOUT_MS) & TIME_MASK;
    if (id <= 0 || id >= (1LL << (64 - TIME_BITS)))
        return;
    __atomic_store_n(&s->entry[slot_of(id)], (uint64_t)id << TIME_BITS | until, __ATOMIC_RELAXED);
}

int seckill_soldout_is(const seckill_soldout *s, long long id, apr_time_t now)
{
    uint64_t e = __atomic_load_n(&s->entry[slot_of(id)], __ATOMIC_RELAXED);
    uint32_t left;
    if (id <= 0 || (long long)(e >> TIME_BITS) != id)
        return 0;
    /* time left, modulo 2^20 ms: positive and small while the mark lives */
    left = ((uint32_t)e - (uint32_t)apr_time_as_msec(now)) & TIME_MASK;
    return left > 0 && left <= SECKILL_SOLDOUT_MS;
}
