/* Redis key names shared by the module, the worker and lua/. Every per-product key carries
 * the hash tag {p<id>} so one script touches one Redis Cluster slot. Change a name here and
 * in DESIGN.md together. */
#ifndef SECKILL_KEYS_H
#define SECKILL_KEYS_H

/* hash: id name image base_price seckill_price total_stock status start end (epoch s) */
#define SECKILL_KEY_PRODUCT "seckill:product:{p%lld}"
/* string: units left to sell; the buy script's single source of truth during a sale */
#define SECKILL_KEY_STOCK "seckill:stock:{p%lld}"
/* hash: user id -> units bought (per-user limit) */
#define SECKILL_KEY_BUYERS "seckill:buyers:{p%lld}"
/* hash: order id -> sold | claimed | revoked | restored: the per-order state machine that makes
 * stock accounting exactly-once between module and worker (lua/order_*.lua) */
#define SECKILL_KEY_ORDERS "seckill:orders:{p%lld}"
/* sliding-window rate limit of one shopper on one product: sorted set of request times */
#define SECKILL_KEY_RATE "seckill:rate:{p%lld}:%s"
/* string "<user>|<product id>|queued|failed": an order between the buy and its MySQL row */
#define SECKILL_KEY_ORDER "seckill:order:%llu"
/* string: a page-pay trade was opened at Alipay for this order (so a cancel closes it) */
#define SECKILL_KEY_PAYING "seckill:paying:%llu"
/* set of product ids of one slot of one day: seckill:slot:YYYYMMDD:H */
#define SECKILL_KEY_SLOT "seckill:slot:%s:%d"
/* member of a slot set meaning "loaded from MySQL" (so an empty slot is cached too) */
#define SECKILL_SLOT_LOADED "-"
/* bitmap of product ids, see bloom.h */
#define SECKILL_KEY_BLOOM "seckill:bloom"
/* a fresh random stamp set with every write to the bitmap: mirrors re-read the bitmap
 * only when it changed (a stamp, not a counter, so a flushed Redis never repeats one) */
#define SECKILL_KEY_BLOOM_VERSION "seckill:bloom:version"
/* scheduler leadership: SET NX PX with the holder's id */
#define SECKILL_KEY_LEADER "seckill:scheduler:leader"

#endif
