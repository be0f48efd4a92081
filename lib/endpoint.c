#include "endpoint.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *decode(apr_pool_t *p, const char *s)
{
    char *out, *o;
    if (!s)
        return NULL;
    out = o = apr_palloc(p, strlen(s) + 1);
    for (; *s; s++) {
        if (s[0] == '%' && apr_isxdigit(s[1]) && apr_isxdigit(s[2])) {
            char hex[3] = {s[1], s[2], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = 0;
    return out;
}

const char *seckill_endpoint_parse(apr_pool_t *p, const char *url, const char *scheme,
                                   int default_port, seckill_endpoint *ep)
{
    apr_uri_t u;
    const char *path;

    if (!url || !*url)
        return "empty URL";
    if (apr_uri_parse(p, url, &u) != APR_SUCCESS)
        return apr_psprintf(p, "'%s' is not a URL", url);
    if (!u.scheme || strcasecmp(u.scheme, scheme) != 0)
        return apr_psprintf(p, "'%s' must start with %s://", url, scheme);
    if (!u.hostname || !*u.hostname)
        return apr_psprintf(p, "'%s' names no host", url);
    if (u.port_str && (u.port == 0 || strspn(u.port_str, "0123456789") != strlen(u.port_str)))
        return apr_psprintf(p, "'%s' has a bad port", url);
    if (u.query || u.fragment)
        return apr_psprintf(p, "'%s' may not have a query or fragment", url);

    ep->host = u.hostname;
    ep->port = u.port_str ? u.port : default_port;
    ep->user = decode(p, u.user);
    ep->password = decode(p, u.password);
    path = u.path ? u.path : "";
    while (*path == '/')
        path++;
    ep->path = decode(p, path);
    ep->url = u.password ? apr_pstrcat(p, scheme, "://", u.user ? u.user : "", ":***@", u.hostname,
                                       u.port_str ? ":" : "", u.port_str ? u.port_str : "",
                                       u.path ? u.path : "", NULL)
                         : url;
    return NULL;
}
