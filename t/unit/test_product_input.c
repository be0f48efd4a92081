/* The admin's product validation and list filters: every rule, with its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <apr_general.h>

#include "admin_filter.h"
#include "product_input.h"

static apr_pool_t *pool;

/* A valid product; tests change one field at a time. */
static seckill_product_input good(void)
{
    seckill_product_input in;
    memset(&in, 0, sizeof in);
    in.text[SECKILL_PF_NAME] = "扫地机器人 X1";
    in.text[SECKILL_PF_IMAGE] = "/static/product_img/robot.svg";
    in.text[SECKILL_PF_BASE_PRICE] = "399";
    in.text[SECKILL_PF_SECKILL_PRICE] = "309.5";
    in.text[SECKILL_PF_STOCK] = "50";
    in.text[SECKILL_PF_START] = "2026-11-25T10:00";
    in.text[SECKILL_PF_END] = "2026-11-25T12:00:00";
    return in;
}

static const char *error_of(seckill_pfield f, const char *text)
{
    static seckill_product_errors err;
    seckill_product_values v;
    seckill_product_input in = good();
    in.text[f] = text;
    seckill_product_validate(&in, 0, &v, &err);
    return err.msg[f];
}

static void valid_product(void **state)
{
    seckill_product_input in = good();
    seckill_product_values v;
    seckill_product_errors err;
    assert_int_equal(seckill_product_validate(&in, 0, &v, &err), 0);
    assert_string_equal(v.name, "扫地机器人 X1");
    assert_string_equal(v.base_price, "399.00");
    assert_string_equal(v.seckill_price, "309.50");
    assert_int_equal(v.base_cents, 39900);
    assert_int_equal(v.stock, 50);
    assert_int_equal(v.end - v.start, 7200);

    in.text[SECKILL_PF_IMAGE] = NULL; /* defaults */
    in.text[SECKILL_PF_NAME] = "  spaced  ";
    assert_int_equal(seckill_product_validate(&in, 0, &v, &err), 0);
    assert_string_equal(v.image, SECKILL_DEFAULT_IMAGE);
    assert_string_equal(v.name, "spaced");
}

static void names(void **state)
{
    char name[300];
    assert_non_null(error_of(SECKILL_PF_NAME, NULL));
    assert_non_null(error_of(SECKILL_PF_NAME, "   "));
    assert_non_null(error_of(SECKILL_PF_NAME, "bad\x01"));
    assert_non_null(error_of(SECKILL_PF_NAME, "tab\tinside"));
    assert_non_null(error_of(SECKILL_PF_NAME, "\xff\xfe"));
    assert_non_null(error_of(SECKILL_PF_NAME, "\xc0\xaf"));     /* overlong '/' */
    assert_non_null(error_of(SECKILL_PF_NAME, "\xed\xa0\x80")); /* a surrogate */
    assert_non_null(error_of(SECKILL_PF_NAME, "cut \xe6\x89")); /* cut short */
    assert_non_null(error_of(SECKILL_PF_NAME, "c1 \xc2\x85"));  /* NEL */
    /* 64 characters pass, 65 do not, counted as characters (3 bytes each here) */
    name[0] = 0;
    for (int i = 0; i < 64; i++)
        strcat(name, "机");
    assert_null(error_of(SECKILL_PF_NAME, name));
    strcat(name, "x");
    assert_string_equal(error_of(SECKILL_PF_NAME, name), "商品名称最多 64 个字");
    memset(name, 'a', 65);
    name[65] = 0;
    assert_non_null(error_of(SECKILL_PF_NAME, name));
    assert_null(error_of(SECKILL_PF_NAME, "emoji 🎉 ok"));
}

