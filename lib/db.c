#include "db.h"

#include <errmsg.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct seckill_db {
    MYSQL *conn;
    MYSQL_STMT *stmt[SECKILL_Q__COUNT];
    unsigned int prepare_errno; /* closing a failed statement clears the connection's */
};

/* The multi-row order INSERTs of the worker: the same row, repeated (static text, so every
 * statement is in the table and prepared once per connection). The product's name comes from
 * its row, which the batch's stock UPDATE has locked already. */
#define ORDER_ROWS_INSERT                                                                          \
    "INSERT INTO seckill_orders (id, user_id, goods_id, goods_name, seckill_price, quantity,"      \
    " total_amount, status, create_time) VALUES "
#define ORDER_ROW "(?, ?, ?, (SELECT name FROM seckill_products WHERE id = ?), ?, ?, ?, 0, ?)"
#define ORDER_ROW_2 ORDER_ROW "," ORDER_ROW
#define ORDER_ROW_8 ORDER_ROW_2 "," ORDER_ROW_2 "," ORDER_ROW_2 "," ORDER_ROW_2
#define ORDER_ROW_32 ORDER_ROW_8 "," ORDER_ROW_8 "," ORDER_ROW_8 "," ORDER_ROW_8
#define ORDER_ROW_128 ORDER_ROW_32 "," ORDER_ROW_32 "," ORDER_ROW_32 "," ORDER_ROW_32

/* Every statement the project runs. total_stock counts units sold in orders not cancelled,
 * so the listing's sold percentage is right even when the cache is rebuilt mid-sale. */
