/* The order message (lib/order.c): JSON round trip, the HMAC token (checked against a vector
 * computed with openssl), tampering, and the strict decoder's refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "order.h"

#define SECRET "test-secret-0123456789abcdef-0123456789"
#define SECRET_LEN (sizeof SECRET - 1)

/* printf '%s' 'order|1234567890123456789|alice@example|42|309.00|2' |
 *   openssl dgst -sha256 -hmac 'test-secret-0123456789abcdef-0123456789' -binary |
 *   base64 | tr '+/' '-_' | tr -d '=' */
#define VECTOR_TOKEN "ryqCo-oEBSlJVVN_3fl56t3HyOtuYrhLcciMS9-Aa9Y"

static seckill_order_msg sample(void)
{
    seckill_order_msg m;
    memset(&m, 0, sizeof m);
    m.order_id = 1234567890123456789ULL;
    strcpy(m.user_id, "alice@example");
    m.product_id = 42;
    strcpy(m.price, "309.00");
    m.quantity = 2;
    m.created_ms = 1764000000123LL;
    m.pay_deadline_ms = 1764000300123LL;
    seckill_order_sign(&m, SECRET, SECRET_LEN);
    return m;
}

static int decode_str(const char *body, seckill_order_msg *m)
{
    return seckill_order_decode(body, strlen(body), m);
}

/* The orders of one message body, by seckill_order_next, as "text|text|..." */
static void split(const char *body, size_t len, char *out, size_t cap)
{
    const char *line;
    size_t off = 0, n, used = 0;
    out[0] = 0;
    while (seckill_order_next(body, len, &off, &line, &n)) {
        used += (size_t)snprintf(out + used, cap - used, "%s%.*s", used ? "|" : "", (int)n, line);
        if (used >= cap || !n)
            used += (size_t)snprintf(out + used, cap - used, "%s", n ? "" : "<empty>");
    }
}

static void batch_bodies_split(void **state)
{
    char got[256];
    split("a", 1, got, sizeof got);
    assert_string_equal(got, "a");
    split("a\nbb\nccc", 9, got, sizeof got);
    assert_string_equal(got, "a|bb|ccc");
    split("a\n", 2, got, sizeof got); /* a last newline starts nothing */
    assert_string_equal(got, "a");
    split("a\n\nb", 4, got, sizeof got); /* an empty order in between is kept, to be refused */
    assert_string_equal(got, "a|<empty>|b");
    split("", 0, got, sizeof got); /* an empty body is one empty order, never none */
    assert_string_equal(got, "<empty>");
    split(NULL, 0, got, sizeof got);
    assert_string_equal(got, "<empty>");
}

/* Two encoded orders joined as the publisher joins them decode one by one, each verified. */
static void batch_round_trip(void **state)
{
    seckill_order_msg a = sample(), b = sample(), d;
    char body[2048], *p = body;
    const char *line;
    size_t off = 0, n;
    int k = 0, len;

    b.order_id++;
    strcpy(b.user_id, "bob\nnewline"); /* escaped by the encoder: no raw newline in the body */
    seckill_order_sign(&b, SECRET, SECRET_LEN);
    char one[1024];
    size_t blen = 0;
    len = seckill_order_encode(&a, one, sizeof one);
    blen = seckill_order_append(body, blen, 0, one, (size_t)len);
    len = seckill_order_encode(&b, one, sizeof one);
    blen = seckill_order_append(body, blen, 1, one, (size_t)len);
    p = body + blen;
    while (seckill_order_next(body, (size_t)(p - body), &off, &line, &n)) {
        assert_int_equal(seckill_order_decode(line, n, &d), 0);
        assert_true(seckill_order_verify(&d, SECRET, SECRET_LEN));
        assert_true(d.order_id == (k ? b.order_id : a.order_id));
        assert_string_equal(d.user_id, k ? "bob\nnewline" : "alice@example");
        k++;
    }
    assert_int_equal(k, 2);
    /* the whole body is not one order */
    assert_int_equal(seckill_order_decode(body, (size_t)(p - body), &d), -1);
}

/* The joining rule both writers follow (module publisher, worker outbox). */
static void batch_limits(void **state)
{
    char buf[16];
    size_t n = seckill_order_append(buf, 0, 0, "ab", 2);
    n = seckill_order_append(buf, n, 1, "", 0); /* the separator goes by the count, not the bytes */
    n = seckill_order_append(buf, n, 2, "c", 1);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "ab\n\nc", 5);
    assert_true(seckill_order_fits(0, 0, SECKILL_ORDER_BATCH_BYTES * 2)); /* a lone big one goes */
    assert_true(seckill_order_fits(1, 100, 200));
    assert_true(seckill_order_fits(SECKILL_ORDER_BATCH_MAX - 1, 100, 200));
    assert_false(seckill_order_fits(SECKILL_ORDER_BATCH_MAX, 100, 200));
    assert_true(seckill_order_fits(2, SECKILL_ORDER_BATCH_BYTES - 11, 10));
    assert_false(seckill_order_fits(2, SECKILL_ORDER_BATCH_BYTES - 10, 10));
}

