/* Alipay RSA2 (lib/alipay.c): the sign string's rules, a fixed vector made with openssl,
 * every key form (generated at test time with the openssl CLI into a temp dir), sign/verify
 * round trips and tampering, the gateway answers' raw-text extraction, URL and form coding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "alipay.h"

static apr_pool_t *pool;
static char dir[] = "/tmp/test_alipay.XXXXXX";

/* ---- the fixed vector ----
 * openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out priv.pem (not kept)
 * printf '%s' "$VECTOR_DATA" | openssl dgst -sha256 -sign priv.pem | base64 -w0 */
static const char VECTOR_PUB[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4MbMM37FywaIsiBYFAEp\n"
    "2k4OFAPE4OA9WWV0mOF953maPrvI7UGrORiy29BfN4G1LqYgtTPIZsAqEEwYU20F\n"
    "cRo0P7ym1VxQRNO6pR3DyDXFred7i9ByMJxcI3wq4+xmE5yjZKMgBBCMrGtuKYDf\n"
    "C8qNzAdKJbQSiTlmCo5+pVbpcD27Ab9GhKaR3uJxE7Ma4oORTxDpJ/g+w+Obu/WT\n"
    "bCcsUkoU/dJVdsFys6Q5ZsLtDRPD5IUJyqM/DQolMIwJbxgS//6tHb2bfYUdpmMq\n"
    "BL8pQJ0+RxyhtpSCacOB17dhiwvRDngieH4ZJ7PmzH5SxU7/rgKWKNxq2mlzoCr0\n"
    "0wIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
#define VECTOR_BIZ                                                                                 \
    "{\"out_trade_no\":\"1234567890123456789\",\"total_amount\":\"309.00\",\"subject\":"           \
    "\"扫地机器人 X1\",\"product_code\":\"FAST_INSTANT_TRADE_PAY\"}"
#define VECTOR_DATA                                                                                \
    "app_id=2021000000000000&biz_content=" VECTOR_BIZ "&charset=utf-8&method=alipay.trade.page."   \
    "pay&notify_url=http://127.0.0.1:38080/alipay/notify/&sign_type=RSA2&timestamp=2026-11-25 "    \
    "10:15:02&version=1.0"
static const char VECTOR_SIGN[] =
    "Eg3o9993RXftdap+ynrBCu9AeOOH41JnXXnj6sQE+SViAfGbcnRpCI/HrVI5Lm7eoC1s56murWwtqK07vYBb/"
    "WkylSAzovvbNcIehWnU4tCZCIt+do8p1fBVZJ6QX3QxPz4W86BCOVkkMgkqM0pDIys3v7luzhn2iUDTJ7KI4uX/"
    "RNrL8uRThphLFdMkkGJaKUOiWLZzmle9d93qdyfwGoZvgN6Ou6f9OQsk6v3FoK6uEDwBXYsL4g/"
    "BmKe2Mctd/"
    "OMF1nt6yPEg5SgDoDSQ71gCHXTGcpZt0MSNx+b4v3lFSu2m28AP0dX3ofgFvhljhbdH4Rv2NCYBwMOJ5nkmkg==";

/* The vector's params in no particular order, with an empty one and the sign. */
static seckill_alipay_param vector_params[] = {
    {"timestamp", "2026-11-25 10:15:02"},
    {"method", "alipay.trade.page.pay"},
    {"version", "1.0"},
    {"return_url", ""},
    {"sign", VECTOR_SIGN},
    {"biz_content", VECTOR_BIZ},
    {"sign_type", "RSA2"},
    {"notify_url", "http://127.0.0.1:38080/alipay/notify/"},
    {"charset", "utf-8"},
    {"app_id", "2021000000000000"},
};
#define NVEC ((int)(sizeof vector_params / sizeof vector_params[0]))

static char *path(const char *name)
{
    static char buf[8][256];
    static int i;
    char *b = buf[i++ % 8];
    snprintf(b, 256, "%s/%s", dir, name);
    return b;
}

static int sh(const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof full, "cd %s && (%s) >/dev/null 2>&1", dir, cmd);
    return system(full);
}

