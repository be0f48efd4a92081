/* bench/amqp_publish.c: RabbitMQ's cost of a confirmed, persistent publish, apart from the shop
 * (bench/profile.sh amqp builds and runs it). Publishes N copies of BODY into a throwaway
 * durable queue "bench.tmp.cq<VERSION>" (declared with x-queue-version VERSION, 1 or 2; through
 * the default exchange, not mandatory), BURST messages at a time and then one wait for their
 * confirms; BURST 1 is what a buy does today. "delete" as the fifth argument deletes the queue.
 *
 *   amqp_publish VERSION N BURST BODY [delete]       port from $SECKILL_AMQP_PORT, guest/guest */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(const char *what, amqp_rpc_reply_t r)
{
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        fprintf(stderr, "amqp_publish: %s failed (reply type %d)\n", what, (int)r.reply_type);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    const char *port = getenv("SECKILL_AMQP_PORT");
    amqp_connection_state_t c;
    amqp_socket_t *s;
    amqp_table_entry_t e[1];
    amqp_table_t args = {1, e};
    amqp_basic_properties_t p;
    uint64_t confirmed = 0;
    char queue[64];
    int version, n, burst;

    if (argc < 5)
        return fprintf(stderr, "usage: amqp_publish VERSION N BURST BODY [delete]\n"), 2;
    version = atoi(argv[1]);
    n = atoi(argv[2]);
    burst = atoi(argv[3]) > 0 ? atoi(argv[3]) : 1;
    snprintf(queue, sizeof queue, "bench.tmp.cq%d", version);

    c = amqp_new_connection();
    if (!(s = amqp_tcp_socket_new(c)) || amqp_socket_open(s, "127.0.0.1", port ? atoi(port) : 5672))
        return fprintf(stderr, "amqp_publish: cannot connect\n"), 1;
    check("login", amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"));
    amqp_channel_open(c, 1);
    check("channel.open", amqp_get_rpc_reply(c));
    if (argc > 5 && strcmp(argv[5], "delete") == 0) {
        amqp_queue_delete(c, 1, amqp_cstring_bytes(queue), 0, 0);
        check("queue.delete", amqp_get_rpc_reply(c));
        return 0;
    }
    e[0].key = amqp_cstring_bytes("x-queue-version");
    e[0].value.kind = AMQP_FIELD_KIND_I32;
    e[0].value.value.i32 = version;
    amqp_queue_declare(c, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, args);
    check("queue.declare", amqp_get_rpc_reply(c));
    amqp_confirm_select(c, 1);
    check("confirm.select", amqp_get_rpc_reply(c));

    memset(&p, 0, sizeof p);
    p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    p.delivery_mode = 2; /* persistent */
    for (int sent = 0; sent < n; sent += burst) {
        uint64_t want = confirmed + (uint64_t)burst;
        for (int i = 0; i < burst; i++)
            if (amqp_basic_publish(c, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 0, 0, &p,
                                   amqp_cstring_bytes(argv[4])) != AMQP_STATUS_OK)
                return fprintf(stderr, "amqp_publish: publish failed\n"), 1;
        while (confirmed < want) { /* basic.ack, one or "multiple" */
            amqp_frame_t f;
            if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK)
                return fprintf(stderr, "amqp_publish: connection lost\n"), 1;
            if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
                amqp_basic_ack_t *a = f.payload.method.decoded;
                confirmed = a->multiple ? a->delivery_tag : confirmed + 1;
            } else if (f.frame_type == AMQP_FRAME_METHOD) {
                return fprintf(stderr, "amqp_publish: unexpected method 0x%08x\n",
                               (unsigned)f.payload.method.id), 1;
            }
        }
    }
    amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
    return 0;
}