static void fixed_vector(void **state)
{
    seckill_order_msg m = sample();
    assert_string_equal(m.token, VECTOR_TOKEN);
    assert_int_equal(strlen(m.token), SECKILL_TOKEN_LEN);
}

static void round_trip(void **state)
{
    seckill_order_msg m = sample(), d;
    char buf[1024];
    int n = seckill_order_encode(&m, buf, sizeof buf);

    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(buf));
    assert_non_null(strstr(buf, "\"order_id\":\"1234567890123456789\""));
    assert_int_equal(seckill_order_decode(buf, (size_t)n, &d), 0);
    assert_true(d.order_id == m.order_id);
    assert_string_equal(d.user_id, m.user_id);
    assert_true(d.product_id == 42);
    assert_string_equal(d.price, "309.00");
    assert_int_equal(d.quantity, 2);
    assert_true(d.created_ms == m.created_ms);
    assert_true(d.pay_deadline_ms == m.pay_deadline_ms);
    assert_string_equal(d.token, VECTOR_TOKEN);
    assert_true(seckill_order_verify(&d, SECRET, SECRET_LEN));
}

/* Quotes, backslashes and control characters survive as JSON escapes. */
static void escapes_user_id(void **state)
{
    seckill_order_msg m = sample(), d;
    char buf[1024];
    int n;

    strcpy(m.user_id, "a\"b\\c\x01\x1f\x7f/");
    n = seckill_order_encode(&m, buf, sizeof buf);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "\"a\\\"b\\\\c\\u0001\\u001f\\u007f/\""));
    assert_int_equal(seckill_order_decode(buf, (size_t)n, &d), 0);
    assert_string_equal(d.user_id, m.user_id);
}

static void encode_too_small(void **state)
{
    seckill_order_msg m = sample();
    char buf[1024];
    int n = seckill_order_encode(&m, buf, sizeof buf);

    assert_int_equal(seckill_order_encode(&m, buf, (size_t)n), -1);
    assert_int_equal(seckill_order_encode(&m, buf, (size_t)n + 1), n);
    assert_int_equal(seckill_order_encode(&m, buf, 10), -1);
}

static void sign_verify(void **state)
{
    seckill_order_msg m = sample();
    assert_true(seckill_order_verify(&m, SECRET, SECRET_LEN));
    assert_false(seckill_order_verify(&m, SECRET "x", SECRET_LEN + 1));
    assert_false(seckill_order_verify(&m, "another-secret-of-32-bytes-or-more!!", 36));
}

static void tampered_fields_fail(void **state)
{
    seckill_order_msg m;

    m = sample();
    m.order_id++;
    assert_false(seckill_order_verify(&m, SECRET, SECRET_LEN));
    m = sample();
    strcpy(m.user_id, "mallory");
    assert_false(seckill_order_verify(&m, SECRET, SECRET_LEN));
    m = sample();
    m.product_id = 43;
    assert_false(seckill_order_verify(&m, SECRET, SECRET_LEN));
    m = sample();
    strcpy(m.price, "0.01");
    assert_false(seckill_order_verify(&m, SECRET, SECRET_LEN));
    m = sample();
    m.quantity = 1;
    assert_false(seckill_order_verify(&m, SECRET, SECRET_LEN));
    m = sample();
    m.token[0] = m.token[0] == 'A' ? 'B' : 'A';
    assert_false(seckill_order_verify(&m, SECRET, SECRET_LEN));
    m = sample();
    m.token[42] = 0;
    assert_false(seckill_order_verify(&m, SECRET, SECRET_LEN));
    /* a '|' in a field would make the join ambiguous: such a message never verifies */
    m = sample();
    strcpy(m.user_id, "alice|42");
    seckill_order_sign(&m, SECRET, SECRET_LEN);
    assert_false(seckill_order_verify(&m, SECRET, SECRET_LEN));
}

/* The time fields are outside the token (the module may reschedule) but still decoded. */
static void times_not_signed(void **state)
{
    seckill_order_msg m = sample();
    m.pay_deadline_ms += 1000;
    assert_true(seckill_order_verify(&m, SECRET, SECRET_LEN));
}

#define TOK "\"ryqCo-oEBSlJVVN_3fl56t3HyOtuYrhLcciMS9-Aa9Y\""
#define BODY(id, user, pid, price, qty, cr, dl, tok)                                               \
    "{\"order_id\":" id ",\"user_id\":" user ",\"product_id\":" pid ",\"price\":" price            \
    ",\"quantity\":" qty ",\"created_ms\":" cr ",\"pay_deadline_ms\":" dl ",\"token\":" tok "}"
#define GOOD BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2", TOK)

