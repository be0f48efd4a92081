/* The shopper's cancel of an unpaid order. It takes the timeout's path: the same guarded
 * MySQL statements (status 0 -> 2, stock back only with that change) and the same
 * lua/order_restore.lua, so a cancel and a timeout of one order return its units once. */
#ifndef SECKILL_CANCEL_H
#define SECKILL_CANCEL_H

#include "httpd.h"

/* OK once cancelled; HTTP_NOT_FOUND (not the user's, or no row yet), HTTP_CONFLICT with
 * *code "paid" | "cancelled" (not unpaid any more), or HTTP_SERVICE_UNAVAILABLE. */
int seckill_order_cancel(request_rec *r, const char *user, apr_uint64_t order_id,
                         const char **code);

#endif
