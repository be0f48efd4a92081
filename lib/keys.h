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
/* set of product ids of one slot of one day: seckill:slot:YYYYMMDD:H */
#define SECKILL_KEY_SLOT "seckill:slot:%s:%d"
/* member of a slot set meaning "loaded from MySQL" (so an empty slot is cached too) */
#define SECKILL_SLOT_LOADED "-"
/* bitmap of product ids, see bloom.h */
#define SECKILL_KEY_BLOOM "seckill:bloom"
/* scheduler leadership: SET NX PX with the holder's id */
#define SECKILL_KEY_LEADER "seckill:scheduler:leader"

#endif
