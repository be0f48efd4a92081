/* Who the shopper is, by SeckillIdentity: a random id in an HMAC-signed cookie (issued by
 * any page), httpd's own REMOTE_USER, or the client address (r->useragent_ip, which
 * mod_remoteip corrects behind trusted proxies). X-Forwarded-For is never read here. */
#ifndef SECKILL_IDENTITY_H
#define SECKILL_IDENTITY_H

#include "httpd.h"

#define SECKILL_COOKIE "seckill_id"

/* The shopper's id (at most 64 bytes, no '|'), or NULL. With issue set, a shopper without
 * a valid cookie gets a new one (cookie mode only); a buy never issues one. */
const char *seckill_identity(request_rec *r, int issue);
/* The CSRF token of the shopper's pages; it only passes for that shopper. */
const char *seckill_csrf_token(request_rec *r, const char *user);
/* 1 when the request carries user's CSRF token: header X-CSRF-Token, else form_token. */
int seckill_csrf_ok(request_rec *r, const char *user, const char *form_token);

#endif
