/* libFuzzer target: lib/form.c (the urlencoded buy body, the ids of the shop's URLs, the
 * identity cookie in a Cookie header).
 * A value found must hold no NUL; an accepted id must read back as the same digits.
 * Build and run: make fuzz. */
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static apr_pool_t *root;
    apr_pool_t *p;
    const char *v = NULL;
    char *s, back[32];
    long long id;
    unsigned long long u;
    int rc;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    rc = seckill_form_value(p, (const char *)data, size, "csrf_token", &v);
    if (rc == SECKILL_FORM_OK && v && memchr(v, 0, strlen(v) + 1) != v + strlen(v))
        abort();
    if (rc != SECKILL_FORM_OK && v)
        abort(); /* a refused input must leave no value behind */
    s = apr_pstrmemdup(p, (const char *)data, size);
    if (seckill_parse_id(s, &id) == 0) {
        snprintf(back, sizeof back, "%lld", id);
        if (strcmp(back, s) != 0 && s[0] != '0')
            abort(); /* accepted text that is not the id's digits */
    }
    if (seckill_parse_u64(s, &u) == 0 && u == 0)
        abort();
    {
        const char *cv = NULL;
        size_t cn = 0;
        int found = seckill_cookie_find(s, "seckill_id", &cv, &cn);
        /* a value found lies within the line and ends at its cookie's end */
        if (found == 1 && (cv < s || cv + cn > s + strlen(s) || (cv[cn] && !strchr(";,", cv[cn]))))
            abort();
        if (found == 0 && cv)
            abort();
    }
    apr_pool_destroy(p);
    return 0;
}
