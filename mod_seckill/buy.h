/* The flash-sale buy (DESIGN.md "The buy path"): the Bloom filter and sold-out marks in
 * memory, one EVALSHA of lua/buy.lua, then the order message published with a broker
 * confirm. An unconfirmed publish is revoked in Redis: no unit is ever held by an order
 * that will not exist. */
#ifndef SECKILL_BUY_H
#define SECKILL_BUY_H

#include <stdint.h>

#include "httpd.h"

typedef enum {
    SECKILL_BUY_OK = 0,
    SECKILL_BUY_NO_SUCH_PRODUCT,
    SECKILL_BUY_NOT_STARTED,
    SECKILL_BUY_ENDED,
    SECKILL_BUY_SOLD_OUT,
    SECKILL_BUY_ALREADY_BOUGHT,
    SECKILL_BUY_RATE_LIMITED,
    SECKILL_BUY_UNAVAILABLE
} seckill_buy_code;

typedef struct {
    seckill_buy_code code;
    uint64_t order_id; /* when OK */
    long long wait_ms; /* RATE_LIMITED: until a request is allowed; NOT_STARTED: to start */
} seckill_buy_result;

void seckill_buy(request_rec *r, const char *user, long long product_id, seckill_buy_result *out);
/* The answer's stable code word, HTTP status and message for the shopper. */
const char *seckill_buy_code_word(seckill_buy_code code);
int seckill_buy_http_status(seckill_buy_code code);
const char *seckill_buy_message(seckill_buy_code code);

#endif
