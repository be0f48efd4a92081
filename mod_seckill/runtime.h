/* What a server's configuration turns into at startup: compiled templates and Redis
 * scripts (post_config, shared read-only by every child) and the per-child state made in
 * child_init: connection pools, sold-out marks, the Bloom mirror, the order-id generator.
 * Virtual hosts that inherit the main server's settings share it. */
#ifndef SECKILL_RUNTIME_H
#define SECKILL_RUNTIME_H

#include "apr_hash.h"

#include "bloom_mirror.h"
#include "conn_pool.h"
#include "lua.h"
#include "snowflake.h"
#include "soldout.h"

struct seckill_runtime {
    apr_hash_t *templates; /* name (file name without .html) -> const seckill_tmpl * */
    seckill_lua_script product_cache;
    seckill_lua_script buy;
    seckill_lua_script order_revoke;
    seckill_lua_script order_restore; /* the shopper's cancel: the timeout's own script */
    seckill_lua_script stock_adjust;  /* the admin's stock edits */
    /* per child */
    seckill_conn_pool *redis;
    seckill_conn_pool *mysql;
    struct seckill_amqp_pool *amqp; /* the child's publishers (amqp_pool.h) */
    seckill_soldout *soldout;
    seckill_bloom_mirror *bloom;
    struct seckill_listing_cache *listing; /* rendered listings (listing_cache.h) */
    struct seckill_redis_batch *rbatch;    /* the buys' EVALSHA pipeline (redis_batch.h) */
    seckill_snowflake ids;
    int ids_ready; /* 0 not yet, 1 being set up, 2 ready: set once per child, see buy.c */
};

#endif
