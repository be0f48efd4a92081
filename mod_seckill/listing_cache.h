/* The listing as served (GET /, GET /?slot=H): each httpd child keeps the page it rendered for
 * a day, slot and format (JSON or HTML) for SeckillListingCache ms (250) and serves it again to
 * every shopper, with the one per-shopper part, the CSRF token, spliced in per request; the
 * identity cookie is a header, made per request. Stock figures may thus be that much old. */
#ifndef SECKILL_LISTING_CACHE_H
#define SECKILL_LISTING_CACHE_H

#include "httpd.h"

typedef struct seckill_listing_cache seckill_listing_cache;

seckill_listing_cache *seckill_listing_cache_create(apr_pool_t *pchild);
/* Answers the listing of slot (of the day of now) with token as the CSRF token: from the
 * child's page when it is fresh (or being rendered again by another thread), else loaded,
 * rendered and kept. What a handler returns. */
int seckill_listing_respond(request_rec *r, time_t now, int slot, const char *token);

#endif
