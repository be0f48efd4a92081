/* Each httpd child's copy of the Redis Bloom filter of product ids (seckill:bloom), so a
 * buy for an id no product has stops before Redis. Every SECKILL_BLOOM_CHECK_MS one request
 * reads the filter's version and, when it moved, the filter. A "no" from a copy that is
 * not fresh is not trusted (Redis decides), and an empty filter lets everything pass. */
#ifndef SECKILL_BLOOM_MIRROR_H
#define SECKILL_BLOOM_MIRROR_H

#include "httpd.h"

#define SECKILL_BLOOM_CHECK_MS 250

typedef struct seckill_bloom_mirror seckill_bloom_mirror;

seckill_bloom_mirror *seckill_bloom_mirror_create(apr_pool_t *pchild);
/* 0 when no product has this id for sure, else 1. */
int seckill_bloom_mirror_maybe(request_rec *r, seckill_bloom_mirror *m, long long id);

#endif
