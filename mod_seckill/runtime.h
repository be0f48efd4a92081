/* What a server's configuration turns into at startup: compiled templates and Redis
 * scripts (post_config, shared read-only by every child) and the per-child connection
 * pools (child_init). Virtual hosts that inherit the main server's settings share it. */
#ifndef SECKILL_RUNTIME_H
#define SECKILL_RUNTIME_H

#include "apr_hash.h"

#include "conn_pool.h"
#include "lua.h"

struct seckill_runtime {
    apr_hash_t *templates; /* name (file name without .html) -> const seckill_tmpl * */
    seckill_lua_script product_cache;
    seckill_conn_pool *redis;
    seckill_conn_pool *mysql;
};

#endif
