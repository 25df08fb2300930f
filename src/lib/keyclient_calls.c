/*
 * keyclient_calls.c - the key-server API v1 calls (messages, status, brand,
 * sessions, key release) on top of keyclient.c's one checked exchange; see
 * keyclient.h for the contract.
 */
#include "keyclient.h"
#include "keyclient_int.h"

#include "header.h"
#include "hpke.h"
#include "sp_error.h"
#include "util.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

/* ---- the calls ---------------------------------------------------------- */

void sp_kc_message_header(const sp_kc_message *m, const char *from, const GPtrArray *to,
                          const char *fallback_security, sp_header *h)
{
    sp_header_init(h);
    g_strlcpy(h->id, m->id, sizeof h->id);
    h->access = SP_ACCESS_KEYSERVER;
    h->ks_url = g_strdup(m->url);
    h->ks_org = g_strdup(m->org);
    h->ks_kid = g_strdup(m->kid);
    h->expires = m->expires;
    g_free(h->security);
    h->security = g_strdup(m->security         ? m->security
                           : fallback_security ? fallback_security
                                               : "high");
    g_free(h->from);
    h->from = g_strdup(from);
    for (guint i = 0; i < to->len; i++)
        g_ptr_array_add(h->to, g_strdup(to->pdata[i]));
    h->reply = m->reply;
}

void sp_kc_message_clear(sp_kc_message *m)
{
    g_free(m->kid);
    g_free(m->url);
    g_free(m->org);
    g_free(m->security);
    sp_kc_brand_clear(&m->brand);
    if (m->phrases != NULL)
        g_hash_table_unref(m->phrases);
    sodium_memzero(m, sizeof *m);
}

const char *sp_kc_message_phrase(const sp_kc_message *m, const char *addr)
{
    if (m->phrases == NULL || addr == NULL)
        return NULL;
    g_autofree char *low = g_utf8_strdown(addr, -1);
    return g_hash_table_lookup(m->phrases, low);
}

/* A brand object as POST /v1/messages gives it (as GET /v1/brand does). */
static bool parse_brand(sp_kc *kc, json_t *doc, sp_kc_brand *out, GError **err)
{
    json_error_t je;
    const char *name = NULL;
    json_t *jcolor = NULL, *jlogo = NULL, *jnotice = NULL;
    json_int_t version = 0;
    if (json_unpack_ex(doc, &je, 0, "{s:s, s?o, s?o, s?o, s:I}", "name", &name, "color", &jcolor,
                       "logo", &jlogo, "notice", &jnotice, "version", &version) != 0)
        return kc_bad_answer(kc, je.text, err);
    /* Each may be a string, null or absent. */
    const char *color = json_string_value(jcolor), *logo = json_string_value(jlogo);
    const char *notice = json_string_value(jnotice);
    if ((jcolor && !color && !json_is_null(jcolor)) || (jlogo && !logo && !json_is_null(jlogo)) ||
        (jnotice && !notice && !json_is_null(jnotice)))
        return kc_bad_answer(kc, "color, logo or notice is not a string or null", err);
    if (logo && !g_str_has_prefix(logo, "data:image/png;base64,") &&
        !g_str_has_prefix(logo, "data:image/jpeg;base64,") &&
        !g_str_has_prefix(logo, "data:image/svg+xml;base64,"))
        return kc_bad_answer(kc, "logo is not a PNG, JPEG or SVG data URI", err);
    out->name = g_strdup(name);
    out->color = g_strdup(color);
    out->logo = g_strdup(logo);
    out->notice = g_strdup(notice);
    out->version = version;
    return true;
}

/* The brand member of a message's answer: its body when keyd sent one
 * (the version the caller holds is old), or only its version. */
