/* Paying an order with Alipay: the signed page-pay redirect that opens the trade, and what
 * the return page may tell the shopper. Only a verified notify marks an order paid
 * (notify.c); the return page reads MySQL and, while no notify came, asks Alipay. */
#ifndef SECKILL_PAYMENT_H
#define SECKILL_PAYMENT_H

#include "httpd.h"

#include "form.h"
#include "order_status.h"

/* The gateway URL for the user's unpaid order, its time_expire at the end of the pay window.
 * OK with *url; HTTP_NOT_FOUND; HTTP_CONFLICT with *code "paid" | "cancelled" | "expired";
 * HTTP_SERVICE_UNAVAILABLE (also when payment is not configured, *code "not_configured"). */
int seckill_pay_start(request_rec *r, const char *user, apr_uint64_t order_id, const char **url,
                      const char **code);

/* What the return page says. */
typedef struct {
    /* paid | confirming (Alipay says paid, the notify is on its way) | waiting | cancelled */
    const char *state;
    seckill_order_row order;
    int refund; /* cancelled but paid: -1 none, 0 to refund, 1 refunded */
} seckill_pay_outcome;

/* Reads Alipay's signed return params: OK with *out; HTTP_BAD_REQUEST when they are not
 * Alipay's (missing, forged, another app); HTTP_NOT_FOUND (not the user's order);
 * HTTP_SERVICE_UNAVAILABLE. */
int seckill_pay_result(request_rec *r, const char *user, const seckill_form_pair *params, int n,
                       seckill_pay_outcome *out);

/* A payment of a cancelled order: *state -1 none, 0 to refund, 1 refunded. OK or
 * HTTP_SERVICE_UNAVAILABLE. */
int seckill_pay_refund_state(request_rec *r, apr_uint64_t order_id, int *state);

#endif
