/* One MySQL connection and its prepared statements, each prepared on first use and kept
 * for the connection's life. The module keeps these in a per-child apr_reslist, the worker
 * one per thread; after a lost connection (seckill_db_lost) the owner drops it and opens
 * another. Every query of the project is in the table in db.c: no SQL is built from text. */
#ifndef SECKILL_DB_H
#define SECKILL_DB_H

#include <mysql.h>
#include <stddef.h>

#include "endpoint.h"

typedef enum {
    /* products whose start time is in [?, ?), with total_stock derived from orders */
    SECKILL_Q_PRODUCTS_IN_WINDOW,
    /* id, status, start, end of products not yet ended whose start time <= ? */
    SECKILL_Q_STATUS_DUE,
    /* SET status=? WHERE id=? AND status=? (guarded, so two schedulers cannot go back) */
    SECKILL_Q_STATUS_SET,
    /* start time of one product (the buy path rebuilds a product's cache from it) */
    SECKILL_Q_PRODUCT_START,
    /* user_id, goods_id, status, create_time, quantity of one order */
    SECKILL_Q_ORDER_BY_ID,
    /* worker, order-create consumer: the seed's optimistic guard, stock - ? WHERE id = ? AND
     * stock >= ? (run before the INSERT so the product row is locked exclusively at once) */
    SECKILL_Q_WORKER_STOCK_TAKE,
    /* worker: the order row, goods_name from the product: id, user_id, seckill_price, quantity,
     * total_amount, create_time, product id */
    SECKILL_Q_WORKER_ORDER_INSERT,
    /* worker, the batch's fast way: 1, 8, 32 or 128 order rows in one INSERT, each row id,
     * user_id, goods_id, goods_name by the product id, seckill_price, quantity, total_amount,
     * create_time (8 parameters a row; the product's stock taken before, one UPDATE a product) */
    SECKILL_Q_WORKER_ORDER_ROWS_1,
    SECKILL_Q_WORKER_ORDER_ROWS_8,
    SECKILL_Q_WORKER_ORDER_ROWS_32,
    SECKILL_Q_WORKER_ORDER_ROWS_128,
    /* worker: status of one order (no row: no such order) */
    SECKILL_Q_WORKER_ORDER_STATUS,
    /* worker, timeout consumer: status 0 -> 2 with cancel_time, WHERE id = ? AND status = 0 */
    SECKILL_Q_WORKER_ORDER_EXPIRE,
    /* worker: stock + ? WHERE id = ? (the units of an order cancelled just now) */
    SECKILL_Q_WORKER_STOCK_RETURN,
    /* a shopper's orders, newest first (idx_user_create_time), at most 50 */
    SECKILL_Q_ORDERS_OF_USER,
    /* one order with its owner: the columns of SECKILL_Q_ORDERS_OF_USER, then user_id */
    SECKILL_Q_ORDER_ROW,
    /* a verified Alipay notify: status 0 -> 1 with pay_time, WHERE id = ? AND status = 0 */
    SECKILL_Q_ORDER_PAY,
    /* a payment that came after the order was cancelled: recorded once (INSERT IGNORE) */
    SECKILL_Q_REFUND_RECORD,
    /* status of one such payment: 0 to refund (or an operator's), 1 refunded */
    SECKILL_Q_REFUND_STATUS,
    /* refunded at Alipay */
    SECKILL_Q_REFUND_DONE,
    /* a refund attempt failed: its reason, counted */
    SECKILL_Q_REFUND_FAILED,
    /* how many payments wait for a refund */
    SECKILL_Q_REFUNDS_PENDING,
    /* admin: products with optional filters, each `? IS NULL OR ...` (status, start-time
     * window, name LIKE), newest start first, LIMIT ? OFFSET ?; columns as PRODUCTS_IN_WINDOW
     * plus create_time, update_time */
    SECKILL_Q_ADMIN_PRODUCTS,
    /* admin: one product, the columns of ADMIN_PRODUCTS */
    SECKILL_Q_ADMIN_PRODUCT,
    /* admin: stock and start time of one product, the row locked (FOR UPDATE) for an edit */
    SECKILL_Q_ADMIN_PRODUCT_LOCK,
    /* admin: units of a product in orders not cancelled */
    SECKILL_Q_ADMIN_PRODUCT_SOLD,
    /* admin: a new product (name, image, prices, stock, start, end, status) */
    SECKILL_Q_ADMIN_PRODUCT_INSERT,
    /* admin: every field of a product, stock moved by ? (guarded: never below 0) */
    SECKILL_Q_ADMIN_PRODUCT_UPDATE,
    /* admin: orders with optional filters (status, product, user, create-time window),
     * newest first, LIMIT ? OFFSET ? */
    SECKILL_Q_ADMIN_ORDERS,
    SECKILL_Q__COUNT
} seckill_query;

typedef struct seckill_db seckill_db;

/* Connects over TCP with the given timeout (seconds) for connect, read and write.
 * NULL on failure with a message in err. The handle is malloc'd: it outlives requests. */
seckill_db *seckill_db_open(const seckill_endpoint *ep, unsigned timeout_s, char *err,
                            size_t errlen);
void seckill_db_close(seckill_db *db);
MYSQL *seckill_db_mysql(seckill_db *db);
/* The prepared statement for q (prepared now if new). NULL on error, message in err. */
MYSQL_STMT *seckill_db_stmt(seckill_db *db, seckill_query q, char *err, size_t errlen);
/* The error number of the last failed seckill_db_stmt (never 0): closing the failed
 * statement clears the connection's own. */
unsigned int seckill_db_prepare_errno(const seckill_db *db);
/* 1 when a MySQL error number means the connection is gone (drop it and reconnect). */
int seckill_db_lost(unsigned int mysql_errno);

/* Local time <-> MYSQL_TIME (DATETIME columns hold the server's local time). */
void seckill_db_time_to(time_t t, MYSQL_TIME *mt);
time_t seckill_db_time_from(const MYSQL_TIME *mt);

#endif
