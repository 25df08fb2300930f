/*
 * store_pg_pipe.c - statements sent together and answered in one round
 * trip (libpq's pipeline mode), for the PostgreSQL backend's hot path: a
 * batch of key creations and releases is two round trips whatever its
 * size (store_pg_keys.c).
 *
 * A pipeline is all or nothing for the connection: when anything in it
 * fails, the connection is marked broken and closed when it goes back to
 * the pool, so no half-read answer or half-prepared statement is ever
 * seen by its next user.
 */
#include "store_pg_int.h"

#include <string.h>

bool pg_pipe_begin(pgconn *c, GError **err)
{
    c->pipe_failed = false;
    if (!c->pipe_kinds)
        c->pipe_kinds = g_byte_array_new();
    g_byte_array_set_size(c->pipe_kinds, 0);
    if (PQenterPipelineMode(c->pg) != 1) {
        c->broken = true;
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "database: cannot start a pipeline: %s",
                    PQerrorMessage(c->pg));
        return false;
    }
    return true;
}

/* What each queued item answers: a caller's statement, or a prepare. */
static const guint8 STATEMENT = 1, PREPARE = 0;

void pg_pipe_add(pgconn *c, const char *sql, const char *types, ...)
{
    if (c->pipe_failed)
        return;
    va_list ap;
    va_start(ap, types);
    pg_params p;
    pg_params_read(&p, types, ap);
    va_end(ap);
    bool known;
    const char *name = pg_prepared_name(c, sql, &known);
    bool ok = true;
    if (!known) {
        ok = PQsendPrepare(c->pg, name, sql, p.n, NULL) == 1;
        if (ok)
            g_byte_array_append(c->pipe_kinds, &PREPARE, 1);
    }
    ok = ok && PQsendQueryPrepared(c->pg, name, p.n, p.vals, p.lens, p.fmts, 0) == 1;
    if (ok)
        g_byte_array_append(c->pipe_kinds, &STATEMENT, 1);
    else
        c->pipe_failed = true;
}

void pg_pipe_free(GPtrArray *res)
{
    if (res)
        g_ptr_array_unref(res);
}

static void result_clear(gpointer r)
{
    PQclear(r);
}

GPtrArray *pg_pipe_end(pgconn *c, GError **err)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(result_clear);
    bool ok = !c->pipe_failed && PQpipelineSync(c->pg) == 1;
    if (ok)
        pg_trip(c);
    GError *first = NULL;
    /* Each queued item answers with its result, then NULL; the sync with
     * PGRES_PIPELINE_SYNC. After a failure the rest answer "aborted". */
    for (guint i = 0; ok && i < c->pipe_kinds->len; i++) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) {
            ok = false;
            break;
        }
        PGresult *more;
        while ((more = PQgetResult(c->pg)) != NULL)
            PQclear(more);
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            if (c->pipe_kinds->data[i] == STATEMENT)
                g_ptr_array_add(out, r);
            else
                PQclear(r);
        } else if (!first) {
            pg_fail_result(c, r, "pipeline", &first);
        } else {
            PQclear(r);
        }
    }
    if (ok) {
        PGresult *sync = PQgetResult(c->pg);
        ok = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
        PQclear(sync);
    }
    if (ok && PQexitPipelineMode(c->pg) != 1)
        ok = false;
    if (!ok || first) {
        c->broken = true;
        if (first)
            g_propagate_error(err, first);
        else
            g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "database: pipeline: %s",
                        PQerrorMessage(c->pg));
        g_ptr_array_unref(out);
        return NULL;
    }
    return out;
}
