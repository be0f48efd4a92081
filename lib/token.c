#include "token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
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

#define JOIN_MAX 1024

/* The HMAC of the fields joined by '|'; a field may not contain '|' or the join would be
 * ambiguous, so such input (or too long a one) signs as nothing any check could match. */
static int sign_v(const char *secret, size_t secret_len, char *out, int nfields, va_list ap)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
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
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)buf, n, md, &mdlen) ||
        mdlen != 32)
        goto fail;
    seckill_base64url(md, 32, out);
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
