#include "snowflake.h"

#define SEQ_BITS 12
#define NODE_BITS 10
#define SEQ_MAX ((1u << SEQ_BITS) - 1)

int seckill_snowflake_init(seckill_snowflake *sf, unsigned node_id, unsigned slot)
{
    if (node_id >= SECKILL_SNOWFLAKE_NODES || slot >= SECKILL_SNOWFLAKE_SLOTS)
        return -1;
    sf->state = 0;
    sf->node = (uint64_t)node_id << 5 | slot;
    return 0;
}

uint64_t seckill_snowflake_next(seckill_snowflake *sf, uint64_t now_ms)
{
    uint64_t now = now_ms > SECKILL_SNOWFLAKE_EPOCH_MS ? now_ms - SECKILL_SNOWFLAKE_EPOCH_MS : 0;
    uint64_t old = __atomic_load_n(&sf->state, __ATOMIC_RELAXED), next;
    do {
        uint64_t ms = old >> SEQ_BITS, seq = old & SEQ_MAX;
        if (now > ms)
            next = now << SEQ_BITS;
        else if (seq < SEQ_MAX)
            next = old + 1;
        else
            next = (ms + 1) << SEQ_BITS; /* sequence spent: borrow the next millisecond */
    } while (!__atomic_compare_exchange_n(&sf->state, &old, next, 1, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return (next >> SEQ_BITS) << (SEQ_BITS + NODE_BITS) | sf->node << SEQ_BITS | (next & SEQ_MAX);
}

uint64_t seckill_snowflake_ms(uint64_t id)
{
    return (id >> (SEQ_BITS + NODE_BITS)) + SECKILL_SNOWFLAKE_EPOCH_MS;
}
