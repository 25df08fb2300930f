/*
 * store.c - choose the store backend from a store URL, and what every
 * backend shares: copying and clearing the structs the store hands out.
 *
 * "sqlite:PATH" (or a bare path) opens store_sqlite*.c, the embedded
 * default for one keyd; "postgresql://..." opens store_pg*.c, for several
 * keyd processes on several hosts sharing one database.
 */
#include "sp_error.h"
#include "store_backend.h"

#include <sodium.h>
#include <string.h>

store *store_open(const char *url, const store_options *opt, GError **err)
{
    if (g_str_has_prefix(url, "sqlite:"))
        return store_sqlite_open(url + strlen("sqlite:"), err);
    if (g_str_has_prefix(url, "postgresql://") || g_str_has_prefix(url, "postgres://"))
        return store_pg_open(url, opt, err);
    if (strchr(url, ':') && !g_str_has_prefix(url, "/")) {
        g_autofree char *shown = store_url_shown(url);
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "store URL \"%s\" is not understood: use sqlite:PATH or "
                    "postgresql://USER@HOST/DATABASE",
                    shown);
        return NULL;
    }
    return store_sqlite_open(url, err);
}

bool store_shared(store *s)
{
    return s->be->shared;
}

const char *store_backend_name(store *s)
{
    return s->be->name;
}

gint64 store_round_trips(store *s)
{
    return s->be->round_trips ? s->be->round_trips(s) : -1;
}

char *store_url_shown(const char *url)
{
    /* scheme://user:password@host... -> scheme://user@host... */
    const char *auth = strstr(url, "://");
    if (!auth)
        return g_strdup(url);
    auth += 3;
    const char *at = strchr(auth, '@'), *slash = strchr(auth, '/');
    const char *colon = strchr(auth, ':');
    GString *out = g_string_new_len(url, auth - url);
    if (at && (!slash || at < slash) && colon && colon < at) {
        g_string_append_len(out, auth, colon - auth);
        g_string_append(out, at);
    } else {
        g_string_append(out, auth);
    }
    /* and a password=... parameter */
    char *q = strstr(out->str, "password=");
    if (q && (q[-1] == '?' || q[-1] == '&')) {
        size_t from = (size_t)(q - out->str) + strlen("password=");
        size_t to = from;
        while (to < out->len && out->str[to] != '&')
            to++;
        g_string_erase(out, (gssize)from, (gssize)(to - from));
        g_string_insert(out, (gssize)from, "***");
    }
    return g_string_free(out, FALSE);
}

gpointer store_session_dup(gconstpointer p)
{
    const store_session *in = p;
    store_session *out = g_new(store_session, 1);
    *out = *in;
    out->email = g_strdup(in->email);
    return out;
}

void store_session_free(gpointer p)
{
    if (!p)
        return;
    store_session_clear(p);
    g_free(p);
}

gpointer store_message_dup(gconstpointer p)
{
    const store_message *in = p;
    store_message *out = g_new(store_message, 1);
    *out = *in;
    out->org_name = g_strdup(in->org_name);
    out->org_display = g_strdup(in->org_display);
    out->org_color = g_strdup(in->org_color);
    out->sender = g_strdup(in->sender);
    out->security = g_strdup(in->security);
    out->kid = g_strdup(in->kid);
    out->kek_id = g_strdup(in->kek_id);
    out->profile = g_strdup(in->profile);
    out->lock_reason = g_strdup(in->lock_reason);
    out->wrapped = in->wrapped ? g_memdup2(in->wrapped, in->wrapped_len) : NULL;
    return out;
}

void store_message_free(gpointer p)
{
    if (!p)
        return;
    store_message_clear(p);
    g_free(p);
}

gpointer store_profile_dup(gconstpointer p)
{
    const store_profile *in = p;
    store_profile *out = g_new(store_profile, 1);
    *out = *in;
    out->name = g_strdup(in->name);
    out->security = g_strdup(in->security);
    return out;
}

void store_profile_free(gpointer p)
{
    if (!p)
        return;
    store_profile_clear(p);
    g_free(p);
}

const char *store_message_state(const store_message *m, gint64 now)
{
    if (m->recalled)
        return "recalled";
    if (m->expires != 0 && m->expires <= now)
        return "expired";
    if (m->key_gone)
        return "recalled";
    return m->locked ? "locked" : "active";
}

bool store_mail_over_limit(gint64 mine, gint64 all, unsigned limit)
{
    return mine >= (gint64)limit || all >= (gint64)limit * STORE_MAIL_ADDRESS_CAP;
}