static bool parse_message_brand(sp_kc *kc, json_t *brand, gint64 held, sp_kc_message *out,
                                GError **err)
{
    json_int_t version = 0;
    if (brand == NULL) /* a keyd from before brands travelled with keys */
        return true;
    if (!json_is_object(brand) || json_unpack(brand, "{s:I}", "version", &version) != 0 ||
        version < 0)
        return kc_bad_answer(kc, "brand is not an object with a version", err);
    if (json_object_get(brand, "name") != NULL) {
        out->brand_body = true;
        return parse_brand(kc, brand, &out->brand, err);
    }
    /* No body: the caller's is current, or the organisation has none. */
    out->brand_body = version != held;
    out->brand.version = version;
    return true;
}

/* reply_key: {kid, public_key} or null/absent (no reply offered). The kid
 * must be the key's own, as every reader of the envelope checks. */
static bool parse_reply_key(sp_kc *kc, json_t *rk, sp_kc_message *out, GError **err)
{
    if (rk == NULL || json_is_null(rk))
        return true;
    json_error_t je;
    const char *kid = NULL, *pk = NULL;
    if (json_unpack_ex(rk, &je, 0, "{s:s, s:s}", "kid", &kid, "public_key", &pk) != 0)
        return kc_bad_answer(kc, je.text, err);
    if (!sp_b64url_decode_exact(pk, out->reply.pk, SP_REPLY_PK_LEN) || out->reply.pk[0] != 0x04)
        return kc_bad_answer(kc, "reply_key.public_key is not an uncompressed P-256 point", err);
    char want[23];
    sp_hpke_key_id(out->reply.pk, want);
    if (strcmp(kid, want) != 0)
        return kc_bad_answer(kc, "reply_key.kid is not its public key's", err);
    g_strlcpy(out->reply.kid, kid, sizeof out->reply.kid);
    out->reply.present = true;
    return true;
}

static bool parse_message(sp_kc *kc, json_t *doc, gint64 brand_held, sp_kc_message *out,
                          GError **err)
{
    json_error_t je;
    const char *id = NULL, *key = NULL, *kid = NULL, *url = NULL, *org = NULL, *sec = NULL;
    json_t *expires = NULL, *phrases = NULL, *profile = NULL, *brand = NULL;
    if (json_unpack_ex(doc, &je, 0, "{s:s, s:s, s:s, s:s, s:s, s?s, s?o, s?o, s?o, s?o}", "id", &id,
                       "key", &key, "kid", &kid, "url", &url, "org", &org, "security", &sec,
                       "expires", &expires, "phrases", &phrases, "profile", &profile, "brand",
                       &brand) != 0)
        return kc_bad_answer(kc, je.text, err);
    /* What of keyd's profile the sender's side applies (the rest is keyd's
     * to enforce, recorded with the message). */
    int reply = 0, reply_all = 0, forward = 0;
    if (profile && !json_is_null(profile)) {
        const char *subject = NULL;
        if (json_unpack_ex(profile, &je, 0, "{s?s, s?b, s?b, s?b}", "subject", &subject, "reply",
                           &reply, "reply_all", &reply_all, "forward", &forward) != 0)
            return kc_bad_answer(kc, je.text, err);
        out->generic_subject = subject && strcmp(subject, "generic") == 0;
    }
    if (!parse_reply_key(kc, json_object_get(doc, "reply_key"), out, err))
        return false;
    out->reply.reply = reply;
    out->reply.reply_all = reply_all;
    out->reply.forward = forward;
    out->reply.present = out->reply.present && (reply || reply_all || forward);
    if (!parse_message_brand(kc, brand, brand_held, out, err))
        return false;
    uint8_t raw[SP_ID_LEN];
    if (!sp_b64url_decode_exact(id, raw, sizeof raw))
        return kc_bad_answer(kc, "id is not the base64url of 16 bytes", err);
    g_strlcpy(out->id, id, sizeof out->id);
    if (!kc_decode_key(key, out->key))
        return kc_bad_answer(kc, "key is not the base64 of 32 bytes", err);
    if (kid[0] == '\0' || strlen(kid) > 200 || org[0] == '\0' || strlen(org) > 200)
        return kc_bad_answer(kc, "kid or org is empty or too long", err);
    g_autoptr(GError) uerr = NULL;
    if (!sp_kc_url_check(url, &out->url, &uerr))
        return kc_bad_answer(kc, uerr->message, err);
    out->kid = g_strdup(kid);
    out->org = g_strdup(org);
    if (sec != NULL && strcmp(sec, "high") && strcmp(sec, "medium") && strcmp(sec, "low"))
        return kc_bad_answer(kc, "security is not high, medium or low", err);
    out->security = g_strdup(sec);
    out->expires = 0;
    if (json_is_string(expires)) {
        if (!sp_time_parse(json_string_value(expires), &out->expires))
            return kc_bad_answer(kc, "expires is not an RFC 3339 time", err);
    } else if (expires != NULL && !json_is_null(expires)) {
        return kc_bad_answer(kc, "expires is not a time or null", err);
    }
    out->phrases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (phrases != NULL && !json_is_object(phrases))
        return kc_bad_answer(kc, "phrases is not an object", err);
    const char *addr;
    json_t *v;
    json_object_foreach(phrases, addr, v)
    {
        if (!json_is_string(v))
            return kc_bad_answer(kc, "a phrase is not a string", err);
        g_hash_table_replace(out->phrases, g_utf8_strdown(addr, -1),
                             g_strdup(json_string_value(v)));
    }
    return true;
}

