#include "admin_store.h"

#include "apr_strings.h"
#include "http_log.h"

#include <stdio.h>

#include "mysql_pool.h"

/* A parameter that may be NULL: buffer and type, with its is_null flag. */
static void param(MYSQL_BIND *b, enum enum_field_types type, void *buf, unsigned long len,
                  my_bool *is_null)
{
    memset(b, 0, sizeof *b);
    b->buffer_type = type;
    b->buffer = buf;
    b->buffer_length = len;
    b->is_null = is_null;
}

/* Two binds for one `? IS NULL OR col = ?` guard. */
static void guard(MYSQL_BIND *b, enum enum_field_types type, void *buf, unsigned long *len,
                  my_bool *is_null)
{
    for (int i = 0; i < 2; i++) {
        param(&b[i], type, buf, len ? *len : 0, is_null);
        b[i].length = len;
    }
}

/* Result columns of ADMIN_PRODUCTS / ADMIN_PRODUCT. */
typedef struct {
    seckill_admin_product row;
    long long total;
    short status;
    MYSQL_TIME start, end, created, updated;
    unsigned long len[12];
    MYSQL_BIND res[12];
} product_cols;

static void bind_product(product_cols *c)
{
    seckill_product *p = &c->row.p;
    memset(c, 0, sizeof *c);
#define COL(i, type, buf, cap)                                                                     \
    c->res[i].buffer_type = type;                                                                  \
    c->res[i].buffer = buf;                                                                        \
    c->res[i].buffer_length = cap;                                                                 \
    c->res[i].length = &c->len[i]
    COL(0, MYSQL_TYPE_LONGLONG, &p->id, 0);
    COL(1, MYSQL_TYPE_STRING, p->name, sizeof p->name - 1);
    COL(2, MYSQL_TYPE_STRING, p->image, sizeof p->image - 1);
    COL(3, MYSQL_TYPE_STRING, p->base_price, sizeof p->base_price - 1);
    COL(4, MYSQL_TYPE_STRING, p->seckill_price, sizeof p->seckill_price - 1);
    COL(5, MYSQL_TYPE_LONG, &p->stock, 0);
    COL(6, MYSQL_TYPE_LONGLONG, &c->total, 0);
    COL(7, MYSQL_TYPE_SHORT, &c->status, 0);
    COL(8, MYSQL_TYPE_DATETIME, &c->start, 0);
    COL(9, MYSQL_TYPE_DATETIME, &c->end, 0);
    COL(10, MYSQL_TYPE_DATETIME, &c->created, 0);
    COL(11, MYSQL_TYPE_DATETIME, &c->updated, 0);
#undef COL
}

static void terminate(char *buf, size_t cap, unsigned long len)
{
    buf[len < cap ? len : cap - 1] = 0;
}

static seckill_admin_product product_row(product_cols *c)
{
    seckill_admin_product out = c->row;
    seckill_product *p = &out.p;
    terminate(p->name, sizeof p->name, c->len[1]);
    terminate(p->image, sizeof p->image, c->len[2]);
    terminate(p->base_price, sizeof p->base_price, c->len[3]);
    terminate(p->seckill_price, sizeof p->seckill_price, c->len[4]);
    p->total_stock = (int)c->total;
    p->status = c->status;
    p->start = seckill_db_time_from(&c->start);
    p->end = seckill_db_time_from(&c->end);
    out.created = seckill_db_time_from(&c->created);
    out.updated = seckill_db_time_from(&c->updated);
    out.live_stock = -1;
    return out;
}

static seckill_conn_result failed(request_rec *r, MYSQL_STMT *st, const char *what)
{
    unsigned int e = mysql_stmt_errno(st);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK1201: mysql: %s: %s", what, mysql_stmt_error(st));
    mysql_stmt_free_result(st);
    return seckill_mysql_check(e ? e : 1);
}

static MYSQL_STMT *stmt(request_rec *r, seckill_db *db, seckill_query q)
{
    char err[256];
    MYSQL_STMT *st = seckill_db_stmt(db, q, err, sizeof err);
    if (!st)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK1202: mysql: %s", err);
    return st;
}

typedef struct {
    const seckill_product_filter *f;
    apr_array_header_t *rows;
} products_job;