GHashTable *store_opens_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void store_opens_add(GHashTable *opens, const store_op *op)
{
    char *k = g_strconcat(op->id, "\n", op->rcpt, NULL);
    store_opens *o = g_hash_table_lookup(opens, k);
    if (o)
        g_free(k);
    else
        g_hash_table_insert(opens, k, o = g_new0(store_opens, 1));
    o->n++;
    o->last = op;
}

bool store_columns_known(const char *table, const char *const *have, const char *const *columns,
                         size_t n, GError **err)
{
    for (size_t i = 0; i < n; i++) {
        if (!g_strv_contains(have, columns[i])) {
            g_set_error(err, SP_ERROR, SP_ERR_INPUT, "database: table %s has no column %s", table,
                        columns[i]);
            return false;
        }
    }
    return true;
}

/* ---- clearing what the store hands out (the same for every backend) ---- */

void store_message_clear(store_message *m)
{
    g_free(m->org_name);
    g_free(m->org_display);
    g_free(m->org_color);
    g_free(m->sender);
    g_free(m->security);
    g_free(m->kid);
    g_free(m->kek_id);
    g_free(m->profile);
    g_free(m->lock_reason);
    if (m->wrapped)
        sodium_memzero(m->wrapped, m->wrapped_len);
    g_free(m->wrapped);
    memset(m, 0, sizeof *m);
}

void store_pending_clear(store_pending *p)
{
    g_free(p->email);
    if (p->pw_hash)
        sodium_memzero(p->pw_hash, strlen(p->pw_hash));
    g_free(p->pw_hash);
    memset(p, 0, sizeof *p);
}

void store_mail_job_clear(store_mail_job *j)
{
    g_free(j->email);
    g_free(j->msg_id);
    memset(j, 0, sizeof *j);
}

void store_token_row_clear(gpointer p)
{
    store_token_row *t = p;
    g_free(t->prefix);
    g_free(t->org);
}

void store_reply_key_clear(store_reply_key *k)
{
    g_free(k->kid);
    g_free(k->org);
    g_free(k->public_key);
    *k = (store_reply_key){0};
}

void store_reply_route_clear(store_reply_route *r)
{
    g_free(r->host);
    g_free(r->tls);
    *r = (store_reply_route){0};
}

void store_answer_clear(store_answer *a)
{
    g_free(a->id);
    g_free(a->message_id);
    g_free(a->sender);
    g_free(a->action);
    g_free(a->kid);
    *a = (store_answer){0};
}

void store_org_row_clear(gpointer p)
{
    store_org_clear(p);
}

void store_answer_row_clear(gpointer p)
{
    store_answer_clear(p);
}

void store_reply_key_row_clear(gpointer p)
{
    store_reply_key_clear(p);
}

void store_org_clear(store_org *o)
{
    g_free(o->name);
    g_free(o->display_name);
    g_free(o->color);
    memset(o, 0, sizeof *o);
}

void store_profile_clear(store_profile *p)
{
    g_free(p->name);
    g_free(p->security);
    memset(p, 0, sizeof *p);
}

void store_question_clear(gpointer p)
{
    store_question *q = p;
    g_free(q->question);
    g_free(q->answer_hash);
}

void store_account_clear(store_account *a)
{
    g_free(a->email);
    g_free(a->name);
    if (a->pw_hash)
        sodium_memzero(a->pw_hash, strlen(a->pw_hash));
    g_free(a->pw_hash);
    g_free(a->phrase);
    memset(a, 0, sizeof *a);
}

void store_session_clear(store_session *ss)
{
    g_free(ss->email);
    memset(ss, 0, sizeof *ss);
}

void store_message_row_clear(gpointer p)
{
    store_message_row *row = p;
    g_free(row->sender);
    g_free(row->security);
    g_free(row->lock_reason);
    g_free(row->profile);
    g_free(row->state);
    g_free(row->first_rcpts);
}

void store_recipient_row_clear(gpointer p)
{
    store_recipient_row *r = p;
    g_free(r->email);
    g_free(r->last_ip);
    g_free(r->last_agent);
}

void store_member_clear(store_member *m)
{
    g_free(m->role);
    g_free(m->org_name);
    memset(m, 0, sizeof *m);
}

void store_brand_clear(store_brand *b)
{
    g_free(b->display_name);
    g_free(b->color);
    g_free(b->logo);
    g_free(b->logo_type);
    g_free(b->notice);
    memset(b, 0, sizeof *b);
}
