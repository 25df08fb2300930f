/*
 * opener.c - fill in the embedded opener templates (see opener.h).
 */
#include "opener.h"

#include <glib.h>
#include <string.h>

/* Generated from web/ by scripts/embed-web.py (opener_assets.c). */
extern const char sp_opener_password_head[], sp_opener_password_foot[];
extern const char sp_opener_keyserver_head[], sp_opener_keyserver_foot[];
extern const char sp_opener_keyserver_reply_head[], sp_opener_keyserver_reply_foot[];
extern const size_t sp_opener_password_foot_len, sp_opener_keyserver_foot_len,
    sp_opener_keyserver_reply_foot_len;

#define PLACEHOLDER "@CONNECT_SRC@"

char *sp_opener_head(sp_access_type access, bool answers, const char *connect_src)
{
    const char *tmpl = access != SP_ACCESS_KEYSERVER ? sp_opener_password_head
                       : answers                     ? sp_opener_keyserver_reply_head
                                                     : sp_opener_keyserver_head;
    const char *at = strstr(tmpl, PLACEHOLDER);
    g_assert(at != NULL); /* checked at build time */
    g_assert(strpbrk(connect_src, ";,\"<>\n") == NULL);
    return g_strdup_printf("%.*s%s%s", (int)(at - tmpl), tmpl, connect_src,
                           at + strlen(PLACEHOLDER));
}

const char *sp_opener_foot(sp_access_type access, bool answers, size_t *len)
{
    if (access != SP_ACCESS_KEYSERVER) {
        *len = sp_opener_password_foot_len;
        return sp_opener_password_foot;
    }
    *len = answers ? sp_opener_keyserver_reply_foot_len : sp_opener_keyserver_foot_len;
    return answers ? sp_opener_keyserver_reply_foot : sp_opener_keyserver_foot;
}
