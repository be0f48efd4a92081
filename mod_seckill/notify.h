/* Alipay's asynchronous notify: the only way an order becomes paid. Nothing in it is believed
 * before its RSA2 signature verifies; then app_id, seller_id (when configured), the order and
 * its amount must match. A payment that comes for a cancelled order is recorded and refunded. */
#ifndef SECKILL_NOTIFY_H
#define SECKILL_NOTIFY_H

#include "httpd.h"

#include "form.h"

typedef enum {
    SECKILL_NOTIFY_PAID,           /* this notify marked the order paid */
    SECKILL_NOTIFY_REPLAY,         /* paid already: nothing changed */
    SECKILL_NOTIFY_NOT_PAID,       /* WAIT_BUYER_PAY or TRADE_CLOSED: nothing to do */
    SECKILL_NOTIFY_REFUNDED,       /* paid after the order was cancelled: refunded */
    SECKILL_NOTIFY_REFUND_PENDING, /* paid after the cancel; the refund failed: recorded */
    SECKILL_NOTIFY_FORGED,         /* no signature, or one that does not verify */
    SECKILL_NOTIFY_MISMATCH,       /* another app_id or seller_id, or another amount */
    SECKILL_NOTIFY_UNKNOWN_ORDER,  /* no such order */
    SECKILL_NOTIFY_MALFORMED,      /* a field missing or not of its form */
    SECKILL_NOTIFY_UNAVAILABLE     /* MySQL could not be reached: Alipay will notify again */
} seckill_notify_outcome;

/* Handles one notify's params; each outcome but PAID and NOT_PAID is logged with its reason. */
seckill_notify_outcome seckill_notify_handle(request_rec *r, const seckill_form_pair *params,
                                             int n);
/* 1 when Alipay must hear "success" (stop notifying), 0 for "fail". */
int seckill_notify_acknowledged(seckill_notify_outcome o);
/* The outcome's stable name, for logs and counters. */
const char *seckill_notify_name(seckill_notify_outcome o);

#endif