bool sp_kc_create_message(sp_kc *kc, const char *gateway_token, const sp_kc_request *req,
                          sp_kc_message *out, GError **err)
{
    memset(out, 0, sizeof *out);
    if (!kc_valid_token(gateway_token)) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_INPUT,
                            "the gateway token is empty or holds characters a token cannot have");
        return false;
    }
    g_autoptr(json_t) to = json_array();
    g_autoptr(json_t) bcc = json_array();
    for (size_t i = 0; i < req->n_to + req->n_bcc; i++) {
        json_t *s = json_string(i < req->n_to ? req->to[i] : req->bcc[i - req->n_to]);
        if (s == NULL) {
            g_set_error(err, SP_ERROR, SP_ERR_INPUT, "recipient %zu is not UTF-8 text", i + 1);
            return false;
        }
        json_array_append_new(i < req->n_to ? to : bcc, s);
    }
    g_autoptr(json_t) body =
        req->from ? json_pack("{s:s, s:O}", "from", req->from, "to", to) : NULL;
    if (body != NULL && req->n_bcc > 0)
        json_object_set(body, "bcc", bcc);
    if (body == NULL) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_INPUT,
                            "the sender address is missing or not UTF-8");
        return false;
    }
    if (req->security != NULL)
        json_object_set_new(body, "security", json_string(req->security));
    if (req->expires != 0) {
        g_autofree char *when = sp_time_format(req->expires);
        json_object_set_new(body, "expires", json_string(when));
    }
    if (req->profile != NULL)
        json_object_set_new(body, "profile", json_string(req->profile));
    if (req->brand_version > 0)
        json_object_set_new(body, "brand_version", json_integer((json_int_t)req->brand_version));
    g_autofree char *text = json_dumps(body, JSON_COMPACT);
    kc_request r = {"POST", "/v1/messages", gateway_token, text, strlen(text)};
    g_autoptr(json_t) doc = NULL;
    if (!kc_exchange(kc, &r, &doc, err))
        return false;
    bool ok = parse_message(kc, doc, req->brand_version, out, err);
    kc_wipe_json_string(doc, "key");
    if (!ok)
        sodium_memzero(out->key, sizeof out->key);
    return ok;
}

