/* The admin's changes to products (DESIGN.md "Admin"). A create or an edit is checked field
 * by field (product_input.h), written to MySQL and re-cached in Redis at once (its slot
 * refilled as the preheat does), so a product saved shortly before or during its sale sells
 * right away. `stock` is the units put on sale: an edit moves MySQL's and Redis's stock by
 * the same delta while it holds the product's row lock, and never below the units sold. */
#ifndef SECKILL_ADMIN_H
#define SECKILL_ADMIN_H

#include "apr_tables.h"
#include "httpd.h"

#include "admin_store.h"
#include "product_input.h"

typedef struct {
    int status;                    /* HTTP: 201 created, 200 edited, 404, 422, 503 */
    long long id;                  /* the product's */
    seckill_product_errors errors; /* per field, with 422 */
    const char *msg;               /* a sentence for the page */
    int cached;                    /* its slot is in Redis now */
    seckill_product_input values;  /* what was checked (edit: the given over the current) */
} seckill_admin_saved;

/* in->text[f] NULL: the field is not given (image: default; others: required). */
void seckill_admin_create(request_rec *r, const seckill_product_input *in,
                          seckill_admin_saved *out);
/* Fields not given (NULL) keep their value; stock given = the new units put on sale. */
void seckill_admin_update(request_rec *r, long long id, const seckill_product_input *in,
                          seckill_admin_saved *out);
/* The current product as the edit form's texts (stock = units put on sale). */
void seckill_admin_input_of(apr_pool_t *p, const seckill_admin_product *cur,
                            seckill_product_input *in);

/* live_stock of each product from Redis in one round trip (left -1 when not cached or when
 * Redis does not answer). */
void seckill_admin_live_stock(request_rec *r, seckill_admin_product *products, int n);

/* The admin's CSRF token, bound to REMOTE_USER ("" without a user or SeckillSecretFile). */
const char *seckill_admin_csrf_token(request_rec *r);
/* 1 when the request carries it: header X-CSRF-Token, else form_token. */
int seckill_admin_csrf_ok(request_rec *r, const char *form_token);

#endif
