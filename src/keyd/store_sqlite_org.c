/*
 * store_sqlite_org.c - the SQLite store's organisations (store.h): the
 * organisation with its domains, gateway tokens and members, and its
 * settings: message profiles and the brand (display name, colour, logo,
 * notice).
 */
#include "store_sqlite_int.h"

#include <string.h>

/* ---- organisations ---- */

static void org_from_row(sqlite3_stmt *st, store_org *o)
{
    o->id = sqlite3_column_int64(st, 0);
    o->name = sq_col_text(st, 1);
    o->display_name = sq_col_text(st, 2);
    o->color = sq_col_text(st, 3);
    o->brand_version = sqlite3_column_int64(st, 4);
}

bool sq_org_create(store *s, const char *name, const char *const *domains, size_t n_domains,
                   const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = sq_prep(c, "INSERT INTO orgs(name, created) VALUES(?, ?)", err);
        ok = st != NULL;
        if (ok) {
            sq_bind_text(st, 1, name);
            sqlite3_bind_int64(st, 2, sq_now());
            ok = sq_step_done(c, st, err);
        }
        gint64 id = sqlite3_last_insert_rowid(c->db);
        for (size_t i = 0; ok && i < n_domains; i++) {
            st = sq_prep(c, "INSERT INTO org_domains(domain, org_id) VALUES(?, ?)", err);
            ok = st != NULL;
            if (ok) {
                sq_bind_text(st, 1, domains[i]);
                sqlite3_bind_int64(st, 2, id);
                ok = sq_step_done(c, st, err);
            }
        }
    });
}

int sq_org_by_name(store *s, const char *name, store_org *out, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(
        c, "SELECT id, name, display_name, color, brand_version FROM orgs WHERE name = ?", err);
    int r = -1;
    if (st) {
        sq_bind_text(st, 1, name);
        r = sq_step_row(c, st, err);
        if (r == 1)
            org_from_row(st, out);
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

int sq_org_has_domain(store *s, gint64 org_id, const char *domain, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c, "SELECT 1 FROM org_domains WHERE domain = ? AND org_id = ?", err);
    int r = -1;
    if (st) {
        sq_bind_text(st, 1, domain);
        sqlite3_bind_int64(st, 2, org_id);
        r = sq_step_row(c, st, err);
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

bool sq_gateway_token_create(store *s, gint64 org_id, const uint8_t hash[KS_HASH_LEN],
                             const char *prefix, const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = sq_prep(
            c, "INSERT INTO gateway_tokens(hash, org_id, created, prefix) VALUES(?, ?, ?, ?)", err);
        ok = st != NULL;
        if (ok) {
            sq_bind_blob(st, 1, hash, KS_HASH_LEN);
            sqlite3_bind_int64(st, 2, org_id);
            sqlite3_bind_int64(st, 3, sq_now());
            sq_bind_text(st, 4, prefix);
            ok = sq_step_done(c, st, err);
        }
    });
}

/* Record a token's use, at most once a minute (a write per request would
 * cost the busiest call a transaction). */
static void token_touch(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now)
{
    g_autoptr(GError) err = NULL;
    conn *c = sq_write_begin(s, &err);
    sqlite3_stmt *st = c ? sq_prep(c,
                                   "UPDATE gateway_tokens SET last_used = ?2 WHERE hash = ?1"
                                   " AND (last_used IS NULL OR last_used < ?2 - 59)",
                                   &err)
                         : NULL;
    bool ok = st != NULL;
    if (ok) {
        sq_bind_blob(st, 1, hash, KS_HASH_LEN);
        sqlite3_bind_int64(st, 2, now);
        ok = sq_step_done(c, st, &err);
    }
    if (c)
        ok = sq_write_end(s, c, ok, &err);
    if (!ok)
        g_warning("gateway token last use: %s", err ? err->message : "failed");
}

int sq_gateway_token_org(store *s, const uint8_t hash[KS_HASH_LEN], store_org *out, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT o.id, o.name, o.display_name, o.color, o.brand_version,"
                               " coalesce(t.last_used, 0) FROM gateway_tokens t"
                               " JOIN orgs o ON o.id = t.org_id"
                               " WHERE t.hash = ? AND t.revoked IS NULL",
                               err);
    int r = -1;
    gint64 last = 0, now = sq_now();
    if (st) {
        sq_bind_blob(st, 1, hash, KS_HASH_LEN);
        r = sq_step_row(c, st, err);
        if (r == 1) {
            org_from_row(st, out);
            last = sqlite3_column_int64(st, 5);
        }
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    if (r == 1 && last < now - 59)
        token_touch(s, hash, now);
    return r;
}

bool sq_gateway_tokens_list(store *s, gint64 org_id, GArray **rows, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st =
        sq_prep(c,
                "SELECT coalesce(t.prefix, 'sha256:' || lower(hex(substr(t.hash, 1, 8)))), o.name,"
                " t.created, coalesce(t.last_used, 0), coalesce(t.revoked, 0)"
                " FROM gateway_tokens t JOIN orgs o ON o.id = t.org_id"
                " WHERE ?1 = 0 OR t.org_id = ?1 ORDER BY t.created, t.rowid",
                err);
    if (!st) {
        sq_conn_put(s, c);
        return false;
    }
    *rows = g_array_new(FALSE, TRUE, sizeof(store_token_row));
    g_array_set_clear_func(*rows, store_token_row_clear);
    sqlite3_bind_int64(st, 1, org_id);
    int r;
    while ((r = sq_step_row(c, st, err)) == 1) {
        store_token_row t = {sq_col_text(st, 0), sq_col_text(st, 1), sqlite3_column_int64(st, 2),
                             sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4)};
        g_array_append_val(*rows, t);
    }
    sqlite3_reset(st);
    sq_conn_put(s, c);
    if (r < 0)
        g_clear_pointer(rows, g_array_unref);
    return r == 0;
}

