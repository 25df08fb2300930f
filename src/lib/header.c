/*
 * header.c - envelope header and display block <-> JSON (Jansson).
 *
 * Parsing validates every field with json_unpack_ex and names the one that
 * failed; binary fields must be canonical base64url of the exact length.
 */
#include "header.h"

#include "hpke.h"
#include "sp_error.h"
#include "util.h"

#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)

void sp_header_init(sp_header *h)
{
    memset(h, 0, sizeof *h);
    uint8_t id[SP_ID_LEN];
    sp_crypto_random(id, sizeof id);
    g_autofree char *ids = sp_b64url_encode(id, sizeof id);
    g_strlcpy(h->id, ids, sizeof h->id);
    h->created = g_get_real_time() / G_USEC_PER_SEC;
    h->segment_size = SP_SEGMENT_DEFAULT;
    sp_crypto_random(h->nonce_prefix, sizeof h->nonce_prefix);
    h->from = g_strdup("");
    h->to = g_ptr_array_new_with_free_func(g_free);
    h->security = g_strdup("high");
}

void sp_header_clear(sp_header *h)
{
    g_free(h->hint);
    g_free(h->ks_url);
    g_free(h->ks_org);
    g_free(h->ks_kid);
    g_free(h->answer_message);
    g_free(h->answer_org);
    g_free(h->from);
    g_free(h->security);
    if (h->to != NULL)
        g_ptr_array_unref(h->to);
    memset(h, 0, sizeof *h);
}

static json_t *b64_field(const uint8_t *data, size_t len)
{
    g_autofree char *s = sp_b64url_encode(data, len);
    return json_string(s);
}

char *sp_header_to_json(const sp_header *h)
{
    g_autoptr(json_t) ka = NULL;
    if (h->access == SP_ACCESS_PASSWORD) {
        ka = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "type", "password", "kdf", "argon2id", "m",
                       (json_int_t)h->kdf_m, "t", (json_int_t)h->kdf_t, "p", (json_int_t)h->kdf_p,
                       "salt", b64_field(h->salt, SP_SALT_LEN));
        if (h->hint != NULL && h->hint[0] != '\0')
            json_object_set_new(ka, "hint", json_string(h->hint));
    } else if (h->access == SP_ACCESS_KEYSERVER) {
        ka = json_pack("{s:s, s:s, s:s, s:s}", "type", "keyserver", "url", h->ks_url, "org",
                       h->ks_org, "kid", h->ks_kid);
    } else {
        ka = json_pack("{s:s, s:s, s:s, s:o, s:o}", "type", "hpke", "suite", SP_REPLY_SUITE, "kid",
                       h->hpke_kid, "enc", b64_field(h->hpke_enc, SP_REPLY_PK_LEN), "wrappedKey",
                       b64_field(h->hpke_wrapped, SP_REPLY_WRAPPED_LEN));
    }
    json_t *to = json_array();
    for (guint i = 0; i < h->to->len; i++)
        json_array_append_new(to, json_string(g_ptr_array_index(h->to, i)));
    g_autofree char *created = sp_time_format(h->created);
    g_autofree char *expires = h->expires ? sp_time_format(h->expires) : NULL;
    g_autoptr(json_t) root =
        json_pack("{s:i, s:s, s:s, s:O, s:{s:s, s:I, s:o, s:o}, s:{s:s, s:o, s:o, s:s}}", "v",
                  SP_FORMAT_VERSION, "id", h->id, "created", created, "keyAccess", ka, "method",
                  "algorithm", "AES-256-GCM", "segmentSize", (json_int_t)h->segment_size,
                  "noncePrefix", b64_field(h->nonce_prefix, SP_PREFIX_LEN), "keyCheck",
                  b64_field(h->key_check, SP_KEYCHECK_LEN), "policy", "from", h->from, "to", to,
                  "expires", expires ? json_string(expires) : json_null(), "security", h->security);
    if (root == NULL)
        g_error("cannot build the envelope header JSON (invalid UTF-8 in an address?)");
    if (h->reply.present && h->access == SP_ACCESS_KEYSERVER)
        json_object_set_new(root, "reply",
                            json_pack("{s:s, s:s, s:o, s:{s:b, s:b, s:b}}", "suite", SP_REPLY_SUITE,
                                      "kid", h->reply.kid, "publicKey",
                                      b64_field(h->reply.pk, SP_REPLY_PK_LEN), "allow", "reply",
                                      h->reply.reply, "replyAll", h->reply.reply_all, "forward",
                                      h->reply.forward));
    if (h->access == SP_ACCESS_HPKE)
        json_object_set_new(root, "answer",
                            json_pack("{s:o, s:s, s:s}", "message",
                                      h->answer_message ? json_string(h->answer_message)
                                                        : json_null(),
                                      "action", sp_answer_action_name(h->answer_action), "org",
                                      h->answer_org ? h->answer_org : ""));
    return sp_json_dump_html(root, false);
}

