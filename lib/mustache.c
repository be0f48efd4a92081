#include "mustache.h"

#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

enum ntype {
    N_TEXT,
    N_INDENT, /* a template line starts here: write the standalone-partial indentation */
    N_VAR,
    N_RAW,
    N_SECTION,
    N_INVERTED,
    N_PARTIAL
};

typedef struct node node;
struct node {
    enum ntype type;
    /* N_TEXT: the bytes; tags: the name as written, NUL-terminated. */
    const char *text;
    size_t len;
    /* Name split on '.', none for the implicit iterator "." */
    const char **parts;
    size_t nparts;
    /* Body of a section. */
    const node *kids;
    size_t nkids;
    /* Whitespace before a standalone partial tag, prepended to the partial's lines. */
    const char *indent;
    size_t indent_len;
};

struct seckill_tmpl {
    const node *nodes;
    size_t n;
};

/* ---- compiling ---- */

typedef struct {
    apr_array_header_t *nodes; /* of node */
    node sec;                  /* the section being filled (unused at the top level) */
    size_t open_at;            /* offset of its open tag, for error messages */
} frame;

typedef struct {
    apr_pool_t *p;
    const char *src;
    size_t len;
    apr_array_header_t *stack; /* of frame */
    const char **err;
} parser;

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static size_t line_of(const parser *ps, size_t at)
{
    size_t line = 1;
    for (size_t i = 0; i < at && i < ps->len; i++)
        if (ps->src[i] == '\n')
            line++;
    return line;
}

static void *fail(parser *ps, size_t at, const char *what, const char *name)
{
    if (ps->err)
        *ps->err =
            apr_psprintf(ps->p, "mustache: %s%s%s%s at line %" APR_SIZE_T_FMT, what,
                         name ? " '" : "", name ? name : "", name ? "'" : "", line_of(ps, at));
    return NULL;
}

/* Offset of needle in src[from..len), or len when absent. */
static size_t find(const char *src, size_t len, size_t from, const char *needle, size_t nlen)
{
    while (from + nlen <= len) {
        const char *hit = memchr(src + from, needle[0], len - from - nlen + 1);
        if (!hit)
            break;
        from = (size_t)(hit - src);
        if (memcmp(hit, needle, nlen) == 0)
            return from;
        from++;
    }
    return len;
}

static frame *top(parser *ps)
{
    return &APR_ARRAY_IDX(ps->stack, ps->stack->nelts - 1, frame);
}

static node *push_node(parser *ps, enum ntype type)
{
    node *n = apr_array_push(top(ps)->nodes);
    memset(n, 0, sizeof(*n));
    n->type = type;
    return n;
}

static int at_line_start(const parser *ps, size_t at)
{
    return at == 0 || ps->src[at - 1] == '\n';
}

static void push_text(parser *ps, size_t from, size_t to)
{
    if (to <= from)
        return;
    if (at_line_start(ps, from))
        push_node(ps, N_INDENT);
    node *n = push_node(ps, N_TEXT);
    n->text = ps->src + from;
    n->len = to - from;
}

/* Fill n's name from the tag content [a, b): trimmed, non-empty, no whitespace inside; with
 * split, also cut on dots ("." alone is the implicit iterator). */
static int set_name(parser *ps, node *n, size_t a, size_t b, size_t tag_at, int split)
{
    while (a < b && is_space(ps->src[a]))
        a++;
    while (b > a && is_space(ps->src[b - 1]))
        b--;
    if (a == b) {
        fail(ps, tag_at, "empty tag name", NULL);
        return -1;
    }
    for (size_t i = a; i < b; i++)
        if (is_space(ps->src[i])) {
            fail(ps, tag_at, "whitespace in tag name", apr_pstrmemdup(ps->p, ps->src + a, b - a));
            return -1;
        }
    n->text = apr_pstrmemdup(ps->p, ps->src + a, b - a);
    n->len = b - a;
    if (!split || (n->len == 1 && n->text[0] == '.'))
        return 0;

    size_t parts = 1;
    for (size_t i = 0; i < n->len; i++)
        if (n->text[i] == '.')
            parts++;
    const char **v = apr_palloc(ps->p, parts * sizeof(*v));
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n->len; i++) {
        if (i < n->len && n->text[i] != '.')
            continue;
        if (i == start) {
            fail(ps, tag_at, "empty part in dotted name", n->text);
            return -1;
        }
        v[k++] = apr_pstrmemdup(ps->p, n->text + start, i - start);
        start = i + 1;
    }
    n->parts = v;
    n->nparts = parts;
    return 0;
}

