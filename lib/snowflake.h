/* 64-bit order ids as the seed's snowflake: 41 bits of milliseconds since the Twitter epoch,
 * 10 bits of node (5: SeckillNodeId, 5: httpd child slot) and a 12-bit sequence. One
 * generator per process, lock-free across its threads; ids stay unique and increasing
 * even when the clock steps back or 4096 ids are taken in one millisecond (the generator
 * then runs ahead of the clock until it catches up). */
#ifndef SECKILL_SNOWFLAKE_H
#define SECKILL_SNOWFLAKE_H

#include <stdint.h>

#define SECKILL_SNOWFLAKE_EPOCH_MS 1288834974657ULL
#define SECKILL_SNOWFLAKE_NODES 32
#define SECKILL_SNOWFLAKE_SLOTS 32

typedef struct {
    uint64_t state; /* (ms since epoch) << 12 | sequence; updated with compare-and-swap */
    uint64_t node;  /* node id << 5 | child slot */
} seckill_snowflake;

/* 0 ok, -1 when node_id or slot is out of range. */
int seckill_snowflake_init(seckill_snowflake *sf, unsigned node_id, unsigned slot);
/* The next id; now_ms is the wall clock in ms since 1970. */
uint64_t seckill_snowflake_next(seckill_snowflake *sf, uint64_t now_ms);
/* When an id was made (ms since 1970). */
uint64_t seckill_snowflake_ms(uint64_t id);

#endif