static seckill_conn_result products_work(request_rec *r, void *conn, void *baton)
{
    products_job *j = baton;
    const seckill_product_filter *f = j->f;
    MYSQL_STMT *st = stmt(r, conn, SECKILL_Q_ADMIN_PRODUCTS);
    MYSQL_BIND in[10];
    my_bool no_status = f->status < 0, no_window = !f->has_window, no_q = !f->q_like;
    int status = f->status;
    MYSQL_TIME from, to;
    unsigned long qlen = f->q_like ? strlen(f->q_like) : 0;
    long long limit = SECKILL_ADMIN_PAGE_SIZE + 1;
    long long offset = (long long)(f->page - 1) * SECKILL_ADMIN_PAGE_SIZE;
    product_cols c;
    int rc;

    if (!st)
        return seckill_mysql_check(seckill_db_prepare_errno(conn));
    seckill_db_time_to(f->from, &from);
    seckill_db_time_to(f->to, &to);
    guard(&in[0], MYSQL_TYPE_LONG, &status, NULL, &no_status);
    guard(&in[2], MYSQL_TYPE_DATETIME, &from, NULL, &no_window);
    guard(&in[4], MYSQL_TYPE_DATETIME, &to, NULL, &no_window);
    guard(&in[6], MYSQL_TYPE_STRING, (void *)(f->q_like ? f->q_like : ""), &qlen, &no_q);
    param(&in[8], MYSQL_TYPE_LONGLONG, &limit, 0, NULL);
    param(&in[9], MYSQL_TYPE_LONGLONG, &offset, 0, NULL);
    bind_product(&c);
    if (mysql_stmt_bind_param(st, in) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, c.res) || mysql_stmt_store_result(st))
        return failed(r, st, "admin products");
    j->rows = apr_array_make(r->pool, SECKILL_ADMIN_PAGE_SIZE + 1, sizeof(seckill_admin_product));
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED)
        APR_ARRAY_PUSH(j->rows, seckill_admin_product) = product_row(&c);
    if (rc != MYSQL_NO_DATA)
        return failed(r, st, "admin products fetch");
    mysql_stmt_free_result(st);
    return SECKILL_CONN_OK;
}

int seckill_admin_products(request_rec *r, const seckill_product_filter *f,
                           apr_array_header_t **out)
{
    products_job j = {f, NULL};
    if (seckill_mysql_run(r, products_work, &j) != SECKILL_CONN_OK)
        return HTTP_SERVICE_UNAVAILABLE;
    *out = j.rows;
    return OK;
}

typedef struct {
    long long id;
    int found;
    seckill_admin_product *out;
} product_job;

static seckill_conn_result product_work(request_rec *r, void *conn, void *baton)
{
    product_job *j = baton;
    MYSQL_STMT *st = stmt(r, conn, SECKILL_Q_ADMIN_PRODUCT);
    MYSQL_BIND in;
    product_cols c;
    int rc;
    if (!st)
        return seckill_mysql_check(seckill_db_prepare_errno(conn));
    param(&in, MYSQL_TYPE_LONGLONG, &j->id, 0, NULL);
    bind_product(&c);
    if (mysql_stmt_bind_param(st, &in) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, c.res) || mysql_stmt_store_result(st))
        return failed(r, st, "admin product");
    rc = mysql_stmt_fetch(st);
    j->found = rc == 0 || rc == MYSQL_DATA_TRUNCATED;
    if (j->found)
        *j->out = product_row(&c);
    else if (rc != MYSQL_NO_DATA)
        return failed(r, st, "admin product fetch");
    mysql_stmt_free_result(st);
    return SECKILL_CONN_OK;
}

int seckill_admin_product_get(request_rec *r, long long id, seckill_admin_product *out)
{
    product_job j = {id, 0, out};
    if (seckill_mysql_run(r, product_work, &j) != SECKILL_CONN_OK)
        return HTTP_SERVICE_UNAVAILABLE;
    return j.found ? OK : HTTP_NOT_FOUND;
}

typedef struct {
    const seckill_order_filter *f;
    apr_array_header_t *rows;
} orders_job;

