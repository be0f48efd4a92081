/* Server URLs as the directives and the worker config take them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>

#include "endpoint.h"

static apr_pool_t *pool;

static const char *parse(const char *url, const char *scheme, int port, seckill_endpoint *ep)
{
    memset(ep, 0, sizeof *ep);
    return seckill_endpoint_parse(pool, url, scheme, port, ep);
}

static void redis_url(void **state)
{
    seckill_endpoint ep;
    assert_null(parse("redis://127.0.0.1:6380/2", "redis", 6379, &ep));
    assert_string_equal(ep.host, "127.0.0.1");
    assert_int_equal(ep.port, 6380);
    assert_string_equal(ep.path, "2");
    assert_null(ep.password);
    assert_null(parse("redis://localhost", "redis", 6379, &ep));
    assert_int_equal(ep.port, 6379);
    assert_string_equal(ep.path, "");
}

static void mysql_url_with_credentials(void **state)
{
    seckill_endpoint ep;
    assert_null(parse("mysql://shop:p%40ss%3Aw@db.example:3307/seckill", "mysql", 3306, &ep));
    assert_string_equal(ep.user, "shop");
    assert_string_equal(ep.password, "p@ss:w");
    assert_string_equal(ep.host, "db.example");
    assert_int_equal(ep.port, 3307);
    assert_string_equal(ep.path, "seckill");
    assert_null(strstr(ep.url, "p%40ss"));
    assert_non_null(strstr(ep.url, "***"));
}

static void amqp_vhost_decoded(void **state)
{
    seckill_endpoint ep;
    assert_null(parse("amqp://guest:guest@127.0.0.1:5673/%2F", "amqp", 5672, &ep));
    assert_string_equal(ep.path, "/");
    assert_null(parse("amqp://guest:guest@127.0.0.1/", "amqp", 5672, &ep));
    assert_int_equal(ep.port, 5672);
    assert_string_equal(ep.path, "");
}

static void bad_urls(void **state)
{
    static const char *bad[] = {"",
                                "127.0.0.1:6379",
                                "http://127.0.0.1:6379",
                                "redis://",
                                "redis://:6379",
                                "redis://host:abc",
                                "redis://host:0",
                                "redis://host:6379?x=1",
                                "redis://host:6379#f"};
    seckill_endpoint ep;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *err = parse(bad[i], "redis", 6379, &ep);
        if (!err)
            fail_msg("'%s' was accepted", bad[i]);
    }
    assert_null(parse("REDIS://h:1", "redis", 6379, &ep));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redis_url),
        cmocka_unit_test(mysql_url_with_credentials),
        cmocka_unit_test(amqp_vhost_decoded),
        cmocka_unit_test(bad_urls),
    };
    int failed;
    apr_initialize();
    apr_pool_create(&pool, NULL);
    failed = cmocka_run_group_tests_name("endpoint", tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return failed ? 1 : 0;
}
