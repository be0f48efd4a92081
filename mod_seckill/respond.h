/* Every answer of the shop is one view (a seckill_value) rendered either as JSON, when the
 * client's Accept asks for application/json, or through a page template. Errors are views
 * too: {"ok":false,"code":"...","msg":"..."} with the matching HTTP status. */
#ifndef SECKILL_RESPOND_H
#define SECKILL_RESPOND_H

#include "httpd.h"

#include "value.h"

int seckill_wants_json(const request_rec *r);
/* Sends view with the given HTTP status as JSON or through template tmpl. Returns what a
 * handler returns (OK once a body was sent). */
int seckill_respond(request_rec *r, int status, const char *tmpl, seckill_value *view);
/* The same with the choice made by the caller (json 1: JSON, 0: the template). */
int seckill_respond_as(request_rec *r, int status, const char *tmpl, seckill_value *view, int json);
/* The body of view as seckill_respond sends it (JSON or template tmpl) into out, a seckill_buf
 * of r->pool initialised by the caller. OK or 500 (logged). */
int seckill_render(request_rec *r, int json, const char *tmpl, const seckill_value *view,
                   seckill_buf *out);
/* Sends a rendered body (len bytes in r->pool) with status and the headers of seckill_respond,
 * as one bucket. */
int seckill_respond_body(request_rec *r, int status, int json, const char *body, size_t len);
/* An error answer: code is the stable machine-readable word, msg the shopper's message. */
int seckill_respond_error(request_rec *r, int status, const char *code, const char *msg);

/* ISO 8601 in local time with its offset, e.g. 2026-11-25T08:00:00+08:00. */
const char *seckill_iso8601(apr_pool_t *p, time_t t);
/* A span of seconds as the pages' countdowns show it before their script runs:
 * "01:02:03" (hours go past 99 as needed; negative counts as 0). */
const char *seckill_hms(apr_pool_t *p, long long secs);

#endif
