/*
 * gateway.c - one message through the gateway (see gateway.h): outbound
 * or not, the policy's verdict, the key from keyd, the sealed carrier,
 * and the header edits and body that turn the original into the carrier.
 */
#include "gateway_int.h"

#include "crypto.h"
#include "keyclient.h"
#include "mime.h"
#include "scan.h"
#include "sealks.h"
#include "secret.h"
#include "sp_error.h"

#include <string.h>

/* The gateway token from its file (guarded memory, see secret.h). */
static char *read_token(const char *path, GError **err)
{
    size_t len = 0;
    g_autoptr(GError) e = NULL;
    char *tok = sp_secret_read(path, &len, &e);
    if (!tok) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "cannot read the gateway token: %s", e->message);
        return NULL;
    }
    if (!g_str_has_prefix(tok, "spg_")) {
        sp_secret_free(tok);
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "%s does not hold a gateway token (spg_...): create one with "
                    "'sealpost-keyd admin token create --org NAME'",
                    path);
        return NULL;
    }
    return tok;
}

gw *gw_new(const mt_config *c, GError **err)
{
    gw *g = g_new0(gw, 1);
    g->cfg = c;
    g->clients = g_async_queue_new_full((GDestroyNotify)sp_kc_free);
    g->brand = sp_brand_cache_new();
    g->token = read_token(c->token_file, err);
    g->policy = g->token ? sp_policy_load(c->policy_file, err) : NULL;
    if (!g->policy) {
        gw_free(g);
        return NULL;
    }
    for (guint i = 0; i < g->policy->warnings->len; i++)
        g_warning("%s", (const char *)g->policy->warnings->pdata[i]);
    /* The rules' "external" condition and the gateway agree on what is
     * inside the organisation. */
    for (guint i = 0; i < c->internal_domains->len; i++)
        g_ptr_array_add(g->policy->internal_domains, g_strdup(c->internal_domains->pdata[i]));
    g->scanner = sp_scanner_new(g->policy, NULL, err);
    if (!g->scanner) {
        gw_free(g);
        return NULL;
    }
    /* Read now, as root, before privileges are dropped (like the token). */
    g->reply_keys = g_ptr_array_new_with_free_func((GDestroyNotify)sp_hpke_key_free);
    for (guint i = 0; i < c->reply_keys->len; i++) {
        sp_hpke_key *k = sp_hpke_key_load(c->reply_keys->pdata[i], err);
        if (!k) {
            g_prefix_error(err, "[reply] keys: ");
            gw_free(g);
            return NULL;
        }
        g_ptr_array_add(g->reply_keys, k);
    }
    g->threads = threads_open(c->threads_file, err);
    if (!g->threads) {
        g_prefix_error(err, "[reply] threads: ");
        gw_free(g);
        return NULL;
    }
    g_mutex_init(&g->attest_lock);
    g->attest_keys =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
    return g;
}

void gw_free(gw *g)
{
    if (!g)
        return;
    sp_scanner_free(g->scanner);
    sp_policy_free(g->policy);
    sp_secret_free(g->token);
    g_async_queue_unref(g->clients);
    sp_brand_cache_free(g->brand);
    if (g->reply_keys)
        g_ptr_array_unref(g->reply_keys);
    threads_close(g->threads);
    if (g->attest_keys) {
        g_hash_table_unref(g->attest_keys);
        g_mutex_clear(&g->attest_lock);
    }
    g_free(g);
}

const char *gw_verdict_name(gw_verdict v)
{
    static const char *const names[] = {"pass",   "deliver",  "encrypt", "tag",
                                        "reject", "tempfail", "open"};
    return names[v];
}

void gw_result_clear(gw_result *r)
{
    g_free(r->rule);
    for (guint i = 0; r->ops && i < r->ops->len; i++) {
        gw_hdr_op *o = &g_array_index(r->ops, gw_hdr_op, i);
        g_free(o->name);
        g_free(o->value);
    }
    if (r->ops)
        g_array_unref(r->ops);
    g_clear_object(&r->body);
    g_free(r->smtp_text);
    g_free(r->detail);
    memset(r, 0, sizeof *r);
}

