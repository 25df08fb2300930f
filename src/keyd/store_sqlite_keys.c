/*
 * store_sqlite_keys.c - the SQLite backend's message keys: creating a
 * message with its wrapped key, releasing it (group commit with the release
 * rule asked inside the transaction), re-wrapping under a new KEK.
 */
#include "store_sqlite_int.h"

#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

/* ---- messages ---- */

static bool message_insert(conn *c, const store_message *m, const char *const *rcpts,
                           size_t n_rcpts, GError **err)
{
    sqlite3_stmt *st = sq_prep(c,
                               "INSERT INTO messages(id, org_id, sender, security, created,"
                               " expires, kid, kek_id, wrapped, read_receipts, profile)"
                               " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                               err);
    bool ok = st != NULL;
    if (ok) {
        sq_bind_text(st, 1, m->id);
        sqlite3_bind_int64(st, 2, m->org_id);
        sq_bind_text(st, 3, m->sender);
        sq_bind_text(st, 4, m->security);
        sqlite3_bind_int64(st, 5, m->created);
        sqlite3_bind_int64(st, 6, m->expires);
        sq_bind_text(st, 7, m->kid);
        sq_bind_text(st, 8, m->kek_id);
        sq_bind_blob(st, 9, m->wrapped, m->wrapped_len);
        sqlite3_bind_int(st, 10, m->read_receipts);
        sq_bind_text(st, 11, m->profile);
        ok = sq_step_done(c, st, err);
    }
    /* Named recipients come first: an address given both ways stays named. */
    size_t first_unnamed = m->n_unnamed < n_rcpts ? n_rcpts - m->n_unnamed : n_rcpts;
    for (size_t i = 0; ok && i < n_rcpts; i++) {
        st = sq_prep(
            c, "INSERT OR IGNORE INTO recipients(message_id, email, unnamed) VALUES(?, ?, ?)", err);
        ok = st != NULL;
        if (ok) {
            sq_bind_text(st, 1, m->id);
            sq_bind_text(st, 2, rcpts[i]);
            sqlite3_bind_int(st, 3, i >= first_unnamed);
            ok = sq_step_done(c, st, err);
        }
    }
    return ok;
}

/* n opens of (id, rcpt), the last from ip with agent (either NULL). */
static bool release_record(conn *c, const char *id, const char *rcpt, gint64 n, const char *ip,
                           const char *agent, GError **err)
{
    sqlite3_stmt *st = sq_prep(c,
                               "UPDATE recipients SET opens = opens + ?4,"
                               " first_open = coalesce(first_open, ?3), last_open = ?3,"
                               " last_ip = ?5, last_agent = ?6"
                               " WHERE message_id = ?1 AND email = ?2",
                               err);
    if (!st)
        return false;
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, rcpt);
    sqlite3_bind_int64(st, 3, sq_now());
    sqlite3_bind_int64(st, 4, n);
    sq_bind_text(st, 5, ip);
    sq_bind_text(st, 6, agent);
    return sq_step_done(c, st, err);
}

bool sq_message_create(store *s, const store_message *m, const char *const *rcpts, size_t n_rcpts,
                       const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, { ok = message_insert(c, m, rcpts, n_rcpts, err); });
}

/* Whether op (a release) may go ahead under its rule, asked with the
 * message's key state as it is in this transaction. */
/* Whether the session op was asked with is still live (1), ended (0). */
static int session_live(conn *c, const uint8_t *hash, GError **err)
{
    sqlite3_stmt *st = sq_prep(c, "SELECT 1 FROM sessions WHERE hash = ? AND expires > ?", err);
    if (!st)
        return -1;
    sq_bind_blob(st, 1, hash, KS_HASH_LEN);
    sqlite3_bind_int64(st, 2, sq_now());
    int r = sq_step_row(c, st, err);
    sqlite3_reset(st);
    return r;
}

/* Whether op (a release) may go ahead under its rule, asked with the
 * message's key state (and the session) as they are in this transaction. */
static bool release_allowed(conn *c, const store_op *op, GError **err, bool *ok)
{
    if (op->refused)
        *op->refused = false;
    if (op->session_ended)
        *op->session_ended = false;
    if (op->session) {
        int live = session_live(c, op->session, err);
        *ok = live >= 0;
        if (live != 1) {
            if (op->refused)
                *op->refused = true;
            if (op->session_ended)
                *op->session_ended = live == 0;
            return false;
        }
    }
    if (!op->refuse)
        return true;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT locked, wrapped IS NULL, recalled_at IS NOT NULL, expires"
                               " FROM messages WHERE id = ?",
                               err);
    int found = st ? (sq_bind_text(st, 1, op->id), sq_step_row(c, st, err)) : -1;
    store_message now = {0};
    if (found == 1) {
        now.locked = sqlite3_column_int(st, 0) != 0;
        now.key_gone = sqlite3_column_int(st, 1) != 0;
        now.recalled = sqlite3_column_int(st, 2) != 0;
        now.expires = sqlite3_column_int64(st, 3);
    }
    if (st)
        sqlite3_reset(st);
    *ok = found >= 0;
    bool allowed = found == 1 && !op->refuse(&now);
    if (!allowed && op->refused)
        *op->refused = true;
    return allowed;
}