/* Parse "=<open> <close>=" content [a, b) into new delimiters. */
static int set_delims(parser *ps, size_t a, size_t b, size_t tag_at, const char **open,
                      size_t *olen, const char **close, size_t *clen)
{
    const char *s = ps->src;
    size_t o0, o1, c0, c1;

    while (a < b && is_space(s[a]))
        a++;
    o0 = a;
    while (a < b && !is_space(s[a]))
        a++;
    o1 = a;
    while (a < b && is_space(s[a]))
        a++;
    c0 = a;
    while (a < b && !is_space(s[a]))
        a++;
    c1 = a;
    while (a < b && is_space(s[a]))
        a++;
    if (o1 == o0 || c1 == c0 || a != b || memchr(s + o0, '=', o1 - o0) ||
        memchr(s + c0, '=', c1 - c0)) {
        fail(ps, tag_at, "bad set-delimiter tag", NULL);
        return -1;
    }
    *open = s + o0;
    *olen = o1 - o0;
    *close = s + c0;
    *clen = c1 - c0;
    return 0;
}

seckill_tmpl *seckill_mustache_compile(apr_pool_t *p, const char *text, size_t len,
                                       const char **err)
{
    parser ps = {p, apr_pstrmemdup(p, text ? text : "", text ? len : 0), text ? len : 0, NULL, err};
    const char *src = ps.src;
    const char *open = "{{", *close = "}}";
    size_t olen = 2, clen = 2;
    size_t pos = 0, text_start = 0;

    ps.stack = apr_array_make(p, 8, sizeof(frame));
    frame *root = apr_array_push(ps.stack);
    memset(root, 0, sizeof(*root));
    root->nodes = apr_array_make(p, 16, sizeof(node));

    for (;;) {
        size_t tag_at = find(src, ps.len, pos, open, olen);
        if (tag_at == ps.len) {
            push_text(&ps, text_start, ps.len);
            break;
        }

        size_t a = tag_at + olen; /* content start */
        char kind = a < ps.len ? src[a] : '\0';
        const char *end = close; /* what ends the tag */
        size_t elen = clen;

        if (kind == '{' || kind == '=') {
            /* "{{{x}}}" and "{{=a b=}}" close with their own character before the delimiter. */
            char *e = apr_palloc(p, clen + 1);
            e[0] = kind == '{' ? '}' : '=';
            memcpy(e + 1, close, clen);
            end = e;
            elen = clen + 1;
            a++;
        } else if (kind == '#' || kind == '^' || kind == '/' || kind == '!' || kind == '>' ||
                   kind == '&') {
            a++;
        } else {
            kind = '\0';
        }

        size_t b = find(src, ps.len, a, end, elen); /* content end */
        if (b == ps.len)
            return fail(&ps, tag_at, "unclosed tag", NULL);
        size_t tag_end = b + elen;

        /* Standalone: only blanks around the tag on its line; the whole line goes away. */
        int standalone = 0;
        size_t ws = tag_at, line_end = tag_end;
        if (kind && kind != '&' && kind != '{') {
            while (ws > text_start && is_blank(src[ws - 1]))
                ws--;
            if (at_line_start(&ps, ws)) {
                size_t e = tag_end;
                while (e < ps.len && is_blank(src[e]))
                    e++;
                if (e == ps.len) {
                    standalone = 1;
                    line_end = e;
                } else if (src[e] == '\n') {
                    standalone = 1;
                    line_end = e + 1;
                } else if (src[e] == '\r' && e + 1 < ps.len && src[e + 1] == '\n') {
                    standalone = 1;
                    line_end = e + 2;
                }
            }
        }
        if (standalone) {
            push_text(&ps, text_start, ws);
        } else {
            push_text(&ps, text_start, tag_at);
            ws = tag_at;
            line_end = tag_end;
            if (at_line_start(&ps, tag_at))
                push_node(&ps, N_INDENT);
        }
        pos = text_start = line_end;

        switch (kind) {
        case '!':
            break;
        case '=':
            if (set_delims(&ps, a, b, tag_at, &open, &olen, &close, &clen) < 0)
                return NULL;
            break;
        case '#':
        case '^': {
            frame *f = apr_array_push(ps.stack);
            memset(f, 0, sizeof(*f));
            f->nodes = apr_array_make(p, 8, sizeof(node));
            f->sec.type = kind == '#' ? N_SECTION : N_INVERTED;
            f->open_at = tag_at;
            if (set_name(&ps, &f->sec, a, b, tag_at, 1) < 0)
                return NULL;
            break;
        }
        case '/': {
            node closer;
            memset(&closer, 0, sizeof(closer));
            if (set_name(&ps, &closer, a, b, tag_at, 0) < 0)
                return NULL;
            if (ps.stack->nelts < 2)
                return fail(&ps, tag_at, "close tag without a section:", closer.text);
            frame *f = top(&ps);
            if (strcmp(f->sec.text, closer.text) != 0)
                return fail(&ps, tag_at,
                            apr_psprintf(p, "section '%s' (line %" APR_SIZE_T_FMT ") closed by",
                                         f->sec.text, line_of(&ps, f->open_at)),
                            closer.text);
            node sec = f->sec;
            sec.kids = (const node *)f->nodes->elts;
            sec.nkids = (size_t)f->nodes->nelts;
            apr_array_pop(ps.stack);
            *push_node(&ps, sec.type) = sec;
            break;
        }
        case '>': {
            node *n = push_node(&ps, N_PARTIAL);
            /* Partial names go to the resolver whole, never as dotted paths. */
            if (set_name(&ps, n, a, b, tag_at, 0) < 0)
                return NULL;
            if (standalone) {
                n->indent = src + ws;
                n->indent_len = tag_at - ws;
            }
            break;
        }
        default: {
            node *n = push_node(&ps, kind ? N_RAW : N_VAR);
            if (set_name(&ps, n, a, b, tag_at, 1) < 0)
                return NULL;
            break;
        }
        }
    }

    if (ps.stack->nelts > 1) {
        frame *f = top(&ps);
        return fail(&ps, f->open_at, "unclosed section", f->sec.text);
    }
    seckill_tmpl *t = apr_palloc(p, sizeof(*t));
    t->nodes = (const node *)root->nodes->elts;
    t->n = (size_t)root->nodes->nelts;
    return t;
}

