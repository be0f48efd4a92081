#include "listing_cache.h"

#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "http_log.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "listing.h"
#include "respond.h"
#include "stats.h"
#include "runtime.h"
#include "slot.h"
#include "token.h"

/* A page being rendered again is served stale meanwhile; a renderer that has not finished
 * after this long (it failed) is replaced by the next request. */
#define REBUILD_GRACE apr_time_from_sec(1)

/* One rendered page, immutable once made: the body with the CSRF token cut out at each hole.
 * Threads that serve it hold a reference; the last one frees it. */
typedef struct {
    unsigned refs;
    int cache_hit; /* X-Seckill-Cache of the load it was rendered from */
    int nholes;
    size_t len; /* the body without the holes */
    size_t *at; /* offset of each hole in body */
    char *body;
} page;

typedef struct {
    page *pg;
    char day[9];
    apr_time_t born, rebuilding; /* rebuilding: since when a thread renders it again, or 0 */
} cell;

struct seckill_listing_cache {
    apr_thread_mutex_t *lock;
    char hole[SECKILL_TOKEN_LEN + 1]; /* random, so no product's data can look like it */
    cell cells[SECKILL_SLOT_COUNT][2];
};

static void page_release(page *pg)
{
    if (pg && __atomic_sub_fetch(&pg->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(pg);
}

static apr_status_t release_cleanup(void *data)
{
    page_release(data);
    return APR_SUCCESS;
}

static apr_status_t cache_cleanup(void *data)
{
    seckill_listing_cache *c = data;
    for (int i = 0; i < SECKILL_SLOT_COUNT; i++)
        for (int j = 0; j < 2; j++)
            page_release(c->cells[i][j].pg);
    return APR_SUCCESS;
}

seckill_listing_cache *seckill_listing_cache_create(apr_pool_t *pchild)
{
    seckill_listing_cache *c = apr_pcalloc(pchild, sizeof *c);
    unsigned char raw[32];
    if (apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS ||
        apr_generate_random_bytes(raw, sizeof raw) != APR_SUCCESS)
        return NULL;
    seckill_base64url(raw, sizeof raw, c->hole);
    apr_pool_cleanup_register(pchild, c, cache_cleanup, apr_pool_cleanup_null);
    return c;
}

/* The page to serve, referenced for this request; NULL when this thread must render it. */
static page *lookup(request_rec *r, seckill_listing_cache *c, cell *k, const char *day,
                    apr_time_t now, apr_time_t ttl)
{
    page *pg = NULL;
    apr_thread_mutex_lock(c->lock);
    if (k->pg && strcmp(k->day, day) == 0) {
        if (now - k->born < ttl)
            pg = k->pg;
        else if (k->rebuilding && now - k->rebuilding < REBUILD_GRACE)
            pg = k->pg; /* another thread renders it: the old one a moment longer */
    }
    if (pg)
        __atomic_add_fetch(&pg->refs, 1, __ATOMIC_ACQ_REL);
    else
        k->rebuilding = now;
    apr_thread_mutex_unlock(c->lock);
    if (pg)
        apr_pool_cleanup_register(r->pool, pg, release_cleanup, apr_pool_cleanup_null);
    return pg;
}

/* The rendered body made into a page (holes cut out), kept in k and referenced for r. */
static page *keep(request_rec *r, seckill_listing_cache *c, cell *k, const char *day,
                  apr_time_t born, const char *body, size_t len, int cache_hit)
{
    size_t hl = strlen(c->hole), n = 0, o = 0;
    page *pg, *old;
    char *out;

    for (const char *s = body; (s = strstr(s, c->hole)) != NULL; s += hl)
        n++;
    pg = malloc(sizeof *pg + n * sizeof(size_t) + len + 1);
    if (!pg)
        return NULL;
    pg->refs = 2; /* the cell's and this request's */
    pg->cache_hit = cache_hit;
    pg->nholes = (int)n;
    pg->at = (size_t *)(pg + 1);
    pg->body = out = (char *)(pg->at + n);
    n = 0;
    for (const char *s = body, *h; s < body + len; s = h + hl) {
        if (!(h = strstr(s, c->hole)))
            h = body + len;
        memcpy(out + o, s, (size_t)(h - s));
        o += (size_t)(h - s);
        if (h < body + len)
            pg->at[n++] = o;
    }
    out[o] = 0;
    pg->len = o;

    apr_thread_mutex_lock(c->lock);
    old = k->pg;
    k->pg = pg;
    apr_cpystrn(k->day, day, sizeof k->day);
    k->born = born;
    k->rebuilding = 0;
    apr_thread_mutex_unlock(c->lock);
    page_release(old);
    apr_pool_cleanup_register(r->pool, pg, release_cleanup, apr_pool_cleanup_null);
    return pg;
}

/* The page with token in its holes, as one buffer, sent. */
static int serve(request_rec *r, const page *pg, int json, const char *token)
{
    size_t tl = strlen(token), len = pg->len + (size_t)pg->nholes * tl, from = 0, o = 0;
    char *buf = apr_palloc(r->pool, len + 1);
    for (int i = 0; i < pg->nholes; i++) {
        memcpy(buf + o, pg->body + from, pg->at[i] - from);
        o += pg->at[i] - from;
        memcpy(buf + o, token, tl);
        o += tl;
        from = pg->at[i];
    }
    memcpy(buf + o, pg->body + from, pg->len - from);
    o += pg->len - from;
    apr_table_setn(r->headers_out, "X-Seckill-Cache", pg->cache_hit ? "hit" : "miss");
    return seckill_respond_body(r, HTTP_OK, json, buf, o);
}

static int slot_index(int slot)
{
    for (int i = 0; i < SECKILL_SLOT_COUNT; i++)
        if (seckill_slots[i] == slot)
            return i;
    return -1;
}

int seckill_listing_respond(request_rec *r, time_t now, int slot, const char *token)
{
    const seckill_server_conf *sc = seckill_conf(r->server);
    seckill_listing_cache *c = sc->rt->listing;
    apr_time_t ttl = apr_time_from_msec(sc->listing_cache_ms), t = apr_time_now();
    int json = seckill_wants_json(r), idx = slot_index(slot), rc;
    cell *k = c && ttl > 0 && idx >= 0 ? &c->cells[idx][json] : NULL;
    char day[9];
    seckill_listing l;
    seckill_value *view;
    seckill_buf b;
    page *pg;

    seckill_slot_date(now, day);
    if (k && (pg = lookup(r, c, k, day, t, ttl)) != NULL) {
        seckill_stats_add(r, SECKILL_STAT_LISTING_HIT); /* no server asked at all */
        return serve(r, pg, json, token);
    }
    rc = seckill_listing_load(r, now, slot, &l);
    seckill_stats_add(r, rc != OK      ? SECKILL_STAT_LISTING_UNAVAILABLE
                         : l.cache_hit ? SECKILL_STAT_LISTING_HIT
                                       : SECKILL_STAT_LISTING_MISS);
    if (rc != OK)
        return seckill_respond_error(r, rc, "unavailable", "系统繁忙，请稍后再试");
    view = seckill_listing_view(r, now, slot, &l);
    seckill_v_set_str(view, "csrf_token", k ? c->hole : token);
    if (!k) {
        apr_table_setn(r->headers_out, "X-Seckill-Cache", l.cache_hit ? "hit" : "miss");
        return seckill_respond(r, HTTP_OK, "index", view);
    }
    seckill_buf_init(&b, r->pool);
    if ((rc = seckill_render(r, json, "index", view, &b)) != OK)
        return rc;
    if (!(pg = keep(r, c, k, day, t, b.data, b.len, l.cache_hit)))
        return HTTP_INTERNAL_SERVER_ERROR;
    return serve(r, pg, json, token);
}
