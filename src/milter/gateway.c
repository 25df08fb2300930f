/*
 * gateway.c - one message through the gateway (see gateway.h): outbound
 * or not, the policy's verdict, the key from keyd, the sealed carrier,
 * and the header edits and body that turn the original into the carrier.
 */
#include "gateway.h"

#include "crypto.h"
#include "keyclient.h"
#include "mime.h"
#include "scan.h"
#include "seal.h"
#include "secret.h"
#include "sp_error.h"

#include <string.h>

struct gw {
    const mt_config *cfg;
    sp_policy *policy;
    sp_scanner *scanner;
    char *token;          /* the gateway token, in guarded memory */
    GAsyncQueue *clients; /* idle sp_kc: their keep-alive connections are reused */
    /* The organisation's brand from keyd, refreshed every BRAND_TTL_US. */
    GMutex brand_lock;
    sp_kc_brand brand;
    gint64 brand_at; /* monotonic; 0: never fetched */
    bool brand_busy; /* a thread is fetching it */
};

#define BRAND_TTL_US (300 * G_USEC_PER_SEC)

/* Headers the carrier keeps from the original: addressing, threading,
 * the subject (without the flag) and the trace. Every other header is
 * removed: X-Mailer, Thread-Topic, Keywords, Comments and the like can
 * carry content, and Content-* describe a body that is gone. */
static const char *const kept_headers[] = {
    "from",        "to",         "cc",      "reply-to", "sender",      "date", "message-id",
    "in-reply-to", "references", "subject", "received", "return-path", NULL,
};

static bool kept(const char *name)
{
    g_autofree char *l = g_ascii_strdown(name, -1);
    return g_strv_contains(kept_headers, l);
}

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
    g_mutex_init(&g->brand_lock);
    g->token = read_token(c->token_file, err);
    g->policy = g->token ? sp_policy_load(c->policy_file, err) : NULL;
    if (!g->policy) {
        gw_free(g);
        return NULL;
    }
    /* The rules' "external" condition and the gateway agree on what is
     * inside the organisation. */
    for (guint i = 0; i < c->internal_domains->len; i++)
        g_ptr_array_add(g->policy->internal_domains, g_strdup(c->internal_domains->pdata[i]));
    g->scanner = sp_scanner_new(g->policy, NULL, err);
    if (!g->scanner) {
        gw_free(g);
        return NULL;
    }
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
    sp_kc_brand_clear(&g->brand);
    g_mutex_clear(&g->brand_lock);
    g_free(g);
}

const char *gw_verdict_name(gw_verdict v)
{
    static const char *const names[] = {"pass", "deliver", "encrypt", "tag", "reject", "tempfail"};
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

static void add_op(gw_result *r, gw_hdr_kind kind, const char *name, int index, const char *value)
{
    gw_hdr_op o = {kind, g_strdup(name), index, value ? g_strdup(value) : NULL};
    g_array_append_val(r->ops, o);
}

/* Postfix keeps the message and the sender's MTA retries later. */
static void tempfail(gw_result *r, const char *what, const GError *err)
{
    r->verdict = GW_TEMPFAIL;
    r->smtp_code = "451";
    r->smtp_xcode = "4.7.0";
    r->smtp_text = g_strdup_printf("sealpost: %s, message kept for retry", what);
    r->detail = g_strdup_printf("%s%s%s", what, err ? ": " : "", err ? err->message : "");
}

/* ---- which messages are ours to look at ---- */

static bool any_external(const gw *g, GPtrArray *rcpts)
{
    for (guint i = 0; i < rcpts->len; i++)
        if (!config_is_internal(g->cfg, rcpts->pdata[i]))
            return true;
    return false;
}

/* The From header's first mailbox, or NULL. */
static const char *from_header(GMimeMessage *msg)
{
    InternetAddressList *l = g_mime_message_get_from(msg);
    for (int i = 0; l && i < internet_address_list_length(l); i++) {
        InternetAddress *a = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(a))
            return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
    }
    return NULL;
}

