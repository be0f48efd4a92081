/* Products as the listing shows them, read from MySQL and cached in Redis (keys.h). The
 * cache write never touches a stock key that exists: during a sale Redis holds the truth
 * and MySQL lags behind by the orders still in the queue. */
#ifndef SECKILL_PRODUCT_H
#define SECKILL_PRODUCT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <hiredis/hiredis.h>
#include <time.h>

#include "db.h"
#include "lua.h"

typedef struct {
    long long id;
    char name[257];      /* VARCHAR(64) utf8mb4 */
    char image[513];     /* VARCHAR(128) utf8mb4 */
    char base_price[16]; /* DECIMAL(10,2) as text, "399.00" */
    char seckill_price[16];
    int stock;       /* units left */
    int total_stock; /* units put on sale: stock + units in orders not cancelled */
    int status;      /* 0 not started, 1 on sale, 2 ended */
    time_t start;
    time_t end;
} seckill_product;

/* Products starting in [from, to), ordered by start then id, appended to a new array of
 * seckill_product in *out. 0 ok, -1 error (message in err; seckill_db_lost tells a loss). */
int seckill_products_in_window(seckill_db *db, apr_pool_t *p, time_t from, time_t to,
                               apr_array_header_t **out, unsigned int *err_no, char *err,
                               size_t errlen);

/* Writes products into the Redis cache with lua/product_cache.lua (hash rewritten, stock
 * set only when absent) and makes the slot set of (date, slot) list them plus the loaded
 * marker, and adds the products to the Bloom filter of known ids. Keys expire one day
 * after the product's / slot's end. 0 ok, -1 error (a NULL
 * reply means the connection failed: c->err is set). */
int seckill_products_cache(redisContext *c, const seckill_lua_script *cache_script,
                           const char *date, int slot, time_t slot_end,
                           const apr_array_header_t *products, char *err, size_t errlen);

/* Parses an HGETALL reply of a product hash plus its stock value into *out. 0 ok, -1 when
 * the hash is empty or malformed. */
int seckill_product_from_redis(const redisReply *hash, const redisReply *stock,
                               seckill_product *out);

#endif