static const char *const query_text[SECKILL_Q__COUNT] = {
    [SECKILL_Q_PRODUCTS_IN_WINDOW] =
        "SELECT p.id, p.name, p.image, p.base_price, p.seckill_price, p.stock,"
        " CAST(p.stock + COALESCE((SELECT SUM(o.quantity) FROM seckill_orders o"
        "   WHERE o.goods_id = p.id AND o.status <> 2), 0) AS SIGNED),"
        " p.status, p.seckill_start_time, p.seckill_end_time"
        " FROM seckill_products p"
        " WHERE p.status IN (0, 1, 2) AND p.seckill_start_time >= ? AND p.seckill_start_time < ?"
        " ORDER BY p.seckill_start_time, p.id",
    [SECKILL_Q_STATUS_DUE] = "SELECT id, status, seckill_start_time, seckill_end_time"
                             " FROM seckill_products"
                             " WHERE status IN (0, 1) AND seckill_start_time <= ?",
    [SECKILL_Q_STATUS_SET] = "UPDATE seckill_products SET status = ?"
                             " WHERE id = ? AND status = ?",
    [SECKILL_Q_PRODUCT_START] = "SELECT seckill_start_time FROM seckill_products WHERE id = ?",
    [SECKILL_Q_ORDER_BY_ID] = "SELECT user_id, goods_id, status, create_time, quantity"
                              " FROM seckill_orders WHERE id = ?",
    [SECKILL_Q_WORKER_STOCK_TAKE] = "UPDATE seckill_products SET stock = stock - ?"
                                    " WHERE id = ? AND stock >= ?",
    [SECKILL_Q_WORKER_ORDER_INSERT] =
        "INSERT INTO seckill_orders (id, user_id, goods_id, goods_name, seckill_price, quantity,"
        " total_amount, status, create_time)"
        " SELECT ?, ?, p.id, p.name, ?, ?, ?, 0, ? FROM seckill_products p WHERE p.id = ?",
    [SECKILL_Q_WORKER_ORDER_ROWS_1] = ORDER_ROWS_INSERT ORDER_ROW,
    [SECKILL_Q_WORKER_ORDER_ROWS_8] = ORDER_ROWS_INSERT ORDER_ROW_8,
    [SECKILL_Q_WORKER_ORDER_ROWS_32] = ORDER_ROWS_INSERT ORDER_ROW_32,
    [SECKILL_Q_WORKER_ORDER_ROWS_128] = ORDER_ROWS_INSERT ORDER_ROW_128,
    [SECKILL_Q_WORKER_ORDER_STATUS] = "SELECT status FROM seckill_orders WHERE id = ?",
    [SECKILL_Q_WORKER_ORDER_EXPIRE] = "UPDATE seckill_orders SET status = 2, cancel_time = NOW(6)"
                                      " WHERE id = ? AND status = 0",
    [SECKILL_Q_WORKER_STOCK_RETURN] = "UPDATE seckill_products SET stock = stock + ? WHERE id = ?",
    [SECKILL_Q_ORDERS_OF_USER] =
        "SELECT id, goods_id, goods_name, seckill_price, quantity, total_amount, status,"
        " create_time, pay_time, cancel_time FROM seckill_orders"
        " WHERE user_id = ? ORDER BY create_time DESC, id DESC LIMIT 50",
    [SECKILL_Q_ORDER_ROW] =
        "SELECT id, goods_id, goods_name, seckill_price, quantity, total_amount, status,"
        " create_time, pay_time, cancel_time, user_id FROM seckill_orders WHERE id = ?",
    [SECKILL_Q_ORDER_PAY] = "UPDATE seckill_orders SET status = 1, pay_time = NOW(6)"
                            " WHERE id = ? AND status = 0",
    [SECKILL_Q_REFUND_RECORD] = "INSERT IGNORE INTO seckill_refunds (order_id, trade_no, amount)"
                                " VALUES (?, ?, ?)",
    [SECKILL_Q_REFUND_STATUS] = "SELECT status FROM seckill_refunds WHERE order_id = ?",
    [SECKILL_Q_REFUND_DONE] = "UPDATE seckill_refunds SET status = 1, refund_time = NOW(6),"
                              " last_error = NULL WHERE order_id = ?",
    [SECKILL_Q_REFUND_FAILED] = "UPDATE seckill_refunds SET attempts = attempts + 1,"
                                " last_error = ? WHERE order_id = ? AND status = 0",
    [SECKILL_Q_REFUNDS_PENDING] = "SELECT COUNT(*) FROM seckill_refunds WHERE status = 0",
    /* Filters are bound as NULL when not given: one plan, no SQL built from input. */
    [SECKILL_Q_ADMIN_PRODUCTS] =
        "SELECT p.id, p.name, p.image, p.base_price, p.seckill_price, p.stock,"
        " CAST(p.stock + COALESCE((SELECT SUM(o.quantity) FROM seckill_orders o"
        "   WHERE o.goods_id = p.id AND o.status <> 2), 0) AS SIGNED),"
        " p.status, p.seckill_start_time, p.seckill_end_time, p.create_time, p.update_time"
        " FROM seckill_products p"
        " WHERE (? IS NULL OR p.status = ?)"
        " AND (? IS NULL OR p.seckill_start_time >= ?) AND (? IS NULL OR p.seckill_start_time < ?)"
        " AND (? IS NULL OR p.name LIKE ?)"
        " ORDER BY p.seckill_start_time DESC, p.id DESC LIMIT ? OFFSET ?",
    [SECKILL_Q_ADMIN_PRODUCT] =
        "SELECT p.id, p.name, p.image, p.base_price, p.seckill_price, p.stock,"
        " CAST(p.stock + COALESCE((SELECT SUM(o.quantity) FROM seckill_orders o"
        "   WHERE o.goods_id = p.id AND o.status <> 2), 0) AS SIGNED),"
        " p.status, p.seckill_start_time, p.seckill_end_time, p.create_time, p.update_time"
        " FROM seckill_products p WHERE p.id = ?",
    [SECKILL_Q_ADMIN_PRODUCT_LOCK] = "SELECT stock, seckill_start_time FROM seckill_products"
                                     " WHERE id = ? FOR UPDATE",
    [SECKILL_Q_ADMIN_PRODUCT_SOLD] = "SELECT CAST(COALESCE(SUM(quantity), 0) AS SIGNED)"
                                     " FROM seckill_orders WHERE goods_id = ? AND status <> 2",
    [SECKILL_Q_ADMIN_PRODUCT_INSERT] =
        "INSERT INTO seckill_products (name, image, base_price, seckill_price, stock,"
        " seckill_start_time, seckill_end_time, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [SECKILL_Q_ADMIN_PRODUCT_UPDATE] =
        "UPDATE seckill_products SET name = ?, image = ?, base_price = ?, seckill_price = ?,"
        " stock = stock + ?, seckill_start_time = ?, seckill_end_time = ?, status = ?"
        " WHERE id = ? AND stock + ? >= 0",
    [SECKILL_Q_ADMIN_ORDERS] =
        "SELECT id, user_id, goods_id, goods_name, seckill_price, quantity, total_amount, status,"
        " create_time, pay_time, cancel_time FROM seckill_orders"
        " WHERE (? IS NULL OR status = ?) AND (? IS NULL OR goods_id = ?)"
        " AND (? IS NULL OR user_id = ?)"
        " AND (? IS NULL OR create_time >= ?) AND (? IS NULL OR create_time < ?)"
        " ORDER BY create_time DESC, id DESC LIMIT ? OFFSET ?",
};