/* The live tokens a revoke names: by the whole token's hash (?1), or by
 * the prefix as listed (?2), compared as text, not as a LIKE pattern ('_'
 * is a token character). */
#define TOKEN_NAMED                                                                                \
    " WHERE revoked IS NULL AND (hash = ?1 OR (?2 IS NOT NULL AND"                                 \
    " (substr(prefix, 1, length(?2)) = ?2"                                                         \
    " OR 'sha256:' || lower(hex(substr(hash, 1, 8))) = ?2)))"

int sq_gateway_token_revoke(store *s, const char *prefix, const uint8_t *hash, gint64 now,
                            const ks_audit_event *ev, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c, "SELECT count(*) FROM gateway_tokens" TOKEN_NAMED, err);
    int n = -1;
    if (st) {
        if (hash)
            sq_bind_blob(st, 1, hash, KS_HASH_LEN);
        sq_bind_text(st, 2, prefix);
        if (sq_step_row(c, st, err) == 1)
            n = sqlite3_column_int(st, 0);
        sqlite3_reset(st);
    }
    bool ok = n >= 0;
    if (ok && n == 1) {
        st = sq_prep(c, "UPDATE gateway_tokens SET revoked = ?3" TOKEN_NAMED, err);
        ok = st != NULL;
        if (ok) {
            if (hash)
                sq_bind_blob(st, 1, hash, KS_HASH_LEN);
            sq_bind_text(st, 2, prefix);
            sqlite3_bind_int64(st, 3, now);
            ok = sq_step_done(c, st, err);
        }
        if (ok)
            ok = sq_audit_insert(c, ev, err);
    }
    ok = sq_write_end(s, c, ok, err);
    return ok ? n : -1;
}

