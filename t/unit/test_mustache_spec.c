/* Runs every case of the official mustache spec (JSON files read at run time from
 * $SECKILL_MUSTACHE_SPEC, or $SECKILL_TOP/../shared/spec/mustache, or /work/shared/spec/mustache)
 * through lib/value.h and lib/mustache.h, one cmocka test per case and one group per file, then a
 * few checks of behaviour the spec leaves open (syntax errors, recursion limit, read-only
 * templates). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <json.h>

#include "mustache.h"
#include "value.h"

/* The spec's required modules (the optional ~lambdas etc. are not supported). */
static const char *const spec_files[] = {"comments", "delimiters", "interpolation",
                                         "inverted", "partials",   "sections"};
#define NFILES (sizeof(spec_files) / sizeof(spec_files[0]))

typedef struct {
    const char *file;
    json_object *tc; /* one element of the file's "tests" */
    apr_pool_t *pool;
} spec_case;

static size_t cases_run;

static seckill_value *from_json(apr_pool_t *p, json_object *j)
{
    switch (json_object_get_type(j)) {
    case json_type_null:
        return seckill_v_null(p);
    case json_type_boolean:
        return seckill_v_bool(p, json_object_get_boolean(j));
    case json_type_int:
        return seckill_v_int(p, (long long)json_object_get_int64(j));
    case json_type_double:
        return seckill_v_num(p, json_object_get_double(j));
    case json_type_string:
        return seckill_v_strn(p, json_object_get_string(j), (size_t)json_object_get_string_len(j));
    case json_type_array: {
        seckill_value *a = seckill_v_arr(p);
        size_t n = json_object_array_length(j);
        for (size_t i = 0; i < n; i++)
            seckill_v_push(a, from_json(p, json_object_array_get_idx(j, i)));
        return a;
    }
    case json_type_object: {
        seckill_value *o = seckill_v_obj(p);
        json_object_object_foreach(j, key, val) seckill_v_set(o, key, from_json(p, val));
        return o;
    }
    }
    return seckill_v_null(p);
}

typedef struct {
    size_t n;
    const char **names;
    const seckill_tmpl **tmpls;
} partial_table;

static const seckill_tmpl *find_partial(void *ctx, const char *name)
{
    const partial_table *pt = ctx;
    for (size_t i = 0; i < pt->n; i++)
        if (strcmp(pt->names[i], name) == 0)
            return pt->tmpls[i];
    return NULL;
}

