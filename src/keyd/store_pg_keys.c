/*
 * store_pg_keys.c - the PostgreSQL backend's message keys: creating a
 * message with its wrapped key, releasing it (group commit with the release
 * rule asked inside the transaction), re-wrapping under a new KEK.
 * The port of store_sqlite_keys.c; its group commit is two round trips
 * whatever the batch (store_pg_pipe.c).
 */
#include "store_pg_int.h"

#include <sodium.h>
#include <string.h>

/* ---- messages ---- */

static const char MESSAGE_INSERT[] = "INSERT INTO messages(id, org_id, sender, security, created,"
                                     " expires, kid, kek_id, wrapped, read_receipts, profile)"
                                     " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
static const char RECIPIENT_INSERT[] =
    "INSERT INTO recipients(message_id, email, unnamed) VALUES($1, $2, $3)"
    " ON CONFLICT DO NOTHING";
static const char RELEASE_RECORD[] =
    "UPDATE recipients SET opens = opens + $4::bigint,"
    " first_open = coalesce(first_open, $3::bigint), last_open = $3,"
    " last_ip = $5, last_agent = $6"
    " WHERE message_id = $1 AND email = $2";

/* A message and its recipients, run now or (pipe) queued. */
static bool message_insert(pgconn *c, const store_message *m, const char *const *rcpts,
                           size_t n_rcpts, bool pipe, GError **err)
{
#define MESSAGE_VALUES                                                                             \
    "tittiittbnt", m->id, m->org_id, m->sender, m->security, m->created, m->expires, m->kid,       \
        m->kek_id, (const void *)m->wrapped, m->wrapped_len, (int)m->read_receipts, m->profile
    bool ok = true;
    if (pipe)
        pg_pipe_add(c, MESSAGE_INSERT, MESSAGE_VALUES);
    else
        ok = pg_cmd(c, err, NULL, MESSAGE_INSERT, MESSAGE_VALUES);
#undef MESSAGE_VALUES
    /* Named recipients come first: an address given both ways stays named. */
    size_t first_unnamed = m->n_unnamed < n_rcpts ? n_rcpts - m->n_unnamed : n_rcpts;
    for (size_t i = 0; ok && i < n_rcpts; i++) {
        int unnamed = i >= first_unnamed;
        if (pipe)
            pg_pipe_add(c, RECIPIENT_INSERT, "ttn", m->id, rcpts[i], unnamed);
        else
            ok = pg_cmd(c, err, NULL, RECIPIENT_INSERT, "ttn", m->id, rcpts[i], unnamed);
    }
    return ok;
}

bool pgs_message_create(store *s, const store_message *m, const char *const *rcpts, size_t n_rcpts,
                        const ks_audit_event *ev, GError **err)
{
    PG_WRITE_TX(s, err, ev, { ok = message_insert(c, m, rcpts, n_rcpts, false, err); });
}

/* ---- group commit in two round trips ---- */

/* The key state of the messages whose release rule is asked, read with
 * the write lock held: id -> store_message (locked, key_gone, recalled,
 * expires). */
static const char STATES[] =
    "SELECT id, locked, (wrapped IS NULL)::int, (recalled_at IS NOT NULL)::int, expires"
    " FROM messages WHERE id = ANY($1::text[])";

/* The sessions among $1 (hex) that are live at $2. */
static const char LIVE_SESSIONS[] =
    "SELECT encode(hash, 'hex') FROM sessions"
    " WHERE hash IN (SELECT decode(h, 'hex') FROM unnest($1::text[]) h) AND expires > $2";

/* The session hashes of the releases as a text[] literal of hex. */
static char *sessions_array(const store_op *ops, size_t n, size_t *count)
{
    GString *a = g_string_new("{");
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        if (ops[i].kind != STORE_OP_RELEASE || !ops[i].session)
            continue;
        if ((*count)++)
            g_string_append_c(a, ',');
        for (size_t k = 0; k < KS_HASH_LEN; k++)
            g_string_append_printf(a, "%02x", ops[i].session[k]);
    }
    g_string_append_c(a, '}');
    return g_string_free(a, FALSE);
}

/* The ids as a text[] literal: {"a","b"} (ids are base64url; quoted and
 * escaped all the same). */
static char *ids_array(const store_op *ops, size_t n, size_t *count)
{
    GString *a = g_string_new("{");
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        if (ops[i].kind != STORE_OP_RELEASE || !ops[i].refuse)
            continue;
        if ((*count)++)
            g_string_append_c(a, ',');
        g_string_append_c(a, '"');
        for (const char *p = ops[i].id; *p; p++) {
            if (*p == '"' || *p == '\\')
                g_string_append_c(a, '\\');
            g_string_append_c(a, *p);
        }
        g_string_append_c(a, '"');
    }
    g_string_append_c(a, '}');
    return g_string_free(a, FALSE);
}

/* Round trip 1: BEGIN, the write lock, the audit head, the key states
 * (id -> store_message) and the live sessions (*live: hex -> itself). */