/* Fail with the field that json_unpack_ex rejected. */
static bool unpack_failed(GError **err, const char *where, const json_error_t *je)
{
    g_set_error(err, SP_ERROR, SP_ERR_INPUT, "envelope header: %s: %s", where, je->text);
    return false;
}

static bool b64_get(const char *field, const char *text, uint8_t *out, size_t len, GError **err)
{
    if (!sp_b64url_decode_exact(text, out, len)) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "envelope header: %s is not the base64url of %zu bytes", field, len);
        return false;
    }
    return true;
}

static bool parse_key_access(json_t *ka, sp_header *h, GError **err)
{
    json_error_t je;
    const char *type = NULL;
    if (json_unpack_ex(ka, &je, 0, "{s:s}", "type", &type) != 0)
        return unpack_failed(err, "keyAccess", &je);
    if (strcmp(type, "password") == 0) {
        const char *kdf = NULL, *salt = NULL, *hint = NULL;
        json_int_t m = 0, t = 0, p = 0;
        if (json_unpack_ex(ka, &je, 0, "{s:s, s:I, s:I, s:I, s:s, s?s}", "kdf", &kdf, "m", &m, "t",
                           &t, "p", &p, "salt", &salt, "hint", &hint) != 0)
            return unpack_failed(err, "keyAccess", &je);
        if (strcmp(kdf, "argon2id") != 0) {
            g_set_error(err, SP_ERROR, SP_ERR_VERSION,
                        "envelope header: key derivation \"%s\" is not supported "
                        "(this sealpost knows argon2id)",
                        kdf);
            return false;
        }
        if (m <= 0 || m > G_MAXUINT32 || t <= 0 || t > G_MAXUINT32 || p <= 0 || p > G_MAXUINT32) {
            g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                        "envelope header: keyAccess m, t and p must be positive integers");
            return false;
        }
        h->access = SP_ACCESS_PASSWORD;
        h->kdf_m = (uint32_t)m;
        h->kdf_t = (uint32_t)t;
        h->kdf_p = (uint32_t)p;
        h->hint = g_strdup(hint);
        return b64_get("keyAccess.salt", salt, h->salt, SP_SALT_LEN, err);
    }
    if (strcmp(type, "keyserver") == 0) {
        const char *url = NULL, *org = NULL, *kid = NULL;
        if (json_unpack_ex(ka, &je, 0, "{s:s, s:s, s:s}", "url", &url, "org", &org, "kid", &kid) !=
            0)
            return unpack_failed(err, "keyAccess", &je);
        if (!g_str_has_prefix(url, "https://") && !g_str_has_prefix(url, "http://")) {
            g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                        "envelope header: keyAccess.url is not an http(s) URL");
            return false;
        }
        h->access = SP_ACCESS_KEYSERVER;
        h->ks_url = g_strdup(url);
        h->ks_org = g_strdup(org);
        h->ks_kid = g_strdup(kid);
        return true;
    }
    if (strcmp(type, "hpke") == 0) {
        const char *suite = NULL, *kid = NULL, *enc = NULL, *wrapped = NULL;
        if (json_unpack_ex(ka, &je, 0, "{s:s, s:s, s:s, s:s}", "suite", &suite, "kid", &kid, "enc",
                           &enc, "wrappedKey", &wrapped) != 0)
            return unpack_failed(err, "keyAccess", &je);
        if (strcmp(suite, SP_REPLY_SUITE) != 0) {
            g_set_error(err, SP_ERROR, SP_ERR_VERSION,
                        "envelope header: HPKE suite \"%s\" is not supported", suite);
            return false;
        }
        uint8_t raw[16];
        if (!b64_get("keyAccess.kid", kid, raw, sizeof raw, err))
            return false;
        h->access = SP_ACCESS_HPKE;
        g_strlcpy(h->hpke_kid, kid, sizeof h->hpke_kid);
        return b64_get("keyAccess.enc", enc, h->hpke_enc, SP_REPLY_PK_LEN, err) &&
               b64_get("keyAccess.wrappedKey", wrapped, h->hpke_wrapped, SP_REPLY_WRAPPED_LEN,
                       err);
    }
    g_set_error(err, SP_ERROR, SP_ERR_VERSION,
                "envelope header: key access type \"%s\" is not supported", type);
    return false;
}

