/*
 * store_pg_keys.c - the PostgreSQL backend's message keys: creating a
 * message with its wrapped key, releasing it (group commit with the release
 * rule asked inside the transaction), re-wrapping under a new KEK.
 * The port of store_sqlite_keys.c, statement for statement.
 */
#include "store_pg_int.h"

#include <sodium.h>
#include <string.h>

/* ---- messages ---- */

static bool message_insert(pgconn *c, const store_message *m, const char *const *rcpts,
                           size_t n_rcpts, GError **err)
{
    bool ok =
        pg_cmd(c, err, NULL,
               "INSERT INTO messages(id, org_id, sender, security, created,"
               " expires, kid, kek_id, wrapped, read_receipts)"
               " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
               "tittiittbn", m->id, m->org_id, m->sender, m->security, m->created, m->expires,
               m->kid, m->kek_id, (const void *)m->wrapped, m->wrapped_len, (int)m->read_receipts);
    /* Named recipients come first: an address given both ways stays named. */
    size_t first_unnamed = m->n_unnamed < n_rcpts ? n_rcpts - m->n_unnamed : n_rcpts;
    for (size_t i = 0; ok && i < n_rcpts; i++)
        ok = pg_cmd(c, err, NULL,
                    "INSERT INTO recipients(message_id, email, unnamed) VALUES($1, $2, $3)"
                    " ON CONFLICT DO NOTHING",
                    "ttn", m->id, rcpts[i], (int)(i >= first_unnamed));
    return ok;
}

/* n opens of (id, rcpt), the last from ip with agent (either NULL). */
static bool release_record(pgconn *c, const char *id, const char *rcpt, gint64 n, const char *ip,
                           const char *agent, GError **err)
{
    return pg_cmd(c, err, NULL,
                  "UPDATE recipients SET opens = opens + $4::bigint,"
                  " first_open = coalesce(first_open, $3::bigint), last_open = $3,"
                  " last_ip = $5, last_agent = $6"
                  " WHERE message_id = $1 AND email = $2",
                  "ttiitt", id, rcpt, pg_now(), n, ip, agent);
}

bool pgs_message_create(store *s, const store_message *m, const char *const *rcpts, size_t n_rcpts,
                        const ks_audit_event *ev, GError **err)
{
    PG_WRITE_TX(s, err, ev, { ok = message_insert(c, m, rcpts, n_rcpts, err); });
}

/* Whether op (a release) may go ahead under its rule, asked with the
 * message's key state as it is in this transaction. */
static bool release_allowed(pgconn *c, const store_op *op, GError **err, bool *ok)
{
    if (op->refused)
        *op->refused = false;
    if (!op->refuse)
        return true;
    PGresult *r = pg_run(c, err,
                         "SELECT locked, (wrapped IS NULL)::int, (recalled_at IS NOT NULL)::int,"
                         " expires FROM messages WHERE id = $1",
                         "t", op->id);
    int found = r ? (PQntuples(r) > 0 ? 1 : 0) : -1;
    store_message now = {0};
    if (found == 1) {
        now.locked = pg_int(r, 0, 0) != 0;
        now.key_gone = pg_int(r, 0, 1) != 0;
        now.recalled = pg_int(r, 0, 2) != 0;
        now.expires = pg_int(r, 0, 3);
    }
    PQclear(r);
    *ok = found >= 0;
    bool allowed = found == 1 && !op->refuse(&now);
    if (!allowed && op->refused)
        *op->refused = true;
    return allowed;
}

bool pgs_apply(store *s, const store_op *ops, size_t n, GError **err)
{
    PG_WRITE_TX(s, err, NULL, {
        /* Releases of the same (message, recipient) in one batch update
         * its counters once, with the last one's client. */
        typedef struct {
            gint64 n;
            const store_op *last;
        } opens;
        GHashTable *agg = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        for (size_t i = 0; ok && i < n; i++) {
            if (ops[i].kind == STORE_OP_CREATE) {
                ok = message_insert(c, ops[i].msg, ops[i].rcpts, ops[i].n_rcpts, err);
            } else if (!release_allowed(c, &ops[i], err, &ok)) {
                continue; /* refused (or ok false): no open, no audit row */
            } else {
                char *k = g_strconcat(ops[i].id, "\n", ops[i].rcpt, NULL);
                opens *o = g_hash_table_lookup(agg, k);
                if (o)
                    g_free(k);
                else
                    g_hash_table_insert(agg, k, o = g_new0(opens, 1));
                o->n++;
                o->last = &ops[i];
            }
            ok = ok && pg_audit_insert(c, ops[i].ev, err);
        }
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, agg);
        while (ok && g_hash_table_iter_next(&it, NULL, &v)) {
            const opens *o = v;
            ok = release_record(c, o->last->id, o->last->rcpt, o->n,
                                o->last->ev ? o->last->ev->ip : NULL, o->last->agent, err);
        }
        g_hash_table_destroy(agg);
    });
}