int sq_org_user_add(store *s, gint64 org_id, const char *email, const char *pw_hash,
                    const char *role, const ks_audit_event *ev, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c, "SELECT id, status FROM accounts WHERE email = ?", err);
    int found = -1;
    gint64 id = 0;
    int status = 0;
    if (st) {
        sq_bind_text(st, 1, email);
        found = sq_step_row(c, st, err);
        if (found == 1) {
            id = sqlite3_column_int64(st, 0);
            status = sqlite3_column_int(st, 1);
        }
        sqlite3_reset(st);
    }
    bool ok = found >= 0;
    int result = 0;
    if (ok && pw_hash && !found)
        ok = sq_account_upsert(c, email, NULL, pw_hash, NULL, ACCOUNT_ACTIVE, &id, err);
    else if (ok && (pw_hash || !found || status != ACCOUNT_ACTIVE))
        id = 0; /* refused: nothing to do */
    if (ok && id) {
        st = sq_prep(c,
                     "INSERT INTO org_users(org_id, account_id, role) VALUES(?,?,?)"
                     " ON CONFLICT(org_id, account_id) DO UPDATE SET role = excluded.role",
                     err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, org_id);
            sqlite3_bind_int64(st, 2, id);
            sq_bind_text(st, 3, role);
            ok = sq_step_done(c, st, err);
        }
        if (ok)
            ok = sq_audit_insert(c, ev, err);
        result = 1;
    }
    ok = sq_write_end(s, c, ok, err);
    return ok ? result : -1;
}

/* ---- phrases given to organisations ---- */

/* 1 when org_id was given email's phrase before, 0 not, -1 error. */
static int phrase_granted(conn *c, gint64 org_id, const char *email, GError **err)
{
    sqlite3_stmt *st =
        sq_prep(c, "SELECT 1 FROM phrase_grants WHERE org_id = ? AND email = ?", err);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, org_id);
    sq_bind_text(st, 2, email);
    int r = sq_step_row(c, st, err);
    sqlite3_reset(st);
    return r;
}

/* In a write transaction: grant org_id the new addresses in fresh while
 * its hourly budget lasts; drop the others from phrases. */
static bool phrases_grant(conn *c, gint64 org_id, GPtrArray *fresh, GHashTable *phrases, gint64 now,
                          gint64 limit, gint64 *withheld, GError **err)
{
    sqlite3_stmt *st =
        sq_prep(c, "SELECT count(*) FROM phrase_grants WHERE org_id = ? AND granted > ?", err);
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, org_id);
    sqlite3_bind_int64(st, 2, now - 3600);
    int r = sq_step_row(c, st, err);
    gint64 used = r == 1 ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (r != 1)
        return false;
    for (guint i = 0; i < fresh->len; i++) {
        const char *email = fresh->pdata[i];
        int known = phrase_granted(c, org_id, email, err); /* another keyd, meanwhile */
        if (known < 0)
            return false;
        if (known)
            continue;
        if (used >= limit) {
            g_hash_table_remove(phrases, email);
            (*withheld)++;
            continue;
        }
        st = sq_prep(c, "INSERT INTO phrase_grants(org_id, email, granted) VALUES(?, ?, ?)", err);
        if (!st)
            return false;
        sqlite3_bind_int64(st, 1, org_id);
        sq_bind_text(st, 2, email);
        sqlite3_bind_int64(st, 3, now);
        if (!sq_step_done(c, st, err))
            return false;
        used++;
    }
    return true;
}

GHashTable *sq_phrases_for_org(store *s, gint64 org_id, const char *const *emails, size_t n,
                               gint64 now, gint64 limit, gint64 *withheld, GError **err)
{
    *withheld = 0;
    GHashTable *phrases = sq_account_phrases(s, emails, n, err);
    if (!phrases || !g_hash_table_size(phrases))
        return phrases;
    /* The usual case, addresses it was given before, reads only. */
    g_autoptr(GPtrArray) fresh = g_ptr_array_new();
    conn *c = sq_conn_get(s, err);
    bool ok = c != NULL;
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, phrases);
    while (ok && g_hash_table_iter_next(&it, &k, NULL)) {
        int known = phrase_granted(c, org_id, k, err);
        ok = known >= 0;
        if (known == 0)
            g_ptr_array_add(fresh, k);
    }
    if (c)
        sq_conn_put(s, c);
    if (ok && fresh->len) {
        c = sq_write_begin(s, err);
        ok = c && phrases_grant(c, org_id, fresh, phrases, now, limit, withheld, err);
        if (c)
            ok = sq_write_end(s, c, ok, ok ? err : NULL) && ok;
    }
    if (!ok)
        g_clear_pointer(&phrases, g_hash_table_unref);
    return phrases;
}

