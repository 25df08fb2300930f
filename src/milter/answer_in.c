/*
 * answer_in.c - sealed answers coming in (issue 16): the relay mail keyd
 * sends to the organisation's reply route, carrying a recipient's sealed
 * answer and keyd's signed attestation (src/keyd/relay.c).
 *
 * The gateway verifies the attestation with keyd's published keys, checks
 * that it covers exactly this answer and these SMTP recipients, opens the
 * answer with the organisation's private reply key, checks the answer's
 * From against the attested sender, and then:
 * - for the organisation's own recipients, replaces the relay mail with the
 *   answer in clear (the recipient's message, headers and all) and a header
 *   saying it came sealed and from which verified address;
 * - for outside recipients (reply-all, forward), seals the answer anew
 *   with a fresh key, like any outgoing message: nothing leaves in clear.
 * A forged or altered answer is refused (5.7.x); keyd unreachable for its
 * keys, or a key server that refuses, keeps the mail for later (4.7.0).
 */
#include "gateway_int.h"

#include "answer.h"
#include "carrier.h"
#include "mime.h"
#include "seal.h"
#include "sp_error.h"
#include "util.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

#define ANSWER_HEADER "X-Sealpost-Answer"
#define VERIFIED_HEADER "X-Sealpost-Sealed-Answer"
#define ATTEST_CONTEXT "sealpost answer attestation v1"
#define ATTEST_MAX_AGE (30 * 86400)
/* keyd's keys are fetched again at most this often for an unknown kid. */
#define REFETCH_US (60 * G_USEC_PER_SEC)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)

bool gw_is_answer(const gw_msg *m)
{
    for (guint i = 0; i < m->header_names->len; i++)
        if (g_ascii_strcasecmp(m->header_names->pdata[i], ANSWER_HEADER) == 0)
            return true;
    return false;
}

/* A forged, altered or misdirected answer: refused for good. */
static void refuse(gw_result *r, const char *why)
{
    r->verdict = GW_REJECT;
    r->smtp_code = "550";
    r->smtp_xcode = "5.7.1";
    r->smtp_text = g_strdup_printf("sealpost: not a valid sealed answer: %s", why);
    r->detail = g_strdup_printf("sealed answer refused: %s", why);
}

/* The decoded content of the first part of this type, or NULL; *count how
 * many such parts there are. */
static GBytes *part_bytes(GMimeMessage *msg, const char *type, int *count)
{
    GMimeObject *root = g_mime_message_get_mime_part(msg);
    *count = 0;
    GBytes *out = NULL;
    if (!GMIME_IS_MULTIPART(root))
        return NULL;
    GMimeMultipart *mp = GMIME_MULTIPART(root);
    for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
        GMimeObject *o = g_mime_multipart_get_part(mp, i);
        GMimeContentType *ct = g_mime_object_get_content_type(o);
        g_autofree char *t = g_mime_content_type_get_mime_type(ct);
        if (!GMIME_IS_PART(o) || g_ascii_strcasecmp(t, type) != 0)
            continue;
        if ((*count)++)
            continue;
        GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
        g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
        if (w)
            g_mime_data_wrapper_write_to_stream(w, mem);
        GByteArray *b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
        /* As the envelope format reads them (§4): CR LF and CR as LF, in
         * place (the stream's own buffer), then one copy out. */
        guint n = 0;
        for (guint j = 0; j < b->len; j++) {
            guint8 c = b->data[j];
            if (c == '\r') {
                c = '\n';
                if (j + 1 < b->len && b->data[j + 1] == '\n')
                    j++;
            }
            b->data[n++] = c;
        }
        out = g_bytes_new(b->data, n);
    }
    return out;
}

/* keyd's public key kid (32 bytes), fetched when not known yet: 1 found,
 * 0 keyd does not have it, -1 keyd unreachable (err). */
static int attest_key(gw *g, const char *kid, uint8_t pk[32], GError **err)
{
    g_mutex_lock(&g->attest_lock);
    GBytes *b = g_hash_table_lookup(g->attest_keys, kid);
    gint64 now = g_get_monotonic_time();
    if (!b && (!g->attest_fetched || now - g->attest_fetched > REFETCH_US)) {
        sp_kc *kc = gw_client(g, err);
        GHashTable *keys = kc ? sp_kc_attestation_keys(kc, err) : NULL;
        if (kc)
            g_async_queue_push(g->clients, kc);
        if (!keys) {
            g_mutex_unlock(&g->attest_lock);
            return -1;
        }
        g_hash_table_unref(g->attest_keys);
        g->attest_keys = keys;
        g->attest_fetched = now;
        b = g_hash_table_lookup(g->attest_keys, kid);
    }
    if (b)
        memcpy(pk, g_bytes_get_data(b, NULL), 32);
    g_mutex_unlock(&g->attest_lock);
    return b != NULL;
}

