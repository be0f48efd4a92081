#include "alipay_api.h"

#include <apr_strings.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "alipay.h"

/* Gateway answers are a few hundred bytes; anything this large is not one. */
#define ANSWER_MAX (256 * 1024)

enum {
    P_APP_ID,
    P_METHOD,
    P_FORMAT,
    P_CHARSET,
    P_SIGN_TYPE,
    P_TIMESTAMP,
    P_VERSION,
    P_BIZ,
    P_NOTIFY,
    P_RETURN,
    P_SIGN,
    P__COUNT
};

/* The common request params of Alipay's open API, signed; NULL when signing fails. */
static seckill_alipay_param *signed_request(apr_pool_t *p, const seckill_alipay_client *c,
                                            const char *method, const char *biz_content,
                                            const char *notify_url, const char *return_url,
                                            time_t now)
{
    seckill_alipay_param *q = apr_pcalloc(p, sizeof *q * P__COUNT);
    char ts[20];
    seckill_alipay_timestamp(now, ts);
    q[P_APP_ID] = (seckill_alipay_param){"app_id", c->app_id};
    q[P_METHOD] = (seckill_alipay_param){"method", method};
    q[P_FORMAT] = (seckill_alipay_param){"format", "JSON"};
    q[P_CHARSET] = (seckill_alipay_param){"charset", "utf-8"};
    q[P_SIGN_TYPE] = (seckill_alipay_param){"sign_type", "RSA2"};
    q[P_TIMESTAMP] = (seckill_alipay_param){"timestamp", apr_pstrdup(p, ts)};
    q[P_VERSION] = (seckill_alipay_param){"version", "1.0"};
    q[P_BIZ] = (seckill_alipay_param){"biz_content", biz_content};
    q[P_NOTIFY] = (seckill_alipay_param){"notify_url", notify_url};
    q[P_RETURN] = (seckill_alipay_param){"return_url", return_url};
    q[P_SIGN] = (seckill_alipay_param){"sign", NULL};
    q[P_SIGN].value = seckill_alipay_sign_params(p, c->app_key, q, P__COUNT);
    return q[P_SIGN].value ? q : NULL;
}

char *seckill_alipay_page_pay_url(apr_pool_t *p, const seckill_alipay_client *c,
                                  const char *biz_content, const char *notify_url,
                                  const char *return_url, time_t now)
{
    seckill_alipay_param *q =
        signed_request(p, c, "alipay.trade.page.pay", biz_content, notify_url, return_url, now);
    if (!q)
        return NULL;
    return apr_pstrcat(p, c->gateway, strchr(c->gateway, '?') ? "&" : "?",
                       seckill_alipay_query_string(p, q, P__COUNT), NULL);
}

typedef struct {
    char *buf;
    size_t len, cap;
} answer;

static size_t collect(char *data, size_t size, size_t nmemb, void *baton)
{
    answer *a = baton;
    size_t n = size * nmemb;
    if (n > a->cap - a->len)
        return 0; /* too large: curl reports a write error */
    memcpy(a->buf + a->len, data, n);
    a->len += n;
    return n;
}

static apr_status_t json_free(void *obj)
{
    json_object_put(obj);
    return APR_SUCCESS;
}

int seckill_alipay_call(apr_pool_t *p, const seckill_alipay_client *c, const char *method,
                        const char *biz_content, struct json_object **resp, char *err,
                        size_t errlen)
{
    seckill_alipay_param *q = signed_request(p, c, method, biz_content, NULL, NULL, time(NULL));
    answer a = {apr_palloc(p, ANSWER_MAX + 1), 0, ANSWER_MAX};
    struct curl_slist *headers = NULL;
    const char *obj = NULL;
    size_t obj_len = 0;
    long status = 0;
    struct json_object *root;
    CURLcode cc;
    CURL *h;
    int rc;

    *resp = NULL;
    if (!q) {
        snprintf(err, errlen, "cannot sign the request (is the app key a private RSA key?)");
        return SECKILL_ALIPAY_CALL_UNREACHABLE;
    }
    if (!(h = curl_easy_init())) {
        snprintf(err, errlen, "curl_easy_init failed");
        return SECKILL_ALIPAY_CALL_UNREACHABLE;
    }
    headers =
        curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded;charset=utf-8");
    curl_easy_setopt(h, CURLOPT_URL, c->gateway);
    curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, seckill_alipay_query_string(p, q, P__COUNT));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    if (cc != CURLE_OK || status != 200) {
        snprintf(err, errlen, "%s at %s: %s (HTTP %ld)", method, c->gateway,
                 cc != CURLE_OK ? curl_easy_strerror(cc) : "unexpected status", status);
        return SECKILL_ALIPAY_CALL_UNREACHABLE;
    }
    a.buf[a.len] = 0;
    rc = seckill_alipay_verify_response(p, c->alipay_key, a.buf, a.len, method, &obj, &obj_len);
    if (rc == SECKILL_ALIPAY_MALFORMED || !obj) {
        snprintf(err, errlen, "%s: the answer is not a gateway answer", method);
        return SECKILL_ALIPAY_CALL_MALFORMED;
    }
    if (rc != SECKILL_ALIPAY_OK) {
        snprintf(err, errlen, "%s: the answer's signature does not verify with Alipay's key",
                 method);
        return SECKILL_ALIPAY_CALL_FORGED;
    }
    root = json_tokener_parse(apr_pstrmemdup(p, obj, obj_len));
    if (!root || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        snprintf(err, errlen, "%s: the answer object is not JSON", method);
        return SECKILL_ALIPAY_CALL_MALFORMED;
    }
    apr_pool_cleanup_register(p, root, json_free, apr_pool_cleanup_null);
    *resp = root;
    return SECKILL_ALIPAY_CALL_OK;
}

const char *seckill_alipay_field(struct json_object *resp, const char *name)
{
    struct json_object *v;
    if (!resp || !json_object_object_get_ex(resp, name, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

int seckill_alipay_succeeded(struct json_object *resp)
{
    const char *code = seckill_alipay_field(resp, "code");
    return code && !strcmp(code, "10000");
}

long long seckill_alipay_cents(const char *s)
{
    long long units = 0, cents = 0;
    int digits = 0, decimals = 0;
    if (!s)
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (++digits > 8)
            return -1;
        units = units * 10 + (*s - '0');
    }
    if (!digits)
        return -1;
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++) {
            if (++decimals > 2)
                return -1;
            cents = cents * 10 + (*s - '0');
        }
        if (!decimals)
            return -1;
        if (decimals == 1)
            cents *= 10;
    }
    return *s ? -1 : units * 100 + cents;
}