bool sp_kc_register_reply_key(sp_kc *kc, const char *gateway_token,
                              const uint8_t pk[SP_REPLY_PK_LEN], bool *added, bool *current,
                              GError **err)
{
    if (!kc_valid_token(gateway_token)) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_INPUT,
                            "the gateway token is empty or holds characters a token cannot have");
        return false;
    }
    char kid[23];
    sp_hpke_key_id(pk, kid);
    g_autofree char *pub = sp_b64url_encode(pk, SP_REPLY_PK_LEN);
    g_autoptr(json_t) body = json_pack("{s:s}", "public_key", pub);
    g_autofree char *text = json_dumps(body, JSON_COMPACT);
    g_autofree char *path = g_strconcat("/v1/org/reply-keys/", kid, NULL);
    kc_request r = {"PUT", path, gateway_token, text, strlen(text)};
    g_autoptr(json_t) doc = NULL;
    long status = 0;
    if (!kc_exchange_status(kc, &r, &doc, &status, err))
        return false;
    const char *got = NULL;
    int cur = 0;
    json_error_t je;
    if (json_unpack_ex(doc, &je, 0, "{s:s, s:b}", "kid", &got, "current", &cur) != 0)
        return kc_bad_answer(kc, je.text, err);
    if (strcmp(got, kid) != 0)
        return kc_bad_answer(kc, "the registered kid is not the key's", err);
    *added = status == 201;
    *current = cur;
    return true;
}

GHashTable *sp_kc_attestation_keys(sp_kc *kc, GError **err)
{
    kc_request r = {"GET", "/v1/attestation-keys", NULL, NULL, 0};
    g_autoptr(json_t) doc = NULL;
    if (!kc_exchange(kc, &r, &doc, err))
        return NULL;
    json_t *keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        kc_bad_answer(kc, "keys is not an array", err);
        return NULL;
    }
    GHashTable *out =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *kid = NULL, *alg = NULL, *pub = NULL;
        uint8_t raw[32];
        if (json_unpack(k, "{s:s, s:s, s:s}", "kid", &kid, "alg", &alg, "public_key", &pub) != 0 ||
            strcmp(alg, "Ed25519") != 0 || !sp_b64url_decode_exact(pub, raw, sizeof raw)) {
            g_hash_table_unref(out);
            kc_bad_answer(kc, "an attestation key is not an Ed25519 key", err);
            return NULL;
        }
        g_hash_table_replace(out, g_strdup(kid), g_bytes_new(raw, sizeof raw));
    }
    return out;
}

void sp_kc_status_clear(sp_kc_status *s)
{
    g_free(s->org);
    g_free(s->brand_name);
    g_free(s->brand_color);
    g_free(s->security);
    g_free(s->state);
    g_free(s->reason);
    g_free(s->account);
    memset(s, 0, sizeof *s);
}

bool sp_kc_status_get(sp_kc *kc, const char *id, const char *rcpt, sp_kc_status *out, GError **err)
{
    memset(out, 0, sizeof *out);
    if (!kc_valid_id(id))
        return kc_bad_id(id, err);
    g_autofree char *q = g_uri_escape_string(rcpt ? rcpt : "", NULL, FALSE);
    g_autofree char *path = g_strdup_printf("/v1/messages/%s/status?rcpt=%s", id, q);
    kc_request r = {"GET", path, NULL, NULL, 0};
    g_autoptr(json_t) doc = NULL;
    if (!kc_exchange(kc, &r, &doc, err))
        return false;
    json_error_t je;
    const char *org = NULL, *bname = NULL, *bcolor = NULL, *sec = NULL, *state = NULL;
    const char *reason = NULL, *account = NULL;
    json_t *expires = NULL;
    if (json_unpack_ex(doc, &je, 0, "{s:s, s?{s?s, s?s}, s:s, s:s, s?s, s?o, s:{s:s}}", "org", &org,
                       "brand", "name", &bname, "color", &bcolor, "security", &sec, "state", &state,
                       "reason", &reason, "expires", &expires, "recipient", "account",
                       &account) != 0)
        return kc_bad_answer(kc, je.text, err);
    if (json_is_string(expires) && !sp_time_parse(json_string_value(expires), &out->expires))
        return kc_bad_answer(kc, "expires is not an RFC 3339 time", err);
    out->org = g_strdup(org);
    out->brand_name = g_strdup(bname);
    out->brand_color = g_strdup(bcolor);
    out->security = g_strdup(sec);
    out->state = g_strdup(state);
    out->reason = g_strdup(reason);
    out->account = g_strdup(account);
    return true;
}

