/* The HMAC tokens (lib/token.c): the same bytes as OpenSSL's one-shot HMAC() for keys shorter
 * than, as long as and longer than SHA-256's block, with more secrets than the keyed cache
 * holds, and from many threads at once (the httpd event MPM signs from all its threads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>

#include "token.h"

/* The token of "a|b" under key, as OpenSSL's one-shot HMAC() makes it. */
static void reference(const char *key, size_t key_len, const char *a, const char *b, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    char msg[256];
    int n = snprintf(msg, sizeof msg, "%s|%s", a, b);
    assert_non_null(
        HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, (size_t)n, md, &len));
    assert_int_equal(len, 32);
    seckill_base64url(md, 32, out);
}

static void fill_key(char *key, size_t n, int seed)
{
    for (size_t i = 0; i < n; i++)
        key[i] = (char)('!' + (i * 7 + (size_t)seed * 13) % 90);
}

static void same_as_one_shot_hmac(void **state)
{
    static const size_t lens[] = {1, 32, 48, 63, 64, 65, 100, 200};
    char key[256], want[SECKILL_TOKEN_LEN + 1], got[SECKILL_TOKEN_LEN + 1];

    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        fill_key(key, lens[i], (int)i);
        for (int round = 0; round < 2; round++) { /* made, then from the cache */
            reference(key, lens[i], "csrf", "AAAAAQAAAAH_R1q-E58quw", want);
            seckill_token_sign(key, lens[i], got, 2, "csrf", "AAAAAQAAAAH_R1q-E58quw");
            assert_string_equal(got, want);
            assert_true(
                seckill_token_check(key, lens[i], want, 2, "csrf", "AAAAAQAAAAH_R1q-E58quw"));
            assert_false(
                seckill_token_check(key, lens[i], want, 2, "csrf", "AAAAAQAAAAH_R1q-E58quv"));
        }
    }
}

/* Secrets sharing a prefix are different keys. */
static void prefix_is_another_key(void **state)
{
    const char *key = "0123456789abcdef0123456789abcdef-and-more";
    char a[SECKILL_TOKEN_LEN + 1], b[SECKILL_TOKEN_LEN + 1];
    seckill_token_sign(key, strlen(key), a, 2, "id", "x");
    seckill_token_sign(key, 32, b, 2, "id", "x");
    assert_string_not_equal(a, b);
    assert_false(seckill_token_check(key, 32, a, 2, "id", "x"));
}

/* More secrets than the cache keeps: the rest are keyed per call, with the same result. */
static void many_secrets(void **state)
{
    char key[40], want[SECKILL_TOKEN_LEN + 1], got[SECKILL_TOKEN_LEN + 1];
    for (int round = 0; round < 2; round++) {
        for (int s = 0; s < 20; s++) {
            fill_key(key, sizeof key, 100 + s);
            reference(key, sizeof key, "order", "42", want);
            seckill_token_sign(key, sizeof key, got, 2, "order", "42");
            assert_string_equal(got, want);
        }
    }
}

static void bad_fields_sign_nothing(void **state)
{
    char got[SECKILL_TOKEN_LEN + 1];
    seckill_token_sign("k", 1, got, 2, "id", "a|b");
    assert_string_equal(got, "");
    assert_false(seckill_token_check("k", 1, "", 2, "id", "a|b"));
}

#define THREADS 8
#define PER_THREAD 2000

typedef struct {
    int seed;
    int bad;
} worker_arg;

/* Each thread signs under two secrets (both first used by some thread here, at once) and
 * compares with what HMAC() says. */
static void *signer(void *p)
{
    worker_arg *w = p;
    char key[2][64], user[32], want[SECKILL_TOKEN_LEN + 1], got[SECKILL_TOKEN_LEN + 1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len;
    char msg[64];

    fill_key(key[0], sizeof key[0], 1000);
    fill_key(key[1], sizeof key[1], 1001);
    for (int i = 0; i < PER_THREAD; i++) {
        const char *k = key[(i + w->seed) % 2];
        int n;
        snprintf(user, sizeof user, "u%d-%d", w->seed, i);
        n = snprintf(msg, sizeof msg, "csrf|%s", user);
        HMAC(EVP_sha256(), k, 64, (const unsigned char *)msg, (size_t)n, md, &len);
        seckill_base64url(md, 32, want);
        seckill_token_sign(k, 64, got, 2, "csrf", user);
        if (strcmp(got, want) != 0)
            w->bad++;
    }
    return NULL;
}

static void threads_agree(void **state)
{
    pthread_t t[THREADS];
    worker_arg a[THREADS];
    for (int i = 0; i < THREADS; i++) {
        a[i] = (worker_arg){i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, signer, &a[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].bad, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_one_shot_hmac), cmocka_unit_test(prefix_is_another_key),
        cmocka_unit_test(many_secrets),          cmocka_unit_test(bad_fields_sign_nothing),
        cmocka_unit_test(threads_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