static int setup(void **state)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (!mkdtemp(dir))
        return -1;
    /* every form of one key pair, as openssl writes them, plus a second pair */
    if (sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out pkcs8.pem") ||
        sh("openssl pkey -in pkcs8.pem -traditional -out pkcs1.pem") ||
        sh("openssl pkey -in pkcs8.pem -outform DER | base64 -w0 > raw8.txt") ||
        sh("openssl pkey -in pkcs1.pem -traditional -outform DER | base64 -w0 > raw1.txt") ||
        sh("openssl pkey -in pkcs8.pem -pubout -out pub.pem") ||
        sh("openssl rsa -in pkcs8.pem -RSAPublicKey_out -out pub1.pem") ||
        sh("openssl pkey -in pkcs8.pem -pubout -outform DER | base64 -w0 > rawpub.txt") ||
        sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.pem") ||
        sh("openssl pkey -in other.pem -pubout -out otherpub.pem") ||
        sh("printf 'not a key at all\\n' > garbage.txt") || sh(": > empty.txt"))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return -1;
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}

/* ---- sign strings ---- */

static void sign_string_rules(void **state)
{
    seckill_alipay_param p[] = {
        {"b", "2"},     {"sign", "XYZ"}, {"a", "x y&z=1%20+中"},
        {"empty", ""},  {"nul", NULL},   {"sign_type", "RSA2"},
        {"B", "upper"}, {"a_b", "3"},    {"ab", "4"},
    };
    int n = (int)(sizeof p / sizeof p[0]);
    /* bytewise by key ('B' < 'a' < 'a_b' < 'ab' < 'b'), values raw, sign and empties out */
    assert_string_equal(seckill_alipay_sign_string(pool, p, n, 0),
                        "B=upper&a=x y&z=1%20+中&a_b=3&ab=4&b=2&sign_type=RSA2");
    assert_string_equal(seckill_alipay_sign_string(pool, p, n, SECKILL_ALIPAY_SKIP_SIGN_TYPE),
                        "B=upper&a=x y&z=1%20+中&a_b=3&ab=4&b=2");
    assert_string_equal(seckill_alipay_sign_string(pool, p, 0, 0), "");
    assert_string_equal(seckill_alipay_sign_string(pool, vector_params, NVEC, 0), VECTOR_DATA);
}

static void sign_string_is_order_independent(void **state)
{
    seckill_alipay_param a[] = {{"z", "1"}, {"m", "2"}, {"a", "3"}};
    seckill_alipay_param b[] = {{"a", "3"}, {"z", "1"}, {"m", "2"}};
    assert_string_equal(seckill_alipay_sign_string(pool, a, 3, 0),
                        seckill_alipay_sign_string(pool, b, 3, 0));
    assert_string_equal(seckill_alipay_sign_string(pool, a, 3, 0), "a=3&m=2&z=1");
}

/* ---- the fixed vector ---- */

static void fixed_vector(void **state)
{
    char err[512] = "";
    EVP_PKEY *pub = seckill_alipay_public_key_from_text(VECTOR_PUB, strlen(VECTOR_PUB), "vector",
                                                        err, sizeof err);
    char *s, *bad;
    assert_non_null(pub);
    s = seckill_alipay_sign_string(pool, vector_params, NVEC, 0);
    assert_int_equal(seckill_alipay_verify(pub, s, strlen(s), VECTOR_SIGN), SECKILL_ALIPAY_OK);
    assert_int_equal(seckill_alipay_verify_params(pool, pub, vector_params, NVEC, 0),
                     SECKILL_ALIPAY_OK);
    /* one byte of the data, one of the signature */
    bad = apr_pstrdup(pool, s);
    *strstr(bad, "309.00") = '4';
    assert_int_equal(seckill_alipay_verify(pub, bad, strlen(bad), VECTOR_SIGN),
                     SECKILL_ALIPAY_BAD_SIGNATURE);
    bad = apr_pstrdup(pool, VECTOR_SIGN);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    assert_int_equal(seckill_alipay_verify(pub, s, strlen(s), bad), SECKILL_ALIPAY_BAD_SIGNATURE);
    /* '+' turned into ' ' by a form decoder still verifies; garbage is malformed */
    bad = apr_pstrdup(pool, VECTOR_SIGN);
    for (char *c = bad; *c; c++)
        if (*c == '+')
            *c = ' ';
    assert_int_equal(seckill_alipay_verify(pub, s, strlen(s), bad), SECKILL_ALIPAY_OK);
    assert_int_equal(seckill_alipay_verify(pub, s, strlen(s), "!!notbase64!!"),
                     SECKILL_ALIPAY_MALFORMED);
    assert_int_equal(seckill_alipay_verify(pub, s, strlen(s), ""), SECKILL_ALIPAY_NO_SIGNATURE);
    assert_int_equal(seckill_alipay_verify(pub, s, strlen(s), NULL), SECKILL_ALIPAY_NO_SIGNATURE);
    /* the same signature checked as a notify (sign_type left out) does not match */
    assert_int_equal(
        seckill_alipay_verify_params(pool, pub, vector_params, NVEC, SECKILL_ALIPAY_SKIP_SIGN_TYPE),
        SECKILL_ALIPAY_BAD_SIGNATURE);
    EVP_PKEY_free(pub);
}

