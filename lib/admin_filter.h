/* The admin's list filters, from the query string of GET /admin/products and /admin/orders,
 * read strictly (a bad value is refused with the parameter's name, never guessed) into
 * typed values that bind to the guarded prepared statements of db.c. Pure. */
#ifndef SECKILL_ADMIN_FILTER_H
#define SECKILL_ADMIN_FILTER_H

#include <apr_pools.h>
#include <time.h>

#define SECKILL_ADMIN_PAGE_SIZE 50
#define SECKILL_ADMIN_PAGE_MAX 10000
#define SECKILL_ADMIN_SEARCH_MAX 64 /* characters of a name search */

typedef struct {
    int status;      /* -1 any, else 0/1/2 */
    char date[11];   /* "YYYY-MM-DD" or "" */
    int slot;        /* 0 any, else 8..22 (with no date: today) */
    time_t from, to; /* start-time window when has_window */
    int has_window;
    const char *q;      /* name search as typed, or NULL */
    const char *q_like; /* LIKE pattern: %q% with \ % _ escaped, or NULL */
    int page;           /* 1.. */
} seckill_product_filter;

typedef struct {
    int status;        /* -1 any, else 0 unpaid, 1 paid, 2 cancelled, 3 completed */
    long long product; /* 0 any */
    const char *user;  /* NULL any */
    char date[11];     /* "YYYY-MM-DD" or "" */
    time_t from, to;   /* create-time window when has_window */
    int has_window;
    int page;
} seckill_order_filter;

/* Parses args (the raw query string, may be NULL); now gives "today" for a slot without a
 * date. NULL ok, else a message naming the bad parameter (allocated from p). Parameters not
 * listed are ignored; a listed one given twice is refused. */
const char *seckill_product_filter_parse(apr_pool_t *p, const char *args, time_t now,
                                         seckill_product_filter *out);
const char *seckill_order_filter_parse(apr_pool_t *p, const char *args, seckill_order_filter *out);

/* "YYYY-MM-DD" -> local midnight of that day. 0 ok, -1 bad. */
int seckill_date_parse(const char *s, time_t *midnight);
/* s with \, % and _ escaped by a backslash and wrapped in %...% (allocated from p). */
const char *seckill_like_contains(apr_pool_t *p, const char *s);

#endif
