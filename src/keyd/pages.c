/*
 * pages.c - the pages keyd serves to people (activation, reset, /open, the
 * landing page) and their assets, from the table built out of web/.
 */
#include "api.h"
#include "assets.h"

#include <string.h>

void page_serve(ks_req *r)
{
    const char *path = req_path(r);
    for (const ks_asset *a = ks_assets; a->path; a++) {
        if (strcmp(a->path, path) != 0)
            continue;
        if (a->csp) {
            reply_header(r, "Content-Security-Policy", a->csp);
            reply_header(r, "X-Frame-Options", "DENY");
            reply_header(r, "Cache-Control", "no-cache");
        } else {
            reply_header(r, "Cache-Control", "public, max-age=300");
        }
        return reply_bytes(r, 200, a->content_type, a->data, a->len, FALSE);
    }
    reply_not_found(r);
}
