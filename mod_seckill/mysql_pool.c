#include "mysql_pool.h"

#include "apr_strings.h"

#include "runtime.h"

typedef struct {
    const seckill_endpoint *ep;
    unsigned timeout_s;
} mysql_params;

static void *mysql_open(void *params, char *err, size_t errlen)
{
    mysql_params *mp = params;
    return seckill_db_open(mp->ep, mp->timeout_s, err, errlen);
}

static void mysql_close_conn(void *conn)
{
    seckill_db_close(conn);
}

seckill_conn_pool *seckill_mysql_pool_create(apr_pool_t *pchild, server_rec *s,
                                             const seckill_server_conf *c)
{
    mysql_params *mp = apr_pcalloc(pchild, sizeof *mp);
    mp->ep = c->mysql;
    mp->timeout_s = (unsigned)c->mysql_timeout_s;
    return seckill_conn_pool_create(pchild, s, "mysql", c->mysql_pool_max, mysql_open,
                                    mysql_close_conn, mp);
}

seckill_conn_result seckill_mysql_check(unsigned int e)
{
    if (e == 0)
        return SECKILL_CONN_OK;
    return seckill_db_lost(e) ? SECKILL_CONN_LOST : SECKILL_CONN_FAIL;
}

seckill_conn_result seckill_mysql_run(request_rec *r, seckill_conn_work_fn work, void *baton)
{
    return seckill_conn_run(r, seckill_conf(r->server)->rt->mysql, work, baton);
}

seckill_conn_result seckill_mysql_exec(request_rec *r, seckill_db *db, seckill_query q,
                                       MYSQL_BIND *in, long long *affected)
{
    char err[256];
    MYSQL_STMT *st = seckill_db_stmt(db, q, err, sizeof err);
    if (!st) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0607: mysql: query %d: %s", (int)q, err);
        return seckill_mysql_check(seckill_db_prepare_errno(db));
    }
    if ((in && mysql_stmt_bind_param(st, in)) || mysql_stmt_execute(st)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0608: mysql: query %d: %s", (int)q,
                      mysql_stmt_error(st));
        return seckill_mysql_check(mysql_stmt_errno(st) ?: 1);
    }
    if (affected)
        *affected = (long long)mysql_stmt_affected_rows(st);
    return SECKILL_CONN_OK;
}

void seckill_mysql_bind(MYSQL_BIND *b, enum enum_field_types type, void *buf, unsigned long len)
{
    memset(b, 0, sizeof *b);
    b->buffer_type = type;
    b->buffer = buf;
    b->buffer_length = len;
    if (type == MYSQL_TYPE_STRING || type == MYSQL_TYPE_NEWDECIMAL) {
        b->length = &b->buffer_length;
    }
}
