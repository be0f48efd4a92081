/* The view-data tree of lib/value.h and its JSON writer: building, reading, ordering and
 * replacing keys, and JSON output that json-c reads back to the same data and that is safe
 * to embed in HTML. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <json.h>

#include "value.h"

static int setup(void **state)
{
    apr_pool_t *p;
    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return -1;
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

static const char *json(apr_pool_t *p, const seckill_value *v)
{
    size_t len = 0;
    const char *s = seckill_v_json_str(v, p, &len);
    assert_int_equal(len, strlen(s));
    return s;
}

/* s must be JSON that json-c accepts (nested up to 1024 levels). */
static void assert_valid_json(apr_pool_t *p, const char *s)
{
    json_tokener *tok = json_tokener_new_ex(1024);
    json_object *o = json_tokener_parse_ex(tok, s, (int)strlen(s));
    enum json_tokener_error e = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (e != json_tokener_success)
        fail_msg("not valid JSON (%s): %s", json_tokener_error_desc(e), s);
    json_object_put(o);
}

static void test_scalars(void **state)
{
    apr_pool_t *p = *state;

    assert_int_equal(seckill_v_type(seckill_v_null(p)), SECKILL_V_NULL);
    assert_int_equal(seckill_v_type(NULL), SECKILL_V_NULL);
    assert_int_equal(seckill_v_as_bool(seckill_v_bool(p, 7)), 1);
    assert_int_equal(seckill_v_as_bool(seckill_v_bool(p, 0)), 0);
    assert_true(seckill_v_as_int(seckill_v_int(p, LLONG_MIN)) == LLONG_MIN);
    assert_true(seckill_v_as_num(seckill_v_num(p, 1.25)) == 1.25);
    assert_true(seckill_v_as_num(seckill_v_int(p, 3)) == 3.0);
    assert_int_equal(seckill_v_as_int(seckill_v_str(p, "5")), 0);

    char src[] = "hello";
    size_t n = 0;
    seckill_value *s = seckill_v_str(p, src);
    src[0] = 'j'; /* the value holds a copy */
    assert_string_equal(seckill_v_as_str(s, &n), "hello");
    assert_int_equal(n, 5);
    assert_int_equal(seckill_v_len(s), 5);
    assert_string_equal(seckill_v_as_str(seckill_v_strn(p, "abcdef", 3), NULL), "abc");
    assert_string_equal(seckill_v_as_str(seckill_v_str(p, NULL), NULL), "");
    assert_null(seckill_v_as_str(seckill_v_int(p, 1), &n));
    assert_int_equal(n, 0);

    seckill_value *f = seckill_v_strf(p, "%s-%lld-%zu", "id", -12LL, (size_t)7);
    assert_string_equal(seckill_v_as_str(f, NULL), "id--12-7");
    char big[600];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    f = seckill_v_strf(p, "<%s>", big);
    assert_int_equal(seckill_v_len(f), sizeof(big) + 1);
    assert_int_equal(seckill_v_as_str(f, NULL)[0], '<');
    assert_int_equal(seckill_v_as_str(f, NULL)[sizeof(big)], '>');
}

static void test_truthy(void **state)
{
    apr_pool_t *p = *state;
    seckill_value *arr = seckill_v_arr(p);

    assert_false(seckill_v_truthy(NULL));
    assert_false(seckill_v_truthy(seckill_v_null(p)));
    assert_false(seckill_v_truthy(seckill_v_bool(p, 0)));
    assert_false(seckill_v_truthy(arr));
    seckill_v_push(arr, NULL);
    assert_true(seckill_v_truthy(arr));
    assert_true(seckill_v_truthy(seckill_v_bool(p, 1)));
    assert_true(seckill_v_truthy(seckill_v_str(p, "")));
    assert_true(seckill_v_truthy(seckill_v_int(p, 0)));
    assert_true(seckill_v_truthy(seckill_v_obj(p)));
}