static const char *const answer_actions[] = {"reply", "replyAll", "forward", "compose"};

const char *sp_answer_action_name(sp_answer_action a)
{
    return answer_actions[a];
}

bool sp_answer_action_parse(const char *name, sp_answer_action *a)
{
    for (size_t i = 0; i < G_N_ELEMENTS(answer_actions); i++) {
        if (strcmp(name, answer_actions[i]) == 0) {
            *a = (sp_answer_action)i;
            return true;
        }
    }
    return false;
}

/* "answer" (revision 1.2): required in an HPKE envelope, refused elsewhere. */
static bool parse_answer(json_t *a, sp_header *h, GError **err)
{
    if (h->access != SP_ACCESS_HPKE) {
        if (a == NULL)
            return true;
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "envelope header: answer is only for sealed answers (keyAccess hpke)");
        return false;
    }
    json_error_t je;
    json_t *msg = NULL;
    const char *action = NULL, *org = NULL;
    if (a == NULL || json_unpack_ex(a, &je, 0, "{s:o, s:s, s:s}", "message", &msg, "action",
                                    &action, "org", &org) != 0) {
        if (a == NULL)
            je = (json_error_t){.text = "missing"};
        return unpack_failed(err, "answer", &je);
    }
    if (!sp_answer_action_parse(action, &h->answer_action)) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "envelope header: answer.action \"%s\" is unknown",
                    action);
        return false;
    }
    uint8_t raw[SP_ID_LEN];
    bool compose = h->answer_action == SP_ANSWER_COMPOSE;
    if (compose ? !json_is_null(msg)
                : !json_is_string(msg) || !sp_b64url_decode_exact(json_string_value(msg), raw,
                                                                   sizeof raw)) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "envelope header: answer.message must be a message id (null for compose)");
        return false;
    }
    h->answer_message = compose ? NULL : g_strdup(json_string_value(msg));
    h->answer_org = g_strdup(org);
    return true;
}

static bool parse_method(json_t *m, sp_header *h, GError **err)
{
    json_error_t je;
    const char *alg = NULL, *prefix = NULL, *check = NULL;
    json_int_t seg = 0;
    if (json_unpack_ex(m, &je, 0, "{s:s, s:I, s:s, s:s}", "algorithm", &alg, "segmentSize", &seg,
                       "noncePrefix", &prefix, "keyCheck", &check) != 0)
        return unpack_failed(err, "method", &je);
    if (strcmp(alg, "AES-256-GCM") != 0) {
        g_set_error(err, SP_ERROR, SP_ERR_VERSION,
                    "envelope header: algorithm \"%s\" is not supported (this sealpost "
                    "knows AES-256-GCM)",
                    alg);
        return false;
    }
    if (seg < SP_SEGMENT_MIN || seg > SP_SEGMENT_MAX) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "envelope header: method.segmentSize %" JSON_INTEGER_FORMAT
                    " is outside %u..%u",
                    seg, SP_SEGMENT_MIN, SP_SEGMENT_MAX);
        return false;
    }
    h->segment_size = (uint32_t)seg;
    return b64_get("method.noncePrefix", prefix, h->nonce_prefix, SP_PREFIX_LEN, err) &&
           b64_get("method.keyCheck", check, h->key_check, SP_KEYCHECK_LEN, err);
}

