/* Page templates: every *.html of SeckillTemplateDir compiled once at startup (mustache,
 * HTML-escaped by default) and shared read-only by all threads; any template can be used
 * as a partial of another by its file name without .html. */
#ifndef SECKILL_TEMPLATES_H
#define SECKILL_TEMPLATES_H

#include "apr_hash.h"
#include "httpd.h"

#include "value.h"

/* Compiles the folder's templates into *out (name -> tmpl). NULL ok, else the problem. */
const char *seckill_templates_load(apr_pool_t *p, const char *dir, apr_hash_t **out);
/* Renders template name with view into the response body. OK or HTTP 500 (logged). */
int seckill_template_render(request_rec *r, const char *name, const seckill_value *view);
/* The same into out (a seckill_buf of r->pool, initialised by the caller). OK or 500 (logged). */
int seckill_template_render_buf(request_rec *r, const char *name, const seckill_value *view,
                                seckill_buf *out);

#endif
