/* The order message: published by the module (exchange seckill, routing key order.create)
 * once the buy script sold a unit, consumed by the worker. Each order is JSON:
 * {"order_id":"<u64>","user_id":"...","product_id":N,"price":"309.00","quantity":1,
 *  "created_ms":N,"pay_deadline_ms":N,"token":"..."} with order_id a string (64-bit) and
 * token = seckill_token over ("order", order_id, user_id, product_id, price, quantity). */
#ifndef SECKILL_ORDER_H
#define SECKILL_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "token.h"

#define SECKILL_USER_MAX 64 /* seckill_orders.user_id is VARCHAR(64) */

typedef struct {
    uint64_t order_id;
    char user_id[SECKILL_USER_MAX + 1];
    long long product_id;
    char price[16]; /* decimal text with two places, as in MySQL */
    int quantity;
    int64_t created_ms;
    int64_t pay_deadline_ms;
    char token[SECKILL_TOKEN_LEN + 1];
} seckill_order_msg;

/* Fills m->token from m's fields. */
void seckill_order_sign(seckill_order_msg *m, const char *secret, size_t secret_len);
/* 1 when m->token signs m's fields. */
int seckill_order_verify(const seckill_order_msg *m, const char *secret, size_t secret_len);
/* JSON of m into buf; its length, or -1 when cap is too small. */
int seckill_order_encode(const seckill_order_msg *m, char *buf, size_t cap);
/* A message body carries one order or several (the module's publisher batches the orders of
 * concurrent buys into one message): their JSON joined by '\n', which the encoder never writes
 * raw. From *off, the next order's text and its length; 0 when the body has no more. */
int seckill_order_next(const char *body, size_t len, size_t *off, const char **line,
                       size_t *line_len);
/* A message carries at most this many orders and bytes (a lone larger order goes alone). */
#define SECKILL_ORDER_BATCH_MAX 64
#define SECKILL_ORDER_BATCH_BYTES (32 * 1024)
/* Joining, for whoever writes such a body (the module's publisher, the worker's outbox): 1 when
 * an order of add bytes may join a body of `orders` orders and len bytes. */
int seckill_order_fits(int orders, size_t len, size_t add);
/* Appends the order (n bytes) to buf, the body of `orders` orders and len bytes so far, with the
 * '\n' before it unless it is the first; the new length. buf must hold it. */
size_t seckill_order_append(char *buf, size_t len, int orders, const char *order, size_t n);
/* Parses one order's JSON into m. 0 ok, -1 malformed (a field missing, of the wrong type,
 * out of range or too long). Unknown fields are ignored. */
int seckill_order_decode(const char *body, size_t len, seckill_order_msg *m);

#endif
