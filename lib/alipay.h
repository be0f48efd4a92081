/* Alipay open API (RSA2): keys, sign strings, SHA256withRSA sign/verify, the gateway's signed
 * JSON answers, form parsing and URL encoding. Pure C over OpenSSL 3 EVP; keys are loaded once
 * and then shared read-only by any number of threads (every call uses its own EVP_MD_CTX). */
#ifndef SECKILL_ALIPAY_H
#define SECKILL_ALIPAY_H

#include <stddef.h>
#include <time.h>
#include <apr_pools.h>
#include <openssl/evp.h>

#include "form.h"

/* Results of the verifying calls. */
#define SECKILL_ALIPAY_OK 0
#define SECKILL_ALIPAY_BAD_SIGNATURE -1 /* well-formed, but the signature does not match */
#define SECKILL_ALIPAY_NO_SIGNATURE -2  /* no (or an empty) sign: unsigned input */
#define SECKILL_ALIPAY_MALFORMED -3     /* not base64, not JSON, no *_response object, ... */

/* One request/notify parameter: key and value, both already URL-decoded. */
/* a parameter: the same pair lib/form.c parses */
typedef seckill_form_pair seckill_alipay_param;

/* Loads an RSA key from file, in any form Alipay or openssl hands out:
 * private: PEM "BEGIN RSA PRIVATE KEY" (PKCS#1), "BEGIN PRIVATE KEY" (PKCS#8), or the raw
 *          base64 of either DER (Alipay's console: one line, no header);
 * public:  PEM "BEGIN PUBLIC KEY" (X.509 SubjectPublicKeyInfo), "BEGIN RSA PUBLIC KEY"
 *          (PKCS#1), "BEGIN CERTIFICATE" (its key), or the raw base64 of a DER public key.
 * NULL on failure with err (errlen bytes, may be NULL) naming the file and the form expected.
 * Free with EVP_PKEY_free (the key is refcounted; EVP_PKEY_up_ref to share). */
EVP_PKEY *seckill_alipay_load_private_key(const char *file, char *err, size_t errlen);
EVP_PKEY *seckill_alipay_load_public_key(const char *file, char *err, size_t errlen);
/* The same from text in memory (len bytes); what names the source in err. */
EVP_PKEY *seckill_alipay_private_key_from_text(const char *text, size_t len, const char *what,
                                               char *err, size_t errlen);
EVP_PKEY *seckill_alipay_public_key_from_text(const char *text, size_t len, const char *what,
                                              char *err, size_t errlen);

/* Flags of the sign string. */
#define SECKILL_ALIPAY_SKIP_SIGN_TYPE 1 /* also leave sign_type out: notifies and sync returns */

/* The string Alipay signs: "k=v&k=v..." of the n params sorted by key (bytewise), values as
 * given (NOT URL-encoded), leaving out `sign`, params with a NULL or empty value, and with
 * SECKILL_ALIPAY_SKIP_SIGN_TYPE `sign_type`. Allocated from p. */
char *seckill_alipay_sign_string(apr_pool_t *p, const seckill_alipay_param *params, int n,
                                 int flags);

/* SHA256withRSA (PKCS#1 v1.5) of len bytes, base64 (standard alphabet, padded) from p;
 * NULL when OpenSSL fails (key not a private RSA key). */
char *seckill_alipay_sign(apr_pool_t *p, EVP_PKEY *key, const char *data, size_t len);
/* Checks sign_b64 (standard base64; spaces, as a form decoder makes of '+', are read as '+')
 * over len bytes with the public key: SECKILL_ALIPAY_OK, _BAD_SIGNATURE, _NO_SIGNATURE
 * (NULL/empty), _MALFORMED (not base64). */
int seckill_alipay_verify(EVP_PKEY *pub, const char *data, size_t len, const char *sign_b64);

/* The sign of the params' sign string (flags 0: requests the app sends). NULL on failure. */
char *seckill_alipay_sign_params(apr_pool_t *p, EVP_PKEY *key, const seckill_alipay_param *params,
                                 int n);
/* Verifies params that carry their own `sign` (a notify: flags SECKILL_ALIPAY_SKIP_SIGN_TYPE;
 * a sync return: the same). Also refuses a sign_type other than RSA2 (_BAD_SIGNATURE). */
int seckill_alipay_verify_params(apr_pool_t *p, EVP_PKEY *pub, const seckill_alipay_param *params,
                                 int n, int flags);

/* Finds, in the raw text of a gateway answer `{"<name>":{...},"sign":"..."}`, the exact bytes of
 * the value of <name> (method with '.' as '_' plus "_response", e.g. alipay.trade.query →
 * alipay_trade_query_response; when absent, "error_response" is taken) and the sign (decoded
 * JSON string, NULL when absent). method NULL: the first member whose name ends in "_response".
 * 0 on success (*obj, *obj_len point into body), -1 when body is not such an object. */
int seckill_alipay_response_extract(apr_pool_t *p, const char *body, size_t len, const char *method,
                                    const char **obj, size_t *obj_len, char **sign);
/* Extracts as above and verifies the sign over the object's exact text. On OK (and on
 * _BAD_SIGNATURE / _NO_SIGNATURE, for logging) *obj and *obj_len (may be NULL) give the object
 * to parse, e.g. with json_tokener_parse of a copy. */
int seckill_alipay_verify_response(apr_pool_t *p, EVP_PKEY *pub, const char *body, size_t len,
                                   const char *method, const char **obj, size_t *obj_len);

/* URL encoding: RFC 3986 unreserved (A-Z a-z 0-9 - . _ ~) kept, every other byte %XX
 * (upper-case hex; space is %20). From p. */
char *seckill_alipay_urlencode(apr_pool_t *p, const char *s);
/* "k=v&k=v..." of the n params in the given order, keys and values URL-encoded, params with a
 * NULL value left out: the query of the redirect to the gateway (sign included). From p. */
char *seckill_alipay_query_string(apr_pool_t *p, const seckill_alipay_param *params, int n);
/* Parses an application/x-www-form-urlencoded body or query (len bytes): '&'-separated k=v,
 * '+' and %XX decoded, empty pieces skipped. Returns the count (params in *out, from p), or -1
 * on a malformed %-escape or a NUL byte in a decoded key or value. */
int seckill_alipay_parse_form(apr_pool_t *p, const char *s, size_t len, seckill_alipay_param **out);
/* The value of key among the params (the first one), or NULL. */
const char *seckill_alipay_param_get(const seckill_alipay_param *params, int n, const char *key);

/* Alipay's timestamp, "yyyy-MM-dd HH:mm:ss" in local time (China time in production: run with
 * TZ=Asia/Shanghai), into buf (20 bytes). */
void seckill_alipay_timestamp(time_t t, char buf[20]);

#endif