static GMimeMessage *parse(GMimeStream *in)
{
    g_mime_stream_reset(in);
    g_autoptr(GMimeParser) p = g_mime_parser_new_with_stream(in);
    return g_mime_parser_construct_message(p, NULL);
}

/* ---- the carrier ---- */

/* A carrier header's value for the milter: one line, leading space. */
static char *one_line(const char *raw)
{
    GString *s = g_string_new(NULL);
    for (const char *c = raw; *c; c++)
        if (*c != '\r' && *c != '\n')
            g_string_append_c(s, *c);
    g_strchomp(s->str);
    s->len = strlen(s->str);
    if (s->str[0] != ' ' && s->str[0] != '\t')
        g_string_prepend_c(s, ' ');
    return g_string_free(s, FALSE);
}

/* ADD ops for the headers in hl the original lacks (seen: its header
 * names, lower case), noting each as seen. */
static void add_missing(gw_result *r, GMimeHeaderList *hl, GHashTable *seen)
{
    for (int i = 0; hl && i < g_mime_header_list_get_count(hl); i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
        const char *name = g_mime_header_get_name(h);
        char *l = g_ascii_strdown(name, -1);
        if (kept(name) && g_hash_table_contains(seen, l)) {
            g_free(l);
            continue;
        }
        g_hash_table_replace(seen, l, GINT_TO_POINTER(1));
        g_autofree char *v = one_line(g_mime_header_get_raw_value(h));
        add_op(r, GW_HDR_ADD, name, 0, v);
    }
}

/* Edits that turn the original's headers into the carrier's. */
static void header_ops(gw_result *r, const gw_msg *m, GMimeMessage *carrier, const char *subject)
{
    /* Remove what the carrier does not keep, the last occurrence of a name
     * first so that the earlier ones keep their numbers. */
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GArray) deletes = g_array_new(FALSE, FALSE, sizeof(gw_hdr_op));
    for (guint i = 0; i < m->header_names->len; i++) {
        const char *name = m->header_names->pdata[i];
        char *l = g_ascii_strdown(name, -1);
        int n = GPOINTER_TO_INT(g_hash_table_lookup(seen, l)) + 1;
        g_hash_table_replace(seen, l, GINT_TO_POINTER(n));
        if (!kept(name)) {
            gw_hdr_op o = {GW_HDR_DELETE, g_strdup(name), n, NULL};
            g_array_append_val(deletes, o);
        }
    }
    for (guint i = deletes->len; i-- > 0;)
        g_array_append_val(r->ops, g_array_index(deletes, gw_hdr_op, i));
    if (subject) {
        g_autofree char *enc = g_mime_utils_header_encode_text(NULL, subject, "utf-8");
        g_autofree char *v = g_strconcat(" ", enc, NULL);
        add_op(r, GW_HDR_CHANGE, "Subject", 1, v);
    }
    /* Add the carrier's headers the original lacks: MIME-Version,
     * Content-Type, X-Sealpost-Id (and Date or Message-ID if missing). */
    add_missing(r, g_mime_object_get_header_list(GMIME_OBJECT(carrier)), seen);
    /* GMime keeps the top part's Content-* headers with the part. */
    add_missing(r, g_mime_object_get_header_list(g_mime_message_get_mime_part(carrier)), seen);
}

/* Longest header block a carrier can have (GMime writes it; its own
 * headers plus From/To/Cc/Subject/References copied from the original). */
#define CARRIER_HEAD_MAX (256 * 1024)

/* Split the carrier (CRLF, at its start) into its headers, parsed by
 * GMime from the header block alone, and a stream over its body. */
