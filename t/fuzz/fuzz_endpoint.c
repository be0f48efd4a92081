/* libFuzzer target: lib/endpoint.c (seckill_endpoint_parse, with its percent-decoding of
 * user, password and path). The first byte picks the scheme, the rest is the URL.
 * Build and run: make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "endpoint.h"

static apr_pool_t *root;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const schemes[] = {"redis", "mysql", "amqp"};
    static const int ports[] = {6379, 3306, 5672};
    apr_pool_t *p;
    seckill_endpoint ep;
    const char *err, *url;
    int k;

    if (size < 1)
        return 0;
    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    k = data[0] % 3;
    apr_pool_create(&p, root);
    url = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    memset(&ep, 0, sizeof ep);
    err = seckill_endpoint_parse(p, url, schemes[k], ports[k], &ep);
    if (!err) {
        if (!ep.host || !*ep.host || !ep.path || !ep.url || ep.port < 0 || ep.port > 65535)
            abort();
        (void)strlen(ep.host);
        (void)strlen(ep.url);
        if (ep.user)
            (void)strlen(ep.user);
        if (ep.password && !strstr(ep.url, ":***@"))
            abort(); /* the URL kept for logs must show the password masked */
    } else {
        (void)strlen(err);
    }
    apr_pool_destroy(p);
    return 0;
}