static void images(void **state)
{
    char long_path[200] = "/static/";
    assert_null(error_of(SECKILL_PF_IMAGE, "/static/a.png"));
    assert_null(error_of(SECKILL_PF_IMAGE, "https://img.example.com/a.png?x=1"));
    assert_null(error_of(SECKILL_PF_IMAGE, "http://cdn.example/a.jpg"));
    assert_non_null(error_of(SECKILL_PF_IMAGE, "/static/"));
    assert_non_null(error_of(SECKILL_PF_IMAGE, "/etc/passwd"));
    assert_non_null(error_of(SECKILL_PF_IMAGE, "/static/../secret"));
    assert_non_null(error_of(SECKILL_PF_IMAGE, "javascript:alert(1)"));
    assert_non_null(error_of(SECKILL_PF_IMAGE, "https:///nohost"));
    assert_non_null(error_of(SECKILL_PF_IMAGE, "https://a/\"onerror=x"));
    assert_non_null(error_of(SECKILL_PF_IMAGE, "/static/a b.png"));
    assert_non_null(error_of(SECKILL_PF_IMAGE, "/static/图.png"));
    assert_non_null(error_of(SECKILL_PF_IMAGE, "//evil.example/a.png"));
    memset(long_path + 8, 'a', 121);
    long_path[129] = 0;
    assert_string_equal(error_of(SECKILL_PF_IMAGE, long_path), "图片地址最长 128 个字符");
    long_path[128] = 0;
    assert_null(error_of(SECKILL_PF_IMAGE, long_path));
}

