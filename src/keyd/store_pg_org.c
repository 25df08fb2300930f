/*
 * store_pg_org.c - the PostgreSQL store's organisations (store.h), a port
 * of store_sqlite_org.c: the organisation with its domains, gateway tokens
 * and members, the phrases given to it, and its settings: message profiles
 * and the brand (display name, colour, logo, notice).
 */
#include "store_pg_int.h"

#include <string.h>

/* ---- organisations ---- */

static void org_from_row(const PGresult *r, int row, store_org *o)
{
    o->id = pg_int(r, row, 0);
    o->name = pg_text(r, row, 1);
    o->display_name = pg_text(r, row, 2);
    o->color = pg_text(r, row, 3);
    o->brand_version = pg_int(r, row, 4);
}

bool pgs_org_create(store *s, const char *name, const char *const *domains, size_t n_domains,
                    const ks_audit_event *ev, GError **err)
{
    PG_WRITE_TX(s, err, ev, {
        PGresult *res =
            pg_run(c, err, "INSERT INTO orgs(name, created) VALUES($1, $2) RETURNING id", "ti",
                   name, pg_now());
        ok = res && PQntuples(res) == 1;
        if (res && !ok)
            g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "organisation: no id returned");
        gint64 id = ok ? pg_int(res, 0, 0) : 0;
        PQclear(res);
        for (size_t i = 0; ok && i < n_domains; i++) {
            ok = pg_cmd(c, err, NULL, "INSERT INTO org_domains(domain, org_id) VALUES($1, $2)",
                        "ti", domains[i], id);
        }
    });
}

int pgs_org_by_name(store *s, const char *name, store_org *out, GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT id, name, display_name, color, brand_version FROM orgs"
                        " WHERE name = $1",
                        "t", name);
    if (r == 1) {
        org_from_row(res, 0, out);
        PQclear(res);
    }
    return r;
}

int pgs_org_has_domain(store *s, gint64 org_id, const char *domain, GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res, "SELECT 1 FROM org_domains WHERE domain = $1 AND org_id = $2",
                        "ti", domain, org_id);
    PQclear(res);
    return r;
}

bool pgs_gateway_token_create(store *s, gint64 org_id, const uint8_t hash[KS_HASH_LEN],
                              const char *prefix, const ks_audit_event *ev, GError **err)
{
    PG_WRITE_TX(s, err, ev, {
        ok = pg_cmd(c, err, NULL,
                    "INSERT INTO gateway_tokens(hash, org_id, created, prefix)"
                    " VALUES($1, $2, $3, $4)",
                    "biit", hash, (size_t)KS_HASH_LEN, org_id, pg_now(), prefix);
    });
}

/* Record a token's use, at most once a minute (a write per request would
 * cost the busiest call a transaction). */
static void token_touch(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now)
{
    g_autoptr(GError) err = NULL;
    pgconn *c = pg_write_begin(s, &err);
    bool ok = c && pg_cmd(c, &err, NULL,
                          "UPDATE gateway_tokens SET last_used = $2 WHERE hash = $1"
                          " AND (last_used IS NULL OR last_used < $2::bigint - 59)",
                          "bi", hash, (size_t)KS_HASH_LEN, now);
    if (c)
        ok = pg_write_end(s, c, ok, &err);
    if (!ok)
        g_warning("gateway token last use: %s", err ? err->message : "failed");
}

int pgs_gateway_token_org(store *s, const uint8_t hash[KS_HASH_LEN], store_org *out, GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT o.id, o.name, o.display_name, o.color, o.brand_version,"
                        " coalesce(t.last_used, 0) FROM gateway_tokens t"
                        " JOIN orgs o ON o.id = t.org_id"
                        " WHERE t.hash = $1 AND t.revoked IS NULL",
                        "b", hash, (size_t)KS_HASH_LEN);
    gint64 last = 0, now = pg_now();
    if (r == 1) {
        org_from_row(res, 0, out);
        last = pg_int(res, 0, 5);
        PQclear(res);
    }
    if (r == 1 && last < now - 59)
        token_touch(s, hash, now);
    return r;
}

bool pgs_gateway_tokens_list(store *s, gint64 org_id, GArray **rows, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
    /* Oldest first; tokens made in the same second in the order they were
     * made (seq: SQLite's rowid). */
    PGresult *res = pg_run(
        c, err,
        "SELECT coalesce(t.prefix, 'sha256:' || encode(substr(t.hash, 1, 8), 'hex')), o.name,"
        " t.created, coalesce(t.last_used, 0), coalesce(t.revoked, 0)"
        " FROM gateway_tokens t JOIN orgs o ON o.id = t.org_id"
        " WHERE $1::bigint = 0 OR t.org_id = $1::bigint ORDER BY t.created, t.seq",
        "i", org_id);
    if (!res) {
        pg_conn_put(s, c);
        return false;
    }
    *rows = g_array_new(FALSE, TRUE, sizeof(store_token_row));
    g_array_set_clear_func(*rows, store_token_row_clear);
    for (int i = 0; i < PQntuples(res); i++) {
        store_token_row t = {pg_text(res, i, 0), pg_text(res, i, 1), pg_int(res, i, 2),
                             pg_int(res, i, 3), pg_int(res, i, 4)};
        g_array_append_val(*rows, t);
    }
    PQclear(res);
    pg_conn_put(s, c);
    return true;
}

