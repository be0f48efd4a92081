/* The status page's formats (lib/stats_format.c): ?auto lines, the Prometheus text format (every
 * line checked against the exposition grammar) and the view, from a made-up snapshot. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "stats_format.h"

static apr_pool_t *pool;

static seckill_stats_child kids[3];

/* Two children that counted (slots 0 and 5, the second gone), RabbitMQ up or not. */
static seckill_stats_snapshot snapshot(int queues_up)
{
    seckill_stats_snapshot s;
    memset(&s, 0, sizeof s);
    memset(kids, 0, sizeof kids);
    for (int i = 0; i < 2; i++) {
        kids[i].slot = i * 5;
        kids[i].pid = 1000 + i;
        kids[i].alive = i == 0;
        kids[i].processes = 1 + i;
        kids[i].started = 1764000000 + i;
        for (int id = 0; id < SECKILL_STAT_COUNT; id++)
            kids[i].counters[id] = (unsigned long long)(id + 1) * (i ? 100 : 1);
        for (int k = 0; k < SECKILL_POOL_KINDS; k++) {
            kids[i].pools[k].open = 3 + k;
            kids[i].pools[k].in_use = 1;
            kids[i].pools[k].connects = 10 + k;
            kids[i].pools[k].connect_errors = k;
            kids[i].pools[k].lost = 2;
            kids[i].pools[k].epochs = 1;
        }
    }
    s.node_id = 7;
    s.now = 1764000100;
    s.since = 1764000000;
    s.gauges[SECKILL_GAUGE_PENDING_REFUNDS] = 4;
    s.pool_size[SECKILL_POOL_REDIS] = 64;
    s.pool_size[SECKILL_POOL_MYSQL] = 16;
    s.pool_size[SECKILL_POOL_AMQP] = 32;
    s.nchildren = 2;
    s.children = kids;
    s.queues_up = queues_up;
    for (int q = 0; q < SECKILL_STATS_QUEUES; q++) {
        s.queue_messages[q] = 11 * (q + 1);
        s.queue_consumers[q] = q;
    }
    s.timeout_waiting = 9;
    return s;
}

static char *render(void (*f)(const seckill_stats_snapshot *, seckill_write_fn, void *),
                    const seckill_stats_snapshot *s)
{
    seckill_buf b;
    seckill_buf_init(&b, pool);
    f(s, seckill_buf_write, &b);
    return b.data;
}

/* The value of "Key: value" in text, or -1. */
static long long auto_value(const char *text, const char *key)
{
    char *needle = apr_psprintf(pool, "\n%s: ", key);
    const char *at = strstr(apr_pstrcat(pool, "\n", text, NULL), needle);
    return at ? atoll(at + strlen(needle)) : -1;
}

static void names(void **state)
{
    apr_hash_t *seen = apr_hash_make(pool);
    for (int id = 0; id < SECKILL_STAT_COUNT; id++) {
        const char *f = seckill_stat_family((seckill_stat)id), *o = seckill_stat_outcome(id);
        char *k;
        assert_non_null(f);
        assert_non_null(o);
        k = apr_pstrcat(pool, f, "/", o, NULL);
        assert_null(apr_hash_get(seen, k, APR_HASH_KEY_STRING));
        apr_hash_set(seen, k, APR_HASH_KEY_STRING, k);
    }
    assert_null(seckill_stat_outcome(SECKILL_STAT_COUNT));
    assert_string_equal(seckill_stat_outcome(SECKILL_STAT_BUY_SOLD_OUT), "sold_out");
    assert_string_equal(seckill_stat_family(SECKILL_STAT_NOTIFY_PAID), "notifies");
    assert_string_equal(seckill_stats_queue_name(0), "seckill.order.create");
    assert_string_equal(seckill_stats_queue_name(1), "seckill.order.timeout");
    assert_string_equal(seckill_stats_queue_name(2), "seckill.order.dead");
    assert_null(seckill_stats_queue_name(3));
}

