/*
 * opener.c - fill in the embedded opener templates (see opener.h).
 */
#include "opener.h"

#include <glib.h>
#include <string.h>

/* Generated from web/ by scripts/embed-web.py (opener_assets.c). */
extern const char sp_opener_head_tmpl[];
extern const char sp_opener_foot_tmpl[];
extern const size_t sp_opener_foot_tmpl_len;

#define PLACEHOLDER "@CONNECT_SRC@"

char *sp_opener_head(const char *connect_src)
{
    const char *at = strstr(sp_opener_head_tmpl, PLACEHOLDER);
    g_assert(at != NULL); /* checked at build time */
    g_assert(strpbrk(connect_src, ";,\"<>\n") == NULL);
    return g_strdup_printf("%.*s%s%s", (int)(at - sp_opener_head_tmpl), sp_opener_head_tmpl,
                           connect_src, at + strlen(PLACEHOLDER));
}

const char *sp_opener_foot(size_t *len)
{
    *len = sp_opener_foot_tmpl_len;
    return sp_opener_foot_tmpl;
}