/* ---- rendering: reads the template and the data, writes only to the sink ---- */

typedef struct ctx_frame {
    const seckill_value *v;
    const struct ctx_frame *up;
} ctx_frame;

typedef struct indent {
    const char *s;
    size_t n;
    const struct indent *up;
} indent;

typedef struct {
    seckill_partial_fn partials;
    void *pctx;
    seckill_write_fn out;
    void *octx;
} render_state;

static void write_indent(const render_state *rs, const indent *ind)
{
    if (!ind)
        return;
    write_indent(rs, ind->up);
    rs->out(rs->octx, ind->s, ind->n);
}

static void write_text(const render_state *rs, const node *n, const indent *ind)
{
    if (!ind) {
        rs->out(rs->octx, n->text, n->len);
        return;
    }
    /* Indent every line that starts inside this text; a line starting after it is the next
     * node's N_INDENT, and nothing follows the template's last newline. */
    size_t from = 0;
    for (size_t i = 0; i + 1 < n->len; i++) {
        if (n->text[i] != '\n')
            continue;
        rs->out(rs->octx, n->text + from, i + 1 - from);
        write_indent(rs, ind);
        from = i + 1;
    }
    rs->out(rs->octx, n->text + from, n->len - from);
}

static void write_escaped(const render_state *rs, const char *s, size_t n)
{
    size_t run = 0;

    for (size_t i = 0; i < n; i++) {
        const char *rep;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        if (i > run)
            rs->out(rs->octx, s + run, i - run);
        rs->out(rs->octx, rep, strlen(rep));
        run = i + 1;
    }
    if (n > run)
        rs->out(rs->octx, s + run, n - run);
}

typedef struct {
    const render_state *rs;
    int escape;
} json_sink;

static void json_out(void *ctx, const char *s, size_t n)
{
    json_sink *js = ctx;
    if (js->escape)
        write_escaped(js->rs, s, n);
    else
        js->rs->out(js->rs->octx, s, n);
}

