/* "Sold out" marks of one httpd child: once the last unit is gone the stampede is answered
 * from memory. A mark lives SECKILL_SOLDOUT_MS, so each child asks Redis about a sold-out
 * product at most once in that time and sees stock that comes back (a cancelled order). */
#ifndef SECKILL_SOLDOUT_H
#define SECKILL_SOLDOUT_H

#include "apr_pools.h"
#include "apr_time.h"

#define SECKILL_SOLDOUT_MS 1000

typedef struct seckill_soldout seckill_soldout;

seckill_soldout *seckill_soldout_create(apr_pool_t *p);
void seckill_soldout_mark(seckill_soldout *s, long long product_id, apr_time_t now);
int seckill_soldout_is(const seckill_soldout *s, long long product_id, apr_time_t now);

#endif
