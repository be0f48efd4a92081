/* Server endpoints are URLs: redis://[:password@]host:port[/db], mysql://user:pass@host:port/db,
 * amqp://user:pass@host:port[/vhost]. Parsed once at config time by module and worker alike. */
#ifndef SECKILL_ENDPOINT_H
#define SECKILL_ENDPOINT_H

#include <apr_pools.h>

typedef struct {
    const char *url; /* as given, for logs (password masked) */
    const char *host;
    int port;
    const char *user;     /* NULL when absent */
    const char *password; /* NULL when absent */
    const char *path;     /* redis db number, mysql database, amqp vhost (decoded); "" if absent */
} seckill_endpoint;

/* Parses url of the given scheme; NULL on success, else a message for the admin. */
const char *seckill_endpoint_parse(apr_pool_t *p, const char *url, const char *scheme,
                                   int default_port, seckill_endpoint *ep);

#endif