static void write_value(const render_state *rs, const seckill_value *v, int escape)
{
    char buf[SECKILL_NUM_BUFSZ];
    const char *s;
    size_t n = 0;

    switch (seckill_v_type(v)) {
    case SECKILL_V_NULL:
        return;
    case SECKILL_V_BOOL:
        s = seckill_v_as_bool(v) ? "true" : "false";
        n = strlen(s);
        break;
    case SECKILL_V_INT:
        n = (size_t)snprintf(buf, sizeof(buf), "%lld", seckill_v_as_int(v));
        s = buf;
        break;
    case SECKILL_V_NUM:
        n = seckill_v_fmt_num(seckill_v_as_num(v), buf);
        s = buf;
        break;
    case SECKILL_V_STR:
        s = seckill_v_as_str(v, &n);
        break;
    default: {
        json_sink js = {rs, escape};
        seckill_v_json(v, json_out, &js);
        return;
    }
    }
    if (escape)
        write_escaped(rs, s, n);
    else
        rs->out(rs->octx, s, n);
}

/* Spec name resolution: the first part in the nearest context that has it as a key (even
 * with a null value), the rest strictly inside that value. NULL when missing. */
static const seckill_value *lookup(const ctx_frame *ctx, const node *n)
{
    const seckill_value *v = NULL;

    if (n->nparts == 0)
        return ctx ? ctx->v : NULL;
    for (const ctx_frame *f = ctx; f && !v; f = f->up)
        v = seckill_v_get(f->v, n->parts[0]);
    for (size_t i = 1; v && i < n->nparts; i++)
        v = seckill_v_get(v, n->parts[i]);
    return v;
}

static int render_nodes(const render_state *rs, const node *nodes, size_t count,
                        const ctx_frame *ctx, const indent *ind, int depth)
{
    for (size_t i = 0; i < count; i++) {
        const node *n = &nodes[i];
        const seckill_value *v;

        switch (n->type) {
        case N_TEXT:
            write_text(rs, n, ind);
            break;
        case N_INDENT:
            write_indent(rs, ind);
            break;
        case N_VAR:
        case N_RAW:
            write_value(rs, lookup(ctx, n), n->type == N_VAR);
            break;
        case N_SECTION:
            v = lookup(ctx, n);
            if (!seckill_v_truthy(v))
                break;
            if (depth >= SECKILL_MUSTACHE_MAX_DEPTH)
                return -1;
            if (seckill_v_type(v) == SECKILL_V_ARR) {
                size_t len = seckill_v_len(v);
                for (size_t k = 0; k < len; k++) {
                    ctx_frame f = {seckill_v_at(v, k), ctx};
                    if (render_nodes(rs, n->kids, n->nkids, &f, ind, depth + 1) < 0)
                        return -1;
                }
            } else {
                ctx_frame f = {v, ctx};
                if (render_nodes(rs, n->kids, n->nkids, &f, ind, depth + 1) < 0)
                    return -1;
            }
            break;
        case N_INVERTED:
            if (seckill_v_truthy(lookup(ctx, n)))
                break;
            if (depth >= SECKILL_MUSTACHE_MAX_DEPTH)
                return -1;
            if (render_nodes(rs, n->kids, n->nkids, ctx, ind, depth + 1) < 0)
                return -1;
            break;
        case N_PARTIAL: {
            const seckill_tmpl *t = rs->partials ? rs->partials(rs->pctx, n->text) : NULL;
            if (!t)
                break;
            if (depth >= SECKILL_MUSTACHE_MAX_DEPTH)
                return -1;
            indent own = {n->indent, n->indent_len, ind};
            if (render_nodes(rs, t->nodes, t->n, ctx, n->indent_len ? &own : ind, depth + 1) < 0)
                return -1;
            break;
        }
        }
    }
    return 0;
}

int seckill_mustache_render(const seckill_tmpl *t, const seckill_value *data,
                            seckill_partial_fn partials, void *pctx, seckill_write_fn out,
                            void *octx, apr_pool_t *scratch)
{
    render_state rs = {partials, pctx, out, octx};
    ctx_frame root = {data, NULL};

    if (!t || !out)
        return -1;
    return render_nodes(&rs, t->nodes, t->n, &root, NULL, 0);
}

char *seckill_mustache_render_str(const seckill_tmpl *t, const seckill_value *data,
                                  seckill_partial_fn partials, void *pctx, apr_pool_t *p,
                                  size_t *len)
{
    seckill_buf b;

    seckill_buf_init(&b, p);
    if (seckill_mustache_render(t, data, partials, pctx, seckill_buf_write, &b, p) < 0) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.data;
}
