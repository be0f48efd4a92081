/* The admin's view trees (value.h), one per page, rendered as JSON or through the
 * templates/admin_*.html pages. Links are made from `base`, the admin's own path (e.g.
 * "/admin/"), so the admin works wherever SetHandler seckill-admin is mounted. */
#ifndef SECKILL_ADMIN_VIEW_H
#define SECKILL_ADMIN_VIEW_H

#include "apr_tables.h"
#include "httpd.h"

#include "admin.h"
#include "admin_filter.h"
#include "admin_store.h"
#include "value.h"

/* One product: stock = units put on sale, stock_left (MySQL), sold (orders not cancelled),
 * live_stock (Redis, null when not cached). */
seckill_value *seckill_admin_product_view(request_rec *r, const char *base,
                                          const seckill_admin_product *p);
/* A page of products (rows may hold one more than a page: then there is a next page). */
seckill_value *seckill_admin_products_view(request_rec *r, const char *base,
                                           const seckill_product_filter *f,
                                           apr_array_header_t *rows);
seckill_value *seckill_admin_orders_view(request_rec *r, const char *base,
                                         const seckill_order_filter *f, apr_array_header_t *rows);
/* The create / edit form: the values as typed, an error per bad field, the product (edit). */
seckill_value *seckill_admin_form_view(request_rec *r, const char *base,
                                       const seckill_product_input *values,
                                       const seckill_product_errors *errors,
                                       const seckill_admin_product *current, const char *msg);
/* {"ok":false,"code","msg","status"} plus "errors" {field: message} when given. */
seckill_value *seckill_admin_error_view(request_rec *r, const char *base, int status,
                                        const char *code, const char *msg, seckill_value *errors);
/* The field errors as {field: message}. */
seckill_value *seckill_admin_errors_obj(apr_pool_t *p, const seckill_product_errors *errors);

#endif