static void prices(void **state)
{
    assert_int_equal(seckill_price_cents("0.01"), 1);
    assert_int_equal(seckill_price_cents("12.3"), 1230);
    assert_int_equal(seckill_price_cents("99999999.99"), 9999999999LL);
    static const char *bad[] = {"0",   "0.00",      "-1",   "1.234", "1.",  ".5",
                                "1e3", "01",        "1,00", "",      "abc", "1 .0",
                                "+1",  "100000000", "0x10", "1.0.0", "NaN", "inf"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_true(seckill_price_cents(bad[i]) < 0);
    assert_non_null(error_of(SECKILL_PF_BASE_PRICE, NULL));
    assert_non_null(error_of(SECKILL_PF_BASE_PRICE, "-5"));
    assert_string_equal(error_of(SECKILL_PF_SECKILL_PRICE, "399.01"), "秒杀价不能高于原价");
    assert_null(error_of(SECKILL_PF_SECKILL_PRICE, "399.00"));
}

static void stocks(void **state)
{
    assert_null(error_of(SECKILL_PF_STOCK, "0"));
    assert_null(error_of(SECKILL_PF_STOCK, "1000000"));
    assert_non_null(error_of(SECKILL_PF_STOCK, "1000001"));
    assert_non_null(error_of(SECKILL_PF_STOCK, "-1"));
    assert_non_null(error_of(SECKILL_PF_STOCK, "1.5"));
    assert_non_null(error_of(SECKILL_PF_STOCK, "99999999999999999999"));
    assert_non_null(error_of(SECKILL_PF_STOCK, ""));
}

static void times(void **state)
{
    time_t t, local;
    assert_int_equal(seckill_datetime_parse("2026-11-25T10:00:00Z", &t), 0);
    assert_int_equal(t, 1795600800);
    assert_int_equal(seckill_datetime_parse("2026-11-25T18:00:00+08:00", &t), 0);
    assert_int_equal(t, 1795600800);
    assert_int_equal(seckill_datetime_parse("2026-11-25 18:00+0800", &t), 0);
    assert_int_equal(t, 1795600800);
    assert_int_equal(seckill_datetime_parse("2026-11-25T18:00", &local), 0);
    assert_int_equal(local, 1795600800); /* TZ is Asia/Shanghai in main */
    static const char *bad[] = {"2026-11-25",        "2026-13-01T00:00",   "2026-02-29T00:00",
                                "2026-11-25T24:00",  "2026-11-25T10:60",   "1999-01-01T00:00",
                                "2026-11-25T10:00:", "2026-11-25T10:00+8", "2026-11-25T10:00Zx",
                                "2026-11-25X10:00",  "２026-11-25T10:00",  "2026-11-25T10:00:00.5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(seckill_datetime_parse(bad[i], &t), -1);
    assert_int_equal(seckill_datetime_parse("2028-02-29T00:00", &t), 0);

    char buf[20];
    seckill_datetime_local(1795600800, buf);
    assert_string_equal(buf, "2026-11-25T18:00:00");

    assert_string_equal(error_of(SECKILL_PF_END, "2026-11-25T10:00"), "结束时间须晚于开始时间");
    assert_non_null(error_of(SECKILL_PF_START, "tomorrow"));

    /* a new product must not be over already */
    seckill_product_input in = good();
    seckill_product_values v;
    seckill_product_errors err;
    assert_int_equal(seckill_product_validate(&in, 1795600800 + 7200, &v, &err), 1);
    assert_string_equal(err.msg[SECKILL_PF_END], "结束时间已过");
}

static void all_errors_at_once(void **state)
{
    seckill_product_input in;
    seckill_product_values v;
    seckill_product_errors err;
    memset(&in, 0, sizeof in);
    /* image is optional: every other field is reported */
    assert_int_equal(seckill_product_validate(&in, 0, &v, &err), SECKILL_PF__COUNT - 1);
    assert_null(err.msg[SECKILL_PF_IMAGE]);
    assert_string_equal(seckill_pfield_names[SECKILL_PF_SECKILL_PRICE], "seckill_price");
}

static void product_filters(void **state)
{
    seckill_product_filter f;
    time_t now = 1795600800; /* 2026-11-25 18:00 +08 */
    time_t day;
    assert_null(seckill_product_filter_parse(pool, NULL, now, &f));
    assert_int_equal(f.status, -1);
    assert_int_equal(f.page, 1);
    assert_false(f.has_window);
    assert_null(f.q_like);

    assert_null(
        seckill_product_filter_parse(pool, "status=1&slot=10&q=50%25_off&page=3&x=y", now, &f));
    assert_int_equal(f.status, 1);
    assert_int_equal(f.page, 3);
    assert_true(f.has_window);
    assert_int_equal(f.to - f.from, 7200);
    assert_int_equal(f.from, 1795600800 - 8 * 3600); /* today 10:00 */
    assert_string_equal(f.q, "50%_off");
    assert_string_equal(f.q_like, "%50\\%\\_off%");

    assert_null(seckill_product_filter_parse(pool, "date=2026-11-26", now, &f));
    assert_int_equal(seckill_date_parse("2026-11-26", &day), 0);
    assert_int_equal(f.from, day);
    assert_int_equal(f.to - f.from, 86400);
    assert_null(seckill_product_filter_parse(pool, "date=2026-11-26&slot=8", now, &f));
    assert_int_equal(f.from, day);
    assert_int_equal(f.to, day + 10 * 3600);
    assert_null(seckill_product_filter_parse(pool, "status=&slot=&q=", now, &f));
    assert_int_equal(f.status, -1);

    static const char *bad[] = {"status=3",      "status=-1", "status=1&status=1",
                                "slot=9",        "slot=08x",  "date=2026-02-30",
                                "date=26-11-25", "page=0",    "page=10001",
                                "page=abc",      "q=%zz"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_non_null(seckill_product_filter_parse(pool, bad[i], now, &f));
}

static void order_filters(void **state)
{
    seckill_order_filter f;
    assert_null(
        seckill_order_filter_parse(pool, "status=2&product=17&user=alice&date=2026-11-25", &f));
    assert_int_equal(f.status, 2);
    assert_int_equal(f.product, 17);
    assert_string_equal(f.user, "alice");
    assert_true(f.has_window);
    assert_int_equal(f.to - f.from, 86400);
    static const char *bad[] = {"status=4",   "product=0", "product=9999999999999999999",
                                "product=1x", "date=x",    "page=-1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_non_null(seckill_order_filter_parse(pool, bad[i], &f));
    char user[80] = "user=";
    memset(user + 5, 'u', 65);
    user[70] = 0;
    assert_non_null(seckill_order_filter_parse(pool, user, &f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_product),
        cmocka_unit_test(names),
        cmocka_unit_test(images),
        cmocka_unit_test(prices),
        cmocka_unit_test(stocks),
        cmocka_unit_test(times),
        cmocka_unit_test(all_errors_at_once),
        cmocka_unit_test(product_filters),
        cmocka_unit_test(order_filters),
    };
    int rc;
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    apr_initialize();
    apr_pool_create(&pool, NULL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