/* ---- keys ---- */

static void each_key_form_loads(void **state)
{
    static const char *privs[] = {"pkcs8.pem", "pkcs1.pem", "raw8.txt", "raw1.txt"};
    static const char *pubs[] = {"pub.pem", "pub1.pem", "rawpub.txt"};
    char err[512];
    const char *data = "out_trade_no=1&total_amount=0.01";
    for (size_t i = 0; i < sizeof privs / sizeof *privs; i++) {
        EVP_PKEY *k;
        char *sig;
        err[0] = 0;
        k = seckill_alipay_load_private_key(path(privs[i]), err, sizeof err);
        if (!k)
            fail_msg("%s: %s", privs[i], err);
        assert_true(EVP_PKEY_is_a(k, "RSA"));
        assert_int_equal(EVP_PKEY_get_bits(k), 2048);
        sig = seckill_alipay_sign(pool, k, data, strlen(data));
        assert_non_null(sig);
        assert_int_equal(strlen(sig), 344); /* 256 bytes, base64 with padding */
        for (size_t j = 0; j < sizeof pubs / sizeof *pubs; j++) {
            EVP_PKEY *pub = seckill_alipay_load_public_key(path(pubs[j]), err, sizeof err);
            if (!pub)
                fail_msg("%s: %s", pubs[j], err);
            assert_int_equal(seckill_alipay_verify(pub, data, strlen(data), sig),
                             SECKILL_ALIPAY_OK);
            EVP_PKEY_free(pub);
        }
        EVP_PKEY_free(k);
    }
}

static void key_errors_name_file_and_form(void **state)
{
    char err[512];
    assert_null(seckill_alipay_load_private_key(path("pub.pem"), err, sizeof err));
    assert_non_null(strstr(err, path("pub.pem")));
    assert_non_null(strstr(err, "expected an RSA private key"));
    assert_non_null(strstr(err, "BEGIN PUBLIC KEY"));

    assert_null(seckill_alipay_load_public_key(path("pkcs1.pem"), err, sizeof err));
    assert_non_null(strstr(err, "expected an RSA public key"));
    assert_non_null(strstr(err, "BEGIN RSA PRIVATE KEY"));
    assert_null(seckill_alipay_load_public_key(path("raw8.txt"), err, sizeof err));
    assert_non_null(strstr(err, "found a private key"));
    assert_null(seckill_alipay_load_private_key(path("rawpub.txt"), err, sizeof err));
    assert_non_null(strstr(err, "expected an RSA private key"));

    assert_null(seckill_alipay_load_private_key(path("garbage.txt"), err, sizeof err));
    assert_non_null(strstr(err, "garbage.txt: expected"));
    assert_null(seckill_alipay_load_public_key(path("empty.txt"), err, sizeof err));
    assert_non_null(strstr(err, "empty.txt: expected"));
    assert_null(seckill_alipay_load_private_key(path("missing.pem"), err, sizeof err));
    assert_non_null(strstr(err, "missing.pem: cannot open"));
    /* a truncated PEM */
    assert_null(seckill_alipay_public_key_from_text("-----BEGIN PUBLIC KEY-----\nMIIB\n", 33, "cut",
                                                    err, sizeof err));
    assert_non_null(strstr(err, "cut: expected"));
    /* err may be NULL */
    assert_null(seckill_alipay_load_private_key(path("garbage.txt"), NULL, 0));
}

/* ---- round trips ---- */