static void test_array(void **state)
{
    apr_pool_t *p = *state;
    seckill_value *a = seckill_v_arr(p);

    assert_int_equal(seckill_v_len(a), 0);
    assert_null(seckill_v_at(a, 0));
    for (int i = 0; i < 1000; i++)
        assert_int_equal(seckill_v_push(a, seckill_v_int(p, i)), 0);
    assert_int_equal(seckill_v_len(a), 1000);
    for (int i = 0; i < 1000; i++)
        assert_true(seckill_v_as_int(seckill_v_at(a, (size_t)i)) == i);
    assert_null(seckill_v_at(a, 1000));
    /* NULL is kept as a null element; pushing onto a non-array is refused. */
    assert_int_equal(seckill_v_push(a, NULL), 0);
    assert_int_equal(seckill_v_type(seckill_v_at(a, 1000)), SECKILL_V_NULL);
    assert_non_null(seckill_v_at(a, 1000));
    assert_int_equal(seckill_v_push(seckill_v_obj(p), seckill_v_null(p)), -1);
    assert_int_equal(seckill_v_push(NULL, seckill_v_null(p)), -1);
    assert_null(seckill_v_key_at(a, 0));
    assert_null(seckill_v_get(a, "0"));
}

static void test_object_order_and_replace(void **state)
{
    apr_pool_t *p = *state;
    seckill_value *o = seckill_v_obj(p);
    char key[8] = "zeta";

    seckill_v_set(o, key, seckill_v_int(p, 1));
    strcpy(key, "XXXX"); /* the object holds a copy of the key */
    seckill_v_set_str(o, "alpha", "a");
    seckill_v_set_bool(o, "mid", 1);
    seckill_v_set_num(o, "num", 2.5);
    seckill_v_set(o, "nul", NULL);
    assert_int_equal(seckill_v_len(o), 5);
    assert_string_equal(seckill_v_key_at(o, 0), "zeta");
    assert_string_equal(seckill_v_key_at(o, 1), "alpha");
    assert_null(seckill_v_key_at(o, 5));
    assert_null(seckill_v_get(o, "XXXX"));
    assert_true(seckill_v_as_int(seckill_v_get(o, "zeta")) == 1);
    assert_string_equal(json(p, o), "{\"zeta\":1,\"alpha\":\"a\",\"mid\":true,\"num\":2.5,"
                                    "\"nul\":null}");

    /* Replacing keeps the key's place and the count. */
    seckill_v_set_int(o, "alpha", 9);
    assert_int_equal(seckill_v_len(o), 5);
    assert_true(seckill_v_as_int(seckill_v_at(o, 1)) == 9);
    assert_string_equal(json(p, o), "{\"zeta\":1,\"alpha\":9,\"mid\":true,\"num\":2.5,"
                                    "\"nul\":null}");
    /* A key that is present with a null value is found (not missing). */
    assert_non_null(seckill_v_get(o, "nul"));
    assert_null(seckill_v_get(o, "missing"));
    assert_null(seckill_v_get(o, NULL));
    assert_null(seckill_v_get(NULL, "zeta"));
    assert_int_equal(seckill_v_set(seckill_v_arr(p), "k", NULL), -1);
    assert_int_equal(seckill_v_set_str(seckill_v_arr(p), "k", "v"), -1);
}

static void test_big_object(void **state)
{
    apr_pool_t *p = *state;
    seckill_value *o = seckill_v_obj(p);
    char k[32];

    /* Past the size where lookups switch to a hash index. */
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof(k), "k%d", 499 - i);
        seckill_v_set_int(o, k, i);
    }
    for (int i = 0; i < 500; i += 2) {
        snprintf(k, sizeof(k), "k%d", 499 - i);
        seckill_v_set_int(o, k, -i);
    }
    assert_int_equal(seckill_v_len(o), 500);
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof(k), "k%d", 499 - i);
        assert_string_equal(seckill_v_key_at(o, (size_t)i), k);
        assert_true(seckill_v_as_int(seckill_v_get(o, k)) == (i % 2 ? i : -i));
        assert_ptr_equal(seckill_v_get(o, k), seckill_v_at(o, (size_t)i));
    }
    assert_null(seckill_v_get(o, "k500"));
    assert_valid_json(p, json(p, o));
}