/* The attested statement (a JSON object) after its signature verified;
 * NULL with r answered. */
static json_t *verified_statement(gw *g, GBytes *att, gw_result *r)
{
    gsize len = 0;
    const char *text = g_bytes_get_data(att, &len);
    g_autoptr(json_t) a = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    const char *kid = NULL, *st_b64 = NULL, *sig_b64 = NULL;
    json_int_t v = 0;
    if (!a ||
        json_unpack(a, "{s:I, s:s, s:s, s:s}", "v", &v, "kid", &kid, "statement", &st_b64,
                    "signature", &sig_b64) != 0 ||
        v != 1) {
        refuse(r, "the attestation is malformed");
        return NULL;
    }
    uint8_t sig[crypto_sign_BYTES], pk[32];
    size_t st_len = 0;
    g_autofree uint8_t *st = sp_b64url_decode(st_b64, &st_len);
    if (!st || !sp_b64url_decode_exact(sig_b64, sig, sizeof sig)) {
        refuse(r, "the attestation is malformed");
        return NULL;
    }
    g_autoptr(GError) err = NULL;
    int found = attest_key(g, kid, pk, &err);
    if (found < 0) {
        gw_tempfail(r, "cannot get the key server's attestation keys", err);
        return NULL;
    }
    if (!found) {
        refuse(r, "the attestation is signed by a key the key server does not publish");
        return NULL;
    }
    g_autoptr(GByteArray) signed_bytes = g_byte_array_new();
    g_byte_array_append(signed_bytes, (const guint8 *)ATTEST_CONTEXT, sizeof ATTEST_CONTEXT);
    g_byte_array_append(signed_bytes, st, (guint)st_len);
    if (crypto_sign_verify_detached(sig, signed_bytes->data, signed_bytes->len, pk) != 0) {
        refuse(r, "the key server's signature does not verify");
        return NULL;
    }
    json_t *o = json_loadb((const char *)st, st_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        refuse(r, "the attestation is malformed");
        return NULL;
    }
    return o;
}

/* Does the statement cover this answer (hash, header) and these SMTP
 * recipients? NULL when it does, else why not. */
static const char *mismatch(json_t *st, GBytes *answer, const sp_header *h, const gw_msg *m)
{
    const char *id = NULL, *org = NULL, *action = NULL, *from = NULL, *kid = NULL, *sha = NULL,
               *time = NULL;
    json_t *rcpts = NULL, *jmsg = NULL;
    if (json_unpack(st, "{s:s, s:o, s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "answer", &id, "message",
                    &jmsg, "org", &org, "action", &action, "from", &from, "rcpts", &rcpts, "kid",
                    &kid, "sha256", &sha, "time", &time) != 0 ||
        !json_is_array(rcpts) || !(json_is_null(jmsg) || json_is_string(jmsg)))
        return "the attestation is malformed";
    /* null for a new message (compose) */
    const char *msg = json_is_string(jmsg) ? json_string_value(jmsg) : NULL;
    gsize len = 0;
    const uint8_t *data = g_bytes_get_data(answer, &len);
    uint8_t digest[SP_SHA256_LEN];
    sp_crypto_sha256(data, len, digest);
    g_autofree char *got = sp_b64url_encode(digest, sizeof digest);
    if (strcmp(got, sha) != 0)
        return "the answer is not the one the key server attested (altered)";
    gint64 when = 0;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    if (!sp_time_parse(time, &when) || when < now - ATTEST_MAX_AGE || when > now + 3600)
        return "the attestation is too old or from the future";
    if (strcmp(id, h->id) || (msg == NULL) != (h->answer_message == NULL) ||
        (msg && strcmp(msg, h->answer_message)) || strcmp(org, h->answer_org) ||
        strcmp(action, sp_answer_action_name(h->answer_action)) ||
        g_ascii_strcasecmp(from, h->from) || strcmp(kid, h->hpke_kid))
        return "the answer's header does not match its attestation";
    for (guint i = 0; i < m->rcpts->len; i++) {
        bool attested = false;
        size_t j;
        json_t *v;
        json_array_foreach(rcpts, j, v)
        {
            attested |=
                json_is_string(v) && !g_ascii_strcasecmp(json_string_value(v), m->rcpts->pdata[i]);
        }
        if (!attested)
            return "a recipient was not attested by the key server";
    }
    return NULL;
}

