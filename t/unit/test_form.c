/* The urlencoded buy body, the ids of the shop's URLs, read strictly; the identity cookie. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>

#include "form.h"

static apr_pool_t *pool;

static int get(const char *in, const char **v)
{
    return seckill_form_value(pool, in, strlen(in), "csrf_token", v);
}

static void values(void **state)
{
    const char *v;
    assert_int_equal(get("csrf_token=abc", &v), SECKILL_FORM_OK);
    assert_string_equal(v, "abc");
    assert_int_equal(get("x=1&&csrf_token=a%2Bb+c&y", &v), SECKILL_FORM_OK);
    assert_string_equal(v, "a+b c");
    assert_int_equal(get("csrf_token=", &v), SECKILL_FORM_OK);
    assert_string_equal(v, "");
    assert_int_equal(get("csrf_token", &v), SECKILL_FORM_OK);
    assert_string_equal(v, "");
    assert_int_equal(get("csrf%5Ftoken=k", &v), SECKILL_FORM_OK);
    assert_string_equal(v, "k");
    assert_int_equal(get("other=1", &v), SECKILL_FORM_OK);
    assert_null(v);
    assert_int_equal(get("", &v), SECKILL_FORM_OK);
    assert_null(v);
}

static void refused(void **state)
{
    static const char *bad[] = {"csrf_token=%zz",   "csrf_token=%",       "csrf_token=%4",
                                "csrf_token=a%00b", "x=%G1&csrf_token=a", "%00=1"};
    const char *v;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(get(bad[i], &v), SECKILL_FORM_MALFORMED);
    assert_int_equal(get("csrf_token=a&csrf_token=a", &v), SECKILL_FORM_TWICE);
    assert_null(v);
    assert_int_equal(get("csrf_token=ok&x=%zz", &v), SECKILL_FORM_MALFORMED);
    assert_null(v); /* nothing of a refused input is used */
    assert_int_equal(seckill_form_value(pool, "csrf_token=a\0b", 14, "csrf_token", &v),
                     SECKILL_FORM_MALFORMED);
}

static void ids(void **state)
{
    long long id;
    unsigned long long u;
    assert_int_equal(seckill_parse_id("42", &id), 0);
    assert_int_equal(id, 42);
    assert_int_equal(seckill_parse_id("999999999999999999", &id), 0);
    for (const char *const *b = (const char *const[]){"", "0", "-1", "+1", "1.5", " 1", "1 ", "1e3",
                                                      "0x1", "9999999999999999999", NULL};
         *b; b++)
        assert_int_equal(seckill_parse_id(*b, &id), -1);
    assert_int_equal(seckill_parse_u64("18446744073709551615", &u), 0);
    assert_true(u == 18446744073709551615ULL);
    assert_int_equal(seckill_parse_u64("18446744073709551616", &u), -1);
    assert_int_equal(seckill_parse_u64("0", &u), -1);
    assert_int_equal(seckill_parse_u64("123456789012345678901", &u), -1);
}

static int cookie(const char *line, const char **v, size_t *n)
{
    *v = NULL;
    *n = 0;
    return seckill_cookie_find(line, "seckill_id", v, n);
}

static void cookies(void **state)
{
    const char *v;
    size_t n;
    (void)state;
    assert_int_equal(cookie("seckill_id=abc.def", &v, &n), 1);
    assert_int_equal(n, 7);
    assert_memory_equal(v, "abc.def", 7);
    assert_int_equal(cookie("a=b; \tseckill_id=xyz; c=d", &v, &n), 1);
    assert_int_equal(n, 3);
    assert_memory_equal(v, "xyz", 3);
    assert_int_equal(cookie("a=b,seckill_id=q", &v, &n), 1);
    assert_memory_equal(v, "q", 1);
    assert_int_equal(cookie("seckill_id=", &v, &n), 1);
    assert_int_equal(n, 0);
    /* absent: another name that starts alike, no '=', nothing */
    assert_int_equal(cookie("seckill_idx=1; xseckill_id=2; seckill_id", &v, &n), 0);
    assert_null(v);
    assert_int_equal(cookie("", &v, &n), 0);
    /* twice: the same value is one cookie, two values are refused */
    assert_int_equal(cookie("seckill_id=a; seckill_id=a", &v, &n), 1);
    assert_int_equal(cookie("seckill_id=x; seckill_id=a", &v, &n), -1);
    /* across two header lines */
    assert_int_equal(cookie("seckill_id=a", &v, &n), 1);
    assert_int_equal(seckill_cookie_find("other=1", "seckill_id", &v, &n), 1);
    assert_int_equal(seckill_cookie_find("seckill_id=b", "seckill_id", &v, &n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values),
        cmocka_unit_test(refused),
        cmocka_unit_test(ids),
        cmocka_unit_test(cookies),
    };
    int failed;
    apr_initialize();
    apr_pool_create(&pool, NULL);
    failed = cmocka_run_group_tests_name("form", tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return failed ? 1 : 0;
}
