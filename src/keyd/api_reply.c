/*
 * api_reply.c - secure replies (issue 16): the organisation's reply keys,
 * registered by its gateways with their token, and the current one that
 * new envelopes carry (the public half; the private half never leaves the
 * gateway).
 */
#include "api.h"
#include "attest.h"
#include "auth.h"
#include "cache.h"
#include "hpke.h"
#include "sp_error.h"
#include "util.h"

#include <string.h>

/* PUT /v1/org/reply-keys/{kid} {"public_key": base64url of the point}:
 * 201 registered, 200 registered before (nothing changed). The kid must
 * be the key's own (sp_hpke_key_id), so a kid names one key everywhere. */
void api_reply_key_put(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    store_org org = {0};
    if (!api_gateway_org(r, &org))
        return;
    json_t *body = req_json(r);
    if (!body) {
        store_org_clear(&org);
        return;
    }
    ks_fields f;
    fields_init(&f, r, body);
    fields_only(&f, "public_key", NULL);
    /* 65 bytes in unpadded base64url: 87 characters */
    const char *pk_text = fields_str(&f, "public_key", true, 87, 87);
    uint8_t pk[SP_HPKE_PK_LEN];
    char kid[23] = "";
    if (!f.failed &&
        (!sp_b64url_decode_exact(pk_text, pk, sizeof pk) || !sp_hpke_public_check(pk, NULL)))
        fields_fail(&f, "public_key",
                    "must be a P-256 public key: the 65-byte uncompressed point in base64url, as "
                    "sealpost-milter --genkey prints it");
    if (!f.failed) {
        sp_hpke_key_id(pk, kid);
        if (strcmp(kid, req_param(r, 0)) != 0)
            fields_fail(&f, "kid",
                        "the path's kid is not this public key's (its kid is the "
                        "first 16 bytes of SHA-256 of the point, in base64url)");
    }
    if (f.failed) {
        json_decref(body);
        store_org_clear(&org);
        return;
    }
    g_autofree char *actor = g_strconcat("gateway:", org.name, NULL);
    g_autofree char *detail = api_detail_json(json_pack("{s:s}", "org", org.name));
    ks_audit_event ev = {"reply_key.register", actor, kid, req_ip(r), detail};
    gint64 now = api_now();
    int added = store_reply_key_put(srv->st, org.id, kid, pk_text, now, &ev, &err);
    json_decref(body);
    if (added < 0) {
        store_org_clear(&org);
        if (g_error_matches(err, SP_ERROR, SP_ERR_INPUT))
            return reply_problem(r, 409, "reply-key-conflict", "Reply key conflict", NULL, "%s",
                                 err->message);
        return reply_unavailable(r, err);
    }
    if (added)
        g_message("organisation %s registered reply key %s", org.name, kid);
    cache_drop(srv->reply_keys, &org.id, sizeof org.id);
    /* The key as stored (its registration time, whether it is retired). */
    g_autoptr(GArray) rows = NULL;
    if (!store_reply_keys_list(srv->st, org.id, &rows, &err)) {
        store_org_clear(&org);
        return reply_unavailable(r, err);
    }
    store_reply_key cur = {0};
    int has_current = store_reply_key_current(srv->st, org.id, &cur, &err);
    json_t *out = NULL;
    for (guint i = 0; i < rows->len; i++) {
        store_reply_key *k = &g_array_index(rows, store_reply_key, i);
        if (strcmp(k->kid, kid) == 0)
            out = api_reply_key_json(k, has_current == 1 && strcmp(cur.kid, kid) == 0);
    }
    store_reply_key_clear(&cur);
    store_org_clear(&org);
    if (!out)
        return reply_unavailable(r, NULL);
    reply_json(r, added ? 201 : 200, out);
}

json_t *api_reply_key_json(const store_reply_key *k, bool current)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "kid", k->kid, "org", k->org,
                     "public_key", k->public_key, "created", api_time_json(k->created), "last_used",
                     api_time_json(k->last_used), "retired", api_time_json(k->retired), "current",
                     current);
}

/* The current reply key of org through srv->reply_keys (an organisation
 * without one is remembered too): 1 with *out, 0 none, -1 store error. */
int api_reply_current(ks_server *srv, gint64 org_id, store_reply_key *out, GError **err)
{
    store_reply_key *hit = cache_get(srv->reply_keys, &org_id, sizeof org_id);
    if (hit) {
        *out = *hit;
        g_free(hit); /* the strings now belong to out */
        return out->kid != NULL;
    }
    int found = store_reply_key_current(srv->st, org_id, out, err);
    if (found >= 0)
        cache_put(srv->reply_keys, &org_id, sizeof org_id, out);
    return found;
}

json_t *api_reply_answer(ks_server *srv, gint64 org_id, const store_profile *p, GError **err)
{
    store_reply_key k = {0};
    int found = api_reply_current(srv, org_id, &k, err);
    if (found < 0)
        return NULL;
    if (found == 0 || !(p->reply || p->reply_all || p->forward)) {
        store_reply_key_clear(&k);
        return json_null();
    }
    json_t *o = json_pack("{s:s, s:s}", "kid", k.kid, "public_key", k.public_key);
    store_reply_key_clear(&k);
    return o;
}

/* How long a reply grant lives: time to write an answer and attach files. */
#define GRANT_SECONDS (4 * 3600)

bool api_reply_grant_add(ks_server *srv, const store_message *m, const char *rcpt, json_t *out,
                         GError **err)
{
    store_profile p = {0};
    int found = m->profile ? api_profile_for(srv, m->org_id, m->profile, &p, err) : 0;
    if (found < 0)
        return false;
    store_profile dflt;
    api_profile_default(&dflt, NULL);
    const store_profile *eff = found ? &p : &dflt;
    if (eff->reply || eff->reply_all || eff->forward) {
        gint64 expires = api_now() + GRANT_SECONDS;
        g_autofree char *grant = attest_grant_make(srv, m->id, rcpt, expires);
        json_object_set_new(out, "reply_grant", json_string(grant));
        json_object_set_new(out, "reply_grant_expires", api_time_json(expires));
    }
    store_profile_clear(&p);
    return true;
}

static gpointer reply_key_dup(gconstpointer p)
{
    const store_reply_key *k = p;
    store_reply_key *c = g_new0(store_reply_key, 1);
    *c = (store_reply_key){g_strdup(k->kid), g_strdup(k->org), g_strdup(k->public_key),
                           k->created,       k->last_used,     k->retired};
    return c;
}

static void reply_key_free(gpointer p)
{
    if (p) {
        store_reply_key_clear(p);
        g_free(p);
    }
}

ks_cache *api_reply_key_cache_new(gint64 ttl_us)
{
    return cache_new(ttl_us, 10000, reply_key_dup, reply_key_free);
}