GPtrArray *gw_thread_ids(GMimeMessage *msg)
{
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    const char *names[] = {"In-Reply-To", "References"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        const char *v = g_mime_object_get_header(GMIME_OBJECT(msg), names[i]);
        GMimeReferences *refs = v ? g_mime_references_parse(NULL, v) : NULL;
        for (int j = 0; refs && j < g_mime_references_length(refs); j++)
            g_ptr_array_add(ids, g_strdup(g_mime_references_get_message_id(refs, j)));
        if (refs)
            g_mime_references_free(refs);
    }
    return ids;
}

int gw_occurrence(GHashTable *seen, const char *name)
{
    char *l = g_ascii_strdown(name, -1);
    int n = GPOINTER_TO_INT(g_hash_table_lookup(seen, l)) + 1;
    g_hash_table_replace(seen, l, GINT_TO_POINTER(n));
    return n;
}

void gw_add_op(gw_result *r, gw_hdr_kind kind, const char *name, int index, const char *value)
{
    gw_hdr_op o = {kind, g_strdup(name), index, value ? g_strdup(value) : NULL};
    g_array_append_val(r->ops, o);
}

/* Postfix keeps the message and the sender's MTA retries later. */
void gw_tempfail(gw_result *r, const char *what, const GError *err)
{
    r->verdict = GW_TEMPFAIL;
    r->smtp_code = "451";
    r->smtp_xcode = "4.7.0";
    r->smtp_text = g_strdup_printf("sealpost: %s, message kept for retry", what);
    r->detail = g_strdup_printf("%s%s%s", what, err ? ": " : "", err ? err->message : "");
}

/* ---- which messages are ours to look at ---- */

bool gw_any_external(const gw *g, GPtrArray *rcpts)
{
    for (guint i = 0; i < rcpts->len; i++)
        if (!config_is_internal(g->cfg, rcpts->pdata[i]))
            return true;
    return false;
}

/* The From header's first mailbox, or NULL. */
const char *gw_from_header(GMimeMessage *msg)
{
    InternetAddressList *l = g_mime_message_get_from(msg);
    for (int i = 0; l && i < internet_address_list_length(l); i++) {
        InternetAddress *a = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(a))
            return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
    }
    return NULL;
}

GMimeMessage *gw_parse(GMimeStream *in)
{
    g_mime_stream_reset(in);
    g_autoptr(GMimeParser) p = g_mime_parser_new_with_stream(in);
    return g_mime_parser_construct_message(p, NULL);
}

/* ---- the carrier ---- */

/* Edits that turn the original's header into the carrier's (fields, from
 * the sealing call): the fields a carrier does not keep go, the subject
 * shown outside replaces the original's when it differs, and the carrier's
 * own fields (MIME-Version, Content-Type, X-Sealpost-Id, a Date or
 * Message-ID the original lacks) are added. Where the original has a field
 * of the same name (MIME-Version, Content-Type), its first occurrence is
 * changed in place rather than deleted and added again: every edit costs
 * the MTA a pass over its queue file. */
static void header_ops(gw_result *r, const gw_msg *m, GPtrArray *fields, const char *subject)
{
    /* The carrier's own fields by lower-case name (the first of a name). */
    g_autoptr(GHashTable) own = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < fields->len; i++) {
        const sp_field *f = fields->pdata[i];
        char *l = g_ascii_strdown(f->name, -1);
        if (sp_carrier_keeps(f->name) || g_hash_table_contains(own, l))
            g_free(l);
        else
            g_hash_table_insert(own, l, (gpointer)f);
    }
    /* Remove what the carrier does not keep, the last occurrence of a name
     * first so that the earlier ones keep their numbers. */
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) changed = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GArray) edits = g_array_new(FALSE, FALSE, sizeof(gw_hdr_op));
    for (guint i = 0; i < m->header_names->len; i++) {
        const char *name = m->header_names->pdata[i];
        int n = gw_occurrence(seen, name);
        g_autofree char *l = g_ascii_strdown(name, -1);
        if (sp_carrier_keeps(name))
            continue;
        const sp_field *f = n == 1 ? g_hash_table_lookup(own, l) : NULL;
        gw_hdr_op o = {f ? GW_HDR_CHANGE : GW_HDR_DELETE, g_strdup(name), n,
                       f ? g_strdup(f->value) : NULL};
        if (f)
            g_hash_table_add(changed, (gpointer)f);
        g_array_append_val(edits, o);
    }
    for (guint i = edits->len; i-- > 0;)
        g_array_append_val(r->ops, g_array_index(edits, gw_hdr_op, i));
    if (subject && g_hash_table_contains(seen, "subject")) {
        g_autofree char *enc = g_mime_utils_header_encode_text(NULL, subject, "utf-8");
        g_autofree char *v = g_strconcat(" ", enc, NULL);
        gw_add_op(r, GW_HDR_CHANGE, "Subject", 1, v);
    }
    for (guint i = 0; i < fields->len; i++) {
        const sp_field *f = fields->pdata[i];
        g_autofree char *l = g_ascii_strdown(f->name, -1);
        if (g_hash_table_contains(changed, f))
            continue;
        if (!sp_carrier_keeps(f->name) || !g_hash_table_contains(seen, l))
            gw_add_op(r, GW_HDR_ADD, f->name, 0, f->value);
    }
}

