/* amqp_tool: the test suite's hands on RabbitMQ (there is no AMQP module for Perl here), through
 * lib/amqp_conn.c so the tests publish exactly as the module does. URL from -u, else
 * amqp://guest:guest@127.0.0.1:$SECKILL_AMQP_PORT/.
 *   amqp_tool publish ROUTING_KEY [RETRIES [TTL_MS]]  bodies from stdin, one a line, confirmed
 *                                                     (a TAB in a line stands for a newline:
 *                                                     a message of several orders, lib/order.h)
 *   amqp_tool count QUEUE...                          ready messages of each queue, one a line
 *   amqp_tool purge QUEUE...                          empties the queues
 *   amqp_tool get QUEUE [MAX]                         takes messages: "retries<TAB>body" lines
 *                                                     (a newline in a body printed as a TAB)
 *   amqp_tool delete QUEUE...                         deletes the queues (a lost topology) */
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amqp_conn.h"

static int usage(void)
{
    fprintf(stderr, "usage: amqp_tool [-u URL] publish ROUTING_KEY [RETRIES [TTL_MS]] < bodies\n"
                    "       amqp_tool [-u URL] count|purge QUEUE...\n"
                    "       amqp_tool [-u URL] get QUEUE [MAX]\n"
                    "       amqp_tool [-u URL] delete QUEUE...\n");
    return 2;
}

static int rpc_ok(amqp_connection_state_t c, const char *what)
{
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return 1;
    fprintf(stderr, "amqp_tool: %s failed (reply type %d)\n", what, (int)r.reply_type);
    return 0;
}

static int publish(seckill_amqp *a, const char *rk, int retries, long ttl)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long sent = 0;

    while ((n = getline(&line, &cap, stdin)) >= 0) {
        seckill_amqp_result r;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0)
            continue;
        for (ssize_t i = 0; i < n; i++) /* JSON writes no raw TAB nor newline */
            if (line[i] == '\t')
                line[i] = '\n';
        if ((r = seckill_amqp_publish(a, rk, line, (size_t)n, ttl, retries)) != SECKILL_AMQP_OK) {
            fprintf(stderr, "amqp_tool: publish %ld: result %d: %s\n", sent + 1, (int)r,
                    seckill_amqp_error(a));
            free(line);
            return 1;
        }
        sent++;
    }
    free(line);
    printf("%ld\n", sent);
    return 0;
}

static int count_or_purge(seckill_amqp *a, int purge, int n, char **queues)
{
    amqp_connection_state_t c = seckill_amqp_state(a);
    for (int i = 0; i < n; i++) {
        amqp_bytes_t q = amqp_cstring_bytes(queues[i]);
        if (purge) {
            amqp_queue_purge(c, 1, q);
            if (!rpc_ok(c, queues[i]))
                return 1;
            continue;
        }
        amqp_queue_declare_ok_t *ok = amqp_queue_declare(c, 1, q, 1, 0, 0, 0, amqp_empty_table);
        if (!ok || !rpc_ok(c, queues[i]))
            return 1;
        printf("%u\n", ok->message_count);
    }
    return 0;
}

static int delete_queues(seckill_amqp *a, int n, char **queues)
{
    amqp_connection_state_t c = seckill_amqp_state(a);
    for (int i = 0; i < n; i++) {
        amqp_queue_delete(c, 1, amqp_cstring_bytes(queues[i]), 0, 0);
        if (!rpc_ok(c, queues[i]))
            return 1;
    }
    return 0;
}

static int retries_of(const amqp_basic_properties_t *p)
{
    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
        return 0;
    for (int i = 0; i < p->headers.num_entries; i++) {
        const amqp_table_entry_t *e = &p->headers.entries[i];
        if (e->key.len == strlen(SECKILL_AMQP_RETRIES_HEADER) &&
            memcmp(e->key.bytes, SECKILL_AMQP_RETRIES_HEADER, e->key.len) == 0)
            return e->value.kind == AMQP_FIELD_KIND_I32 ? e->value.value.i32 : -1;
    }
    return 0;
}

static int get(seckill_amqp *a, const char *queue, long max)
{
    amqp_connection_state_t c = seckill_amqp_state(a);
    for (long i = 0; i < max; i++) {
        amqp_rpc_reply_t r = amqp_basic_get(c, 1, amqp_cstring_bytes(queue), 1);
        amqp_message_t msg;
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            fprintf(stderr, "amqp_tool: basic.get %s failed\n", queue);
            return 1;
        }
        if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
            break;
        if (amqp_read_message(c, 1, &msg, 0).reply_type != AMQP_RESPONSE_NORMAL) {
            fprintf(stderr, "amqp_tool: reading a message of %s failed\n", queue);
            return 1;
        }
        printf("%d\t", retries_of(&msg.properties));
        for (size_t k = 0; k < msg.body.len; k++)
            putchar(((const char *)msg.body.bytes)[k] == '\n' ? '\t'
                                                              : ((const char *)msg.body.bytes)[k]);
        putchar('\n');
        amqp_destroy_message(&msg);
        amqp_maybe_release_buffers(c);
    }
    return 0;
}

static int run(seckill_amqp *a, int argc, char **argv)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "publish") == 0 && argc >= 2 && argc <= 4)
        return publish(a, argv[1], argc > 2 ? atoi(argv[2]) : -1, argc > 3 ? atol(argv[3]) : 0);
    if ((strcmp(cmd, "count") == 0 || strcmp(cmd, "purge") == 0) && argc >= 2)
        return count_or_purge(a, cmd[0] == 'p', argc - 1, argv + 1);
    if (strcmp(cmd, "delete") == 0 && argc >= 2)
        return delete_queues(a, argc - 1, argv + 1);
    if (strcmp(cmd, "get") == 0 && argc >= 2 && argc <= 3)
        return get(a, argv[1], argc > 2 ? atol(argv[2]) : 1000000);
    return usage();
}

int main(int argc, char **argv)
{
    const char *port = getenv("SECKILL_AMQP_PORT"), *url = NULL, *err;
    seckill_endpoint ep;
    seckill_amqp *a;
    apr_pool_t *p;
    char msg[512];
    int rc;

    if (argc > 2 && strcmp(argv[1], "-u") == 0) {
        url = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc < 2)
        return usage();
    apr_initialize();
    apr_pool_create(&p, NULL);
    if (!url)
        url = apr_psprintf(p, "amqp://guest:guest@127.0.0.1:%s/", port ? port : "5672");
    if ((err = seckill_endpoint_parse(p, url, "amqp", 5672, &ep))) {
        fprintf(stderr, "amqp_tool: %s\n", err);
        return 2;
    }
    if (!(a = seckill_amqp_open(&ep, 5000, msg, sizeof msg))) {
        fprintf(stderr, "amqp_tool: %s\n", msg);
        return 1;
    }
    rc = run(a, argc - 1, argv + 1);
    seckill_amqp_close(a);
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