void pg_message_read(const PGresult *r, int row, store_message *out)
{
    memset(out, 0, sizeof *out);
    g_strlcpy(out->id, PQgetvalue(r, row, 0), sizeof out->id);
    out->org_id = pg_int(r, row, 1);
    out->org_name = pg_text(r, row, 2);
    out->org_display = pg_text(r, row, 3);
    out->org_color = pg_text(r, row, 4);
    out->sender = pg_text(r, row, 5);
    out->security = pg_text(r, row, 6);
    out->kid = pg_text(r, row, 7);
    out->kek_id = pg_text(r, row, 8);
    out->created = pg_int(r, row, 9);
    out->expires = pg_int(r, row, 10);
    out->locked = pg_int(r, row, 11) != 0;
    out->lock_reason = pg_text(r, row, 12);
}

int pgs_message_for_rcpt(store *s, const char *id, const char *rcpt, store_message *out,
                         GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return -1;
    PGresult *res = pg_run(c, err,
                           "SELECT " PG_MESSAGE_COLS ", m.wrapped, m.read_receipts,"
                           " (m.recalled_at IS NOT NULL)::int, r.unnamed"
                           " FROM recipients r"
                           " JOIN messages m ON m.id = r.message_id"
                           " JOIN orgs o ON o.id = m.org_id"
                           " WHERE r.message_id = $1 AND r.email = $2",
                           "tt", id, rcpt);
    int r = -1;
    if (res) {
        r = PQntuples(res) > 0 ? 1 : 0;
        if (r == 1) {
            pg_message_read(res, 0, out);
            out->key_gone = pg_isnull(res, 0, 13);
            out->read_receipts = pg_int(res, 0, 14) != 0;
            out->recalled = pg_int(res, 0, 15) != 0;
            out->unnamed = pg_int(res, 0, 16) != 0;
            if (!out->key_gone)
                out->wrapped = pg_blob(res, 0, 13, &out->wrapped_len);
        }
        PQclear(res);
    }
    pg_conn_put(s, c);
    return r;
}

bool pgs_rewrap_keys(store *s, store_rewrap_fn rewrap, void *ctx, gint64 *count,
                     const ks_audit_event *ev, GError **err)
{
    *count = 0;
    PG_WRITE_TX(s, err, ev, {
        /* The rows are all in the result: the updates run as it is read. */
        PGresult *sel = pg_run(
            c, err, "SELECT id, kek_id, wrapped FROM messages WHERE wrapped IS NOT NULL", "");
        ok = sel != NULL;
        int rows = sel ? PQntuples(sel) : 0;
        for (int i = 0; ok && i < rows; i++) {
            const char *msg_id = PQgetvalue(sel, i, 0);
            const char *kek = pg_isnull(sel, i, 1) ? NULL : PQgetvalue(sel, i, 1);
            size_t len = 0;
            uint8_t *old = pg_blob(sel, i, 2, &len);
            uint8_t *nw = NULL;
            size_t nlen = 0;
            g_autofree char *nkek = NULL;
            ok = rewrap(ctx, msg_id, kek, old, len, &nw, &nlen, &nkek, err);
            if (old)
                sodium_memzero(old, len);
            g_free(old);
            if (!ok)
                break;
            ok = pg_cmd(c, err, NULL, "UPDATE messages SET wrapped = $1, kek_id = $2 WHERE id = $3",
                        "btt", (const void *)nw, nlen, nkek, msg_id);
            sodium_memzero(nw, nlen);
            g_free(nw);
            (*count)++;
        }
        PQclear(sel);
    });
}

char **pgs_kek_ids_in_use(store *s, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return NULL;
    PGresult *r = pg_run(c, err,
                         "SELECT DISTINCT kek_id FROM messages"
                         " WHERE wrapped IS NOT NULL AND kek_id IS NOT NULL",
                         "");
    pg_conn_put(s, c);
    if (!r)
        return NULL;
    int rows = PQntuples(r);
    char **out = g_new0(char *, (gsize)rows + 1);
    for (int i = 0; i < rows; i++)
        out[i] = pg_text(r, i, 0);
    PQclear(r);
    return out;
}