static bool parse_policy(json_t *pol, sp_header *h, GError **err)
{
    json_error_t je;
    const char *from = NULL, *security = NULL;
    json_t *to = NULL, *expires = NULL;
    if (json_unpack_ex(pol, &je, 0, "{s:s, s:o, s:o, s:s}", "from", &from, "to", &to, "expires",
                       &expires, "security", &security) != 0)
        return unpack_failed(err, "policy", &je);
    if (strcmp(security, "high") != 0 && strcmp(security, "medium") != 0 &&
        strcmp(security, "low") != 0) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "envelope header: policy.security must be high, medium or low");
        return false;
    }
    if (!json_is_array(to)) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "envelope header: policy.to is not an array");
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(to, i, v)
    {
        if (!json_is_string(v)) {
            g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                        "envelope header: policy.to[%zu] is not a string", i);
            return false;
        }
        g_ptr_array_add(h->to, g_strdup(json_string_value(v)));
    }
    if (json_is_string(expires)) {
        if (!sp_time_parse(json_string_value(expires), &h->expires)) {
            g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                        "envelope header: policy.expires is not an RFC 3339 time");
            return false;
        }
    } else if (!json_is_null(expires)) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "envelope header: policy.expires must be a time or null");
        return false;
    }
    g_free(h->from);
    g_free(h->security);
    h->from = g_strdup(from);
    h->security = g_strdup(security);
    return true;
}

/* "reply" (revision 1.2): strict like the rest of the header, except
 * that a suite this sealpost does not know means no reply, not a refusal. */
static bool parse_reply(json_t *r, sp_header *h, GError **err)
{
    if (r == NULL)
        return true;
    json_error_t je;
    const char *suite = NULL, *kid = NULL, *pk = NULL;
    int reply = 0, reply_all = 0, forward = 0;
    if (json_unpack_ex(r, &je, 0, "{s:s, s:s, s:s, s:{s:b, s:b, s:b}}", "suite", &suite, "kid",
                       &kid, "publicKey", &pk, "allow", "reply", &reply, "replyAll", &reply_all,
                       "forward", &forward) != 0)
        return unpack_failed(err, "reply", &je);
    if (h->access != SP_ACCESS_KEYSERVER) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "envelope header: reply is only for key-server envelopes");
        return false;
    }
    if (strcmp(suite, SP_REPLY_SUITE) != 0)
        return true; /* a later suite: this sealpost offers no reply */
    if (!b64_get("reply.publicKey", pk, h->reply.pk, SP_REPLY_PK_LEN, err))
        return false;
    if (h->reply.pk[0] != 0x04) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "envelope header: reply.publicKey is not an uncompressed point");
        return false;
    }
    char want[23];
    sp_hpke_key_id(h->reply.pk, want);
    if (strcmp(kid, want) != 0) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "envelope header: reply.kid is not its public key's");
        return false;
    }
    g_strlcpy(h->reply.kid, kid, sizeof h->reply.kid);
    h->reply.reply = reply;
    h->reply.reply_all = reply_all;
    h->reply.forward = forward;
    h->reply.present = true;
    return true;
}

