/* SHA-256's own state (SHA256_CTX), deprecated by OpenSSL 3 for EVP, is a plain struct: a
 * signature copies two of them by assignment. EVP_MD_CTX_copy_ex allocates a provider
 * context each copy (three mallocs a token, six a shopper's request: bench/README.md). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

size_t seckill_base64url(const unsigned char *in, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
        out[o++] = abc[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
    }
    out[o] = 0;
    return o;
}

/* ---- HMAC-SHA256 keyed once -------------------------------------------------------------
 * OpenSSL's one-shot HMAC() fetches the algorithms, builds a context and hashes the padded key
 * (two SHA-256 blocks) on every call: about 21,000 instructions for a 60-byte message. The
 * digest states after the inner and outer key blocks (RFC 2104) depend on the secret alone, so
 * they are made once per secret and process, and every signature starts from copies of them.
 * The states are never written after they are published: any number of threads copy them at
 * once (OpenSSL allows concurrent use of a const context). */

#define SHA256_BLOCK 64
#define SHA256_LEN 32
/* A process signs with one secret (two when a virtual host has its own); a caller cycling
 * through more than this many is served without the cache. */
#define KEYED_MAX 8

typedef struct keyed {
    struct keyed *next;
    SHA256_CTX inner, outer; /* SHA-256 after (key ^ ipad), after (key ^ opad) */
    size_t len;
    unsigned char secret[]; /* the key it was made for, to find it again */
} keyed;

static keyed *keyed_head; /* read without the lock (acquire), written under it (release) */
static int keyed_count;
static pthread_mutex_t keyed_lock = PTHREAD_MUTEX_INITIALIZER;

static void keyed_free(keyed *k)
{
    if (!k)
        return;
    OPENSSL_cleanse(k, sizeof *k + k->len);
    free(k);
}

/* The digest state after one block of key ^ pad. */
static int pad_state(const unsigned char *key, size_t key_len, unsigned char pad, SHA256_CTX *c)
{
    unsigned char block[SHA256_BLOCK];
    int ok;

    memset(block, pad, sizeof block);
    for (size_t i = 0; i < key_len; i++)
        block[i] ^= key[i];
    ok = SHA256_Init(c) && SHA256_Update(c, block, sizeof block);
    OPENSSL_cleanse(block, sizeof block);
    return ok;
}

static keyed *keyed_make(const char *secret, size_t len)
{
    keyed *k = calloc(1, sizeof *k + len);
    const unsigned char *key = (const unsigned char *)secret;
    unsigned char hashed[SHA256_LEN];
    size_t key_len = len;
    int ok;

    if (!k)
        return NULL;
    k->len = len;
    memcpy(k->secret, secret, len);
    /* RFC 2104: a key longer than the block is replaced by its hash */
    if (len > SHA256_BLOCK) {
        if (!EVP_Digest(secret, len, hashed, NULL, EVP_sha256(), NULL)) {
            keyed_free(k);
            return NULL;
        }
        key = hashed;
        key_len = SHA256_LEN;
    }
    ok = pad_state(key, key_len, 0x36, &k->inner) && pad_state(key, key_len, 0x5c, &k->outer);
    OPENSSL_cleanse(hashed, sizeof hashed);
    if (!ok) {
        keyed_free(k);
        return NULL;
    }
    return k;
}

static keyed *keyed_find(const char *secret, size_t len)
{
    for (keyed *k = __atomic_load_n(&keyed_head, __ATOMIC_ACQUIRE); k; k = k->next)
        if (k->len == len && memcmp(k->secret, secret, len) == 0)
            return k;
    return NULL;
}

/* The states of secret: shared (*own NULL) or, past KEYED_MAX secrets, made for this call
 * (*own to free). NULL when out of memory. */
static keyed *keyed_get(const char *secret, size_t len, keyed **own)
{
    keyed *k = keyed_find(secret, len);

    *own = NULL;
    if (k)
        return k;
    pthread_mutex_lock(&keyed_lock);
    if (!(k = keyed_find(secret, len)) && (k = keyed_make(secret, len)) != NULL) {
        if (keyed_count < KEYED_MAX) {
            k->next = keyed_head;
            keyed_count++;
            __atomic_store_n(&keyed_head, k, __ATOMIC_RELEASE);
        } else {
            *own = k;
        }
    }
    pthread_mutex_unlock(&keyed_lock);
    return k;
}

/* HMAC-SHA256(secret, msg) into md (32 bytes); 0 on failure. */
static int hmac_sha256(const char *secret, size_t secret_len, const void *msg, size_t n,
                       unsigned char *md)
{
    unsigned char inner[SHA256_LEN];
    keyed *own, *k = keyed_get(secret, secret_len, &own);
    SHA256_CTX c;
    int ok = 0;

    if (k) {
        c = k->inner;
        ok = SHA256_Update(&c, msg, n) && SHA256_Final(inner, &c);
        c = k->outer;
        ok = ok && SHA256_Update(&c, inner, sizeof inner) && SHA256_Final(md, &c);
        OPENSSL_cleanse(&c, sizeof c);
        OPENSSL_cleanse(inner, sizeof inner);
    }
    keyed_free(own);
    return ok;
}

#define JOIN_MAX 1024

/* The HMAC of the fields joined by '|'; a field may not contain '|' or the join would be
 * ambiguous, so such input (or too long a one) signs as nothing any check could match. */
static int sign_v(const char *secret, size_t secret_len, char *out, int nfields, va_list ap)
{
    unsigned char md[SHA256_LEN];
    char buf[JOIN_MAX];
    size_t n = 0;
    for (int i = 0; i < nfields; i++) {
        const char *f = va_arg(ap, const char *);
        size_t len = f ? strlen(f) : 0;
        if (!f || memchr(f, '|', len) || n + len + 1 > sizeof buf)
            goto fail;
        if (i > 0)
            buf[n++] = '|';
        memcpy(buf + n, f, len);
        n += len;
    }
    if (!hmac_sha256(secret, secret_len, buf, n, md))
        goto fail;
    seckill_base64url(md, sizeof md, out);
    return 1;
fail:
    memset(out, 0, SECKILL_TOKEN_LEN + 1);
    return 0;
}

void seckill_token_sign(const char *secret, size_t secret_len, char *out, int nfields, ...)
{
    va_list ap;
    va_start(ap, nfields);
    sign_v(secret, secret_len, out, nfields, ap);
    va_end(ap);
}

int seckill_token_check(const char *secret, size_t secret_len, const char *token, int nfields, ...)
{
    char want[SECKILL_TOKEN_LEN + 1];
    va_list ap;
    int ok;
    if (!token || strlen(token) != SECKILL_TOKEN_LEN)
        return 0;
    va_start(ap, nfields);
    ok = sign_v(secret, secret_len, want, nfields, ap);
    va_end(ap);
    return ok && CRYPTO_memcmp(want, token, SECKILL_TOKEN_LEN) == 0;
}
