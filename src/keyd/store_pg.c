/* store_pg.c - (being written) */
#include "store_pg_int.h"

store *store_pg_open(const char *url, const store_options *opt, GError **err)
{
    (void)url, (void)opt;
    g_set_error(err, SP_ERROR, SP_ERR_USAGE, "this build has no PostgreSQL store yet");
    return NULL;
}