static seckill_conn_result orders_work(request_rec *r, void *conn, void *baton)
{
    orders_job *j = baton;
    const seckill_order_filter *f = j->f;
    MYSQL_STMT *st = stmt(r, conn, SECKILL_Q_ADMIN_ORDERS);
    MYSQL_BIND in[12], res[11];
    my_bool no_status = f->status < 0, no_product = f->product == 0, no_user = !f->user;
    my_bool no_window = !f->has_window, null[11];
    int status = f->status;
    long long product = f->product;
    unsigned long ulen = f->user ? strlen(f->user) : 0, len[11];
    MYSQL_TIME from, to, created, paid, cancelled;
    long long limit = SECKILL_ADMIN_PAGE_SIZE + 1;
    long long offset = (long long)(f->page - 1) * SECKILL_ADMIN_PAGE_SIZE;
    seckill_admin_order row;
    short quantity, ostatus;
    int rc;

    if (!st)
        return seckill_mysql_check(seckill_db_prepare_errno(conn));
    seckill_db_time_to(f->from, &from);
    seckill_db_time_to(f->to, &to);
    guard(&in[0], MYSQL_TYPE_LONG, &status, NULL, &no_status);
    guard(&in[2], MYSQL_TYPE_LONGLONG, &product, NULL, &no_product);
    guard(&in[4], MYSQL_TYPE_STRING, (void *)(f->user ? f->user : ""), &ulen, &no_user);
    guard(&in[6], MYSQL_TYPE_DATETIME, &from, NULL, &no_window);
    guard(&in[8], MYSQL_TYPE_DATETIME, &to, NULL, &no_window);
    param(&in[10], MYSQL_TYPE_LONGLONG, &limit, 0, NULL);
    param(&in[11], MYSQL_TYPE_LONGLONG, &offset, 0, NULL);

    memset(res, 0, sizeof res);
    memset(&row, 0, sizeof row);
#define COL(i, type, buf, cap)                                                                     \
    res[i].buffer_type = type;                                                                     \
    res[i].buffer = buf;                                                                           \
    res[i].buffer_length = cap;                                                                    \
    res[i].length = &len[i];                                                                       \
    res[i].is_null = &null[i]
    COL(0, MYSQL_TYPE_LONGLONG, &row.id, 0);
    res[0].is_unsigned = 1;
    COL(1, MYSQL_TYPE_STRING, row.user, sizeof row.user - 1);
    COL(2, MYSQL_TYPE_LONGLONG, &row.product_id, 0);
    COL(3, MYSQL_TYPE_STRING, row.product_name, sizeof row.product_name - 1);
    COL(4, MYSQL_TYPE_STRING, row.price, sizeof row.price - 1);
    COL(5, MYSQL_TYPE_SHORT, &quantity, 0);
    COL(6, MYSQL_TYPE_STRING, row.total, sizeof row.total - 1);
    COL(7, MYSQL_TYPE_SHORT, &ostatus, 0);
    COL(8, MYSQL_TYPE_DATETIME, &created, 0);
    COL(9, MYSQL_TYPE_DATETIME, &paid, 0);
    COL(10, MYSQL_TYPE_DATETIME, &cancelled, 0);
#undef COL
    if (mysql_stmt_bind_param(st, in) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, res) || mysql_stmt_store_result(st))
        return failed(r, st, "admin orders");
    j->rows = apr_array_make(r->pool, SECKILL_ADMIN_PAGE_SIZE + 1, sizeof(seckill_admin_order));
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        seckill_admin_order *o = apr_array_push(j->rows);
        *o = row;
        terminate(o->user, sizeof o->user, len[1]);
        terminate(o->product_name, sizeof o->product_name, len[3]);
        terminate(o->price, sizeof o->price, len[4]);
        terminate(o->total, sizeof o->total, len[6]);
        o->quantity = quantity;
        o->status = ostatus;
        o->created = seckill_db_time_from(&created);
        o->paid = null[9] ? 0 : seckill_db_time_from(&paid);
        o->cancelled = null[10] ? 0 : seckill_db_time_from(&cancelled);
    }
    if (rc != MYSQL_NO_DATA)
        return failed(r, st, "admin orders fetch");
    mysql_stmt_free_result(st);
    return SECKILL_CONN_OK;
}

int seckill_admin_orders(request_rec *r, const seckill_order_filter *f, apr_array_header_t **out)
{
    orders_job j = {f, NULL};
    if (seckill_mysql_run(r, orders_work, &j) != SECKILL_CONN_OK)
        return HTTP_SERVICE_UNAVAILABLE;
    *out = j.rows;
    return OK;
}

/* The statements of an edit, on the caller's connection and transaction. */

static unsigned int stmt_error(MYSQL_STMT *st, const char *what, char *err, size_t errlen)
{
    unsigned int e = mysql_stmt_errno(st);
    snprintf(err, errlen, "%s: %s", what, mysql_stmt_error(st));
    mysql_stmt_free_result(st);
    return e ? e : 1;
}

unsigned int seckill_admin_db_lock(seckill_db *db, long long id, int *found, long long *stock,
                                   time_t *start, char *err, size_t errlen)
{
    MYSQL_STMT *st = seckill_db_stmt(db, SECKILL_Q_ADMIN_PRODUCT_LOCK, err, errlen);
    MYSQL_BIND in, res[2];
    MYSQL_TIME t;
    int s = 0, rc;
    if (!st)
        return seckill_db_prepare_errno(db);
    param(&in, MYSQL_TYPE_LONGLONG, &id, 0, NULL);
    memset(res, 0, sizeof res);
    res[0].buffer_type = MYSQL_TYPE_LONG;
    res[0].buffer = &s;
    res[1].buffer_type = MYSQL_TYPE_DATETIME;
    res[1].buffer = &t;
    if (mysql_stmt_bind_param(st, &in) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, res) || mysql_stmt_store_result(st))
        return stmt_error(st, "lock product", err, errlen);
    rc = mysql_stmt_fetch(st);
    *found = rc == 0 || rc == MYSQL_DATA_TRUNCATED;
    if (!*found && rc != MYSQL_NO_DATA)
        return stmt_error(st, "lock product fetch", err, errlen);
    *stock = s;
    if (*found)
        *start = seckill_db_time_from(&t);
    mysql_stmt_free_result(st);
    return 0;
}

