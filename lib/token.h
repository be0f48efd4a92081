/* HMAC-SHA256 tokens over the shared secret, base64url without padding (43 characters).
 * One function signs for every purpose (identity cookie, CSRF, order token); the purpose is
 * the first field, so a token made for one can never pass as another. Any thread may sign;
 * each secret is keyed once per process (the HMAC pads' digest states), not per call. */
#ifndef SECKILL_TOKEN_H
#define SECKILL_TOKEN_H

#include <stddef.h>

#define SECKILL_TOKEN_LEN 43 /* characters, without the NUL */

/* Signs the fields joined by '|' (purpose first) into out (SECKILL_TOKEN_LEN + 1 bytes). */
void seckill_token_sign(const char *secret, size_t secret_len, char *out, int nfields, ...);
/* 1 when token (NUL-terminated) is the signature of the fields, compared in constant time. */
int seckill_token_check(const char *secret, size_t secret_len, const char *token, int nfields, ...);
/* base64url without padding of n bytes into out (4*ceil(n/3) + 1 bytes is enough). */
size_t seckill_base64url(const unsigned char *in, size_t n, char *out);

#endif
