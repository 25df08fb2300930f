/*
 * sealks.c - seal a message for a key server (see sealks.h): one request
 * to keyd, then the envelope or its carrier, the same for the CLI and the
 * gateway.
 */
#include "sealks.h"

#include "sp_error.h"

#include <string.h>

struct sp_brand_cache {
    GMutex lock;
    sp_kc_brand brand; /* version 0: none known */
};

sp_brand_cache *sp_brand_cache_new(void)
{
    sp_brand_cache *bc = g_new0(sp_brand_cache, 1);
    g_mutex_init(&bc->lock);
    return bc;
}

void sp_brand_cache_free(sp_brand_cache *bc)
{
    if (bc == NULL)
        return;
    sp_kc_brand_clear(&bc->brand);
    g_mutex_clear(&bc->lock);
    g_free(bc);
}

static gint64 cached_version(sp_brand_cache *bc)
{
    if (bc == NULL)
        return 0;
    g_mutex_lock(&bc->lock);
    gint64 v = bc->brand.version;
    g_mutex_unlock(&bc->lock);
    return v;
}

/* The brand for this envelope onto d and *notice: what keyd sent (its body
 * when it changed), kept in bc for the next message. */
static void brand_apply(sp_brand_cache *bc, sp_kc_message *m, sp_display *d, char **notice)
{
    sp_kc_brand local = {0};
    sp_kc_brand *b = &local;
    if (bc != NULL) {
        g_mutex_lock(&bc->lock);
        if (m->brand_body) {
            sp_kc_brand_clear(&bc->brand);
            bc->brand = m->brand;
            memset(&m->brand, 0, sizeof m->brand);
        }
        b = &bc->brand;
    } else if (m->brand_body) {
        b = &m->brand;
    }
    d->brand_name = g_strdup(b->name);
    d->brand_color = g_strdup(b->color);
    d->brand_logo = g_strdup(b->logo);
    *notice = g_strdup(b->notice);
    if (bc != NULL)
        g_mutex_unlock(&bc->lock);
}

void sp_ks_sealed_clear(sp_ks_sealed *r)
{
    g_free(r->subject);
    memset(r, 0, sizeof *r);
}

/* Add the addresses not yet seen (case-insensitive) to out. */
static void add_unseen(GPtrArray *out, GHashTable *seen, const char *const *addrs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (g_hash_table_add(seen, g_utf8_casefold(addrs[i], -1)))
            g_ptr_array_add(out, g_strdup(addrs[i]));
}

/* The sender and the recipients, from the options or else from the
 * message's header block (info). */
static bool who(const sp_msg_info *info, const sp_ks_seal_opts *o, char **from, GPtrArray *named,
                GPtrArray *unnamed, GError **err)
{
    *from = g_strdup(o->from ? o->from : info->from);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    add_unseen(named, seen, o->to, o->n_to);
    if (o->n_to == 0 && o->to_default)
        add_unseen(named, seen, (const char *const *)info->rcpts->pdata, info->rcpts->len);
    add_unseen(unnamed, seen, o->bcc, o->n_bcc);
    if ((*from)[0] == '\0') {
        g_set_error_literal(err, SP_ERROR, SP_ERR_USAGE,
                            "the message has no From address: give the sender (--from)");
        return false;
    }
    if (named->len + unnamed->len == 0) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_USAGE,
                            "the message has no To or Cc address: give the recipients (--to)");
        return false;
    }
    return true;
}

/* sp_seal_keyserver() once the header block is read. */
static bool seal_read(sp_kc *kc, sp_brand_cache *bc, GMimeStream *payload, GByteArray *head,
                      const sp_msg_info *info, GMimeStream *out, const sp_ks_seal_opts *o,
                      gint64 in_size, sp_ks_sealed *res, GError **err)
{
    g_autofree char *from = NULL;
    g_autoptr(GPtrArray) named = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) unnamed = g_ptr_array_new_with_free_func(g_free);
    if (!who(info, o, &from, named, unnamed, err))
        return false;

    sp_kc_request req = {.from = from,
                         .to = (const char *const *)named->pdata,
                         .n_to = named->len,
                         .bcc = (const char *const *)unnamed->pdata,
                         .n_bcc = unnamed->len,
                         .security = o->security,
                         .expires = o->expires,
                         .profile = o->profile,
                         .brand_version = cached_version(bc)};
    sp_kc_message m;
    gint64 asked = g_get_monotonic_time();
    bool got = sp_kc_create_message(kc, o->token, &req, &m, err);
    res->key_ms = (double)(g_get_monotonic_time() - asked) / 1000.0;
    if (!got) {
        sp_kc_message_clear(&m);
        res->key_refused = true;
        return false;
    }

    sp_header h;
    sp_kc_message_header(&m, from, o->shown ? o->shown : named, o->security, &h);
    sp_display d = {0};
    const char *subject = m.generic_subject ? SP_GENERIC_SUBJECT : o->subject;
    d.subject = g_strdup(subject);
    res->subject = g_strdup(subject);
    /* The phrase proves the envelope to its reader: only when it has one. */
    if (named->len + unnamed->len == 1)
        d.phrase = g_strdup(sp_kc_message_phrase(&m, named->len ? named->pdata[0]
                                                                : unnamed->pdata[0]));
    g_autofree char *notice = NULL;
    brand_apply(bc, &m, &d, &notice);
    sp_seal_opts so = {.key = m.key,
                       .hdr = &h,
                       .disp = &d,
                       .max_size = o->max_size,
                       .mail = o->mail,
                       .crlf = o->crlf,
                       .notice = notice,
                       .fields = o->fields,
                       .in_size = in_size};
    bool ok = sp_seal_after_head(payload, head, info, out, &so, err);
    g_strlcpy(res->id, h.id, sizeof res->id);
    sp_kc_message_clear(&m);
    sp_header_clear(&h);
    sp_display_clear(&d);
    return ok;
}

bool sp_seal_keyserver(sp_kc *kc, sp_brand_cache *bc, GMimeStream *in, GMimeStream *out,
                       const sp_ks_seal_opts *o, sp_ks_sealed *res, GError **err)
{
    memset(res, 0, sizeof *res);
    /* A Bcc: field would tell every reader who else got the message. */
    gint64 removed = 0;
    g_autoptr(GMimeStream) payload = sp_mime_without_bcc(in, &removed, err);
    if (payload == NULL)
        return false;
    gint64 in_size = o->in_size >= 0 ? o->in_size - removed : -1;
    /* Before a key is made for a message that cannot be sealed. */
    if (!sp_seal_size_ok(in_size, o->max_size, err))
        return false;
    /* The header block is read once: for the recipients here, then sealed
     * with the rest (sp_seal_after_head). */
    g_autoptr(GByteArray) head = g_byte_array_new();
    sp_msg_info info;
    if (!sp_mime_read_head(payload, head, &info, err))
        return false;
    bool ok = seal_read(kc, bc, payload, head, &info, out, o, in_size, res, err);
    sp_crypto_wipe(head->data, head->len);
    sp_msg_info_clear(&info);
    return ok;
}