unsigned int seckill_admin_db_sold(seckill_db *db, long long id, long long *sold, char *err,
                                   size_t errlen)
{
    MYSQL_STMT *st = seckill_db_stmt(db, SECKILL_Q_ADMIN_PRODUCT_SOLD, err, errlen);
    MYSQL_BIND in, res;
    int rc;
    if (!st)
        return seckill_db_prepare_errno(db);
    param(&in, MYSQL_TYPE_LONGLONG, &id, 0, NULL);
    *sold = 0;
    memset(&res, 0, sizeof res);
    res.buffer_type = MYSQL_TYPE_LONGLONG;
    res.buffer = sold;
    if (mysql_stmt_bind_param(st, &in) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, &res) || mysql_stmt_store_result(st))
        return stmt_error(st, "sold units", err, errlen);
    rc = mysql_stmt_fetch(st);
    if (rc != 0 && rc != MYSQL_DATA_TRUNCATED)
        return stmt_error(st, "sold units fetch", err, errlen);
    mysql_stmt_free_result(st);
    return 0;
}

/* name, image, base_price, seckill_price: the first four parameters of INSERT and UPDATE. */
static void bind_texts(MYSQL_BIND *b, const seckill_product_values *v, unsigned long *len)
{
    const char *s[4] = {v->name, v->image, v->base_price, v->seckill_price};
    for (int i = 0; i < 4; i++) {
        len[i] = strlen(s[i]);
        param(&b[i], MYSQL_TYPE_STRING, (void *)s[i], len[i], NULL);
        b[i].length = &len[i];
    }
}

unsigned int seckill_admin_db_insert(seckill_db *db, const seckill_product_values *v, int status,
                                     long long *id, char *err, size_t errlen)
{
    MYSQL_STMT *st = seckill_db_stmt(db, SECKILL_Q_ADMIN_PRODUCT_INSERT, err, errlen);
    MYSQL_BIND in[8];
    unsigned long len[4];
    int stock = v->stock;
    MYSQL_TIME start, end;
    if (!st)
        return seckill_db_prepare_errno(db);
    seckill_db_time_to(v->start, &start);
    seckill_db_time_to(v->end, &end);
    bind_texts(in, v, len);
    param(&in[4], MYSQL_TYPE_LONG, &stock, 0, NULL);
    param(&in[5], MYSQL_TYPE_DATETIME, &start, 0, NULL);
    param(&in[6], MYSQL_TYPE_DATETIME, &end, 0, NULL);
    param(&in[7], MYSQL_TYPE_LONG, &status, 0, NULL);
    if (mysql_stmt_bind_param(st, in) || mysql_stmt_execute(st))
        return stmt_error(st, "insert product", err, errlen);
    *id = (long long)mysql_stmt_insert_id(st);
    return 0;
}

unsigned int seckill_admin_db_update(seckill_db *db, long long id, const seckill_product_values *v,
                                     long long delta, int status, char *err, size_t errlen)
{
    MYSQL_STMT *st = seckill_db_stmt(db, SECKILL_Q_ADMIN_PRODUCT_UPDATE, err, errlen);
    MYSQL_BIND in[10];
    unsigned long len[4];
    MYSQL_TIME start, end;
    if (!st)
        return seckill_db_prepare_errno(db);
    seckill_db_time_to(v->start, &start);
    seckill_db_time_to(v->end, &end);
    bind_texts(in, v, len);
    param(&in[4], MYSQL_TYPE_LONGLONG, &delta, 0, NULL);
    param(&in[5], MYSQL_TYPE_DATETIME, &start, 0, NULL);
    param(&in[6], MYSQL_TYPE_DATETIME, &end, 0, NULL);
    param(&in[7], MYSQL_TYPE_LONG, &status, 0, NULL);
    param(&in[8], MYSQL_TYPE_LONGLONG, &id, 0, NULL);
    param(&in[9], MYSQL_TYPE_LONGLONG, &delta, 0, NULL);
    if (mysql_stmt_bind_param(st, in) || mysql_stmt_execute(st))
        return stmt_error(st, "update product", err, errlen);
    return 0;
}
