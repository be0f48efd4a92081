/* Where a shopper's order stands: MySQL's row once the worker wrote it, before that the
 * Redis marker the buy left (queued, or failed when the worker gave up). Another shopper's
 * order, or an unknown id, is "not found": order ids are not secrets, orders are. */
#ifndef SECKILL_ORDER_STATUS_H
#define SECKILL_ORDER_STATUS_H

#include <time.h>

#include "apr_tables.h"
#include "httpd.h"

/* user_id is VARCHAR(64) */
#define SECKILL_ORDER_USER_MAX 64

typedef struct {
    const char *status; /* queued | pending_payment | paid | completed | cancelled | failed */
    long long product_id;
    int quantity;
    time_t created;
} seckill_order_info;

/* OK, HTTP_NOT_FOUND, or HTTP_SERVICE_UNAVAILABLE. */
int seckill_order_lookup(request_rec *r, const char *user, unsigned long long order_id,
                         seckill_order_info *out);

/* One of a shopper's orders as MySQL has it. */
typedef struct {
    unsigned long long order_id;
    long long product_id;
    char product_name[257];
    char price[16];
    char total[16];
    int quantity;
    const char *status;
    int code;                        /* the row's status: 0 unpaid, 1 paid, 2 cancelled, 3 done */
    time_t created, paid, cancelled; /* 0 when not */
    char user[SECKILL_ORDER_USER_MAX + 2];
} seckill_order_row;

/* The shopper's orders, newest first (at most 50), into an array of seckill_order_row.
 * OK or HTTP_SERVICE_UNAVAILABLE. */
int seckill_orders_of(request_rec *r, const char *user, apr_array_header_t **out);

/* One order row by id: OK, HTTP_NOT_FOUND (no row yet, or user given and not its owner) or
 * HTTP_SERVICE_UNAVAILABLE. */
int seckill_order_get(request_rec *r, const char *user, unsigned long long order_id,
                      seckill_order_row *out);

#endif
