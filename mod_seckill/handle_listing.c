#include "handlers.h"

#include "apr_strings.h"
#include "http_protocol.h"

#include "identity.h"
#include "listing_cache.h"
#include "respond.h"
#include "slot.h"

/* The query may hold only slot=H, once. NULL ok (slot left as is), else the message. */
static const char *parse_query(request_rec *r, int *slot)
{
    char *args, *pair, *last;
    int seen = 0;
    if (!r->args || !*r->args)
        return NULL;
    args = apr_pstrdup(r->pool, r->args);
    for (pair = apr_strtok(args, "&", &last); pair; pair = apr_strtok(NULL, "&", &last)) {
        char *eq = strchr(pair, '=');
        if (!eq || strncmp(pair, "slot", (size_t)(eq - pair)) != 0 || eq - pair != 4)
            continue; /* other parameters (e.g. cache busters) are ignored */
        if (seen++)
            return "slot is given twice";
        if (seckill_slot_parse(eq + 1, slot) != 0)
            return "slot must be one of 8, 10, 12, 14, 16, 18, 20, 22";
    }
    return NULL;
}

int seckill_handle_listing(request_rec *r)
{
    time_t now = (time_t)apr_time_sec(r->request_time);
    int slot = seckill_slot_of_time(now);
    const char *bad;

    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return seckill_respond_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                     "只支持 GET");
    }
    if ((bad = parse_query(r, &slot)) != NULL)
        return seckill_respond_error(r, HTTP_BAD_REQUEST, "bad_request", bad);
    /* every page hands out the shopper's identity and the CSRF token its forms carry */
    return seckill_listing_respond(r, now, slot, seckill_csrf_token(r, seckill_identity(r, 1)));
}