static GMimeMessage *carrier_split(GMimeStream *carrier, GMimeStream **body, GError **err)
{
    g_autofree char *buf = g_malloc(CARRIER_HEAD_MAX);
    gssize n = g_mime_stream_read(carrier, buf, CARRIER_HEAD_MAX);
    const char *sep = n > 0 ? g_strstr_len(buf, n, "\r\n\r\n") : NULL;
    if (!sep) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_INTERNAL, "the carrier has no header block");
        return NULL;
    }
    gint64 head_len = (gint64)(sep - buf) + 4;
    g_autoptr(GMimeStream) head = g_mime_stream_mem_new_with_buffer(buf, (size_t)head_len);
    g_autoptr(GMimeParser) p = g_mime_parser_new_with_stream(head);
    GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
    if (!m) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_INTERNAL, "the carrier's headers do not parse");
        return NULL;
    }
    *body = g_mime_stream_substream(carrier, head_len, g_mime_stream_length(carrier));
    return m;
}

/* A key-server client from the pool (or a new one); give it back with
 * g_async_queue_push(g->clients, kc). */
static sp_kc *client(gw *g, GError **err)
{
    sp_kc *kc = g_async_queue_try_pop(g->clients);
    if (!kc) {
        kc = sp_kc_new(g->cfg->keyserver, err);
        if (kc)
            sp_kc_set_timeout(kc, (long)g->cfg->timeout_s * 1000);
    }
    return kc;
}

/* Put the organisation's brand (cached for BRAND_TTL_US) on d, and its
 * notice in *notice (g_free). One thread at a time refreshes it, outside
 * the lock; the others meanwhile use the brand they find. A brand keyd
 * cannot give right now is not a reason to hold mail back: the last one
 * known, or none, is used. */
static void brand(gw *g, sp_display *d, char **notice)
{
    g_mutex_lock(&g->brand_lock);
    gint64 now = g_get_monotonic_time();
    bool refresh = !g->brand_busy && (!g->brand_at || now - g->brand_at > BRAND_TTL_US);
    g->brand_busy |= refresh;
    g_mutex_unlock(&g->brand_lock);
    if (refresh) {
        g_autoptr(GError) err = NULL;
        sp_kc *kc = client(g, &err);
        sp_kc_brand fresh;
        bool ok = kc && sp_kc_brand_get(kc, g->token, &fresh, &err);
        if (kc)
            g_async_queue_push(g->clients, kc);
        if (!ok)
            g_warning("cannot fetch the organisation's brand (envelopes go out without it for "
                      "now): %s",
                      err ? err->message : "no client");
        g_mutex_lock(&g->brand_lock);
        if (ok) {
            sp_kc_brand_clear(&g->brand);
            g->brand = fresh;
        }
        g->brand_at = now;
        g->brand_busy = false;
        g_mutex_unlock(&g->brand_lock);
    }
    g_mutex_lock(&g->brand_lock);
    d->brand_name = g_strdup(g->brand.name);
    d->brand_color = g_strdup(g->brand.color);
    d->brand_logo = g_strdup(g->brand.logo);
    *notice = g_strdup(g->brand.notice);
    g_mutex_unlock(&g->brand_lock);
}

/* The key request from the profile the policy chose. */
/* A key for the message to the envelope recipients rcpts; keyd is told
 * which of them the envelope does not name (not in named: Bcc). */
static bool get_key(gw *g, const char *from, GPtrArray *rcpts, const GPtrArray *named,
                    const char *profile_name, sp_kc_message *km, GError **err)
{
    const sp_profile *prof = sp_policy_profile(g->policy, profile_name);
    g_autoptr(GHashTable) visible = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < named->len; i++)
        g_hash_table_add(visible, g_utf8_casefold(named->pdata[i], -1));
    g_autoptr(GPtrArray) to = g_ptr_array_new();
    g_autoptr(GPtrArray) bcc = g_ptr_array_new();
    for (guint i = 0; i < rcpts->len; i++) {
        g_autofree char *folded = g_utf8_casefold(rcpts->pdata[i], -1);
        g_ptr_array_add(g_hash_table_contains(visible, folded) ? to : bcc, rcpts->pdata[i]);
    }
    sp_kc_request req = {
        .from = from,
        .to = (const char *const *)to->pdata,
        .n_to = to->len,
        .bcc = (const char *const *)bcc->pdata,
        .n_bcc = bcc->len,
        .security = prof ? prof->security : NULL,
        .expires = prof && prof->expires ? g_get_real_time() / G_USEC_PER_SEC + prof->expires : 0,
        .profile = profile_name,
    };
    sp_kc *kc = client(g, err);
    if (!kc)
        return false;
    bool ok = sp_kc_create_message(kc, g->token, &req, km, err);
    g_async_queue_push(g->clients, kc);
    return ok;
}