/* A key-server client from the pool (or a new one); give it back with
 * g_async_queue_push(g->clients, kc). */
sp_kc *gw_client(gw *g, GError **err)
{
    sp_kc *kc = g_async_queue_try_pop(g->clients);
    if (!kc) {
        kc = sp_kc_new(g->cfg->keyserver, err);
        if (kc)
            sp_kc_set_timeout(kc, (long)g->cfg->timeout_s * 1000);
    }
    return kc;
}

bool gw_register_reply_key(gw *g, const uint8_t pk[SP_REPLY_PK_LEN], bool *added, bool *current,
                           GError **err)
{
    sp_kc *kc = gw_client(g, err);
    if (!kc)
        return false;
    bool ok = sp_kc_register_reply_key(kc, g->token, pk, added, current, err);
    g_async_queue_push(g->clients, kc);
    return ok;
}

bool gw_seal(gw *g, const gw_seal_in *s, GPtrArray *fields, char **subject, gw_result *r)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) named = sp_mime_named_rcpts(s->msg);
    g_autoptr(GHashTable) visible = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < named->len; i++)
        g_hash_table_add(visible, g_utf8_casefold(named->pdata[i], -1));
    g_autoptr(GPtrArray) to = g_ptr_array_new();
    g_autoptr(GPtrArray) bcc = g_ptr_array_new();
    for (guint i = 0; i < s->rcpts->len; i++) {
        g_autofree char *folded = g_utf8_casefold(s->rcpts->pdata[i], -1);
        g_ptr_array_add(g_hash_table_contains(visible, folded) ? to : bcc, s->rcpts->pdata[i]);
    }
    g_autoptr(GMimeStream) body = s->big ? sp_temp_stream(&err) : g_mime_stream_mem_new();
    sp_ks_seal_opts o = {.token = g->token,
                         .from = s->from,
                         .to = (const char *const *)to->pdata,
                         .n_to = to->len,
                         .bcc = (const char *const *)bcc->pdata,
                         .n_bcc = bcc->len,
                         .shown = named,
                         .profile = s->profile,
                         .subject = s->subject, /* without the flag; NULL: the message's */
                         .mail = true,
                         .crlf = true,
                         .fields = fields,
                         .in_size = s->in_size};
    sp_kc *kc = body ? gw_client(g, &err) : NULL;
    sp_ks_sealed res = {0};
    bool ok = kc && sp_seal_keyserver(kc, g->brand, s->in, body, &o, &res, &err);
    r->key_ms = res.key_ms;
    if (kc)
        g_async_queue_push(g->clients, kc);
    if (!ok) {
        if (body && (!kc || res.key_refused))
            gw_tempfail(r,
                        err && err->code == SP_ERR_UNAVAILABLE ? "key server unavailable"
                                                               : "the key server refused the key "
                                                                 "request",
                        err);
        else
            gw_tempfail(r, "cannot seal the message", err);
        sp_ks_sealed_clear(&res);
        return false;
    }
    g_strlcpy(r->id, res.id, sizeof r->id);
    g_mime_stream_reset(body);
    r->body = g_steal_pointer(&body);
    *subject = g_strdup(res.subject);
    sp_ks_sealed_clear(&res);
    return true;
}

/* Seal the message for every envelope recipient (keyd's release rule) while
 * the envelope names only those of its To and Cc: a Bcc recipient is in
 * neither the envelope's header nor its payload (Bcc: fields are left out;
 * Postfix normally drops them before the milter) nor the carrier. The
 * profile is keyd's: the policy only names it. */
