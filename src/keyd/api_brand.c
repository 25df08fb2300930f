/*
 * api_brand.c - an organisation's brand as the API shows it: to its
 * gateways with every key they create (api_brand_answer: POST /v1/messages
 * is the one round trip a sealer needs), on its own to a gateway token
 * (GET /v1/brand, kept for callers that ask for it apart), and to keyd's
 * pages reached from a message (GET /v1/messages/{id}/brand).
 *
 * The brand's version goes up with every change (store_brand_set, both
 * backends) and comes with the gateway token's organisation, which every
 * request reads afresh (store_gateway_token_org is never cached). A brand
 * body is cached under its organisation and version, so no entry can be
 * stale: a change made through any keyd or `admin org brand` is in the
 * next answer. A gateway that holds the current version costs no read of
 * the brand at all.
 */
#include "api.h"

/* At most this many brand bodies are cached (a logo is at most 256 KiB,
 * about 342 KiB as a data: URI); when full the cache starts afresh. */
#define BRANDS_CACHED 128

static gpointer body_copy(gconstpointer body)
{
    return json_deep_copy(body);
}

static void body_free(gpointer body)
{
    json_decref(body);
}

ks_cache *api_brand_cache_new(gint64 ttl_us)
{
    return cache_new(ttl_us, BRANDS_CACHED, body_copy, body_free);
}

json_t *api_brand_json(const char *org_name, const store_brand *b)
{
    json_t *logo = json_null();
    if (b->logo_len && b->logo_type) {
        g_autofree char *b64 = g_base64_encode(b->logo, b->logo_len);
        g_autofree char *uri = g_strdup_printf("data:%s;base64,%s", b->logo_type, b64);
        logo = json_string(uri);
    }
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:I}", "org", org_name, "name",
                     b->display_name ? b->display_name : org_name, "color",
                     b->color ? json_string(b->color) : json_null(), "logo", logo, "notice",
                     b->notice ? json_string(b->notice) : json_null(), "version",
                     (json_int_t)b->version);
}

json_t *api_brand_answer(ks_server *srv, const store_org *org, gint64 held, GError **err)
{
    /* No brand yet, or the caller holds this one: the version says all. */
    if (org->brand_version == 0 || org->brand_version == held)
        return json_pack("{s:I}", "version", (json_int_t)org->brand_version);
    gint64 key[2] = {org->id, org->brand_version};
    json_t *out = cache_get(srv->brands, key, sizeof key);
    if (out)
        return out;
    store_brand b = {0};
    int found = store_brand_get(srv->st, org->id, &b, err);
    if (found < 0)
        return NULL;
    /* Changed again since the token's lookup: b is the newer one. */
    if (!found || b.version == 0 || b.version == held) {
        out = json_pack("{s:I}", "version", (json_int_t)(found ? b.version : 0));
    } else {
        out = api_brand_json(org->name, &b);
        key[1] = b.version;
        cache_put(srv->brands, key, sizeof key, out);
    }
    store_brand_clear(&b);
    return out;
}

/* GET /v1/messages/{id}/brand: the brand of the organisation that sent
 * the message, for keyd's pages reached from it (the activation and reset
 * links carry the id). A brand is public (it is on every carrier mail);
 * the id is 128 random bits, so this lists nothing. */
void api_message_brand(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    if (!api_rate_ok(r))
        return;
    store_message m = {0};
    store_brand b = {0};
    int found = store_message_get(srv->st, req_param(r, 0), &m, NULL, &err);
    int has_brand = found == 1 ? store_brand_get(srv->st, m.org_id, &b, &err) : found;
    if (has_brand < 0)
        reply_unavailable(r, err);
    else if (has_brand == 0)
        reply_not_found(r);
    else {
        json_t *out = api_brand_json(m.org_name, &b);
        json_object_del(out, "org");
        json_object_del(out, "notice");
        json_object_del(out, "version");
        reply_json(r, 200, out);
    }
    store_brand_clear(&b);
    store_message_clear(&m);
}

/* GET /v1/brand: the gateway token's organisation's brand, for the
 * outside of its envelopes and its carrier mails (callers cache it; the
 * version changes with every change). Kept for compatibility: a sealer
 * gets the same in POST /v1/messages' answer. */
void api_brand_get(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    store_org org = {0};
    if (!api_gateway_org(r, &org))
        return;
    int found;
    store_brand b = {0};
    found = store_brand_get(srv->st, org.id, &b, &err);
    if (found <= 0) {
        store_org_clear(&org);
        return found < 0 ? reply_unavailable(r, err) : reply_not_found(r);
    }
    json_t *out = api_brand_json(org.name, &b);
    store_brand_clear(&b);
    store_org_clear(&org);
    reply_json(r, 200, out);
}