/* The live tokens a revoke names: by the whole token's hash ($1), or by
 * the prefix as listed ($2), compared as text, not as a LIKE pattern ('_'
 * is a token character). */
#define TOKEN_NAMED                                                                                \
    " WHERE revoked IS NULL AND (hash = $1::bytea OR ($2::text IS NOT NULL AND"                    \
    " (substr(prefix, 1, length($2::text)) = $2::text"                                             \
    " OR 'sha256:' || encode(substr(hash, 1, 8), 'hex') = $2::text)))"

int pgs_gateway_token_revoke(store *s, const char *prefix, const uint8_t *hash, gint64 now,
                             const ks_audit_event *ev, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    size_t hash_len = hash ? KS_HASH_LEN : 0;
    PGresult *res = pg_run(c, err, "SELECT count(*) FROM gateway_tokens" TOKEN_NAMED, "bt", hash,
                           hash_len, prefix);
    int n = -1;
    if (res) {
        if (PQntuples(res) == 1)
            n = (int)pg_int(res, 0, 0);
        else
            g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "token revoke: no count");
        PQclear(res);
    }
    bool ok = n >= 0;
    if (ok && n == 1) {
        ok = pg_cmd(c, err, NULL, "UPDATE gateway_tokens SET revoked = $3" TOKEN_NAMED, "bti", hash,
                    hash_len, prefix, now);
        if (ok)
            ok = pg_audit_insert(c, ev, err);
    }
    ok = pg_write_end(s, c, ok, err);
    return ok ? n : -1;
}

int pgs_org_user_add(store *s, gint64 org_id, const char *email, const char *pw_hash,
                     const char *role, const ks_audit_event *ev, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    PGresult *res = pg_run(c, err, "SELECT id, status FROM accounts WHERE email = $1", "t", email);
    int found = -1;
    gint64 id = 0;
    int status = 0;
    if (res) {
        found = PQntuples(res) > 0;
        if (found == 1) {
            id = pg_int(res, 0, 0);
            status = (int)pg_int(res, 0, 1);
        }
        PQclear(res);
    }
    bool ok = found >= 0;
    int result = 0;
    if (ok && pw_hash && !found)
        ok = pg_account_upsert(c, email, NULL, pw_hash, NULL, ACCOUNT_ACTIVE, &id, err);
    else if (ok && (pw_hash || !found || status != ACCOUNT_ACTIVE))
        id = 0; /* refused: nothing to do */
    if (ok && id) {
        ok = pg_cmd(c, err, NULL,
                    "INSERT INTO org_users(org_id, account_id, role) VALUES($1, $2, $3)"
                    " ON CONFLICT(org_id, account_id) DO UPDATE SET role = excluded.role",
                    "iit", org_id, id, role);
        if (ok)
            ok = pg_audit_insert(c, ev, err);
        result = 1;
    }
    ok = pg_write_end(s, c, ok, err);
    return ok ? result : -1;
}

/* ---- phrases given to organisations ---- */

/* 1 when org_id was given email's phrase before, 0 not, -1 error. */
static int phrase_granted(pgconn *c, gint64 org_id, const char *email, GError **err)
{
    PGresult *res = pg_run(c, err, "SELECT 1 FROM phrase_grants WHERE org_id = $1 AND email = $2",
                           "it", org_id, email);
    if (!res)
        return -1;
    int r = PQntuples(res) > 0;
    PQclear(res);
    return r;
}

/* In a write transaction: grant org_id the new addresses in fresh while
 * its hourly budget lasts; drop the others from phrases. */
static bool phrases_grant(pgconn *c, gint64 org_id, GPtrArray *fresh, GHashTable *phrases,
                          gint64 now, gint64 limit, gint64 *withheld, GError **err)
{
    PGresult *res =
        pg_run(c, err, "SELECT count(*) FROM phrase_grants WHERE org_id = $1 AND granted > $2",
               "ii", org_id, now - 3600);
    if (!res)
        return false;
    int r = PQntuples(res) > 0;
    gint64 used = r == 1 ? pg_int(res, 0, 0) : 0;
    PQclear(res);
    if (r != 1) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "phrase grants: no count");
        return false;
    }
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
        if (!pg_cmd(c, err, NULL,
                    "INSERT INTO phrase_grants(org_id, email, granted) VALUES($1, $2, $3)", "iti",
                    org_id, email, now))
            return false;
        used++;
    }
    return true;
}