static void encrypt(gw *g, const gw_msg *m, GMimeStream *in, GMimeMessage *msg, const char *from,
                    const sp_scan_result *sr, gw_result *r)
{
    gw_seal_in s = {.msg = msg,
                    .in = in,
                    .rcpts = m->rcpts,
                    .from = from,
                    .profile = sr->profile,
                    .subject = sr->subject,
                    .in_size = (gint64)m->spool->size,
                    .big = m->spool->file != NULL};
    g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func(sp_field_free);
    g_autofree char *subject = NULL;
    if (!gw_seal(g, &s, fields, &subject, r))
        return;
    header_ops(r, m, fields, subject);
    r->verdict = GW_ENCRYPT;
    /* An answer to it is in a sealed thread: by its own Message-ID, or the
     * one the carrier gave it. */
    const char *mid = g_mime_message_get_message_id(msg);
    for (guint i = 0; !mid && i < fields->len; i++)
        if (!g_ascii_strcasecmp(((sp_field *)fields->pdata[i])->name, "Message-ID"))
            mid = ((sp_field *)fields->pdata[i])->value;
    threads_add(g->threads, mid);
}

void gw_process(gw *g, const gw_msg *m, gw_result *r)
{
    memset(r, 0, sizeof *r);
    r->ops = g_array_new(FALSE, FALSE, sizeof(gw_hdr_op));
    r->verdict = GW_PASS;
    /* A message the milter could not read whole cannot be judged: refused
     * before any decision, whatever its direction or content (its end,
     * where the sensitive part may be, was never seen). Permanent: a retry
     * would be as large. */
    if (spool_truncated(m->spool)) {
        r->verdict = GW_REJECT;
        r->smtp_code = "552";
        r->smtp_xcode = "5.3.4";
        r->smtp_text = g_strdup_printf(
            "sealpost: message too large for the gateway to scan (%" G_GUINT64_FORMAT
            " bytes, the limit is %" G_GUINT64_FORMAT " bytes): not sent",
            m->spool->size, m->spool->max);
        r->detail = g_strdup("larger than max_size");
        return;
    }
    /* A sealed answer relayed by keyd: opened here, or refused. */
    if (gw_is_answer(m)) {
        gw_answer(g, m, r);
        return;
    }
    bool null_sender = !m->sender || !m->sender[0];
    if ((!null_sender && !config_is_internal(g->cfg, m->sender)) || !gw_any_external(g, m->rcpts))
        return;
    g_autoptr(GMimeStream) in = spool_stream(m->spool);
    g_autoptr(GMimeMessage) msg = gw_parse(in);
    if (!msg) {
        gw_tempfail(r, "cannot read the message", NULL);
        return;
    }
    /* A bounce or a notification (null sender) is ours when its From is. */
    const char *from = null_sender ? gw_from_header(msg) : m->sender;
    if (!from || !config_is_internal(g->cfg, from))
        return;

    g_autoptr(GError) err = NULL;
    sp_scan_result sr;
    g_autoptr(GPtrArray) refs = gw_thread_ids(msg);
    bool in_thread = threads_any(g->threads, refs);
    if (!sp_scan_message_thread(g->scanner, msg, m->rcpts, in_thread, false, &sr, &err)) {
        gw_tempfail(r, "the policy engine failed", err);
        return;
    }
    r->rule = sr.rule ? g_strdup(sr.rule->name) : NULL;
    switch (sr.action) {
    case SP_ACT_DELIVER:
        r->verdict = GW_DELIVER;
        break;
    case SP_ACT_TAG: {
        r->verdict = GW_TAG;
        g_autofree char *v = g_strconcat(" ", sr.rule->tag_value ? sr.rule->tag_value : "", NULL);
        gw_add_op(r, GW_HDR_ADD, sr.rule->tag_header, 0, v);
        break;
    }
    case SP_ACT_REJECT:
        r->verdict = GW_REJECT;
        r->smtp_code = "550";
        r->smtp_xcode = "5.7.1";
        r->smtp_text = g_strdup(sr.rule->reject_text ? sr.rule->reject_text
                                                     : "message refused by the sending policy");
        break;
    case SP_ACT_ENCRYPT:
        encrypt(g, m, in, msg, from, &sr, r);
        break;
    }
    sp_scan_result_clear(&sr);
}