/* ---- profiles and brand ---- */

bool sq_profile_set(store *s, gint64 org_id, const store_profile *p, const ks_audit_event *ev,
                    GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = sq_prep(c,
                                   "INSERT OR REPLACE INTO profiles(org_id, name, security,"
                                   " expires_seconds, reply, reply_all, forward, read_receipts,"
                                   " subject_shown) VALUES(?,?,?,?,?,?,?,?,?)",
                                   err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, org_id);
            sq_bind_text(st, 2, p->name);
            sq_bind_text(st, 3, p->security);
            sqlite3_bind_int64(st, 4, p->expires_seconds);
            sqlite3_bind_int(st, 5, p->reply);
            sqlite3_bind_int(st, 6, p->reply_all);
            sqlite3_bind_int(st, 7, p->forward);
            sqlite3_bind_int(st, 8, p->read_receipts);
            sqlite3_bind_int(st, 9, p->subject_shown);
            ok = sq_step_done(c, st, err);
        }
    });
}

int sq_profile_get(store *s, gint64 org_id, const char *name, store_profile *out, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT name, security, expires_seconds, reply, reply_all, forward,"
                               " read_receipts, subject_shown FROM profiles"
                               " WHERE org_id = ? AND name = ?",
                               err);
    int r = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, org_id);
        sq_bind_text(st, 2, name);
        r = sq_step_row(c, st, err);
        if (r == 1) {
            out->name = sq_col_text(st, 0);
            out->security = sq_col_text(st, 1);
            out->expires_seconds = sqlite3_column_int64(st, 2);
            out->reply = sqlite3_column_int(st, 3) != 0;
            out->reply_all = sqlite3_column_int(st, 4) != 0;
            out->forward = sqlite3_column_int(st, 5) != 0;
            out->read_receipts = sqlite3_column_int(st, 6) != 0;
            out->subject_shown = sqlite3_column_int(st, 7) != 0;
        }
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

bool sq_brand_set(store *s, gint64 org_id, const store_brand *b, const ks_audit_event *ev,
                  GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st =
            sq_prep(c,
                    "UPDATE orgs SET display_name = coalesce(?2, display_name),"
                    " color = coalesce(?3, color), notice = coalesce(?4, notice),"
                    " logo = CASE WHEN ?6 = '' THEN NULL WHEN ?5 IS NOT NULL THEN ?5 ELSE logo END,"
                    " logo_type = CASE WHEN ?6 = '' THEN NULL WHEN ?6 IS NOT NULL THEN ?6 ELSE "
                    "logo_type END,"
                    " brand_version = brand_version + 1 WHERE id = ?1",
                    err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, org_id);
            sq_bind_text(st, 2, b->display_name);
            sq_bind_text(st, 3, b->color);
            sq_bind_text(st, 4, b->notice);
            if (b->logo_len)
                sq_bind_blob(st, 5, b->logo, b->logo_len);
            else
                sqlite3_bind_null(st, 5);
            sq_bind_text(st, 6, b->logo_type);
            ok = sq_step_done(c, st, err);
        }
    });
}

int sq_brand_get(store *s, gint64 org_id, store_brand *out, GError **err)
{
    memset(out, 0, sizeof *out);
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT display_name, color, logo, logo_type, notice, brand_version"
                               " FROM orgs WHERE id = ?",
                               err);
    int r = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, org_id);
        r = sq_step_row(c, st, err);
        if (r == 1) {
            out->display_name = sq_col_text(st, 0);
            out->color = sq_col_text(st, 1);
            if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
                out->logo_len = (size_t)sqlite3_column_bytes(st, 2);
                out->logo = g_memdup2(sqlite3_column_blob(st, 2), out->logo_len);
            }
            out->logo_type = sq_col_text(st, 3);
            out->notice = sq_col_text(st, 4);
            out->version = sqlite3_column_int64(st, 5);
        }
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}