bool sq_apply(store *s, const store_op *ops, size_t n, GError **err)
{
    WRITE_TX(s, err, NULL, {
        GHashTable *agg = store_opens_new();
        for (size_t i = 0; ok && i < n; i++) {
            if (ops[i].kind == STORE_OP_CREATE) {
                ok = message_insert(c, ops[i].msg, ops[i].rcpts, ops[i].n_rcpts, err);
            } else if (!release_allowed(c, &ops[i], err, &ok)) {
                continue; /* refused (or ok false): no open, no audit row */
            } else {
                store_opens_add(agg, &ops[i]);
            }
            ok = ok && sq_audit_insert(c, ops[i].ev, err);
        }
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, agg);
        while (ok && g_hash_table_iter_next(&it, NULL, &v)) {
            const store_opens *o = v;
            ok = release_record(c, o->last->id, o->last->rcpt, o->n,
                                o->last->ev ? o->last->ev->ip : NULL, o->last->agent, err);
        }
        g_hash_table_destroy(agg);
    });
}

void sq_message_read(sqlite3_stmt *st, store_message *out)
{
    memset(out, 0, sizeof *out);
    g_strlcpy(out->id, (const char *)sqlite3_column_text(st, 0), sizeof out->id);
    out->org_id = sqlite3_column_int64(st, 1);
    out->org_name = sq_col_text(st, 2);
    out->org_display = sq_col_text(st, 3);
    out->org_color = sq_col_text(st, 4);
    out->sender = sq_col_text(st, 5);
    out->security = sq_col_text(st, 6);
    out->kid = sq_col_text(st, 7);
    out->kek_id = sq_col_text(st, 8);
    out->created = sqlite3_column_int64(st, 9);
    out->expires = sqlite3_column_int64(st, 10);
    out->locked = sqlite3_column_int(st, 11) != 0;
    out->lock_reason = sq_col_text(st, 12);
    out->profile = sq_col_text(st, 13);
}

int sq_message_for_rcpt(store *s, const char *id, const char *rcpt, store_message *out,
                        GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT " SQ_MESSAGE_COLS ", m.wrapped, m.read_receipts,"
                               " m.recalled_at IS NOT NULL, r.unnamed"
                               " FROM recipients r"
                               " JOIN messages m ON m.id = r.message_id"
                               " JOIN orgs o ON o.id = m.org_id"
                               " WHERE r.message_id = ? AND r.email = ?",
                               err);
    int r = -1;
    if (st) {
        sq_bind_text(st, 1, id);
        sq_bind_text(st, 2, rcpt);
        r = sq_step_row(c, st, err);
        if (r == 1) {
            sq_message_read(st, out);
            out->key_gone = sqlite3_column_type(st, 14) == SQLITE_NULL;
            out->read_receipts = sqlite3_column_int(st, 15) != 0;
            out->recalled = sqlite3_column_int(st, 16) != 0;
            out->unnamed = sqlite3_column_int(st, 17) != 0;
            if (!out->key_gone) {
                out->wrapped_len = (size_t)sqlite3_column_bytes(st, 14);
                out->wrapped = g_memdup2(sqlite3_column_blob(st, 14), out->wrapped_len);
            }
        }
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

bool sq_rewrap_keys(store *s, store_rewrap_fn rewrap, void *ctx, gint64 *count,
                    const ks_audit_event *ev, GError **err)
{
    *count = 0;
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *sel =
            sq_prep(c, "SELECT id, kek_id, wrapped FROM messages WHERE wrapped IS NOT NULL", err);
        ok = sel != NULL;
        GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
        GPtrArray *keks = g_ptr_array_new_with_free_func(g_free);
        GPtrArray *blobs = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
        int r;
        while (ok && (r = sq_step_row(c, sel, err)) == 1) {
            g_ptr_array_add(ids, sq_col_text(sel, 0));
            g_ptr_array_add(keks, sq_col_text(sel, 1));
            g_ptr_array_add(blobs, g_bytes_new(sqlite3_column_blob(sel, 2),
                                               (gsize)sqlite3_column_bytes(sel, 2)));
        }
        if (ok && r < 0)
            ok = false;
        if (sel)
            sqlite3_reset(sel);
        for (guint i = 0; ok && i < ids->len; i++) {
            gsize len = 0;
            const uint8_t *old = g_bytes_get_data(blobs->pdata[i], &len);
            uint8_t *nw = NULL;
            size_t nlen = 0;
            g_autofree char *nkek = NULL;
            ok = rewrap(ctx, ids->pdata[i], keks->pdata[i], old, len, &nw, &nlen, &nkek, err);
            if (!ok)
                break;
            sqlite3_stmt *up =
                sq_prep(c, "UPDATE messages SET wrapped = ?, kek_id = ? WHERE id = ?", err);
            ok = up != NULL;
            if (ok) {
                sq_bind_blob(up, 1, nw, nlen);
                sq_bind_text(up, 2, nkek);
                sq_bind_text(up, 3, ids->pdata[i]);
                ok = sq_step_done(c, up, err);
            }
            sodium_memzero(nw, nlen);
            g_free(nw);
            (*count)++;
        }
        g_ptr_array_unref(ids);
        g_ptr_array_unref(keks);
        g_ptr_array_unref(blobs);
    });
}

char **sq_kek_ids_in_use(store *s, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return NULL;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT DISTINCT kek_id FROM messages"
                               " WHERE wrapped IS NOT NULL AND kek_id IS NOT NULL",
                               err);
    GPtrArray *a = g_ptr_array_new();
    int r = st ? 0 : -1;
    while (st && (r = sq_step_row(c, st, err)) == 1)
        g_ptr_array_add(a, sq_col_text(st, 0));
    if (st)
        sqlite3_reset(st);
    sq_conn_put(s, c);
    g_ptr_array_add(a, NULL);
    char **out = (char **)g_ptr_array_free(a, FALSE);
    if (r < 0) {
        g_strfreev(out);
        return NULL;
    }
    return out;
}