static void round_trip_and_tamper(void **state)
{
    char err[512];
    EVP_PKEY *k = seckill_alipay_load_private_key(path("pkcs8.pem"), err, sizeof err);
    EVP_PKEY *pub = seckill_alipay_load_public_key(path("pub.pem"), err, sizeof err);
    EVP_PKEY *other = seckill_alipay_load_public_key(path("otherpub.pem"), err, sizeof err);
    seckill_alipay_param p[] = {
        {"notify_time", "2026-11-25 10:16:00"},
        {"notify_type", "trade_status_sync"},
        {"out_trade_no", "2125415374202740736"},
        {"total_amount", "309.00"},
        {"subject", "扫地机器人 X1 & 50% off"},
        {"trade_status", "TRADE_SUCCESS"},
        {"sign_type", "RSA2"},
        {"sign", NULL},
    };
    int n = (int)(sizeof p / sizeof p[0]);
    char *s;
    assert_non_null(k);
    assert_non_null(pub);
    assert_non_null(other);
    /* Alipay signs notifies without sign_type */
    s = seckill_alipay_sign_string(pool, p, n, SECKILL_ALIPAY_SKIP_SIGN_TYPE);
    p[n - 1].value = seckill_alipay_sign(pool, k, s, strlen(s));
    assert_non_null(p[n - 1].value);
    assert_int_equal(seckill_alipay_verify_params(pool, pub, p, n, SECKILL_ALIPAY_SKIP_SIGN_TYPE),
                     SECKILL_ALIPAY_OK);
    assert_int_equal(seckill_alipay_verify_params(pool, other, p, n, SECKILL_ALIPAY_SKIP_SIGN_TYPE),
                     SECKILL_ALIPAY_BAD_SIGNATURE);
    p[3].value = "0.01";
    assert_int_equal(seckill_alipay_verify_params(pool, pub, p, n, SECKILL_ALIPAY_SKIP_SIGN_TYPE),
                     SECKILL_ALIPAY_BAD_SIGNATURE);
    p[3].value = "309.00";
    p[6].value = "RSA";
    assert_int_equal(seckill_alipay_verify_params(pool, pub, p, n, SECKILL_ALIPAY_SKIP_SIGN_TYPE),
                     SECKILL_ALIPAY_BAD_SIGNATURE);
    p[6].value = "RSA2";
    p[n - 1].value = "";
    assert_int_equal(seckill_alipay_verify_params(pool, pub, p, n, SECKILL_ALIPAY_SKIP_SIGN_TYPE),
                     SECKILL_ALIPAY_NO_SIGNATURE);

    /* requests: sign_params covers sign_type */
    p[n - 1].value = seckill_alipay_sign_params(pool, k, p, n);
    assert_int_equal(seckill_alipay_verify_params(pool, pub, p, n, 0), SECKILL_ALIPAY_OK);
    /* a public key cannot sign */
    assert_null(seckill_alipay_sign(pool, pub, "x", 1));
    EVP_PKEY_free(k);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(other);
}

/* ---- gateway answers ---- */

static void response_extraction(void **state)
{
    const char *obj;
    size_t len;
    char *sign;
    /* nested objects, escaped quotes, braces and brackets inside strings, sign first */
    const char *o = "{\"code\":\"10000\",\"msg\":\"Success\",\"subject\":\"a \\\"}{\\\" b ]\","
                    "\"fund_bill_list\":[{\"amount\":\"1.00\",\"x\":{\"y\":\"}\"}}],\"n\":1.5,"
                    "\"t\":true,\"z\":null}";
    char *body = apr_psprintf(
        pool,
        "{\"sign\":\"ab\\/c+d==\" , \"alipay_trade_query_response\" :\n %s , \"x_response\":{}}",
        o);
    size_t want = strlen(o);
    assert_int_equal(seckill_alipay_response_extract(pool, body, strlen(body), "alipay.trade.query",
                                                     &obj, &len, &sign),
                     0);
    assert_int_equal(len, want);
    assert_memory_equal(obj, o, want);
    assert_string_equal(sign, "ab/c+d==");
    /* method NULL: the first *_response */
    assert_int_equal(
        seckill_alipay_response_extract(pool, body, strlen(body), NULL, &obj, &len, &sign), 0);
    assert_int_equal(len, want);
    /* another method: error_response when there is one, else none */
    body = "{\"error_response\":{\"code\":\"40002\",\"sub_code\":\"isv.invalid-signature\"},"
           "\"sign\":\"AAAA\"}";
    assert_int_equal(seckill_alipay_response_extract(pool, body, strlen(body), "alipay.trade.close",
                                                     &obj, &len, &sign),
                     0);
    assert_int_equal(len, strlen("{\"code\":\"40002\",\"sub_code\":\"isv.invalid-signature\"}"));
    body = "{\"alipay_trade_query_response\":{},\"sign\":\"AAAA\"}";
    assert_int_equal(seckill_alipay_response_extract(pool, body, strlen(body),
                                                     "alipay.trade.refund", &obj, &len, &sign),
                     -1);
    assert_int_equal(seckill_alipay_response_extract(pool, body, strlen(body), "alipay.trade.query",
                                                     &obj, &len, &sign),
                     0);
    assert_string_equal(obj, "{},\"sign\":\"AAAA\"}");
    body = "{\"alipay_trade_query_response\":{\"a\":1}}";
    assert_int_equal(seckill_alipay_response_extract(pool, body, strlen(body), "alipay.trade.query",
                                                     &obj, &len, &sign),
                     0);
    assert_null(sign);
    /* malformed */
    static const char *bad[] = {
        "",
        "[]",
        "{}",
        "{\"alipay_trade_query_response\":{\"a\":\"}\"}",
        "{\"alipay_trade_query_response\":{\"a\":[}]},\"sign\":\"x\"}",
        "{\"alipay_trade_query_response\":{\"a\":\"unterminated}}",
        "{\"alipay_trade_query_response\" {}}",
        "{\"alipay_trade_query_response\":{},\"sign\":1}",
        "{\"alipay_trade_query_response\":{} \"sign\":\"x\"}",
        "{\"alipay_trade_query_response\":\"a string\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (seckill_alipay_response_extract(pool, bad[i], strlen(bad[i]), "alipay.trade.query",
                                            &obj, &len, &sign) != -1)
            fail_msg("accepted: %s", bad[i]);
}

