#include "identity.h"

#include "apr_strings.h"
#include "http_protocol.h"

#include "config.h"
#include "form.h"
#include "token.h"

#define ID_BYTES 16
#define ID_LEN 22 /* base64url of 16 bytes */
#define COOKIE_MAX_AGE "31536000"

typedef struct {
    const char *val;
    size_t len;
    int state; /* seckill_cookie_find's */
} cookie_look;

static int cookie_line(void *data, const char *key, const char *line)
{
    cookie_look *l = data;
    l->state = seckill_cookie_find(line, SECKILL_COOKIE, &l->val, &l->len);
    return l->state >= 0; /* two different values: refused, stop */
}

/* The identity cookie, read in place (ap_cookie_read copies and tokenizes every Cookie header,
 * an eighth of a sold-out buy's instructions: bench/README.md); twice with two values: none. */
static const char *cookie_id(request_rec *r, const seckill_server_conf *c)
{
    cookie_look l = {NULL, 0, 0};
    char id[ID_LEN + 1], sig[SECKILL_TOKEN_LEN + 1];
    apr_table_do(cookie_line, &l, r->headers_in, "Cookie", "Cookie2", NULL);
    if (l.state != 1 || l.len != ID_LEN + 1 + SECKILL_TOKEN_LEN || l.val[ID_LEN] != '.')
        return NULL;
    memcpy(id, l.val, ID_LEN);
    id[ID_LEN] = 0;
    memcpy(sig, l.val + ID_LEN + 1, SECKILL_TOKEN_LEN);
    sig[SECKILL_TOKEN_LEN] = 0;
    if (strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != ID_LEN ||
        !seckill_token_check(c->secret, c->secret_len, sig, 2, "id", id))
        return NULL;
    return apr_pstrdup(r->pool, id);
}

static const char *issue_cookie(request_rec *r, const seckill_server_conf *c)
{
    unsigned char raw[ID_BYTES];
    char id[ID_LEN + 1], sig[SECKILL_TOKEN_LEN + 1];
    if (apr_generate_random_bytes(raw, sizeof raw) != APR_SUCCESS)
        return NULL;
    seckill_base64url(raw, sizeof raw, id);
    seckill_token_sign(c->secret, c->secret_len, sig, 2, "id", id);
    /* err_headers_out: the cookie also goes out with an error page */
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_psprintf(r->pool,
                                SECKILL_COOKIE "=%s.%s; Path=/; Max-Age=" COOKIE_MAX_AGE
                                               "; HttpOnly; SameSite=Lax%s",
                                id, sig,
                                strcmp(ap_http_scheme(r), "https") == 0 ? "; Secure" : ""));
    return apr_pstrdup(r->pool, id);
}

static const char *usable(const char *user)
{
    size_t n = user ? strlen(user) : 0;
    return n > 0 && n <= 64 && !strchr(user, '|') ? user : NULL;
}

const char *seckill_identity(request_rec *r, int issue)
{
    const seckill_server_conf *c = seckill_conf(r->server);
    const char *user;
    switch (c->identity) {
    case SECKILL_ID_REMOTE_USER:
        return usable(r->user);
    case SECKILL_ID_IP:
        return usable(r->useragent_ip);
    default:
        if (!c->secret)
            return NULL; /* no SeckillSecretFile: cookies cannot be signed */
        user = apr_table_get(r->notes, "seckill-user");
        if (user)
            return user;
        user = cookie_id(r, c);
        if (!user && issue)
            user = issue_cookie(r, c);
        if (user)
            apr_table_setn(r->notes, "seckill-user", user);
        return user;
    }
}

const char *seckill_csrf_token(request_rec *r, const char *user)
{
    const seckill_server_conf *c = seckill_conf(r->server);
    const char *ok = apr_table_get(r->notes, "seckill-csrf");
    char *tok;
    if (!c->secret || !user)
        return "";
    if (ok) /* the token this request carried and seckill_csrf_ok verified: the same HMAC */
        return ok;
    tok = apr_palloc(r->pool, SECKILL_TOKEN_LEN + 1);
    seckill_token_sign(c->secret, c->secret_len, tok, 2, "csrf", user);
    return tok;
}

int seckill_csrf_ok(request_rec *r, const char *user, const char *form_token)
{
    const seckill_server_conf *c = seckill_conf(r->server);
    const char *tok = apr_table_get(r->headers_in, "X-CSRF-Token");
    if (!tok)
        tok = form_token;
    if (!c->secret || !user || !tok ||
        !seckill_token_check(c->secret, c->secret_len, tok, 2, "csrf", user))
        return 0;
    apr_table_setn(r->notes, "seckill-csrf", tok);
    return 1;
}