/* Seal the message for every envelope recipient (keyd's release rule) while
 * the envelope names only those of its To and Cc: a Bcc recipient is in
 * neither the envelope's header nor its payload (Bcc: fields are left out;
 * Postfix normally drops them before the milter) nor the carrier. */
static void encrypt(gw *g, const gw_msg *m, GMimeStream *in, GMimeMessage *msg, const char *from,
                    const sp_scan_result *sr, gw_result *r)
{
    g_autoptr(GError) err = NULL;
    sp_kc_message km;
    g_autoptr(GPtrArray) named = sp_mime_named_rcpts(msg);
    if (!get_key(g, from, m->rcpts, named, sr->profile, &km, &err)) {
        sp_kc_message_clear(&km);
        tempfail(r,
                 err && err->code == SP_ERR_UNAVAILABLE ? "key server unavailable"
                                                        : "the key server refused the key request",
                 err);
        return;
    }
    sp_header h;
    sp_kc_message_header(&km, from, named, NULL, &h);
    sp_display d = {0};
    /* Without the flag (NULL: the message's own), or generic by profile. */
    const char *subject = km.generic_subject ? "Secure message" : sr->subject;
    d.subject = g_strdup(subject);
    if (m->rcpts->len == 1)
        d.phrase = g_strdup(sp_kc_message_phrase(&km, m->rcpts->pdata[0]));
    g_autofree char *notice = NULL;
    brand(g, &d, &notice);

    bool big = m->spool->file != NULL;
    g_autoptr(GMimeStream) carrier = big ? sp_temp_stream(&err) : g_mime_stream_mem_new();
    g_autoptr(GMimeStream) payload = carrier ? sp_mime_without_bcc(in, NULL, &err) : NULL;
    sp_seal_opts o = {.key = km.key,
                      .hdr = &h,
                      .disp = &d,
                      .mail = true,
                      .crlf = true,
                      .notice = notice,
                      .in_size = -1};
    bool ok = payload && sp_seal(payload, carrier, &o, &err);
    sp_kc_message_clear(&km);
    if (ok) {
        g_strlcpy(r->id, h.id, sizeof r->id);
        g_mime_stream_reset(carrier);
        g_autoptr(GMimeMessage) cm = carrier_split(carrier, &r->body, &err);
        ok = cm != NULL;
        if (ok)
            header_ops(r, m, cm, subject);
    }
    sp_header_clear(&h);
    sp_display_clear(&d);
    if (!ok) {
        tempfail(r, "cannot seal the message", err);
        return;
    }
    r->verdict = GW_ENCRYPT;
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
    bool null_sender = !m->sender || !m->sender[0];
    if ((!null_sender && !config_is_internal(g->cfg, m->sender)) || !any_external(g, m->rcpts))
        return;
    g_autoptr(GMimeStream) in = spool_stream(m->spool);
    g_autoptr(GMimeMessage) msg = parse(in);
    if (!msg) {
        tempfail(r, "cannot read the message", NULL);
        return;
    }
    /* A bounce or a notification (null sender) is ours when its From is. */
    const char *from = null_sender ? from_header(msg) : m->sender;
    if (!from || !config_is_internal(g->cfg, from))
        return;

    g_autoptr(GError) err = NULL;
    sp_scan_result sr;
    if (!sp_scan_message_to(g->scanner, msg, m->rcpts, false, &sr, &err)) {
        tempfail(r, "the policy engine failed", err);
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
        add_op(r, GW_HDR_ADD, sr.rule->tag_header, 0, v);
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