static void response_verify(void **state)
{
    char err[512];
    EVP_PKEY *k = seckill_alipay_load_private_key(path("pkcs1.pem"), err, sizeof err);
    EVP_PKEY *pub = seckill_alipay_load_public_key(path("rawpub.txt"), err, sizeof err);
    /* as Alipay writes it: the object's text as signed, non-ASCII raw, spacing kept */
    const char *o = "{\"code\":\"10000\",\"msg\":\"Success\",\"trade_no\":\"2026112522001\","
                    "\"out_trade_no\":\"2125415374202740736\",\"trade_status\":\"TRADE_SUCCESS\","
                    "\"total_amount\":\"309.00\", \"subject\":\"扫地机器人 \\\"X1\\\" {}\"}";
    char *sig = seckill_alipay_sign(pool, k, o, strlen(o));
    char *body = apr_psprintf(pool, "{\"alipay_trade_query_response\":%s,\"sign\":\"%s\"}", o, sig);
    const char *obj = NULL;
    size_t len = 0;
    assert_int_equal(seckill_alipay_verify_response(pool, pub, body, strlen(body),
                                                    "alipay.trade.query", &obj, &len),
                     SECKILL_ALIPAY_OK);
    assert_int_equal(len, strlen(o));
    assert_memory_equal(obj, o, len);
    /* tampered inside the object */
    *strstr(body, "309.00") = '1';
    assert_int_equal(seckill_alipay_verify_response(pool, pub, body, strlen(body),
                                                    "alipay.trade.query", NULL, NULL),
                     SECKILL_ALIPAY_BAD_SIGNATURE);
    /* unsigned answer */
    body = apr_psprintf(pool, "{\"alipay_trade_query_response\":%s}", o);
    assert_int_equal(seckill_alipay_verify_response(pool, pub, body, strlen(body),
                                                    "alipay.trade.query", &obj, &len),
                     SECKILL_ALIPAY_NO_SIGNATURE);
    assert_non_null(obj);
    assert_int_equal(
        seckill_alipay_verify_response(pool, pub, "nope", 4, "alipay.trade.query", &obj, &len),
        SECKILL_ALIPAY_MALFORMED);
    assert_null(obj);
    EVP_PKEY_free(k);
    EVP_PKEY_free(pub);
}

/* ---- URLs and forms ---- */

static void url_encoding(void **state)
{
    seckill_alipay_param p[] = {
        {"method", "alipay.trade.page.pay"},
        {"timestamp", "2026-11-25 10:15:02"},
        {"biz_content", "{\"subject\":\"机器人\"}"},
        {"skip", NULL},
        {"sign", "a+b/c="},
    };
    assert_string_equal(seckill_alipay_urlencode(pool, "AZaz09-._~ +/=&%中"),
                        "AZaz09-._~%20%2B%2F%3D%26%25%E4%B8%AD");
    assert_string_equal(seckill_alipay_urlencode(pool, ""), "");
    assert_string_equal(seckill_alipay_query_string(pool, p, 5),
                        "method=alipay.trade.page.pay&timestamp=2026-11-25%2010%3A15%3A02&"
                        "biz_content=%7B%22subject%22%3A%22%E6%9C%BA%E5%99%A8%E4%BA%BA%22%7D&"
                        "sign=a%2Bb%2Fc%3D");
}