GHashTable *pgs_phrases_for_org(store *s, gint64 org_id, const char *const *emails, size_t n,
                                gint64 now, gint64 limit, gint64 *withheld, GError **err)
{
    *withheld = 0;
    GHashTable *phrases = pgs_account_phrases(s, emails, n, err);
    if (!phrases || !g_hash_table_size(phrases))
        return phrases;
    /* The usual case, addresses it was given before, reads only. */
    g_autoptr(GPtrArray) fresh = g_ptr_array_new();
    pgconn *c = pg_conn_get(s, err);
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
        pg_conn_put(s, c);
    if (ok && fresh->len) {
        c = pg_write_begin(s, err);
        ok = c && phrases_grant(c, org_id, fresh, phrases, now, limit, withheld, err);
        if (c)
            ok = pg_write_end(s, c, ok, ok ? err : NULL) && ok;
    }
    if (!ok)
        g_clear_pointer(&phrases, g_hash_table_unref);
    return phrases;
}

/* ---- profiles and brand ---- */

bool pgs_profile_set(store *s, gint64 org_id, const store_profile *p, const ks_audit_event *ev,
                     GError **err)
{
    PG_WRITE_TX(s, err, ev, {
        ok = pg_cmd(c, err, NULL,
                    "INSERT INTO profiles(org_id, name, security,"
                    " expires_seconds, reply, reply_all, forward, read_receipts,"
                    " subject_shown) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                    " ON CONFLICT (org_id, name) DO UPDATE SET security = excluded.security,"
                    " expires_seconds = excluded.expires_seconds, reply = excluded.reply,"
                    " reply_all = excluded.reply_all, forward = excluded.forward,"
                    " read_receipts = excluded.read_receipts,"
                    " subject_shown = excluded.subject_shown",
                    "ittinnnnn", org_id, p->name, p->security, p->expires_seconds, (int)p->reply,
                    (int)p->reply_all, (int)p->forward, (int)p->read_receipts,
                    (int)p->subject_shown);
    });
}

int pgs_profile_get(store *s, gint64 org_id, const char *name, store_profile *out, GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT name, security, expires_seconds, reply, reply_all, forward,"
                        " read_receipts, subject_shown FROM profiles"
                        " WHERE org_id = $1 AND name = $2",
                        "it", org_id, name);
    if (r == 1) {
        out->name = pg_text(res, 0, 0);
        out->security = pg_text(res, 0, 1);
        out->expires_seconds = pg_int(res, 0, 2);
        out->reply = pg_int(res, 0, 3) != 0;
        out->reply_all = pg_int(res, 0, 4) != 0;
        out->forward = pg_int(res, 0, 5) != 0;
        out->read_receipts = pg_int(res, 0, 6) != 0;
        out->subject_shown = pg_int(res, 0, 7) != 0;
        PQclear(res);
    }
    return r;
}

bool pgs_brand_set(store *s, gint64 org_id, const store_brand *b, const ks_audit_event *ev,
                   GError **err)
{
    PG_WRITE_TX(s, err, ev, {
        ok = pg_cmd(c, err, NULL,
                    "UPDATE orgs SET display_name = coalesce($2::text, display_name),"
                    " color = coalesce($3::text, color), notice = coalesce($4::text, notice),"
                    " logo = CASE WHEN $6::text = '' THEN NULL WHEN $5::bytea IS NOT NULL"
                    " THEN $5::bytea ELSE logo END,"
                    " logo_type = CASE WHEN $6::text = '' THEN NULL WHEN $6::text IS NOT NULL"
                    " THEN $6::text ELSE logo_type END,"
                    " brand_version = brand_version + 1 WHERE id = $1",
                    "itttbt", org_id, b->display_name, b->color, b->notice,
                    b->logo_len ? (const void *)b->logo : NULL, b->logo_len, b->logo_type);
    });
}

int pgs_brand_get(store *s, gint64 org_id, store_brand *out, GError **err)
{
    memset(out, 0, sizeof *out);
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT display_name, color, logo, logo_type, notice, brand_version"
                        " FROM orgs WHERE id = $1",
                        "i", org_id);
    if (r == 1) {
        out->display_name = pg_text(res, 0, 0);
        out->color = pg_text(res, 0, 1);
        if (!pg_isnull(res, 0, 2))
            out->logo = pg_blob(res, 0, 2, &out->logo_len);
        out->logo_type = pg_text(res, 0, 3);
        out->notice = pg_text(res, 0, 4);
        out->version = pg_int(res, 0, 5);
        PQclear(res);
    }
    return r;
}