void sp_kc_brand_clear(sp_kc_brand *b)
{
    g_free(b->name);
    g_free(b->color);
    g_free(b->logo);
    g_free(b->notice);
    memset(b, 0, sizeof *b);
}

sp_kc_session *sp_kc_sign_in(sp_kc *kc, const char *email, const char *pw, size_t pw_len,
                             GError **err)
{
    g_autoptr(json_t) body = json_pack("{s:s, s:s%}", "email", email, "password", pw, pw_len);
    if (body == NULL) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_INPUT,
                            "the email address or the password is not UTF-8 text");
        return NULL;
    }
    size_t len = 0;
    char *text = kc_dump_secret_json(body, &len);
    kc_wipe_json_string(body, "password");
    kc_request r = {"POST", "/v1/sessions", NULL, text, len};
    g_autoptr(json_t) doc = NULL;
    bool ok = kc_exchange(kc, &r, &doc, err);
    sodium_free(text);
    if (!ok)
        return NULL;
    const char *token = NULL;
    if (json_unpack(doc, "{s:s}", "token", &token) != 0 || !kc_valid_token(token)) {
        kc_wipe_json_string(doc, "token");
        kc_bad_answer(kc, "no valid session token", err);
        return NULL;
    }
    sp_kc_session *s = g_new0(sp_kc_session, 1);
    s->len = strlen(token);
    s->token = sodium_malloc(s->len + 1);
    if (s->token == NULL)
        g_error("out of memory for a session token");
    memcpy(s->token, token, s->len + 1);
    kc_wipe_json_string(doc, "token");
    return s;
}

bool sp_kc_sign_out(sp_kc *kc, sp_kc_session *s, GError **err)
{
    kc_request r = {"DELETE", "/v1/sessions/current", s->token, NULL, 0};
    return kc_exchange(kc, &r, NULL, err);
}

void sp_kc_session_free(sp_kc_session *s)
{
    if (s == NULL)
        return;
    sodium_free(s->token); /* wipes */
    g_free(s);
}

bool sp_kc_release_key(sp_kc *kc, sp_kc_session *s, const char *id, const char *rcpt,
                       uint8_t key[SP_KEY_LEN], char **kid, GError **err)
{
    if (!kc_valid_id(id))
        return kc_bad_id(id, err);
    if (s == NULL && rcpt == NULL) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_USAGE,
                            "releasing a key needs a session or a recipient address");
        return false;
    }
    g_autoptr(json_t) body = json_object();
    if (rcpt != NULL) {
        json_t *v = json_string(rcpt);
        if (v == NULL) {
            g_set_error_literal(err, SP_ERROR, SP_ERR_INPUT, "the address is not UTF-8 text");
            return false;
        }
        json_object_set_new(body, "rcpt", v);
    }
    g_autofree char *text = json_dumps(body, JSON_COMPACT);
    g_autofree char *path = g_strdup_printf("/v1/messages/%s/key", id);
    kc_request r = {"POST", path, s ? s->token : NULL, text, strlen(text)};
    g_autoptr(json_t) doc = NULL;
    if (!kc_exchange(kc, &r, &doc, err))
        return false;
    const char *k = NULL, *kd = NULL;
    bool ok = json_unpack(doc, "{s:s, s?s}", "key", &k, "kid", &kd) == 0 && kc_decode_key(k, key);
    if (ok && kid != NULL)
        *kid = g_strdup(kd);
    kc_wipe_json_string(doc, "key");
    return ok ? true
              : kc_bad_answer(kc, "no key, or a key that is not the base64 of 32 bytes", err);
}