static bool collect(void *ctx, const uint8_t *buf, size_t len, GError **err)
{
    return g_mime_stream_write(ctx, (const char *)buf, len) == (gssize)len ||
           (g_set_error_literal(err, SP_ERROR, SP_ERR_IO, "cannot hold the opened answer"), false);
}

/* Replace every header field of the relay mail: by those of msg and the
 * verification field (verified, when given); with carrier (a resealed
 * answer), by msg's fields the carrier keeps, its subject shown outside
 * (subject, when given), and the carrier's own fields. */
static void replace_header(gw_result *r, const gw_msg *m, GMimeMessage *msg, const char *verified,
                           GPtrArray *carrier, const char *subject)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GArray) dels = g_array_new(FALSE, FALSE, sizeof(gw_hdr_op));
    for (guint i = 0; i < m->header_names->len; i++) {
        const char *name = m->header_names->pdata[i];
        gw_hdr_op o = {GW_HDR_DELETE, g_strdup(name), gw_occurrence(seen, name), NULL};
        g_array_append_val(dels, o);
    }
    /* The last occurrence of a name first, so the others keep their numbers. */
    for (guint i = dels->len; i-- > 0;)
        g_array_append_val(r->ops, g_array_index(dels, gw_hdr_op, i));
    if (verified)
        gw_add_op(r, GW_HDR_ADD, VERIFIED_HEADER, 0, verified);
    g_autoptr(GHashTable) has = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    /* GMime keeps the message's own fields on the message and its
     * Content-* fields on its top MIME part: both, in that order. */
    GMimeObject *part = g_mime_message_get_mime_part(msg);
    GMimeHeaderList *lists[2] = {g_mime_object_get_header_list(GMIME_OBJECT(msg)),
                                 part ? g_mime_object_get_header_list(part) : NULL};
    for (int li = 0; li < 2; li++) {
        for (int i = 0; lists[li] && i < g_mime_header_list_get_count(lists[li]); i++) {
            GMimeHeader *hd = g_mime_header_list_get_header_at(lists[li], i);
            const char *name = g_mime_header_get_name(hd);
            g_autofree char *l = g_ascii_strdown(name, -1);
            if ((carrier && !sp_carrier_keeps(name)) ||
                (li == 1 && (!g_str_has_prefix(l, "content-") || g_hash_table_contains(has, l))))
                continue;
            g_hash_table_add(has, g_steal_pointer(&l));
            g_autofree char *value = NULL;
            if (carrier && subject && !g_ascii_strcasecmp(name, "Subject")) {
                g_autofree char *enc = g_mime_utils_header_encode_text(NULL, subject, "utf-8");
                value = g_strconcat(" ", enc, NULL);
            } else {
                /* One line: the milter protocol takes values unfolded. */
                const char *raw = g_mime_header_get_raw_value(hd);
                g_autofree char *v = g_strdup(raw ? raw : "");
                g_strdelimit(v, "\r\n", ' ');
                value = g_str_has_prefix(v, " ") ? g_strdup(v) : g_strconcat(" ", v, NULL);
                g_strchomp(value);
            }
            gw_add_op(r, GW_HDR_ADD, name, 0, value);
        }
    }
    for (guint i = 0; carrier && i < carrier->len; i++) {
        const sp_field *f = carrier->pdata[i];
        g_autofree char *l = g_ascii_strdown(f->name, -1);
        if (!sp_carrier_keeps(f->name) || !g_hash_table_contains(has, l))
            gw_add_op(r, GW_HDR_ADD, f->name, 0, f->value);
    }
}

/* The opened answer's body (everything after its header), CRLF lines. */
static GMimeStream *body_of(GMimeStream *opened)
{
    GByteArray *b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(opened));
    const char *d = (const char *)b->data;
    guint start = 0;
    for (guint i = 0; i + 1 < b->len; i++) {
        if (d[i] == '\n' &&
            (d[i + 1] == '\n' || (d[i + 1] == '\r' && i + 2 < b->len && d[i + 2] == '\n'))) {
            start = i + (d[i + 1] == '\n' ? 2 : 3);
            break;
        }
    }
    GMimeStream *out = g_mime_stream_mem_new();
    GMimeStream *filtered = g_mime_stream_filter_new(out);
    GMimeFilter *f = g_mime_filter_dos2unix_new(FALSE);
    GMimeFilter *crlf = g_mime_filter_unix2dos_new(FALSE);
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), crlf);
    g_mime_stream_write(filtered, d + start, b->len - start);
    g_mime_stream_flush(filtered);
    g_object_unref(f);
    g_object_unref(crlf);
    g_object_unref(filtered);
    g_mime_stream_reset(out);
    return out;
}

