#include "order_status.h"

#include "apr_strings.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>

#include "keys.h"
#include "mysql_pool.h"
#include "order.h"
#include "redis_pool.h"
#include "snowflake.h"

typedef struct {
    unsigned long long order_id;
    int found;
    char user[SECKILL_USER_MAX + 2];
    long long product_id;
    short status;
    short quantity;
    MYSQL_TIME created;
    char marker[160];
} lookup_job;

static seckill_conn_result from_mysql(request_rec *r, void *conn, void *baton)
{
    lookup_job *j = baton;
    char err[256];
    MYSQL_STMT *st = seckill_db_stmt(conn, SECKILL_Q_ORDER_BY_ID, err, sizeof err);
    MYSQL_BIND param, res[5];
    unsigned long ulen = 0;
    int rc;
    if (!st) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0602: mysql: %s", err);
        return seckill_mysql_check(seckill_db_prepare_errno(conn));
    }
    memset(&param, 0, sizeof param);
    memset(res, 0, sizeof res);
    param.buffer_type = MYSQL_TYPE_LONGLONG;
    param.buffer = &j->order_id;
    param.is_unsigned = 1;
    res[0].buffer_type = MYSQL_TYPE_STRING;
    res[0].buffer = j->user;
    res[0].buffer_length = sizeof j->user - 1;
    res[0].length = &ulen;
    res[1].buffer_type = MYSQL_TYPE_LONGLONG;
    res[1].buffer = &j->product_id;
    res[2].buffer_type = MYSQL_TYPE_SHORT;
    res[2].buffer = &j->status;
    res[3].buffer_type = MYSQL_TYPE_DATETIME;
    res[3].buffer = &j->created;
    res[4].buffer_type = MYSQL_TYPE_SHORT;
    res[4].buffer = &j->quantity;
    if (mysql_stmt_bind_param(st, &param) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, res)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0601: mysql: %s", mysql_stmt_error(st));
        return seckill_mysql_check(mysql_stmt_errno(st) ?: 1);
    }
    rc = mysql_stmt_fetch(st);
    j->found = rc == 0 || rc == MYSQL_DATA_TRUNCATED;
    if (j->found)
        j->user[ulen < sizeof j->user - 1 ? ulen : sizeof j->user - 1] = 0;
    mysql_stmt_free_result(st);
    return SECKILL_CONN_OK;
}

static seckill_conn_result marker(request_rec *r, void *conn, void *baton)
{
    redisContext *c = conn;
    lookup_job *j = baton;
    redisReply *rep = redisCommand(c, "GET " SECKILL_KEY_ORDER, j->order_id);
    seckill_conn_result res = seckill_redis_check(c, rep);
    j->marker[0] = 0;
    if (res == SECKILL_CONN_OK && rep->type == REDIS_REPLY_STRING && rep->len < sizeof j->marker)
        memcpy(j->marker, rep->str, rep->len + 1);
    if (rep)
        freeReplyObject(rep);
    return res;
}

static const char *status_word(short s)
{
    switch (s) {
    case 0:
        return "pending_payment";
    case 1:
        return "paid";
    case 3:
        return "completed";
    default:
        return "cancelled";
    }
}

int seckill_order_lookup(request_rec *r, const char *user, unsigned long long order_id,
                         seckill_order_info *out)
{
    lookup_job j;
    char *pid, *state, *last;
    memset(&j, 0, sizeof j);
    j.order_id = order_id;
    if (seckill_mysql_run(r, from_mysql, &j) != SECKILL_CONN_OK)
        return HTTP_SERVICE_UNAVAILABLE;
    if (j.found) {
        if (strcmp(j.user, user) != 0)
            return HTTP_NOT_FOUND;
        out->status = status_word(j.status);
        out->product_id = j.product_id;
        out->quantity = j.quantity;
        out->created = seckill_db_time_from(&j.created);
        return OK;
    }
    if (seckill_redis_run(r, marker, &j) != SECKILL_CONN_OK)
        return HTTP_SERVICE_UNAVAILABLE;
    /* "<user>|<product>|queued|failed" */
    if (!j.marker[0] || !apr_strtok(j.marker, "|", &last) || strcmp(j.marker, user) != 0 ||
        !(pid = apr_strtok(NULL, "|", &last)) || !(state = apr_strtok(NULL, "|", &last)))
        return HTTP_NOT_FOUND;
    out->status = strcmp(state, "failed") == 0 ? "failed" : "queued";
    out->product_id = atoll(pid);
    out->quantity = 1;
    out->created = (time_t)(seckill_snowflake_ms(order_id) / 1000);
    return OK;
}

typedef struct {
    const char *user;
    apr_array_header_t *rows;
} list_job;

static time_t time_or_zero(const MYSQL_TIME *t, my_bool is_null)
{
    return is_null ? 0 : seckill_db_time_from(t);
}

/* The result columns of SECKILL_Q_ORDERS_OF_USER and SECKILL_Q_ORDER_ROW, bound once. */
typedef struct {
    MYSQL_BIND res[11];
    unsigned long len[11];
    my_bool null[11];
    seckill_order_row row;
    short status, quantity;
    MYSQL_TIME created, paid, cancelled;
} row_binding;