static GHashTable *apply_read(pgconn *c, const store_op *ops, size_t n, GHashTable **live,
                              GError **err)
{
    size_t n_ids = 0, n_sessions = 0;
    g_autofree char *ids = ids_array(ops, n, &n_ids);
    g_autofree char *sessions = sessions_array(ops, n, &n_sessions);
    if (!pg_pipe_begin(c, err))
        return NULL;
    pg_pipe_add(c, "BEGIN", "");
    pg_pipe_add(c, PG_WRITE_LOCK_SQL, "");
    pg_pipe_add(c, PG_HEAD_SQL, "");
    if (n_ids)
        pg_pipe_add(c, STATES, "t", ids);
    if (n_sessions)
        pg_pipe_add(c, LIVE_SESSIONS, "ti", sessions, pg_now());
    GPtrArray *res = pg_pipe_end(c, err);
    if (!res)
        return NULL;
    *live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (n_sessions) {
        const PGresult *r = res->pdata[n_ids ? 4 : 3];
        for (int i = 0; i < PQntuples(r); i++)
            g_hash_table_add(*live, pg_text(r, i, 0));
    }
    GHashTable *states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    bool ok = pg_head_read(c, res->pdata[2]);
    for (int i = 0; ok && n_ids && i < PQntuples(res->pdata[3]); i++) {
        const PGresult *r = res->pdata[3];
        store_message *m = g_new0(store_message, 1);
        m->locked = pg_int(r, i, 1) != 0;
        m->key_gone = pg_int(r, i, 2) != 0;
        m->recalled = pg_int(r, i, 3) != 0;
        m->expires = pg_int(r, i, 4);
        g_hash_table_insert(states, pg_text(r, i, 0), m);
    }
    pg_pipe_free(res);
    if (!ok) {
        c->broken = true;
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "database: the audit chain's head is damaged");
        g_hash_table_destroy(states);
        g_clear_pointer(live, g_hash_table_destroy);
        return NULL;
    }
    return states;
}

/* Whether op (a release) may go ahead under its rule, asked with the
 * message's key state (and the session) as stored when the write lock was
 * taken. */
static bool release_allowed(const store_op *op, GHashTable *states, GHashTable *live)
{
    if (op->refused)
        *op->refused = false;
    if (op->session_ended)
        *op->session_ended = false;
    if (op->session) {
        char hex[2 * KS_HASH_LEN + 1];
        for (size_t k = 0; k < KS_HASH_LEN; k++)
            g_snprintf(hex + 2 * k, 3, "%02x", op->session[k]);
        if (!g_hash_table_contains(live, hex)) {
            if (op->refused)
                *op->refused = true;
            if (op->session_ended)
                *op->session_ended = true;
            return false;
        }
    }
    if (!op->refuse)
        return true;
    const store_message *now = g_hash_table_lookup(states, op->id);
    bool allowed = now && !op->refuse(now);
    if (!allowed && op->refused)
        *op->refused = true;
    return allowed;
}

/* Every write of the batch is decided here, between the two round trips:
 * the rule needs the states, each audit row the row before it. */
bool pgs_apply(store *s, const store_op *ops, size_t n, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
    GHashTable *live = NULL;
    GHashTable *states = apply_read(c, ops, n, &live, err);
    bool ok = states != NULL && pg_pipe_begin(c, err);
    GPtrArray *res = NULL;
    if (ok) {
        GHashTable *agg = store_opens_new();
        for (size_t i = 0; i < n; i++) {
            if (ops[i].kind == STORE_OP_CREATE) {
                message_insert(c, ops[i].msg, ops[i].rcpts, ops[i].n_rcpts, true, NULL);
            } else if (!release_allowed(&ops[i], states, live)) {
                continue; /* refused: no open, no audit row */
            } else {
                store_opens_add(agg, &ops[i]);
            }
            pg_audit_pipe(c, ops[i].ev);
        }
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, agg);
        gint64 now = pg_now();
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            const store_opens *o = v;
            pg_pipe_add(c, RELEASE_RECORD, "ttiitt", o->last->id, o->last->rcpt, now, o->n,
                        o->last->ev ? o->last->ev->ip : NULL, o->last->agent);
        }
        g_hash_table_destroy(agg);
        pg_pipe_add(c, "COMMIT", "");
        res = pg_pipe_end(c, err); /* round trip 2 */
        /* A transaction that failed answers COMMIT with ROLLBACK. */
        ok = res && res->len && !strcmp(PQcmdStatus(res->pdata[res->len - 1]), "COMMIT");
        if (res && !ok) {
            c->broken = true;
            g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "database: the batch was rolled back");
        }
    }
    pg_pipe_free(res);
    if (states)
        g_hash_table_destroy(states);
    if (live)
        g_hash_table_destroy(live);
    c->head_known = false;
    /* On failure the connection is broken: closing it rolls back. */
    pg_conn_put(s, c);
    return ok;
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
    out->profile = pg_text(r, row, 13);
}

int pgs_message_for_rcpt(store *s, const char *id, const char *rcpt, store_message *out,
                         GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT " PG_MESSAGE_COLS ", m.wrapped, m.read_receipts,"
                        " (m.recalled_at IS NOT NULL)::int, r.unnamed"
                        " FROM recipients r"
                        " JOIN messages m ON m.id = r.message_id"
                        " JOIN orgs o ON o.id = m.org_id"
                        " WHERE r.message_id = $1 AND r.email = $2",
                        "tt", id, rcpt);
    if (r == 1) {
        pg_message_read(res, 0, out);
        out->key_gone = pg_isnull(res, 0, 14);
        out->read_receipts = pg_int(res, 0, 15) != 0;
        out->recalled = pg_int(res, 0, 16) != 0;
        out->unnamed = pg_int(res, 0, 17) != 0;
        if (!out->key_gone)
            out->wrapped = pg_blob(res, 0, 14, &out->wrapped_len);
        PQclear(res);
    }
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
