/* Alipay's open API as the shop uses it: the signed redirect that opens a page-pay trade,
 * and the server-to-server calls (alipay.trade.query/close/refund) over HTTP(S) with libcurl,
 * whose answers are believed only once their RSA2 signature verifies with Alipay's key. */
#ifndef SECKILL_ALIPAY_API_H
#define SECKILL_ALIPAY_API_H

#include <apr_pools.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <time.h>

/* One merchant app at one gateway. Read-only once made: shared by every thread. */
typedef struct {
    const char *gateway; /* https://openapi.alipay.com/gateway.do, the sandbox's or a stand-in */
    const char *app_id;
    EVP_PKEY *app_key;    /* the app's private key: signs requests */
    EVP_PKEY *alipay_key; /* Alipay's public key: verifies notifies, returns and answers */
    long timeout_ms;      /* connect + whole call */
} seckill_alipay_client;

/* Outcomes of seckill_alipay_call. */
#define SECKILL_ALIPAY_CALL_OK 0           /* a verified answer (its code may still be an error) */
#define SECKILL_ALIPAY_CALL_UNREACHABLE -1 /* no HTTP 200 answer: network, timeout, status */
#define SECKILL_ALIPAY_CALL_FORGED -2      /* an answer whose signature does not verify */
#define SECKILL_ALIPAY_CALL_MALFORMED -3   /* not the JSON shape of a gateway answer */

/* The full URL the shopper's browser is sent to (302) for alipay.trade.page.pay:
 * common params + biz_content (a JSON object text) signed RSA2, query-encoded. NULL when
 * signing fails. timestamp is `now` in Alipay's format. From p. */
char *seckill_alipay_page_pay_url(apr_pool_t *p, const seckill_alipay_client *c,
                                  const char *biz_content, const char *notify_url,
                                  const char *return_url, time_t now);

/* POSTs method (alipay.trade.query, ...) with biz_content, verifies the answer and parses
 * the <method>_response object into *resp (freed with p). err gets a one-line reason on
 * failure. */
int seckill_alipay_call(apr_pool_t *p, const seckill_alipay_client *c, const char *method,
                        const char *biz_content, struct json_object **resp, char *err,
                        size_t errlen);

/* A string member of an answer object, or NULL. */
const char *seckill_alipay_field(struct json_object *resp, const char *name);
/* 1 when the answer's code is 10000 (Success). */
int seckill_alipay_succeeded(struct json_object *resp);

/* An amount "123.45" (1-8 digits, optional 1-2 decimals) in cents; -1 when not one. */
long long seckill_alipay_cents(const char *amount);

#endif