static void bind_row(row_binding *b)
{
    memset(b, 0, sizeof *b);
#define BIND(i, type, buf, cap)                                                                    \
    b->res[i].buffer_type = type;                                                                  \
    b->res[i].buffer = buf;                                                                        \
    b->res[i].buffer_length = cap;                                                                 \
    b->res[i].length = &b->len[i];                                                                 \
    b->res[i].is_null = &b->null[i]
    BIND(0, MYSQL_TYPE_LONGLONG, &b->row.order_id, 0);
    b->res[0].is_unsigned = 1;
    BIND(1, MYSQL_TYPE_LONGLONG, &b->row.product_id, 0);
    BIND(2, MYSQL_TYPE_STRING, b->row.product_name, sizeof b->row.product_name - 1);
    BIND(3, MYSQL_TYPE_STRING, b->row.price, sizeof b->row.price - 1);
    BIND(4, MYSQL_TYPE_SHORT, &b->quantity, 0);
    BIND(5, MYSQL_TYPE_STRING, b->row.total, sizeof b->row.total - 1);
    BIND(6, MYSQL_TYPE_SHORT, &b->status, 0);
    BIND(7, MYSQL_TYPE_DATETIME, &b->created, 0);
    BIND(8, MYSQL_TYPE_DATETIME, &b->paid, 0);
    BIND(9, MYSQL_TYPE_DATETIME, &b->cancelled, 0);
    BIND(10, MYSQL_TYPE_STRING, b->row.user, sizeof b->row.user - 1);
#undef BIND
}

static void terminate(char *s, size_t cap, unsigned long len)
{
    s[len < cap ? len : cap - 1] = 0;
}

/* The fetched row, its strings terminated and its status in words. */
static void take_row(row_binding *b, seckill_order_row *o)
{
    *o = b->row;
    terminate(o->product_name, sizeof o->product_name, b->len[2]);
    terminate(o->price, sizeof o->price, b->len[3]);
    terminate(o->total, sizeof o->total, b->len[5]);
    terminate(o->user, sizeof o->user, b->null[10] ? 0 : b->len[10]);
    o->quantity = b->quantity;
    o->code = b->status;
    o->status = status_word(b->status);
    o->created = seckill_db_time_from(&b->created);
    o->paid = time_or_zero(&b->paid, b->null[8]);
    o->cancelled = time_or_zero(&b->cancelled, b->null[9]);
}

static seckill_conn_result orders_of(request_rec *r, void *conn, void *baton)
{
    list_job *j = baton;
    char err[256];
    MYSQL_STMT *st = seckill_db_stmt(conn, SECKILL_Q_ORDERS_OF_USER, err, sizeof err);
    MYSQL_BIND param;
    unsigned long ulen = strlen(j->user);
    row_binding b;
    int rc;

    if (!st) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0603: mysql: %s", err);
        return seckill_mysql_check(seckill_db_prepare_errno(conn));
    }
    memset(&param, 0, sizeof param);
    param.buffer_type = MYSQL_TYPE_STRING;
    param.buffer = (void *)j->user;
    param.buffer_length = ulen;
    param.length = &ulen;
    bind_row(&b);
    if (mysql_stmt_bind_param(st, &param) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, b.res) || mysql_stmt_store_result(st)) {
        unsigned int e = mysql_stmt_errno(st); /* freeing the result clears it */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0604: mysql: %s", mysql_stmt_error(st));
        mysql_stmt_free_result(st);
        return seckill_mysql_check(e ?: 1);
    }
    j->rows = apr_array_make(r->pool, 8, sizeof(seckill_order_row));
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED)
        take_row(&b, apr_array_push(j->rows));
    mysql_stmt_free_result(st);
    return SECKILL_CONN_OK;
}

int seckill_orders_of(request_rec *r, const char *user, apr_array_header_t **out)
{
    list_job j = {user, NULL};
    if (seckill_mysql_run(r, orders_of, &j) != SECKILL_CONN_OK)
        return HTTP_SERVICE_UNAVAILABLE;
    *out = j.rows;
    return OK;
}

typedef struct {
    unsigned long long order_id;
    seckill_order_row *out;
    int found;
} row_job;

static seckill_conn_result order_row(request_rec *r, void *conn, void *baton)
{
    row_job *j = baton;
    char err[256];
    MYSQL_STMT *st = seckill_db_stmt(conn, SECKILL_Q_ORDER_ROW, err, sizeof err);
    MYSQL_BIND param;
    row_binding b;
    int rc;

    if (!st) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0605: mysql: %s", err);
        return seckill_mysql_check(seckill_db_prepare_errno(conn));
    }
    memset(&param, 0, sizeof param);
    param.buffer_type = MYSQL_TYPE_LONGLONG;
    param.buffer = &j->order_id;
    param.is_unsigned = 1;
    bind_row(&b);
    if (mysql_stmt_bind_param(st, &param) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, b.res)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0606: mysql: %s", mysql_stmt_error(st));
        return seckill_mysql_check(mysql_stmt_errno(st) ?: 1);
    }
    rc = mysql_stmt_fetch(st);
    j->found = rc == 0 || rc == MYSQL_DATA_TRUNCATED;
    if (j->found)
        take_row(&b, j->out);
    mysql_stmt_free_result(st);
    return SECKILL_CONN_OK;
}

int seckill_order_get(request_rec *r, const char *user, unsigned long long order_id,
                      seckill_order_row *out)
{
    row_job j = {order_id, out, 0};
    if (seckill_mysql_run(r, order_row, &j) != SECKILL_CONN_OK)
        return HTTP_SERVICE_UNAVAILABLE;
    if (!j.found || (user && strcmp(out->user, user) != 0))
        return HTTP_NOT_FOUND;
    return OK;
}