bool sp_header_parse(const char *json, size_t len, sp_header *h, GError **err)
{
    memset(h, 0, sizeof *h);
    h->to = g_ptr_array_new_with_free_func(g_free);
    if (len > SP_HEADER_MAX) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "envelope header is %zu bytes, more than the %d allowed", len, SP_HEADER_MAX);
        return false;
    }
    json_error_t je;
    g_autoptr(json_t) root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "envelope header is not valid JSON (byte %d: %s): was the file edited?",
                    je.position, je.text);
        return false;
    }
    json_int_t v = 0;
    if (json_unpack_ex(root, &je, 0, "{s:I}", "v", &v) != 0)
        return unpack_failed(err, "v", &je);
    if (v != SP_FORMAT_VERSION) {
        g_set_error(err, SP_ERROR, SP_ERR_VERSION,
                    "this envelope has format version %" JSON_INTEGER_FORMAT
                    "; this sealpost opens version %d only: update sealpost",
                    v, SP_FORMAT_VERSION);
        return false;
    }
    const char *id = NULL, *created = NULL;
    json_t *ka = NULL, *method = NULL, *policy = NULL;
    if (json_unpack_ex(root, &je, 0, "{s:s, s:s, s:o, s:o, s:o}", "id", &id, "created", &created,
                       "keyAccess", &ka, "method", &method, "policy", &policy) != 0)
        return unpack_failed(err, "top level", &je);
    uint8_t raw_id[SP_ID_LEN];
    if (!b64_get("id", id, raw_id, sizeof raw_id, err))
        return false;
    g_strlcpy(h->id, id, sizeof h->id);
    if (!sp_time_parse(created, &h->created)) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "envelope header: created is not an RFC 3339 time");
        return false;
    }
    return parse_key_access(ka, h, err) && parse_method(method, h, err) &&
           parse_policy(policy, h, err) && parse_reply(json_object_get(root, "reply"), h, err) &&
           parse_answer(json_object_get(root, "answer"), h, err);
}

char *sp_display_to_json(const sp_display *d)
{
    g_autoptr(json_t) root = json_object();
    g_autoptr(json_t) brand = json_object();
    if (d->brand_name)
        json_object_set_new(brand, "name", json_string(d->brand_name));
    if (d->brand_color)
        json_object_set_new(brand, "color", json_string(d->brand_color));
    if (d->brand_logo)
        json_object_set_new(brand, "logo", json_string(d->brand_logo));
    if (json_object_size(brand) > 0)
        json_object_set(root, "brand", brand);
    if (d->sender_name)
        json_object_set_new(root, "sender", json_string(d->sender_name));
    if (d->subject)
        json_object_set_new(root, "subject", json_string(d->subject));
    if (d->phrase)
        json_object_set_new(root, "phrase", json_string(d->phrase));
    return sp_json_dump_html(root, true);
}

bool sp_display_parse(const char *json, size_t len, sp_display *d, GError **err)
{
    memset(d, 0, sizeof *d);
    json_error_t je;
    if (len > SP_DISPLAY_MAX) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "envelope display block is larger than %d bytes",
                    SP_DISPLAY_MAX);
        return false;
    }
    g_autoptr(json_t) root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    const char *bn = NULL, *bc = NULL, *bl = NULL, *sn = NULL, *su = NULL, *ph = NULL;
    if (root == NULL || json_unpack_ex(root, &je, 0, "{s?{s?s, s?s, s?s}, s?s, s?s, s?s}", "brand",
                                       "name", &bn, "color", &bc, "logo", &bl, "sender", &sn,
                                       "subject", &su, "phrase", &ph) != 0) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "envelope display block is not valid: %s",
                    je.text);
        return false;
    }
    d->brand_name = g_strdup(bn);
    d->brand_color = g_strdup(bc);
    d->brand_logo = g_strdup(bl);
    d->sender_name = g_strdup(sn);
    d->subject = g_strdup(su);
    d->phrase = g_strdup(ph);
    return true;
}

void sp_display_clear(sp_display *d)
{
    g_free(d->brand_name);
    g_free(d->brand_color);
    g_free(d->brand_logo);
    g_free(d->sender_name);
    g_free(d->subject);
    g_free(d->phrase);
    memset(d, 0, sizeof *d);
}
