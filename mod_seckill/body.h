/* Reading one field of a urlencoded POST body, within limits: a body over max_bytes is
 * refused (413) rather than read, so an oversized request costs nothing. */
#ifndef SECKILL_FORM_H
#define SECKILL_FORM_H

#include "httpd.h"

/* *value gets the decoded field (NULL when absent or the body is not a form). Returns OK,
 * HTTP_REQUEST_ENTITY_TOO_LARGE or HTTP_BAD_REQUEST. */
int seckill_form_field(request_rec *r, const char *name, apr_size_t max_bytes, const char **value);
/* Strict decimal id: 1 to 18 digits, no sign or spaces. 0 ok, -1 bad. */
int seckill_parse_id(const char *s, long long *id);
/* Strict decimal unsigned 64-bit id: 1 to 20 digits, above 0, no overflow. 0 ok, -1 bad. */
int seckill_parse_u64(const char *s, unsigned long long *id);

#endif
