/* lib/fmt.c: the same bytes as snprintf for every key format of keys.h and the numbers of a
 * buy, including the extremes; too small a buffer and unknown directives are refused. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fmt.h"
#include "keys.h"

static void same_as_snprintf(void **state)
{
    static const long long ids[] = {
        0, 1, 9, 10, 42, 123456789, 999999999999999999LL, -1, -42, LLONG_MAX, LLONG_MIN};
    static const char *key_formats[] = {SECKILL_KEY_PRODUCT, SECKILL_KEY_STOCK, SECKILL_KEY_BUYERS,
                                        SECKILL_KEY_ORDERS};
    char a[128], b[128];
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        for (size_t k = 0; k < sizeof key_formats / sizeof key_formats[0]; k++) {
            int n = seckill_fmt(a, sizeof a, key_formats[k], ids[i]);
            snprintf(b, sizeof b, key_formats[k], ids[i]);
            assert_string_equal(a, b);
            assert_int_equal(n, (int)strlen(b));
        }
        seckill_fmt(a, sizeof a, SECKILL_KEY_RATE, ids[i], "AAAAAQAAAAH_R1q-E58quw");
        snprintf(b, sizeof b, SECKILL_KEY_RATE, ids[i], "AAAAAQAAAAH_R1q-E58quw");
        assert_string_equal(a, b);
        seckill_fmt(a, sizeof a, SECKILL_KEY_ORDER, (unsigned long long)ids[i]);
        snprintf(b, sizeof b, SECKILL_KEY_ORDER, (unsigned long long)ids[i]);
        assert_string_equal(a, b);
        seckill_fmt(a, sizeof a, "%s|%lld|queued", "u", ids[i]);
        snprintf(b, sizeof b, "%s|%lld|queued", "u", ids[i]);
        assert_string_equal(a, b);
    }
    for (int v = -1001; v <= 1001; v += 7) {
        seckill_fmt(a, sizeof a, "%d", v);
        snprintf(b, sizeof b, "%d", v);
        assert_string_equal(a, b);
    }
    seckill_fmt(a, sizeof a, "%d %d 100%%", INT_MAX, INT_MIN);
    snprintf(b, sizeof b, "%d %d 100%%", INT_MAX, INT_MIN);
    assert_string_equal(a, b);
}

static void refuses(void **state)
{
    char a[8];
    assert_int_equal(seckill_fmt(a, sizeof a, "%lld", 1234567LL), 7);
    assert_int_equal(seckill_fmt(a, sizeof a, "%lld", 12345678LL), -1);
    assert_string_equal(a, "");
    const char *hex = "%x", *trailing = "%";
    assert_int_equal(seckill_fmt(a, sizeof a, hex, 1), -1); /* not literal: no format check */
    assert_int_equal(seckill_fmt(a, sizeof a, trailing), -1);
    assert_int_equal(seckill_fmt(a, 0, "x"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_snprintf),
        cmocka_unit_test(refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