static void test_json_string_escapes(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(json(p, seckill_v_str(p, "say \"hi\" \\ /")), "\"say \\\"hi\\\" \\\\ /\"");
    assert_string_equal(json(p, seckill_v_str(p, "a\nb\rc\td\be\ff")), "\"a\\nb\\rc\\td\\be\\ff\"");
    assert_string_equal(json(p, seckill_v_str(p, "\x01\x1f\x7f")), "\"\\u0001\\u001f\\u007f\"");
    assert_string_equal(json(p, seckill_v_strn(p, "a\0b", 3)), "\"a\\u0000b\"");
    /* Safe inside HTML and <script>. */
    assert_string_equal(json(p, seckill_v_str(p, "</script><!--&")),
                        "\"\\u003c/script\\u003e\\u003c!--\\u0026\"");
    /* U+2028 and U+2029 end JavaScript strings; other UTF-8 passes through untouched. */
    assert_string_equal(json(p, seckill_v_str(p, "a\xe2\x80\xa8z\xe2\x80\xa9")),
                        "\"a\\u2028z\\u2029\"");
    assert_string_equal(json(p, seckill_v_str(p, "h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c "
                                                 "\xf0\x9f\x98\x80 \xe2\x80\xa7")),
                        "\"h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80 "
                        "\xe2\x80\xa7\"");
    /* Invalid UTF-8 (stray byte, overlong, surrogate, truncated) becomes U+FFFD per byte. */
    assert_string_equal(json(p, seckill_v_str(p, "a\xff")), "\"a\\ufffd\"");
    assert_string_equal(json(p, seckill_v_str(p, "\xc0\xaf")), "\"\\ufffd\\ufffd\"");
    assert_string_equal(json(p, seckill_v_str(p, "\xed\xa0\x80")), "\"\\ufffd\\ufffd\\ufffd\"");
    assert_string_equal(json(p, seckill_v_str(p, "x\xe4\xb8")), "\"x\\ufffd\\ufffd\"");
    assert_string_equal(json(p, seckill_v_str(p, "\xf4\x90\x80\x80")),
                        "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    assert_string_equal(json(p, seckill_v_str(p, "")), "\"\"");

    /* Every byte 1..255 gives valid JSON that decodes to the original where it was valid. */
    char all[256];
    for (int i = 1; i < 128; i++)
        all[i - 1] = (char)i;
    all[127] = '\0';
    const char *s = json(p, seckill_v_str(p, all));
    json_object *back = json_tokener_parse(s);
    assert_non_null(back);
    assert_string_equal(json_object_get_string(back), all);
    json_object_put(back);
    for (int i = 128; i < 256; i++)
        all[i - 128] = (char)i;
    all[128] = '\0';
    assert_valid_json(p, json(p, seckill_v_str(p, all)));

    /* Keys are escaped the same way. */
    seckill_value *o = seckill_v_obj(p);
    seckill_v_set_int(o, "<k\"\n>", 1);
    assert_string_equal(json(p, o), "{\"\\u003ck\\\"\\n\\u003e\":1}");
}

static void test_json_numbers(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        double d;
        const char *want;
    } nums[] = {
        {0.0, "0"},
        {1.5, "1.5"},
        {85.0, "85"},
        {1.21, "1.21"},
        {0.1, "0.1"},
        {-2.75, "-2.75"},
        {1e21, "1e+21"},
        {1e-7, "1e-07"},
        {100.0, "100"},
        {0.3, "0.3"},
        {123456.789, "123456.789"},
        {5e-324, "5e-324"},
        {-0.0, "-0"},
        {1e-310, "1e-310"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {0.1 + 0.2, "0.30000000000000004"},
    };

    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
        assert_string_equal(json(p, seckill_v_num(p, nums[i].d)), nums[i].want);
    assert_string_equal(json(p, seckill_v_int(p, LLONG_MAX)), "9223372036854775807");
    assert_string_equal(json(p, seckill_v_int(p, LLONG_MIN)), "-9223372036854775808");
    assert_string_equal(json(p, seckill_v_int(p, 0)), "0");
    /* JSON has no NaN or infinity. */
    assert_string_equal(json(p, seckill_v_num(p, NAN)), "null");
    assert_string_equal(json(p, seckill_v_num(p, INFINITY)), "null");
    assert_string_equal(json(p, seckill_v_num(p, -INFINITY)), "null");

    char buf[SECKILL_NUM_BUFSZ];
    assert_int_equal(seckill_v_fmt_num(-INFINITY, buf), 4);
    assert_string_equal(buf, "-inf");
    assert_int_equal(seckill_v_fmt_num(NAN, buf), 3);
    assert_string_equal(buf, "nan");

    /* Round trip: the text reads back as the same double, and is never longer than needed
     * for doubles that have a short exact form. */
    unsigned long long x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 20000; i++) {
        double d;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(&d, &x, sizeof(d));
        if (!isfinite(d))
            continue;
        size_t n = seckill_v_fmt_num(d, buf);
        assert_int_equal(n, strlen(buf));
        assert_true(n < SECKILL_NUM_BUFSZ);
        if (strtod(buf, NULL) != d)
            fail_msg("%.17g printed as %s", d, buf);
    }
    for (int i = 1; i < 2000; i++) {
        double d = i / 100.0;
        char want[32];
        snprintf(want, sizeof(want), "%d.%02d", i / 100, i % 100);
        /* Trim trailing zeros and a bare point, as the shortest form has none. */
        size_t n = strlen(want);
        while (want[n - 1] == '0')
            want[--n] = '\0';
        if (want[n - 1] == '.')
            want[--n] = '\0';
        seckill_v_fmt_num(d, buf);
        assert_string_equal(buf, want);
    }
}

