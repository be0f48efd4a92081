/* MySQL connections of one httpd child (see conn_pool.h), each a seckill_db with its
 * prepared statements kept for the connection's life. Work functions get a seckill_db and
 * map errors through seckill_mysql_check, so a lost server means a reconnect. */
#ifndef SECKILL_MYSQL_POOL_H
#define SECKILL_MYSQL_POOL_H

#include "config.h"
#include "conn_pool.h"
#include "db.h"

seckill_conn_pool *seckill_mysql_pool_create(apr_pool_t *pchild, server_rec *s,
                                             const seckill_server_conf *c);
/* OK for errno 0, LOST for a connection loss, else FAIL. */
seckill_conn_result seckill_mysql_check(unsigned int mysql_errno_value);
/* Runs work (whose conn argument is a seckill_db *) on this request's MySQL connection. */
seckill_conn_result seckill_mysql_run(request_rec *r, seckill_conn_work_fn work, void *baton);

/* Executes statement q with its bound params (NULL: none) on db; *affected (may be NULL)
 * gets the changed rows. Errors are logged (SK0607/SK0608) and mapped as seckill_mysql_check. */
seckill_conn_result seckill_mysql_exec(request_rec *r, seckill_db *db, seckill_query q,
                                       MYSQL_BIND *in, long long *affected);
/* One input param; a string's length is len (its bytes, no terminator needed). */
void seckill_mysql_bind(MYSQL_BIND *b, enum enum_field_types type, void *buf, unsigned long len);

#endif