seckill_db *seckill_db_open(const seckill_endpoint *ep, unsigned timeout_s, char *err,
                            size_t errlen)
{
    seckill_db *db = calloc(1, sizeof *db);
    unsigned int proto = MYSQL_PROTOCOL_TCP;
    my_bool off = 0;

    if (!db) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    db->conn = mysql_init(NULL);
    if (!db->conn) {
        free(db);
        snprintf(err, errlen, "mysql_init failed");
        return NULL;
    }
    mysql_options(db->conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s);
    mysql_options(db->conn, MYSQL_OPT_READ_TIMEOUT, &timeout_s);
    mysql_options(db->conn, MYSQL_OPT_WRITE_TIMEOUT, &timeout_s);
    mysql_options(db->conn, MYSQL_OPT_PROTOCOL, &proto);
    mysql_options(db->conn, MYSQL_OPT_RECONNECT, &off);
    mysql_options(db->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(db->conn, ep->host, ep->user, ep->password, ep->path,
                            (unsigned)ep->port, NULL, 0)) {
        snprintf(err, errlen, "%s: %s", ep->url, mysql_error(db->conn));
        mysql_close(db->conn);
        free(db);
        return NULL;
    }
    return db;
}

void seckill_db_close(seckill_db *db)
{
    if (!db)
        return;
    for (int i = 0; i < SECKILL_Q__COUNT; i++)
        if (db->stmt[i])
            mysql_stmt_close(db->stmt[i]);
    mysql_close(db->conn);
    free(db);
}

MYSQL *seckill_db_mysql(seckill_db *db)
{
    return db->conn;
}

MYSQL_STMT *seckill_db_stmt(seckill_db *db, seckill_query q, char *err, size_t errlen)
{
    MYSQL_STMT *st;
    if (q < 0 || q >= SECKILL_Q__COUNT) {
        snprintf(err, errlen, "unknown query %d", (int)q);
        return NULL;
    }
    if (db->stmt[q])
        return db->stmt[q];
    st = mysql_stmt_init(db->conn);
    if (!st) {
        db->prepare_errno = mysql_errno(db->conn);
        snprintf(err, errlen, "mysql_stmt_init: %s", mysql_error(db->conn));
        return NULL;
    }
    if (mysql_stmt_prepare(st, query_text[q], strlen(query_text[q])) != 0) {
        db->prepare_errno = mysql_stmt_errno(st);
        snprintf(err, errlen, "prepare: %s", mysql_stmt_error(st));
        mysql_stmt_close(st);
        return NULL;
    }
    db->prepare_errno = 0;
    db->stmt[q] = st;
    return st;
}

unsigned int seckill_db_prepare_errno(const seckill_db *db)
{
    return db->prepare_errno ? db->prepare_errno : CR_UNKNOWN_ERROR;
}

int seckill_db_lost(unsigned int e)
{
    switch (e) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_CONN_HOST_ERROR:
    case CR_CONNECTION_ERROR:
    case CR_COMMANDS_OUT_OF_SYNC:
    case CR_SERVER_LOST_EXTENDED:
    case CR_STMT_CLOSED: /* MariaDB's statements die with their connection */
    case CR_ERR_NET_READ:
    case CR_ERR_NET_WRITE:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
        return 1;
    default:
        return 0;
    }
}

void seckill_db_time_to(time_t t, MYSQL_TIME *mt)
{
    struct tm tm;
    localtime_r(&t, &tm);
    memset(mt, 0, sizeof *mt);
    mt->year = (unsigned)tm.tm_year + 1900;
    mt->month = (unsigned)tm.tm_mon + 1;
    mt->day = (unsigned)tm.tm_mday;
    mt->hour = (unsigned)tm.tm_hour;
    mt->minute = (unsigned)tm.tm_min;
    mt->second = (unsigned)tm.tm_sec;
    mt->time_type = MYSQL_TIMESTAMP_DATETIME;
}

time_t seckill_db_time_from(const MYSQL_TIME *mt)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = (int)mt->year - 1900;
    tm.tm_mon = (int)mt->month - 1;
    tm.tm_mday = (int)mt->day;
    tm.tm_hour = (int)mt->hour;
    tm.tm_min = (int)mt->minute;
    tm.tm_sec = (int)mt->second;
    tm.tm_isdst = -1;
    return mktime(&tm);
}
