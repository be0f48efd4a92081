/* libFuzzer target: lib/mustache.c. The input is a template: compile it, and render what
 * compiles against a small fixed view (strings with HTML specials, numbers, booleans, an
 * array of objects, a nested object, an empty array) with partials that are compiled from
 * parts of the input itself (a partial may include itself: the depth limit must hold).
 * Build and run: make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>

#include "mustache.h"
#include "value.h"

static apr_pool_t *root;

typedef struct {
    const seckill_tmpl *self;
    const seckill_tmpl *other;
} partials;

static const seckill_tmpl *find_partial(void *ctx, const char *name)
{
    partials *p = ctx;
    if (!strcmp(name, "self") || !strcmp(name, "."))
        return p->self;
    if (!strcmp(name, "other") || !strcmp(name, "p"))
        return p->other;
    return NULL;
}

static seckill_value *view(apr_pool_t *p)
{
    seckill_value *v = seckill_v_obj(p), *list = seckill_v_arr(p), *nested = seckill_v_obj(p);
    seckill_v_set_str(v, "name", "<b>\"扫地机器人\" & 'x'</b>");
    seckill_v_set_int(v, "stock", 42);
    seckill_v_set_num(v, "ratio", 0.125);
    seckill_v_set_bool(v, "on_sale", 1);
    seckill_v_set_bool(v, "sold_out", 0);
    seckill_v_set(v, "nothing", NULL);
    seckill_v_set(v, "empty", seckill_v_arr(p));
    for (int i = 0; i < 3; i++) {
        seckill_value *e = seckill_v_obj(p);
        seckill_v_set_int(e, "id", i);
        seckill_v_set_str(e, "name", i == 1 ? "a\nb" : "p");
        seckill_v_push(list, e);
    }
    seckill_v_push(list, seckill_v_str(p, "scalar"));
    seckill_v_set(v, "products", list);
    seckill_v_set_str(nested, "c", "deep");
    seckill_v_set(nested, "b", nested ? seckill_v_obj(p) : NULL);
    seckill_v_set_str(seckill_v_get(nested, "b"), "c", "deeper");
    seckill_v_set(v, "a", nested);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *err = NULL;
    seckill_tmpl *t;
    partials parts = {NULL, NULL};
    size_t len = 0, half = size / 2;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    t = seckill_mustache_compile(p, (const char *)data, size, &err);
    /* the second half on its own is the "other" partial */
    parts.other = seckill_mustache_compile(p, (const char *)data + half, size - half, NULL);
    parts.self = t;
    if (t) {
        char *out = seckill_mustache_render_str(t, view(p), find_partial, &parts, p, &len);
        if (out && strlen(out) > len)
            abort(); /* the length must count every byte up to the NUL */
        seckill_mustache_render_str(t, NULL, NULL, NULL, p, NULL);
    } else if (!err) {
        abort(); /* a failed compile must say why */
    }
    apr_pool_destroy(p);
    return 0;
}