static void test_json_nested(void **state)
{
    apr_pool_t *p = *state;
    seckill_value *root = seckill_v_obj(p);
    seckill_value *a = seckill_v_arr(p), *inner = seckill_v_arr(p), *o = seckill_v_obj(p);

    seckill_v_push(inner, seckill_v_int(p, 2));
    seckill_v_push(inner, seckill_v_obj(p));
    seckill_v_push(inner, seckill_v_arr(p));
    seckill_v_push(a, seckill_v_int(p, 1));
    seckill_v_push(a, inner);
    seckill_v_set(o, "b", seckill_v_null(p));
    seckill_v_set(o, "f", seckill_v_bool(p, 0));
    seckill_v_push(a, o);
    seckill_v_set(root, "a", a);
    seckill_v_set(root, "c", seckill_v_obj(p));
    seckill_v_set_str(root, "s", "x");

    const char *s = json(p, root);
    assert_string_equal(s, "{\"a\":[1,[2,{},[]],{\"b\":null,\"f\":false}],\"c\":{},\"s\":\"x\"}");
    assert_valid_json(p, s);
    assert_string_equal(json(p, NULL), "null");
    assert_string_equal(json(p, seckill_v_arr(p)), "[]");
    assert_string_equal(json(p, seckill_v_obj(p)), "{}");

    /* A value may appear twice in a tree (it is just written twice). */
    seckill_value *twice = seckill_v_arr(p);
    seckill_v_push(twice, o);
    seckill_v_push(twice, o);
    assert_string_equal(json(p, twice), "[{\"b\":null,\"f\":false},{\"b\":null,\"f\":false}]");
}

static void test_json_depth_limit(void **state)
{
    apr_pool_t *p = *state;
    seckill_value *root = seckill_v_arr(p), *cur = root;

    for (int i = 0; i < 400; i++) {
        seckill_value *next = seckill_v_arr(p);
        seckill_v_push(cur, next);
        cur = next;
    }
    /* Too deep for a sane view: cut with null, still valid JSON (json-c reads 1000 deep). */
    const char *s = json(p, root);
    assert_non_null(strstr(s, "[null]"));
    assert_valid_json(p, s);
}

static void collect(void *ctx, const char *s, size_t n)
{
    seckill_buf_write(ctx, s, n);
}

static void test_buf_and_big_output(void **state)
{
    apr_pool_t *p = *state;
    seckill_buf b;
    seckill_value *a = seckill_v_arr(p);

    seckill_buf_init(&b, p);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    seckill_buf_write(&b, "", 0);
    assert_string_equal(b.data, "");

    for (int i = 0; i < 10000; i++)
        seckill_v_push(a, seckill_v_strf(p, "item %d <%d>", i, i * 7));
    seckill_v_json(a, collect, &b);
    assert_int_equal(b.len, strlen(b.data));
    assert_memory_equal(b.data, "[\"item 0 \\u003c0\\u003e\",\"item 1", 30);

    json_object *back = json_tokener_parse(b.data);
    assert_non_null(back);
    assert_int_equal(json_object_array_length(back), 10000);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(back, 9999)),
                        "item 9999 <69993>");
    json_object_put(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truthy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_array, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_order_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_string_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buf_and_big_output, setup, teardown),
    };

    apr_initialize();
    int failed = cmocka_run_group_tests_name("value tree and JSON writer", tests, NULL, NULL);
    apr_terminate();
    return failed ? 1 : 0;
}
