/* The products of one slot of today, Redis first (the slot set, then every product's hash
 * and stock in one pipelined round trip); on a miss, or with Redis down, from MySQL, and
 * then written to the cache. Turned into the listing's view for HTML and JSON alike. */
#ifndef SECKILL_LISTING_H
#define SECKILL_LISTING_H

#include "apr_tables.h"
#include "httpd.h"

#include "value.h"

typedef struct {
    apr_array_header_t *products; /* of seckill_product, by start time then id */
    int cache_hit;
} seckill_listing;

/* OK, or HTTP_SERVICE_UNAVAILABLE when neither Redis nor MySQL could answer (logged). */
int seckill_listing_load(request_rec *r, time_t now, int slot, seckill_listing *out);
/* Reads the slot of that day from MySQL and writes it to the cache, whatever the cache holds
 * (the buy path, for a product whose cached hash or stock is missing). OK or 503. */
int seckill_listing_refill(request_rec *r, time_t day, int slot);
seckill_value *seckill_listing_view(request_rec *r, time_t now, int slot, const seckill_listing *l);

#endif