/* The string with newlines, tabs and carriage returns made visible. */
static const char *shown(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 2 + 3), *o = out;
    *o++ = '"';
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r' || *s == '\t' || *s == '"' || *s == '\\') {
            *o++ = '\\';
            *o++ = *s == '\n' ? 'n' : *s == '\r' ? 'r' : *s == '\t' ? 't' : *s;
        } else {
            *o++ = *s;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static const char *jstr(json_object *tc, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(tc, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int case_setup(void **state)
{
    spec_case *c = *state;
    return apr_pool_create(&c->pool, NULL) == APR_SUCCESS ? 0 : -1;
}

static int case_teardown(void **state)
{
    spec_case *c = *state;
    apr_pool_destroy(c->pool);
    c->pool = NULL;
    return 0;
}

static void run_case(void **state)
{
    spec_case *c = *state;
    apr_pool_t *p = c->pool;
    const char *name = jstr(c->tc, "name");
    const char *tmpl = jstr(c->tc, "template");
    const char *expected = jstr(c->tc, "expected");
    json_object *data = NULL, *partials = NULL;
    const char *err = NULL;
    partial_table pt = {0, NULL, NULL};

    cases_run++;
    if (!name || !tmpl || !expected)
        fail_msg("%s: malformed case (name, template or expected missing)", c->file);
    json_object_object_get_ex(c->tc, "data", &data);

    if (json_object_object_get_ex(c->tc, "partials", &partials)) {
        size_t n = (size_t)json_object_object_length(partials), i = 0;
        pt.names = apr_palloc(p, (n + 1) * sizeof(*pt.names));
        pt.tmpls = apr_palloc(p, (n + 1) * sizeof(*pt.tmpls));
        json_object_object_foreach(partials, pname, ptext)
        {
            const char *src = json_object_get_string(ptext);
            pt.names[i] = pname;
            pt.tmpls[i] = seckill_mustache_compile(p, src, strlen(src), &err);
            if (!pt.tmpls[i])
                fail_msg("%s / %s: partial '%s' does not compile: %s", c->file, name, pname, err);
            i++;
        }
        pt.n = i;
    }

    seckill_tmpl *t = seckill_mustache_compile(p, tmpl, strlen(tmpl), &err);
    if (!t)
        fail_msg("%s / %s: template %s does not compile: %s", c->file, name, shown(p, tmpl), err);

    size_t len = 0;
    char *got = seckill_mustache_render_str(t, from_json(p, data), find_partial, &pt, p, &len);
    if (!got)
        fail_msg("%s / %s: render failed", c->file, name);
    if (len != strlen(expected) || memcmp(got, expected, len) != 0) {
        print_error("case:     %s / %s\n", c->file, name);
        print_error("template: %s\n", shown(p, tmpl));
        if (partials)
            print_error("partials: %s\n", json_object_to_json_string(partials));
        print_error("data:     %s\n", json_object_to_json_string(data));
        print_error("expected: %s\n", shown(p, expected));
        print_error("actual:   %s\n", shown(p, got));
        fail();
    }
}

/* ---- behaviour beyond the spec ---- */

static apr_pool_t *xpool(void **state)
{
    return *state;
}

static int extra_setup(void **state)
{
    apr_pool_t *p;
    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return -1;
    *state = p;
    return 0;
}

static int extra_teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

static const char *render(apr_pool_t *p, const char *tmpl, const seckill_value *data)
{
    const char *err = NULL;
    seckill_tmpl *t = seckill_mustache_compile(p, tmpl, strlen(tmpl), &err);
    if (!t)
        fail_msg("compile %s: %s", tmpl, err);
    return seckill_mustache_render_str(t, data, NULL, NULL, p, NULL);
}

static void test_syntax_errors(void **state)
{
    apr_pool_t *p = xpool(state);
    static const struct {
        const char *tmpl, *msg;
    } bad[] = {
        {"a {{b", "unclosed tag at line 1"},
        {"{{#a}}\n{{b}}\n", "unclosed section 'a' at line 1"},
        {"{{#a}}\n{{/b}}", "section 'a' (line 1) closed by 'b' at line 2"},
        {"x\n{{/a}}", "close tag without a section: 'a' at line 2"},
        {"{{=<% %>=}}<%a", "unclosed tag at line 1"},
        {"{{= a =}}", "bad set-delimiter tag at line 1"},
        {"{{a b}}", "whitespace in tag name 'a b' at line 1"},
        {"{{ }}", "empty tag name at line 1"},
        {"{{a..b}}", "empty part in dotted name 'a..b' at line 1"},
        {"{{{a}}", "unclosed tag at line 1"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *err = NULL;
        seckill_tmpl *t = seckill_mustache_compile(p, bad[i].tmpl, strlen(bad[i].tmpl), &err);
        if (t || !err || !strstr(err, bad[i].msg))
            fail_msg("%s: want error containing \"%s\", got %s", bad[i].tmpl, bad[i].msg,
                     t     ? "a template"
                     : err ? err
                           : "no message");
    }
    /* err may be NULL. */
    assert_null(seckill_mustache_compile(p, "{{#a}}", 6, NULL));
}

static void test_escaping_and_types(void **state)
{
    apr_pool_t *p = xpool(state);
    seckill_value *d = seckill_v_obj(p);
    seckill_v_set_str(d, "q", "it's <b>&\"</b>");
    seckill_v_set_num(d, "n", 0.1);
    seckill_v_set_num(d, "big", 1e21);
    seckill_v_set_int(d, "neg", -42);
    seckill_v_set_bool(d, "t", 1);
    seckill_v_set_str(d, "empty", "");
    seckill_value *o = seckill_v_obj(p);
    seckill_v_set_str(o, "s", "</script>");
    seckill_v_set(d, "o", o);

    assert_string_equal(render(p, "{{q}}|{{{q}}}", d),
                        "it&#39;s &lt;b&gt;&amp;&quot;&lt;/b&gt;|it's <b>&\"</b>");
    assert_string_equal(render(p, "{{n}} {{big}} {{neg}} {{t}}", d), "0.1 1e+21 -42 true");
    /* Objects interpolate as JSON safe inside <script>, and HTML-escaped with {{ }}. */
    assert_string_equal(render(p, "{{{o}}}", d), "{\"s\":\"\\u003c/script\\u003e\"}");
    assert_string_equal(render(p, "{{o}}", d), "{&quot;s&quot;:&quot;\\u003c/script\\u003e&quot;}");
    /* The empty string and 0 are truthy, as in the reference implementation. */
    assert_string_equal(render(p, "{{#empty}}E{{/empty}}{{^empty}}N{{/empty}}", d), "E");
    /* A NULL data tree is an empty context. */
    assert_string_equal(render(p, "[{{a}}{{#a}}x{{/a}}{{^a}}y{{/a}}]", NULL), "[y]");
}

typedef struct {
    const seckill_tmpl *self;
} self_ref;

static const seckill_tmpl *self_partial(void *ctx, const char *name)
{
    return ((self_ref *)ctx)->self;
}

static void test_recursion_limit(void **state)
{
    apr_pool_t *p = xpool(state);
    self_ref r;
    r.self = seckill_mustache_compile(p, "x{{>me}}", 8, NULL);
    assert_non_null(r.self);
    size_t len = 99;
    assert_null(seckill_mustache_render_str(r.self, NULL, self_partial, &r, p, &len));
    assert_int_equal(len, 0);

    /* Deep but bounded data recursion through a partial works. */
    seckill_value *root = seckill_v_obj(p), *cur = root;
    for (int i = 0; i < 20; i++) {
        seckill_v_set_int(cur, "i", i);
        if (i < 19) {
            seckill_value *kid = seckill_v_obj(p);
            seckill_v_set(cur, "kid", kid);
            cur = kid;
        } else {
            /* Without this the last level would find its parent's "kid" and never end. */
            seckill_v_set_bool(cur, "kid", 0);
        }
    }
    r.self = seckill_mustache_compile(p, "{{i}}{{#kid}}{{>me}}{{/kid}}", 28, NULL);
    const char *s = seckill_mustache_render_str(r.self, root, self_partial, &r, p, NULL);
    assert_string_equal(s, "012345678910111213141516171819");
}

/* Nested standalone partials add up their indentation; the compiled templates are shared
 * and must come out unchanged by rendering. */
static void test_nested_indent_readonly(void **state)
{
    apr_pool_t *p = xpool(state);
    const char *outer_src = "<ul>\n  {{>inner}}\n</ul>\n";
    const char *inner_src = "{{#items}}\n  <li>{{.}}</li>\n{{/items}}\n";
    partial_table pt;
    const char *names[] = {"inner"};
    const seckill_tmpl *tmpls[1];
    tmpls[0] = seckill_mustache_compile(p, inner_src, strlen(inner_src), NULL);
    pt.n = 1;
    pt.names = names;
    pt.tmpls = tmpls;
    seckill_tmpl *outer = seckill_mustache_compile(p, outer_src, strlen(outer_src), NULL);
    assert_non_null(outer);
    assert_non_null(tmpls[0]);

    seckill_value *d = seckill_v_obj(p), *items = seckill_v_arr(p);
    seckill_v_push(items, seckill_v_str(p, "a"));
    seckill_v_push(items, seckill_v_str(p, "b<"));
    seckill_v_set(d, "items", items);
    const char *want = "<ul>\n    <li>a</li>\n    <li>b&lt;</li>\n</ul>\n";
    for (int i = 0; i < 3; i++)
        assert_string_equal(seckill_mustache_render_str(outer, d, find_partial, &pt, p, NULL),
                            want);
    /* No partial resolver: partials render as nothing. */
    assert_string_equal(seckill_mustache_render_str(outer, d, NULL, NULL, p, NULL),
                        "<ul>\n</ul>\n");
}

typedef struct {
    const seckill_tmpl *t;
    const seckill_value *data;
    partial_table *pt;
    const char *want;
    apr_pool_t *pool;
    int mismatches;
} render_job;

static void *APR_THREAD_FUNC render_many(apr_thread_t *th, void *arg)
{
    render_job *job = arg;
    for (int i = 0; i < 300; i++) {
        const char *got =
            seckill_mustache_render_str(job->t, job->data, find_partial, job->pt, job->pool, NULL);
        if (!got || strcmp(got, job->want) != 0)
            job->mismatches++;
        apr_pool_clear(job->pool);
    }
    return NULL;
}

/* Threads share one compiled template set and one data tree, as httpd workers do. */
static void test_concurrent_renders(void **state)
{
    apr_pool_t *p = xpool(state);
    const char *page_src = "{{>head}}\n{{#rows}}\n  {{>row}}\n{{/rows}}\n{{^rows}}none{{/rows}}";
    const char *names[] = {"head", "row"};
    const char *srcs[] = {"<h1>{{title}}</h1>\n", "<tr>{{#cells}}<td>{{.}}</td>{{/cells}}</tr>\n"};
    const seckill_tmpl *tmpls[2];
    partial_table pt = {2, names, tmpls};
    for (int i = 0; i < 2; i++)
        assert_non_null(tmpls[i] = seckill_mustache_compile(p, srcs[i], strlen(srcs[i]), NULL));
    seckill_tmpl *page = seckill_mustache_compile(p, page_src, strlen(page_src), NULL);
    assert_non_null(page);

    seckill_value *d = seckill_v_obj(p), *rows = seckill_v_arr(p);
    seckill_v_set_str(d, "title", "T&C");
    for (int r = 0; r < 50; r++) {
        seckill_value *row = seckill_v_obj(p), *cells = seckill_v_arr(p);
        for (int c = 0; c < 5; c++)
            seckill_v_push(cells, seckill_v_int(p, r * 10 + c));
        seckill_v_set(row, "cells", cells);
        seckill_v_push(rows, row);
    }
    seckill_v_set(d, "rows", rows);
    const char *want = seckill_mustache_render_str(page, d, find_partial, &pt, p, NULL);
    assert_non_null(want);
    assert_memory_equal(want, "<h1>T&amp;C</h1>\n  <tr><td>0</td><td>1</td>", 42);

    enum { NTHREADS = 8 };
    render_job jobs[NTHREADS];
    apr_thread_t *threads[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        jobs[i] = (render_job){page, d, &pt, want, NULL, 0};
        assert_int_equal(apr_pool_create(&jobs[i].pool, p), APR_SUCCESS);
        assert_int_equal(apr_thread_create(&threads[i], NULL, render_many, &jobs[i], p),
                         APR_SUCCESS);
    }
    for (int i = 0; i < NTHREADS; i++) {
        apr_status_t rv;
        apr_thread_join(&rv, threads[i]);
        assert_int_equal(jobs[i].mismatches, 0);
    }
}

/* ---- driver ---- */

static const char *spec_dir(apr_pool_t *p)
{
    const char *dir = getenv("SECKILL_MUSTACHE_SPEC");
    if (dir && *dir)
        return dir;
    const char *top = getenv("SECKILL_TOP");
    const char *beside = top && *top ? apr_pstrcat(p, top, "/../shared/spec/mustache", NULL) : NULL;
    /* a clone elsewhere (CI's, say) finds the workplace's shared folder where it always is */
    if (beside && access(beside, R_OK) == 0)
        return beside;
    if (access("/work/shared/spec/mustache", R_OK) == 0)
        return "/work/shared/spec/mustache";
    return beside;
}

int main(void)
{
    json_object *files[NFILES] = {0};
    size_t expected_cases = 0;
    int failed = 0, broken = 0;

    apr_pool_t *mp;
    apr_initialize();
    apr_pool_create(&mp, NULL);
    const char *dir = spec_dir(mp);
    if (!dir) {
        fprintf(stderr, "FATAL: set SECKILL_TOP (repo top) or SECKILL_MUSTACHE_SPEC (the "
                        "spec folder) to find the mustache spec\n");
        apr_terminate();
        return 2;
    }

    for (size_t f = 0; f < NFILES; f++) {
        const char *path = apr_pstrcat(mp, dir, "/", spec_files[f], ".json", NULL);
        files[f] = json_object_from_file(path);
        json_object *tests = NULL;
        if (!files[f] || !json_object_object_get_ex(files[f], "tests", &tests) ||
            !json_object_is_type(tests, json_type_array) || json_object_array_length(tests) == 0) {
            fprintf(stderr, "FATAL: %s: missing, unreadable or without tests (%s)\n", path,
                    json_util_get_last_err() ? json_util_get_last_err() : "no \"tests\"");
            broken = 1;
            continue;
        }
        expected_cases += json_object_array_length(tests);
    }

    for (size_t f = 0; f < NFILES && !broken; f++) {
        json_object *tests = json_object_object_get(files[f], "tests");
        size_t n = json_object_array_length(tests);
        struct CMUnitTest *group = calloc(n, sizeof(*group));
        spec_case *cases = calloc(n, sizeof(*cases));
        char group_name[64];
        if (!group || !cases) {
            fprintf(stderr, "FATAL: out of memory\n");
            free(group);
            free(cases);
            broken = 1;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            cases[i].file = spec_files[f];
            cases[i].tc = json_object_array_get_idx(tests, i);
            group[i].name = jstr(cases[i].tc, "name");
            if (!group[i].name)
                group[i].name = "(unnamed case)";
            group[i].test_func = run_case;
            group[i].setup_func = case_setup;
            group[i].teardown_func = case_teardown;
            group[i].initial_state = &cases[i];
        }
        snprintf(group_name, sizeof(group_name), "mustache spec: %s.json (%zu cases)",
                 spec_files[f], n);
        /* cmocka's standard output does not name groups; say which file runs. */
        printf("== %s\n", group_name);
        fflush(stdout);
        failed += _cmocka_run_group_tests(group_name, group, n, NULL, NULL);
        free(group);
        free(cases);
    }

    const struct CMUnitTest extras[] = {
        cmocka_unit_test_setup_teardown(test_syntax_errors, extra_setup, extra_teardown),
        cmocka_unit_test_setup_teardown(test_escaping_and_types, extra_setup, extra_teardown),
        cmocka_unit_test_setup_teardown(test_recursion_limit, extra_setup, extra_teardown),
        cmocka_unit_test_setup_teardown(test_nested_indent_readonly, extra_setup, extra_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_renders, extra_setup, extra_teardown),
    };
    if (!broken) {
        printf("== mustache beyond the spec\n");
        fflush(stdout);
        failed += cmocka_run_group_tests_name("mustache beyond the spec", extras, NULL, NULL);
    }

    for (size_t f = 0; f < NFILES; f++)
        if (files[f])
            json_object_put(files[f]);
    apr_terminate();

    printf("mustache spec: %zu cases in %zu files, %zu run, %d failed (spec and extras)\n",
           expected_cases, NFILES, cases_run, failed);
    if (broken || cases_run != expected_cases || failed) {
        fprintf(stderr, "FAILED\n");
        return 1;
    }
    return 0;
}