static void accepts_valid_bodies(void **state)
{
    static const char *good[] = {
        GOOD,
        "  " GOOD "\n",
        BODY("\"18446744073709551615\"", "\"u\"", "1", "\"0.00\"", "100", "1", "1", TOK),
        BODY("\"1\"", "\"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu\"",
             "9223372036854775806", "\"12345678.99\"", "1", "1", "1", TOK),
        /* order of fields and unknown fields do not matter */
        "{\"token\":" TOK ",\"extra\":[1,{}],\"pay_deadline_ms\":2,\"created_ms\":1,"
        "\"quantity\":1,\"price\":\"1.00\",\"product_id\":3,\"user_id\":\"x\",\"order_id\":\"5\"}",
    };
    seckill_order_msg m;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        if (decode_str(good[i], &m) != 0)
            fail_msg("refused: %s", good[i]);
    }
    assert_int_equal(decode_str(good[2], &m), 0);
    assert_true(m.order_id == 18446744073709551615ULL);
    assert_int_equal(m.quantity, 100);
}

static void rejects_malformed_bodies(void **state)
{
    static const char *bad[] = {
        "",
        "{}",
        "[]",
        "null",
        "\"x\"",
        GOOD " {}",
        GOOD "x",
        "{" GOOD,
        GOOD ",",
        /* order_id: a decimal string of a u64 > 0, canonical */
        BODY("7", "\"u\"", "42", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"0\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"007\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"-7\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"7x\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\" 7\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"18446744073709551616\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"123456789012345678901\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2", TOK),
        /* user_id: 1..64 bytes */
        BODY("\"7\"", "\"\"", "42", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu\"", "42",
             "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"a\\u0000b\"", "42", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "7", "42", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "null", "42", "\"309.00\"", "1", "1", "2", TOK),
        /* product_id > 0, an integer */
        BODY("\"7\"", "\"u\"", "0", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "-1", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "\"42\"", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42.0", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "true", "\"309.00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "99999999999999999999", "\"309.00\"", "1", "1", "2", TOK),
        /* price ^[0-9]{1,8}\.[0-9]{2}$ */
        BODY("\"7\"", "\"u\"", "42", "\"309\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"309.0\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"309.000\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\".00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"-1.00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"1,00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"123456789.00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"1e2.00\"", "1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "309.00", "1", "1", "2", TOK),
        /* quantity 1..100 */
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "0", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "101", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "-1", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "1.5", "1", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "\"1\"", "1", "2", TOK),
        /* created_ms, pay_deadline_ms positive */
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "1", "0", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "1", "-5", "2", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "1", "1", "0", TOK),
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "1", "1", "\"2\"", TOK),
        /* token: exactly 43 base64url characters */
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2",
             "\"ryqCo-oEBSlJVVN_3fl56t3HyOtuYrhLcciMS9-Aa9\""),
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2",
             "\"ryqCo-oEBSlJVVN_3fl56t3HyOtuYrhLcciMS9-Aa9YY\""),
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2",
             "\"ryqCo+oEBSlJVVN/3fl56t3HyOtuYrhLcciMS9-Aa9Y\""),
        BODY("\"7\"", "\"u\"", "42", "\"309.00\"", "1", "1", "2", "null"),
        /* a field missing */
        "{\"order_id\":\"7\",\"user_id\":\"u\",\"product_id\":42,\"price\":\"309.00\","
        "\"quantity\":1,\"created_ms\":1,\"token\":" TOK "}",
        "{\"user_id\":\"u\",\"product_id\":42,\"price\":\"309.00\",\"quantity\":1,"
        "\"created_ms\":1,\"pay_deadline_ms\":2,\"token\":" TOK "}",
    };
    seckill_order_msg m;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&m, 0x5a, sizeof m);
        if (decode_str(bad[i], &m) != -1)
            fail_msg("accepted: %s", bad[i]);
        assert_true(m.order_id == 0 && m.user_id[0] == 0); /* nothing half-filled */
    }
}

/* Lengths are the caller's: an embedded NUL, a body cut short or an oversized one. */
static void rejects_by_length(void **state)
{
    static const char good[] = GOOD;
    char big[8192];
    seckill_order_msg m;

    assert_int_equal(seckill_order_decode(good, sizeof good - 1, &m), 0);
    assert_int_equal(seckill_order_decode(good, sizeof good - 2, &m), -1);
    assert_int_equal(seckill_order_decode(good, sizeof good, &m), -1); /* with its NUL */
    assert_int_equal(seckill_order_decode(NULL, 0, &m), -1);
    memset(big, ' ', sizeof big);
    memcpy(big, good, sizeof good - 1);
    assert_int_equal(seckill_order_decode(big, sizeof big, &m), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_vector),         cmocka_unit_test(batch_bodies_split),
        cmocka_unit_test(batch_round_trip),     cmocka_unit_test(batch_limits),
        cmocka_unit_test(round_trip),           cmocka_unit_test(escapes_user_id),
        cmocka_unit_test(encode_too_small),     cmocka_unit_test(sign_verify),
        cmocka_unit_test(tampered_fields_fail), cmocka_unit_test(times_not_signed),
        cmocka_unit_test(accepts_valid_bodies), cmocka_unit_test(rejects_malformed_bodies),
        cmocka_unit_test(rejects_by_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
