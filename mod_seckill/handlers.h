/* The shop's request handlers, one group a file (handle_*.c), dispatched by path in
 * mod_seckill.c. Each parses its input, makes one call into its unit and renders. */
#ifndef SECKILL_HANDLERS_H
#define SECKILL_HANDLERS_H

#include "httpd.h"

/* GET / and GET /?slot=H */
int seckill_handle_listing(request_rec *r);
/* POST /buy/{id} */
int seckill_handle_buy(request_rec *r, const char *id_text);
/* GET /order/{order_id}: the shopper's own order */
int seckill_handle_order(request_rec *r, const char *id_text);
/* GET /orders/: the shopper's orders, newest first */
int seckill_handle_orders(request_rec *r);

/* POST /order/pay/{order_id}: 302 to Alipay's cashier for the shopper's unpaid order */
int seckill_handle_pay(request_rec *r, const char *id_text);
/* POST /order/cancel/{order_id}: cancels the shopper's unpaid order */
int seckill_handle_cancel(request_rec *r, const char *id_text);
/* GET /result/: Alipay's return_url */
int seckill_handle_result(request_rec *r);
/* POST /alipay/notify/: Alipay's notify_url */
int seckill_handle_notify(request_rec *r);

#endif