static void form_parsing(void **state)
{
    seckill_alipay_param *p;
    const char *body = "a=1&b=x+y%20z&&sign=a%2Bb%2F%3D&empty=&flag&c=%E4%B8%AD";
    int n = seckill_alipay_parse_form(pool, body, strlen(body), &p);
    assert_int_equal(n, 6);
    assert_string_equal(seckill_alipay_param_get(p, n, "a"), "1");
    assert_string_equal(seckill_alipay_param_get(p, n, "b"), "x y z");
    assert_string_equal(seckill_alipay_param_get(p, n, "sign"), "a+b/=");
    assert_string_equal(seckill_alipay_param_get(p, n, "empty"), "");
    assert_string_equal(seckill_alipay_param_get(p, n, "flag"), "");
    assert_string_equal(seckill_alipay_param_get(p, n, "c"), "中");
    assert_null(seckill_alipay_param_get(p, n, "missing"));
    assert_int_equal(seckill_alipay_parse_form(pool, "", 0, &p), 0);
    assert_int_equal(seckill_alipay_parse_form(pool, "a=%zz", 5, &p), -1);
    assert_int_equal(seckill_alipay_parse_form(pool, "a=%4", 4, &p), -1);
    assert_int_equal(seckill_alipay_parse_form(pool, "a=%00", 5, &p), -1);
    /* the query a redirect carries parses back to the same params */
    seckill_alipay_param q[] = {{"k 1", "v&=+%中"}, {"k2", ""}};
    char *qs = seckill_alipay_query_string(pool, q, 2);
    n = seckill_alipay_parse_form(pool, qs, strlen(qs), &p);
    assert_int_equal(n, 2);
    assert_string_equal(p[0].key, "k 1");
    assert_string_equal(p[0].value, "v&=+%中");
    assert_string_equal(p[1].value, "");
}

static void timestamp_format(void **state)
{
    char buf[20];
    seckill_alipay_timestamp(time(NULL), buf);
    assert_int_equal(strlen(buf), 19);
    assert_true(buf[4] == '-' && buf[7] == '-' && buf[10] == ' ' && buf[13] == ':' &&
                buf[16] == ':');
}

/* ---- one key, many threads ---- */

typedef struct {
    EVP_PKEY *k, *pub;
    int ok;
} thread_arg;

static void *sign_many(void *v)
{
    thread_arg *a = v;
    apr_pool_t *p;
    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    a->ok = 1;
    for (int i = 0; i < 20; i++) {
        char *data = apr_psprintf(p, "out_trade_no=%d&total_amount=1.00", i);
        char *sig = seckill_alipay_sign(p, a->k, data, strlen(data));
        if (!sig || seckill_alipay_verify(a->pub, data, strlen(data), sig) != SECKILL_ALIPAY_OK)
            a->ok = 0;
    }
    apr_pool_destroy(p);
    return NULL;
}

static void shared_key_threads(void **state)
{
    char err[512];
    pthread_t t[4];
    thread_arg a[4];
    EVP_PKEY *k = seckill_alipay_load_private_key(path("pkcs8.pem"), err, sizeof err);
    EVP_PKEY *pub = seckill_alipay_load_public_key(path("pub.pem"), err, sizeof err);
    assert_non_null(k);
    assert_non_null(pub);
    for (int i = 0; i < 4; i++) {
        a[i].k = k;
        a[i].pub = pub;
        assert_int_equal(pthread_create(&t[i], NULL, sign_many, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_true(a[i].ok);
    }
    EVP_PKEY_free(k);
    EVP_PKEY_free(pub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sign_string_rules),
        cmocka_unit_test(sign_string_is_order_independent),
        cmocka_unit_test(fixed_vector),
        cmocka_unit_test(each_key_form_loads),
        cmocka_unit_test(key_errors_name_file_and_form),
        cmocka_unit_test(round_trip_and_tamper),
        cmocka_unit_test(response_extraction),
        cmocka_unit_test(response_verify),
        cmocka_unit_test(url_encoding),
        cmocka_unit_test(form_parsing),
        cmocka_unit_test(timestamp_format),
        cmocka_unit_test(shared_key_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
