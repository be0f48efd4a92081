/* What the admin reads and writes in MySQL, through the guarded prepared statements of
 * db.c: lists with the filters of admin_filter.h, one product, and the statements an edit
 * runs inside its transaction (admin.c). Reads return OK, HTTP_NOT_FOUND or 503 (logged). */
#ifndef SECKILL_ADMIN_STORE_H
#define SECKILL_ADMIN_STORE_H

#include "apr_tables.h"
#include "httpd.h"

#include "admin_filter.h"
#include "db.h"
#include "product.h"
#include "product_input.h"

typedef struct {
    seckill_product p; /* stock = units left in MySQL, total_stock = units put on sale */
    time_t created, updated;
    long long live_stock; /* the Redis stock key, -1 when not cached (admin.c fills it) */
} seckill_admin_product;

typedef struct {
    unsigned long long id;
    char user[66];
    long long product_id;
    char product_name[257];
    char price[16], total[16];
    int quantity, status; /* 0 unpaid, 1 paid, 2 cancelled, 3 completed */
    time_t created, paid, cancelled;
} seckill_admin_order;

/* One page of SECKILL_ADMIN_PAGE_SIZE (+1 more row when there is a next page). */
int seckill_admin_products(request_rec *r, const seckill_product_filter *f,
                           apr_array_header_t **out);
int seckill_admin_product_get(request_rec *r, long long id, seckill_admin_product *out);
int seckill_admin_orders(request_rec *r, const seckill_order_filter *f, apr_array_header_t **out);

/* Inside the caller's transaction; each returns 0 or the MySQL error number (message in
 * err). The locked read gives found = 0 for no such product. */
unsigned int seckill_admin_db_lock(seckill_db *db, long long id, int *found, long long *stock,
                                   time_t *start, char *err, size_t errlen);
unsigned int seckill_admin_db_sold(seckill_db *db, long long id, long long *sold, char *err,
                                   size_t errlen);
unsigned int seckill_admin_db_insert(seckill_db *db, const seckill_product_values *v, int status,
                                     long long *id, char *err, size_t errlen);
/* Every field of v, stock moved by delta (the caller checked, under the lock, that the
 * stock stays >= 0; the statement's own guard is the last line). */
unsigned int seckill_admin_db_update(seckill_db *db, long long id, const seckill_product_values *v,
                                     long long delta, int status, char *err, size_t errlen);

#endif
