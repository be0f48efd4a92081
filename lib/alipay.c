#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "alipay.h"

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <apr_strings.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_FILE_MAX (64 * 1024)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- base64 ---- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict standard base64 into out (len * 3 / 4 + 3 bytes is enough). Line breaks and tabs are
 * skipped; a space is read as '+' when space_is_plus, else skipped. Padding only at the end and
 * optional. Returns the byte count, or -1. */
static long b64_decode(const char *in, size_t len, unsigned char *out, int space_is_plus)
{
    unsigned acc = 0;
    int bits = 0, pad = 0;
    long o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        int v;
        if (c == '\r' || c == '\n' || c == '\t' || (c == ' ' && !space_is_plus))
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad)
            return -1; /* data after padding */
        v = b64_value(c == ' ' ? '+' : c);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (pad > 2 || bits >= 6 || (acc != 0))
        return -1; /* a lone sextet, or non-zero leftover bits */
    return o;
}

/* ---- keys ---- */

static char *read_file(const char *file, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(file, "rb");
    char *buf;
    size_t n;
    if (!f) {
        set_err(err, errlen, "%s: cannot open: %s", file, strerror(errno));
        return NULL;
    }
    buf = malloc(KEY_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        set_err(err, errlen, "%s: out of memory", file);
        return NULL;
    }
    n = fread(buf, 1, KEY_FILE_MAX + 1, f);
    if (ferror(f) || n > KEY_FILE_MAX) {
        set_err(err, errlen, "%s: %s", file,
                ferror(f) ? "read error" : "too large for a key file (64 KB at most)");
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* The label of the first PEM block ("RSA PRIVATE KEY", ...) into label, 1 when there is one. */
static int pem_label(const char *text, size_t len, char *label, size_t labellen)
{
    static const char begin[] = "-----BEGIN ";
    const char *e = text + len, *s, *t;
    for (s = text; s + sizeof begin - 1 <= e; s++)
        if (!memcmp(s, begin, sizeof begin - 1))
            break;
    if (s + sizeof begin - 1 > e)
        return 0;
    s += sizeof begin - 1;
    for (t = s; t + 5 <= e && memcmp(t, "-----", 5) && *t != '\n'; t++)
        ;
    if (t + 5 > e || *t == '\n' || (size_t)(t - s) >= labellen)
        return -1;
    memcpy(label, s, (size_t)(t - s));
    label[t - s] = 0;
    return 1;
}

static EVP_PKEY *decode_key(const unsigned char *data, size_t len, const char *input_type,
                            int selection)
{
    EVP_PKEY *pkey = NULL;
    const unsigned char *d = data;
    size_t l = len;
    OSSL_DECODER_CTX *dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, input_type, NULL, "RSA", selection, NULL, NULL);
    if (!dctx)
        return NULL;
    if (!OSSL_DECODER_from_data(dctx, &d, &l)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

/* The DER of a raw-base64 key (whitespace allowed), malloc'd, or NULL when text is not that. */
static unsigned char *raw_der(const char *text, size_t len, size_t *der_len)
{
    unsigned char *der = malloc(len * 3 / 4 + 4);
    long n;
    if (!der)
        return NULL;
    n = b64_decode(text, len, der, 0);
    if (n < 16) { /* no key is this short; also catches an empty file */
        free(der);
        return NULL;
    }
    *der_len = (size_t)n;
    return der;
}

#define PRIV_FORMS                                                                                 \
    "an RSA private key: PEM \"BEGIN RSA PRIVATE KEY\" (PKCS#1) or \"BEGIN PRIVATE KEY\" "         \
    "(PKCS#8), or the raw base64 of its DER (one line, no header, as Alipay's console gives)"
#define PUB_FORMS                                                                                  \
    "an RSA public key: PEM \"BEGIN PUBLIC KEY\" or \"BEGIN RSA PUBLIC KEY\", or the raw "         \
    "base64 of its DER (one line, no header, as Alipay's console gives)"

EVP_PKEY *seckill_alipay_private_key_from_text(const char *text, size_t len, const char *what,
                                               char *err, size_t errlen)
{
    char label[64];
    EVP_PKEY *k = NULL;
    int pem = pem_label(text, len, label, sizeof label);
    if (pem < 0) {
        set_err(err, errlen, "%s: expected %s; found a broken PEM header", what, PRIV_FORMS);
        return NULL;
    }
    if (pem) {
        if (strcmp(label, "RSA PRIVATE KEY") && strcmp(label, "PRIVATE KEY")) {
            set_err(err, errlen, "%s: expected %s; found PEM \"BEGIN %s\"%s", what, PRIV_FORMS,
                    label,
                    !strcmp(label, "ENCRYPTED PRIVATE KEY") ? " (decrypt it: openssl pkey)" : "");
            return NULL;
        }
        if (memmem(text, len, "ENCRYPTED", 9)) {
            set_err(err, errlen, "%s: expected %s; found an encrypted PEM (decrypt it first)", what,
                    PRIV_FORMS);
            return NULL;
        }
        k = decode_key((const unsigned char *)text, len, "PEM", EVP_PKEY_KEYPAIR);
        if (!k)
            set_err(err, errlen, "%s: expected %s; PEM \"BEGIN %s\" does not hold a valid RSA key",
                    what, PRIV_FORMS, label);
    } else {
        size_t der_len;
        unsigned char *der = raw_der(text, len, &der_len);
        if (der) {
            k = decode_key(der, der_len, "DER", EVP_PKEY_KEYPAIR);
            free(der);
        }
        if (!k)
            set_err(err, errlen, "%s: expected %s; found neither", what, PRIV_FORMS);
    }
    ERR_clear_error();
    return k;
}

EVP_PKEY *seckill_alipay_public_key_from_text(const char *text, size_t len, const char *what,
                                              char *err, size_t errlen)
{
    char label[64];
    EVP_PKEY *k = NULL;
    int pem = pem_label(text, len, label, sizeof label);
    if (pem < 0) {
        set_err(err, errlen, "%s: expected %s; found a broken PEM header", what, PUB_FORMS);
        return NULL;
    }
    if (pem) {
        if (!strcmp(label, "CERTIFICATE")) {
            BIO *b = BIO_new_mem_buf(text, (int)len);
            X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
            if (x) {
                k = X509_get_pubkey(x);
                X509_free(x);
            }
            BIO_free(b);
            if (k && !EVP_PKEY_is_a(k, "RSA")) {
                EVP_PKEY_free(k);
                k = NULL;
            }
        } else if (!strcmp(label, "PUBLIC KEY") || !strcmp(label, "RSA PUBLIC KEY")) {
            k = decode_key((const unsigned char *)text, len, "PEM", EVP_PKEY_PUBLIC_KEY);
        } else {
            set_err(err, errlen, "%s: expected %s; found PEM \"BEGIN %s\"%s", what, PUB_FORMS,
                    label, strstr(label, "PRIVATE") ? " (a private key: give the public one)" : "");
            return NULL;
        }
        if (!k)
            set_err(err, errlen, "%s: expected %s; PEM \"BEGIN %s\" does not hold a valid RSA key",
                    what, PUB_FORMS, label);
    } else {
        size_t der_len;
        unsigned char *der = raw_der(text, len, &der_len);
        if (der) {
            EVP_PKEY *priv = decode_key(der, der_len, "DER", EVP_PKEY_KEYPAIR);
            if (priv) {
                EVP_PKEY_free(priv);
                free(der);
                set_err(err, errlen, "%s: expected %s; found a private key (give the public one)",
                        what, PUB_FORMS);
                ERR_clear_error();
                return NULL;
            }
            k = decode_key(der, der_len, "DER", EVP_PKEY_PUBLIC_KEY);
            free(der);
        }
        if (!k)
            set_err(err, errlen, "%s: expected %s; found neither", what, PUB_FORMS);
    }
    ERR_clear_error();
    return k;
}

EVP_PKEY *seckill_alipay_load_private_key(const char *file, char *err, size_t errlen)
{
    size_t len;
    char *text = read_file(file, &len, err, errlen);
    EVP_PKEY *k;
    if (!text)
        return NULL;
    k = seckill_alipay_private_key_from_text(text, len, file, err, errlen);
    OPENSSL_cleanse(text, len);
    free(text);
    return k;
}

EVP_PKEY *seckill_alipay_load_public_key(const char *file, char *err, size_t errlen)
{
    size_t len;
    char *text = read_file(file, &len, err, errlen);
    EVP_PKEY *k;
    if (!text)
        return NULL;
    k = seckill_alipay_public_key_from_text(text, len, file, err, errlen);
    free(text);
    return k;
}

/* ---- sign strings ---- */

typedef struct {
    const seckill_alipay_param *p;
    int index;
} sorted_param;

static int cmp_param(const void *a, const void *b)
{
    const sorted_param *x = a, *y = b;
    int c = strcmp(x->p->key, y->p->key);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

char *seckill_alipay_sign_string(apr_pool_t *p, const seckill_alipay_param *params, int n,
                                 int flags)
{
    sorted_param *s = apr_palloc(p, sizeof *s * (size_t)(n > 0 ? n : 1));
    size_t total = 1, o = 0;
    int m = 0;
    char *out;
    for (int i = 0; i < n; i++) {
        const seckill_alipay_param *q = &params[i];
        if (!q->key || !*q->key || !q->value || !*q->value || !strcmp(q->key, "sign"))
            continue;
        if ((flags & SECKILL_ALIPAY_SKIP_SIGN_TYPE) && !strcmp(q->key, "sign_type"))
            continue;
        s[m].p = q;
        s[m].index = i;
        m++;
        total += strlen(q->key) + strlen(q->value) + 2;
    }
    qsort(s, (size_t)m, sizeof *s, cmp_param);
    out = apr_palloc(p, total);
    for (int i = 0; i < m; i++) {
        size_t kl = strlen(s[i].p->key), vl = strlen(s[i].p->value);
        if (i)
            out[o++] = '&';
        memcpy(out + o, s[i].p->key, kl);
        o += kl;
        out[o++] = '=';
        memcpy(out + o, s[i].p->value, vl);
        o += vl;
    }
    out[o] = 0;
    return out;
}

/* ---- sign and verify ---- */

char *seckill_alipay_sign(apr_pool_t *p, EVP_PKEY *key, const char *data, size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *sig = NULL;
    size_t siglen = 0;
    char *out = NULL;
    if (!ctx || !key)
        goto done;
    if (EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
        EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *)data, len) != 1)
        goto done;
    sig = OPENSSL_malloc(siglen);
    if (!sig || EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)data, len) != 1)
        goto done;
    out = apr_palloc(p, 4 * ((siglen + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, sig, (int)siglen);
done:
    OPENSSL_free(sig);
    EVP_MD_CTX_free(ctx);
    if (!out)
        ERR_clear_error();
    return out;
}

int seckill_alipay_verify(EVP_PKEY *pub, const char *data, size_t len, const char *sign_b64)
{
    unsigned char sig[1024];
    size_t sl;
    long n;
    EVP_MD_CTX *ctx;
    int rc = SECKILL_ALIPAY_BAD_SIGNATURE;
    if (!sign_b64 || !*sign_b64)
        return SECKILL_ALIPAY_NO_SIGNATURE;
    sl = strlen(sign_b64);
    if (sl > sizeof sig * 4 / 3)
        return SECKILL_ALIPAY_MALFORMED; /* longer than any RSA signature (8192 bits) */
    n = b64_decode(sign_b64, sl, sig, 1);
    if (n <= 0)
        return SECKILL_ALIPAY_MALFORMED;
    ctx = EVP_MD_CTX_new();
    if (ctx && pub && EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, pub, NULL) == 1 &&
        EVP_DigestVerify(ctx, sig, (size_t)n, (const unsigned char *)data, len) == 1)
        rc = SECKILL_ALIPAY_OK;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

char *seckill_alipay_sign_params(apr_pool_t *p, EVP_PKEY *key, const seckill_alipay_param *params,
                                 int n)
{
    char *s = seckill_alipay_sign_string(p, params, n, 0);
    return seckill_alipay_sign(p, key, s, strlen(s));
}

const char *seckill_alipay_param_get(const seckill_alipay_param *params, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (params[i].key && !strcmp(params[i].key, key))
            return params[i].value;
    return NULL;
}

int seckill_alipay_verify_params(apr_pool_t *p, EVP_PKEY *pub, const seckill_alipay_param *params,
                                 int n, int flags)
{
    const char *sign = seckill_alipay_param_get(params, n, "sign");
    const char *type = seckill_alipay_param_get(params, n, "sign_type");
    char *s;
    if (!sign || !*sign)
        return SECKILL_ALIPAY_NO_SIGNATURE;
    if (type && strcmp(type, "RSA2"))
        return SECKILL_ALIPAY_BAD_SIGNATURE;
    s = seckill_alipay_sign_string(p, params, n, flags);
    return seckill_alipay_verify(pub, s, strlen(s), sign);
}

/* ---- the gateway's JSON answers, on the raw text ---- */

static const char *skip_ws(const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++;
    return s;
}

/* s at the opening quote; returns just past the closing one, or NULL. */
static const char *skip_string(const char *s, const char *e)
{
    for (s++; s < e; s++) {
        if (*s == '\\') {
            s++;
            continue;
        }
        if (*s == '"')
            return s + 1;
        if ((unsigned char)*s < 0x20)
            return NULL;
    }
    return NULL;
}

#define MAX_DEPTH 64

/* s at the first byte of a value; returns just past it, or NULL when it is not one. Objects
 * and arrays are skipped by bracket matching (strings skipped whole, brackets must pair). */
static const char *skip_value(const char *s, const char *e)
{
    char stack[MAX_DEPTH];
    int d = 0;
    if (s >= e)
        return NULL;
    if (*s == '"')
        return skip_string(s, e);
    if (*s != '{' && *s != '[') {
        const char *b = s;
        while (s < e && !strchr(",}] \t\r\n", *s) && *s)
            s++;
        return s > b ? s : NULL;
    }
    while (s < e) {
        char c = *s;
        if (c == '"') {
            s = skip_string(s, e);
            if (!s)
                return NULL;
            continue;
        }
        if (c == '{' || c == '[') {
            if (d == MAX_DEPTH)
                return NULL;
            stack[d++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (!d || stack[d - 1] != c)
                return NULL;
            if (--d == 0)
                return s + 1;
        }
        s++;
    }
    return NULL;
}

/* The decoded JSON string between b and e (the quotes excluded); ASCII \u escapes only. */
static char *json_string(apr_pool_t *p, const char *b, const char *e)
{
    char *out = apr_palloc(p, (size_t)(e - b) + 1), *o = out;
    while (b < e) {
        if (*b != '\\') {
            *o++ = *b++;
            continue;
        }
        if (++b >= e)
            return NULL;
        switch (*b) {
        case '"':
        case '\\':
        case '/':
            *o++ = *b;
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'u': {
            unsigned v;
            char hex[5];
            if (e - b < 5)
                return NULL;
            memcpy(hex, b + 1, 4);
            hex[4] = 0;
            if (sscanf(hex, "%4x", &v) != 1 || v == 0 || v > 0x7f)
                return NULL;
            *o++ = (char)v;
            b += 4;
            break;
        }
        default:
            return NULL;
        }
        b++;
    }
    *o = 0;
    return out;
}

static int ends_with(const char *b, size_t n, const char *suffix)
{
    size_t sl = strlen(suffix);
    return n >= sl && !memcmp(b + n - sl, suffix, sl);
}

int seckill_alipay_response_extract(apr_pool_t *p, const char *body, size_t len, const char *method,
                                    const char **obj, size_t *obj_len, char **sign)
{
    const char *e = body + len, *s = skip_ws(body, e);
    const char *want_b = NULL, *want_e = NULL, *err_b = NULL, *err_e = NULL;
    char *name = NULL;
    *obj = NULL;
    *obj_len = 0;
    *sign = NULL;
    if (method) {
        name = apr_pstrcat(p, method, "_response", NULL);
        for (char *c = name; *c; c++)
            if (*c == '.')
                *c = '_';
    }
    if (s >= e || *s != '{')
        return -1;
    s = skip_ws(s + 1, e);
    if (s < e && *s == '}')
        return -1;
    for (;;) {
        const char *kb, *ke, *vb;
        size_t kl;
        if (s >= e || *s != '"')
            return -1;
        kb = s + 1;
        s = skip_string(s, e);
        if (!s)
            return -1;
        ke = s - 1;
        kl = (size_t)(ke - kb);
        s = skip_ws(s, e);
        if (s >= e || *s != ':')
            return -1;
        vb = s = skip_ws(s + 1, e);
        s = skip_value(s, e);
        if (!s)
            return -1;
        if (kl == 4 && !memcmp(kb, "sign", 4)) {
            if (*vb != '"' || !(*sign = json_string(p, vb + 1, s - 1)))
                return -1;
        } else if (*vb == '{' && !want_b &&
                   (name ? kl == strlen(name) && !memcmp(kb, name, kl)
                         : ends_with(kb, kl, "_response"))) {
            want_b = vb;
            want_e = s;
        } else if (*vb == '{' && kl == 14 && !memcmp(kb, "error_response", 14)) {
            err_b = vb;
            err_e = s;
        }
        s = skip_ws(s, e);
        if (s < e && *s == ',') {
            s = skip_ws(s + 1, e);
            continue;
        }
        if (s < e && *s == '}')
            break;
        return -1;
    }
    if (!want_b) {
        want_b = err_b;
        want_e = err_e;
    }
    if (!want_b)
        return -1;
    *obj = want_b;
    *obj_len = (size_t)(want_e - want_b);
    return 0;
}

int seckill_alipay_verify_response(apr_pool_t *p, EVP_PKEY *pub, const char *body, size_t len,
                                   const char *method, const char **obj, size_t *obj_len)
{
    const char *o;
    size_t ol;
    char *sign;
    int rc;
    if (obj)
        *obj = NULL;
    if (obj_len)
        *obj_len = 0;
    if (seckill_alipay_response_extract(p, body, len, method, &o, &ol, &sign) != 0)
        return SECKILL_ALIPAY_MALFORMED;
    rc = seckill_alipay_verify(pub, o, ol, sign);
    if (rc == SECKILL_ALIPAY_MALFORMED)
        return rc;
    if (obj)
        *obj = o;
    if (obj_len)
        *obj_len = ol;
    return rc;
}

/* ---- URL encoding and forms ---- */

char *seckill_alipay_urlencode(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = apr_palloc(p, n * 3 + 1), *o = out;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = 0;
    return out;
}

char *seckill_alipay_query_string(apr_pool_t *p, const seckill_alipay_param *params, int n)
{
    size_t total = 1, o = 0;
    char **parts = apr_palloc(p, sizeof *parts * (size_t)(n > 0 ? n : 1));
    int m = 0;
    char *out;
    for (int i = 0; i < n; i++) {
        if (!params[i].key || !params[i].value)
            continue;
        parts[m] = apr_pstrcat(p, seckill_alipay_urlencode(p, params[i].key), "=",
                               seckill_alipay_urlencode(p, params[i].value), NULL);
        total += strlen(parts[m]) + 1;
        m++;
    }
    out = apr_palloc(p, total);
    for (int i = 0; i < m; i++) {
        size_t l = strlen(parts[i]);
        if (i)
            out[o++] = '&';
        memcpy(out + o, parts[i], l);
        o += l;
    }
    out[o] = 0;
    return out;
}

int seckill_alipay_parse_form(apr_pool_t *p, const char *s, size_t len, seckill_alipay_param **out)
{
    int n = seckill_form_parse(p, s, len, out);
    return n < 0 ? -1 : n;
}

void seckill_alipay_timestamp(time_t t, char buf[20])
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, 20, "%Y-%m-%d %H:%M:%S", &tm);
}
