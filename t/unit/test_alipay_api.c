/* Alipay's open API client (lib/alipay_api.c): the page-pay redirect carries every common
 * param, is signed over them with the app key and survives URL coding; amounts in cents are
 * strict; a gateway that cannot be reached is told apart from one that answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <openssl/rsa.h>

#include "alipay.h"
#include "alipay_api.h"
#include "form.h"

static apr_pool_t *pool;
static EVP_PKEY *app_key;

static int setup(void **state)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    app_key = EVP_RSA_gen(2048);
    return app_key ? 0 : -1;
}

static int teardown(void **state)
{
    EVP_PKEY_free(app_key);
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}

static seckill_alipay_client client(const char *gateway)
{
    seckill_alipay_client c = {gateway, "2021000000000000", app_key, app_key, 2000};
    return c;
}

static void page_pay_url_is_signed(void **state)
{
    seckill_alipay_client c = client("http://127.0.0.1:38091/gateway.do");
    const char *biz = "{\"out_trade_no\":\"42\",\"total_amount\":\"12.50\",\"subject\":\"扫地 "
                      "机器人&=?\",\"product_code\":\"FAST_INSTANT_TRADE_PAY\"}";
    char *url = seckill_alipay_page_pay_url(pool, &c, biz, "http://shop/alipay/notify/",
                                            "http://shop/result/", 1795582624);
    const char *q;
    seckill_form_pair *p;
    int n;

    assert_non_null(url);
    assert_true(strncmp(url, "http://127.0.0.1:38091/gateway.do?", 34) == 0);
    q = url + 34;
    assert_null(strchr(q, ' ')); /* spaces are %20, never raw */
    n = seckill_form_parse(pool, q, strlen(q), &p);
    assert_int_equal(n, 11);
    assert_string_equal(seckill_alipay_param_get(p, n, "app_id"), "2021000000000000");
    assert_string_equal(seckill_alipay_param_get(p, n, "method"), "alipay.trade.page.pay");
    assert_string_equal(seckill_alipay_param_get(p, n, "format"), "JSON");
    assert_string_equal(seckill_alipay_param_get(p, n, "charset"), "utf-8");
    assert_string_equal(seckill_alipay_param_get(p, n, "sign_type"), "RSA2");
    assert_string_equal(seckill_alipay_param_get(p, n, "version"), "1.0");
    assert_string_equal(seckill_alipay_param_get(p, n, "biz_content"), biz);
    assert_string_equal(seckill_alipay_param_get(p, n, "notify_url"), "http://shop/alipay/notify/");
    assert_string_equal(seckill_alipay_param_get(p, n, "return_url"), "http://shop/result/");
    assert_int_equal(strlen(seckill_alipay_param_get(p, n, "timestamp")), 19);
    /* requests are signed over every param but sign (sign_type included) */
    assert_int_equal(seckill_alipay_verify_params(pool, app_key, p, n, 0), SECKILL_ALIPAY_OK);
    assert_int_not_equal(
        seckill_alipay_verify_params(pool, app_key, p, n, SECKILL_ALIPAY_SKIP_SIGN_TYPE),
        SECKILL_ALIPAY_OK);
    /* a changed amount does not verify */
    for (int i = 0; i < n; i++)
        if (!strcmp(p[i].key, "biz_content"))
            p[i].value = apr_pstrcat(pool, p[i].value, " ", NULL);
    assert_int_equal(seckill_alipay_verify_params(pool, app_key, p, n, 0),
                     SECKILL_ALIPAY_BAD_SIGNATURE);
}

static void gateway_with_query(void **state)
{
    seckill_alipay_client c = client("http://127.0.0.1:38091/gateway.do?charset=utf-8");
    char *url = seckill_alipay_page_pay_url(pool, &c, "{}", NULL, NULL, 0);
    assert_non_null(url);
    assert_non_null(strstr(url, "gateway.do?charset=utf-8&app_id="));
}

static void cents(void **state)
{
    assert_int_equal(seckill_alipay_cents("12.50"), 1250);
    assert_int_equal(seckill_alipay_cents("12.5"), 1250);
    assert_int_equal(seckill_alipay_cents("12"), 1200);
    assert_int_equal(seckill_alipay_cents("0.01"), 1);
    assert_int_equal(seckill_alipay_cents("99999999.99"), 9999999999LL);
    assert_int_equal(seckill_alipay_cents("12.500"), -1);
    assert_int_equal(seckill_alipay_cents("12."), -1);
    assert_int_equal(seckill_alipay_cents(".5"), -1);
    assert_int_equal(seckill_alipay_cents("-1.00"), -1);
    assert_int_equal(seckill_alipay_cents("1e3"), -1);
    assert_int_equal(seckill_alipay_cents(" 1.00"), -1);
    assert_int_equal(seckill_alipay_cents("1.00 "), -1);
    assert_int_equal(seckill_alipay_cents("123456789.00"), -1);
    assert_int_equal(seckill_alipay_cents(""), -1);
    assert_int_equal(seckill_alipay_cents(NULL), -1);
}

static void unreachable_gateway(void **state)
{
    seckill_alipay_client c = client("http://127.0.0.1:1/gateway.do");
    struct json_object *resp = (void *)1;
    char err[256];
    int rc = seckill_alipay_call(pool, &c, "alipay.trade.query", "{\"out_trade_no\":\"1\"}", &resp,
                                 err, sizeof err);
    assert_int_equal(rc, SECKILL_ALIPAY_CALL_UNREACHABLE);
    assert_null(resp);
    assert_non_null(strstr(err, "alipay.trade.query"));
}

static void fields(void **state)
{
    struct json_object *o = json_tokener_parse("{\"code\":\"10000\",\"n\":5,\"s\":\"x\"}");
    assert_true(seckill_alipay_succeeded(o));
    assert_string_equal(seckill_alipay_field(o, "s"), "x");
    assert_null(seckill_alipay_field(o, "n")); /* not a string */
    assert_null(seckill_alipay_field(o, "missing"));
    json_object_put(o);
    o = json_tokener_parse("{\"code\":\"40004\",\"sub_code\":\"ACQ.TRADE_NOT_EXIST\"}");
    assert_false(seckill_alipay_succeeded(o));
    json_object_put(o);
    assert_false(seckill_alipay_succeeded(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(page_pay_url_is_signed),
        cmocka_unit_test(gateway_with_query),
        cmocka_unit_test(cents),
        cmocka_unit_test(unreachable_gateway),
        cmocka_unit_test(fields),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
