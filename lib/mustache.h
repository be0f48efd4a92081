/* Logic-less mustache (spec v1: variables, sections, inverted, comments, set delimiter,
 * partials; no lambdas) over seckill_value trees. A template is compiled once into its pool
 * and is read-only afterwards: any number of threads may render it at the same time. */
#ifndef SECKILL_MUSTACHE_H
#define SECKILL_MUSTACHE_H

#include <stddef.h>
#include <apr_pools.h>
#include "value.h"

typedef struct seckill_tmpl seckill_tmpl;

/* Resolves a partial's name (as written in the tag, NUL-terminated) to a compiled template;
 * NULL renders nothing, as the spec wants for an unknown partial. Called while rendering,
 * possibly from many threads at once: it must only read shared state. */
typedef const seckill_tmpl *(*seckill_partial_fn)(void *ctx, const char *name);

/* Partials and sections nested deeper than this stop the render with an error, so that a
 * partial that includes itself without end cannot exhaust the stack. */
#define SECKILL_MUSTACHE_MAX_DEPTH 100

/* Parse len bytes of text (a copy is kept in p, which must outlive the template). Standalone
 * lines (section, inverted, close, comment, partial and set-delimiter tags alone on their
 * line) are removed from the output as the spec says. On a syntax error (unclosed tag or
 * section, close tag without or not matching its section, bad set-delimiter, whitespace in a
 * name, empty name) returns NULL and, if err, sets *err to a message with the line number,
 * allocated from p. */
seckill_tmpl *seckill_mustache_compile(apr_pool_t *p, const char *text, size_t len,
                                       const char **err);

/* Render t against data (the bottom of the context stack; NULL is an empty context).
 * {{x}} writes x HTML-escaped (& < > " ' become &amp; &lt; &gt; &quot; &#39;), {{{x}}} and
 * {{&x}} write it raw. Names: "." is the top of the context stack; "a.b.c" finds "a" in the
 * nearest context object that has that key, then "b" and "c" strictly inside it. Values are
 * written as: missing and null -> "", true/false -> "true"/"false", integers in decimal,
 * doubles by seckill_v_fmt_num (1.5 -> "1.5"), strings as they are, arrays and objects as
 * their seckill_v_json (so {{{x}}} in a <script> is safe). Sections repeat over an array's
 * elements, skip a falsey value (seckill_v_truthy: missing, null, false, []) and render once
 * with any other value pushed on the context stack; inverted sections render only when the
 * value is falsey. A standalone partial's indentation is prepended to each of its lines.
 * partials may be NULL (no partials). scratch is for temporary allocations and may be NULL;
 * the current renderer needs none. Returns 0, or -1 when t or out is NULL or when
 * SECKILL_MUSTACHE_MAX_DEPTH was exceeded (the output then stops at that point). */
int seckill_mustache_render(const seckill_tmpl *t, const seckill_value *data,
                            seckill_partial_fn partials, void *pctx, seckill_write_fn out,
                            void *octx, apr_pool_t *scratch);

/* Render into a NUL-terminated string allocated from p (*len, if given, gets its length).
 * NULL when the render failed (see seckill_mustache_render). */
char *seckill_mustache_render_str(const seckill_tmpl *t, const seckill_value *data,
                                  seckill_partial_fn partials, void *pctx, apr_pool_t *p,
                                  size_t *len);

#endif