static void auto_lines(void **state)
{
    seckill_stats_snapshot s = snapshot(1);
    char *text = render(seckill_stats_auto, &s), *line, *last;
    apr_hash_t *keys = apr_hash_make(pool);
    regex_t re;

    assert_int_equal(regcomp(&re, "^[A-Za-z][A-Za-z0-9.]*: [^\n]*$", REG_EXTENDED | REG_NOSUB), 0);
    assert_true(text[strlen(text) - 1] == '\n');
    for (line = apr_strtok(apr_pstrdup(pool, text), "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        char *key = apr_pstrndup(pool, line, (apr_size_t)(strchr(line, ':') - line));
        if (regexec(&re, line, 0, NULL, 0) != 0)
            fail_msg("not a Key: value line: %s", line);
        if (apr_hash_get(keys, key, APR_HASH_KEY_STRING))
            fail_msg("key twice: %s", key);
        apr_hash_set(keys, key, APR_HASH_KEY_STRING, key);
    }
    regfree(&re);
    assert_int_equal(auto_value(text, "NodeId"), 7);
    assert_int_equal(auto_value(text, "StatsSince"), 1764000000);
    assert_int_equal(auto_value(text, "StatsSeconds"), 100);
    assert_non_null(strstr(text, "\nChildSlots: 0 5\n"));
    assert_int_equal(auto_value(text, "ChildrenAlive"), 1);
    assert_int_equal(auto_value(text, "PendingRefunds"), 4);
    /* totals are the children's sums */
    assert_int_equal(auto_value(text, "BuysOk"), 1 + 100);
    assert_int_equal(auto_value(text, "Child0.BuysOk"), 1);
    assert_int_equal(auto_value(text, "Child5.BuysOk"), 100);
    assert_int_equal(auto_value(text, "BuysSoldOut"), (SECKILL_STAT_BUY_SOLD_OUT + 1) * 101);
    assert_int_equal(auto_value(text, "ListingMisses"), (SECKILL_STAT_LISTING_MISS + 1) * 101);
    assert_int_equal(auto_value(text, "NotifiesRefundFailed"),
                     (SECKILL_STAT_NOTIFY_REFUND_FAILED + 1) * 101);
    assert_int_equal(auto_value(text, "PublishUnconfirmed"),
                     (SECKILL_STAT_PUBLISH_UNCONFIRMED + 1) * 101);
    /* pools: idle = open - in_use */
    assert_int_equal(auto_value(text, "RedisPoolSize"), 64);
    assert_int_equal(auto_value(text, "RedisInUse"), 2);
    assert_int_equal(auto_value(text, "RedisIdle"), 4);
    assert_int_equal(auto_value(text, "AMQPIdle"), 2 * 4);
    assert_int_equal(auto_value(text, "MySQLConnects"), 22);
    assert_int_equal(auto_value(text, "AMQPConnectErrors"), 4);
    assert_int_equal(auto_value(text, "Child5.MySQLLost"), 2);
    assert_int_equal(auto_value(text, "Child0.RedisEpochs"), 1);
    assert_int_equal(auto_value(text, "Child5.Alive"), 0);
    assert_int_equal(auto_value(text, "Child5.Pid"), 1001);
    assert_int_equal(auto_value(text, "Child5.Processes"), 2);
    assert_int_equal(auto_value(text, "QueuesUp"), 1);
    assert_int_equal(auto_value(text, "QueueOrderCreate"), 11);
    assert_int_equal(auto_value(text, "QueueOrderDead"), 33);
    assert_int_equal(auto_value(text, "QueueOrderTimeoutConsumers"), 1);
    assert_int_equal(auto_value(text, "QueueTimeoutWaiting"), 9);

    s = snapshot(0);
    text = render(seckill_stats_auto, &s);
    assert_int_equal(auto_value(text, "QueuesUp"), 0);
    assert_null(strstr(text, "QueueOrderCreate"));
}

static void no_children(void **state)
{
    seckill_stats_snapshot s = snapshot(0);
    char *text;
    s.nchildren = 0;
    text = render(seckill_stats_auto, &s);
    assert_non_null(strstr(text, "\nChildSlots:\n"));
    assert_int_equal(auto_value(text, "BuysOk"), 0);
    text = render(seckill_stats_prometheus, &s);
    assert_non_null(strstr(text, "\nseckill_buys_total{outcome=\"ok\"} 0\n"));
    assert_null(strstr(text, "child=\""));
}

/* The text exposition format 0.0.4, strictly: comments are HELP or TYPE, a family's HELP and
 * TYPE come once and before its samples, samples are name{label="value",...} number. */
static void prometheus_grammar(void **state)
{
    seckill_stats_snapshot s = snapshot(1);
    char *text = render(seckill_stats_prometheus, &s), *line, *last;
    apr_hash_t *types = apr_hash_make(pool), *helps = apr_hash_make(pool);
    regex_t help, type, sample;
    regmatch_t m[3];
    int samples = 0;

    assert_int_equal(regcomp(&help, "^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) [^\n]+$", REG_EXTENDED), 0);
    assert_int_equal(
        regcomp(&type,
                "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$",
                REG_EXTENDED),
        0);
    assert_int_equal(regcomp(&sample,
                             "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
                             "(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
                             "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*)?\\})?"
                             " -?[0-9]+(\\.[0-9]+)?$",
                             REG_EXTENDED),
                     0);
    assert_true(text[strlen(text) - 1] == '\n');
    for (line = apr_strtok(apr_pstrdup(pool, text), "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        char *name;
        if (regexec(&help, line, 2, m, 0) == 0) {
            name = apr_pstrndup(pool, line + m[1].rm_so, (apr_size_t)(m[1].rm_eo - m[1].rm_so));
            if (apr_hash_get(helps, name, APR_HASH_KEY_STRING))
                fail_msg("HELP twice: %s", name);
            apr_hash_set(helps, name, APR_HASH_KEY_STRING, name);
        } else if (regexec(&type, line, 3, m, 0) == 0) {
            name = apr_pstrndup(pool, line + m[1].rm_so, (apr_size_t)(m[1].rm_eo - m[1].rm_so));
            if (apr_hash_get(types, name, APR_HASH_KEY_STRING))
                fail_msg("TYPE twice: %s", name);
            if (!apr_hash_get(helps, name, APR_HASH_KEY_STRING))
                fail_msg("TYPE before HELP: %s", name);
            apr_hash_set(
                types, name, APR_HASH_KEY_STRING,
                apr_pstrndup(pool, line + m[2].rm_so, (apr_size_t)(m[2].rm_eo - m[2].rm_so)));
        } else if (regexec(&sample, line, 2, m, 0) == 0) {
            const char *t;
            name = apr_pstrndup(pool, line + m[1].rm_so, (apr_size_t)(m[1].rm_eo - m[1].rm_so));
            if (!(t = apr_hash_get(types, name, APR_HASH_KEY_STRING)))
                fail_msg("sample without TYPE: %s", line);
            if ((strcmp(t, "counter") == 0) !=
                (strlen(name) > 6 && strcmp(name + strlen(name) - 6, "_total") == 0))
                fail_msg("counters and only they end in _total: %s", name);
            samples++;
        } else {
            fail_msg("not in the exposition format: %s", line);
        }
    }
    regfree(&help);
    regfree(&type);
    regfree(&sample);
    assert_true(samples > 100);
    assert_non_null(strstr(text, "\nseckill_buys_total{outcome=\"ok\"} 101\n"));
    assert_non_null(strstr(text, "\nseckill_child_buys_total{child=\"5\",outcome=\"ok\"} 100\n"));
    assert_non_null(strstr(text, "\nseckill_listings_total{outcome=\"hit\"} "));
    assert_non_null(strstr(text, "\nseckill_notifies_total{outcome=\"late_refund\"} "));
    assert_non_null(strstr(text, "\nseckill_publish_failures_total{outcome=\"unrevoked\"} "));
    assert_non_null(strstr(text, "\nseckill_pool_connections{pool=\"mysql\",state=\"idle\"} 6\n"));
    assert_non_null(strstr(
        text, "\nseckill_child_pool_connections{child=\"0\",pool=\"amqp\",state=\"in_use\"} 1\n"));
    assert_non_null(strstr(text, "\nseckill_pool_size{pool=\"redis\"} 64\n"));
    assert_non_null(strstr(text, "\nseckill_pool_epochs_total{pool=\"amqp\"} 2\n"));
    assert_non_null(strstr(text, "\nseckill_child_up{child=\"5\"} 0\n"));
    assert_non_null(strstr(text, "\nseckill_child_processes_total{child=\"5\"} 2\n"));
    assert_non_null(strstr(text, "\nseckill_amqp_up 1\n"));
    assert_non_null(strstr(text, "\nseckill_queue_messages{queue=\"seckill.order.timeout\"} 22\n"));
    assert_non_null(strstr(text, "\nseckill_queue_consumers{queue=\"seckill.order.dead\"} 2\n"));
    assert_non_null(strstr(text, "\nseckill_timeout_waiting_messages 9\n"));
    assert_non_null(strstr(text, "\nseckill_pending_refunds 4\n"));
    assert_non_null(strstr(text, "\nseckill_snowflake_node 7\n"));
    assert_non_null(strstr(text, "\nseckill_stats_since_seconds 1764000000\n"));

    s = snapshot(0);
    text = render(seckill_stats_prometheus, &s);
    assert_non_null(strstr(text, "\nseckill_amqp_up 0\n"));
    assert_null(strstr(text, "seckill_queue_messages{"));
}

static void view(void **state)
{
    seckill_stats_snapshot s = snapshot(1);
    seckill_value *v = seckill_stats_view(pool, &s), *fam, *row, *kid;
    char *json;

    assert_int_equal(seckill_v_as_int(seckill_v_get(v, "node_id")), 7);
    assert_int_equal(seckill_v_as_int(seckill_v_get(v, "children_alive")), 1);
    assert_int_equal(seckill_v_len(seckill_v_get(v, "child_slots")), 2);
    fam = seckill_v_get(v, "families");
    assert_int_equal(seckill_v_len(fam), 4);
    assert_string_equal(seckill_v_as_str(seckill_v_get(seckill_v_at(fam, 0), "name"), NULL),
                        "buys");
    row = seckill_v_at(seckill_v_get(seckill_v_at(fam, 0), "rows"), SECKILL_STAT_BUY_SOLD_OUT);
    assert_string_equal(seckill_v_as_str(seckill_v_get(row, "outcome"), NULL), "sold_out");
    assert_int_equal(seckill_v_as_int(seckill_v_get(row, "total")),
                     (SECKILL_STAT_BUY_SOLD_OUT + 1) * 101);
    kid = seckill_v_at(seckill_v_get(row, "children"), 1);
    assert_int_equal(seckill_v_as_int(seckill_v_get(kid, "slot")), 5);
    assert_int_equal(seckill_v_as_int(seckill_v_get(kid, "value")),
                     (SECKILL_STAT_BUY_SOLD_OUT + 1) * 100);
    assert_int_equal(seckill_v_len(seckill_v_get(v, "pools")), SECKILL_POOL_KINDS);
    assert_int_equal(
        seckill_v_as_int(seckill_v_get(seckill_v_at(seckill_v_get(v, "pools"), 0), "idle")), 4);
    assert_true(seckill_v_as_bool(seckill_v_get(v, "queues_up")));
    assert_int_equal(seckill_v_len(seckill_v_get(v, "queues")), SECKILL_STATS_QUEUES);
    assert_int_equal(seckill_v_as_int(seckill_v_get(v, "timeout_waiting")), 9);
    json = seckill_v_json_str(v, pool, NULL);
    assert_non_null(strstr(json, "\"pending_refunds\""));

    s = snapshot(0);
    v = seckill_stats_view(pool, &s);
    assert_false(seckill_v_as_bool(seckill_v_get(v, "queues_up")));
    assert_int_equal(seckill_v_len(seckill_v_get(v, "queues")), 0);
    assert_null(seckill_v_get(v, "timeout_waiting"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),       cmocka_unit_test(auto_lines),
        cmocka_unit_test(no_children), cmocka_unit_test(prometheus_grammar),
        cmocka_unit_test(view),
    };
    int rc;
    apr_initialize();
    apr_pool_create(&pool, NULL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
