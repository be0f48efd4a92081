/* One field of a POST body, read within a hard limit whatever the body's framing
 * (Content-Length or chunked): past max_bytes the request is refused (413) and the
 * connection closed, so an oversized body costs nothing and changes nothing. */
#ifndef SECKILL_BODY_H
#define SECKILL_BODY_H

#include "httpd.h"

#include "form.h"

/* *value gets the decoded field (NULL when absent or when the body is not a urlencoded
 * form). OK, HTTP_REQUEST_ENTITY_TOO_LARGE or HTTP_BAD_REQUEST. */
int seckill_form_field(request_rec *r, const char *name, apr_size_t max_bytes, const char **value);

/* The whole body as a urlencoded form (strict: a broken escape or a name given twice is
 * refused). OK, HTTP_UNSUPPORTED_MEDIA_TYPE (not a form), HTTP_REQUEST_ENTITY_TOO_LARGE or
 * HTTP_BAD_REQUEST. */
int seckill_form_body(request_rec *r, apr_size_t max_bytes, seckill_form_pair **pairs, int *n);

#endif
