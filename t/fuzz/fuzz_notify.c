/* libFuzzer target: what an Alipay notify or return goes through before the shop believes it
 * (lib/form.c strict parsing, lib/alipay.c sign string, RSA2 verify, gateway answer
 * extraction, lib/alipay_api.c amounts). Properties: random params never verify; params the
 * key signed always do; an amount read in cents prints back as an amount of the same value.
 * Build and run: make fuzz. */
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <openssl/rsa.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alipay.h"
#include "alipay_api.h"
#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static apr_pool_t *root;
    static EVP_PKEY *key;
    apr_pool_t *p;
    seckill_form_pair *params, *signed_params;
    const char *obj;
    size_t obj_len;
    char *sign, *text;
    long long cents;
    int n;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
        key = EVP_RSA_gen(1024); /* speed over strength: only the property matters here */
        if (!key)
            abort();
    }
    apr_pool_create(&p, root);
    n = seckill_form_parse_unique(p, (const char *)data, size, &params);
    if (n >= 0) {
        /* fuzzed bytes carry no valid signature of this key */
        if (seckill_alipay_verify_params(p, key, params, n, SECKILL_ALIPAY_SKIP_SIGN_TYPE) ==
            SECKILL_ALIPAY_OK)
            abort();
        /* the same params signed by the key verify, whatever their content */
        signed_params = apr_pcalloc(p, sizeof *signed_params * (size_t)(n + 1));
        for (int i = 0, m = 0; i < n; i++)
            if (strcmp(params[i].key, "sign") && strcmp(params[i].key, "sign_type"))
                signed_params[m++] = params[i];
        text = seckill_alipay_sign_string(p, signed_params, n, SECKILL_ALIPAY_SKIP_SIGN_TYPE);
        sign = seckill_alipay_sign(p, key, text, strlen(text));
        if (!sign)
            abort();
        for (int i = 0; i <= n; i++)
            if (!signed_params[i].key) {
                signed_params[i] = (seckill_form_pair){"sign", sign};
                if (seckill_alipay_verify_params(p, key, signed_params, i + 1,
                                                 SECKILL_ALIPAY_SKIP_SIGN_TYPE) !=
                    SECKILL_ALIPAY_OK)
                    abort();
                break;
            }
    }
    text = apr_pstrmemdup(p, (const char *)data, size);
    if ((cents = seckill_alipay_cents(text)) >= 0) {
        char back[32];
        snprintf(back, sizeof back, "%lld.%02lld", cents / 100, cents % 100);
        if (seckill_alipay_cents(back) != cents)
            abort();
    }
    if (seckill_alipay_response_extract(p, (const char *)data, size, NULL, &obj, &obj_len, &sign) ==
            0 &&
        (obj < (const char *)data || obj + obj_len > (const char *)data + size))
        abort(); /* the object must be bytes of the answer itself */
    apr_pool_destroy(p);
    return 0;
}