void gw_answer(gw *g, const gw_msg *m, gw_result *r)
{
    if (g->reply_keys->len == 0) {
        gw_tempfail(r, "a sealed answer arrived, but this gateway has no reply key ([reply] keys)",
                    NULL);
        return;
    }
    g_autoptr(GMimeStream) in = spool_stream(m->spool);
    g_autoptr(GMimeMessage) relay = gw_parse(in);
    if (!relay)
        return gw_tempfail(r, "cannot read the message", NULL);
    int n_answer = 0, n_attest = 0;
    g_autoptr(GBytes) answer = part_bytes(relay, "application/vnd.sealpost.answer", &n_answer);
    g_autoptr(GBytes) att =
        part_bytes(relay, "application/vnd.sealpost.attestation+json", &n_attest);
    if (n_answer != 1 || n_attest != 1)
        return refuse(r, "it must carry one sealed answer and one attestation");
    g_autoptr(json_t) st = verified_statement(g, att, r);
    if (!st)
        return;
    gsize alen = 0;
    const char *adata = g_bytes_get_data(answer, &alen);
    g_autoptr(GMimeStream) ain = g_mime_stream_mem_new_with_buffer(adata, alen);
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_env_reader) er = sp_env_reader_new(ain, &err);
    const sp_header *h = er ? sp_env_reader_header(er) : NULL;
    if (!h || h->access != SP_ACCESS_HPKE)
        return refuse(r, "the attached answer is not a sealed answer");
    const char *why = mismatch(st, answer, h, m);
    if (why)
        return refuse(r, why);
    const sp_hpke_key *k =
        sp_answer_key_for(h, (sp_hpke_key *const *)g->reply_keys->pdata, g->reply_keys->len);
    if (!k)
        return refuse(r, "it is sealed to a reply key this gateway does not hold");
    bool inside = !gw_any_external(g, m->rcpts), outside = true;
    for (guint i = 0; i < m->rcpts->len; i++)
        outside &= !config_is_internal(g->cfg, m->rcpts->pdata[i]);
    if (!inside && !outside)
        return refuse(r, "its recipients mix the organisation's and others'");
    uint8_t key[SP_KEY_LEN];
    g_autoptr(GMimeStream) opened = g_mime_stream_mem_new();
    bool ok =
        sp_answer_unwrap(h, k, key, &err) && sp_env_reader_decrypt(er, key, collect, opened, &err);
    sodium_memzero(key, sizeof key);
    if (!ok)
        return refuse(r, "it does not open with the organisation's key (altered)");
    g_autoptr(GMimeMessage) msg = gw_parse(opened);
    const char *from = msg ? gw_from_header(msg) : NULL;
    if (!from || g_ascii_strcasecmp(from, h->from) != 0)
        return refuse(r, "its From is not the sender the key server attested");
    g_strlcpy(r->id, h->id, sizeof r->id);
    g_autofree char *verified = g_strdup_printf(
        " from=%s; action=%s; answer=%s; message=%s; verified by the key server's attestation",
        h->from, sp_answer_action_name(h->answer_action), h->id,
        h->answer_message ? h->answer_message : "none");
    /* The staff's answers to it stay sealed (the policy's "thread"). */
    threads_add(g->threads, g_mime_message_get_message_id(msg));
    if (inside) {
        replace_header(r, m, msg, verified, NULL, NULL);
        r->body = body_of(opened);
        r->verdict = GW_OPEN;
        r->rule = g_strdup("sealed-answer");
        return;
    }
    /* Outside recipients: sealed anew, never in clear. */
    g_mime_stream_reset(opened);
    g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func(sp_field_free);
    g_autofree char *subject = NULL;
    gw_seal_in s = {.msg = msg,
                    .in = opened,
                    .rcpts = m->rcpts,
                    .from = g->cfg->reseal_from,
                    .in_size = (gint64)g_mime_stream_length(opened)};
    if (!g->cfg->reseal_from)
        return gw_tempfail(r, "no [reply] reseal_from to seal an answer for outside recipients",
                           NULL);
    if (!gw_seal(g, &s, fields, &subject, r))
        return;
    replace_header(r, m, msg, NULL, fields, subject);
    r->verdict = GW_ENCRYPT;
    r->rule = g_strdup("sealed-answer-resealed");
}
