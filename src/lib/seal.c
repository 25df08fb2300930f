/*
 * seal.c - seal and open whole messages; see seal.h.
 */
#include "seal.h"

#include "sp_error.h"
#include "util.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

GMimeStream *sp_temp_stream(GError **err)
{
    g_autofree char *path = NULL;
    GError *e = NULL;
    int fd = g_file_open_tmp("sealpost-XXXXXX", &path, &e);
    if (fd < 0) {
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot create a temporary file: %s", e->message);
        g_error_free(e);
        return NULL;
    }
    g_unlink(path);
    return g_mime_stream_fs_new(fd);
}

static bool too_big(guint64 size, guint64 max, GError **err)
{
    g_set_error(err, SP_ERROR, SP_ERR_TOO_BIG,
                "the message is %s%" G_GUINT64_FORMAT
                " bytes, over the size limit of %" G_GUINT64_FORMAT
                " bytes (raise it with --max-size)",
                size > max ? "" : "more than ", size, max);
    return false;
}

/* Stream the rest of the message into the writer after the head bytes. */
static bool seal_body(GMimeStream *in, sp_env_writer *w, GByteArray *head, guint64 max,
                      GError **err)
{
    guint64 total = head->len;
    if (max && total > max)
        return too_big(total, max, err);
    if (!sp_env_writer_write(w, head->data, head->len, err))
        return false;
    g_autofree guint8 *buf = g_malloc(CHUNK);
    for (;;) {
        gssize n = g_mime_stream_read(in, (char *)buf, CHUNK);
        if (n < 0) {
            g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot read the message: %s",
                        errno ? g_strerror(errno) : "read error");
            return false;
        }
        if (n == 0)
            return true;
        total += (guint64)n;
        if (max && total > max)
            return too_big(total, max, err);
        if (!sp_env_writer_write(w, buf, (size_t)n, err))
            return false;
    }
}

bool sp_seal_size_ok(gint64 size, guint64 max, GError **err)
{
    return !(max && size >= 0 && (guint64)size > max) || too_big((guint64)size, max, err);
}

bool sp_seal(GMimeStream *in, GMimeStream *out, const sp_seal_opts *o, GError **err)
{
    if (!sp_seal_size_ok(o->in_size, o->max_size, err))
        return false;
    g_autoptr(GByteArray) head = g_byte_array_new();
    sp_msg_info info;
    if (!sp_mime_read_head(in, head, &info, err))
        return false;
    bool ok = sp_seal_after_head(in, head, &info, out, o, err);
    sp_crypto_wipe(head->data, head->len);
    sp_msg_info_clear(&info);
    return ok;
}

bool sp_seal_after_head(GMimeStream *in, GByteArray *head, const sp_msg_info *info,
                        GMimeStream *out, const sp_seal_opts *o, GError **err)
{
    sp_header *h = o->hdr;
    sp_display *d = o->disp;
    if (h->from[0] == '\0') {
        g_free(h->from);
        h->from = g_strdup(info->from);
    }
    if (h->to->len == 0)
        for (guint i = 0; i < info->rcpts->len; i++)
            g_ptr_array_add(h->to, g_strdup(g_ptr_array_index(info->rcpts, i)));
    if (d->subject == NULL && info->subject != NULL)
        d->subject = g_strdup(info->subject);
    if (d->sender_name == NULL && info->sender_name[0] != '\0')
        d->sender_name = g_strdup(info->sender_name);

    /* With mail the envelope is made first, then attached: in memory when
     * the message is known to be small, else in an unlinked file. */
    bool small = o->in_size >= 0 && o->in_size <= SP_SEAL_IN_MEMORY;
    g_autoptr(GMimeStream) tmp = !o->mail ? NULL : small ? g_mime_stream_mem_new() : sp_temp_stream(err);
    bool ok = false, seven_bit = false;
    if (!o->mail || tmp != NULL) {
        g_autoptr(sp_env_writer) w = sp_env_writer_new(tmp ? tmp : out, h, d, o->key, err);
        ok = w != NULL && seal_body(in, w, head, o->max_size, err) && sp_env_writer_finish(w, err);
        seven_bit = ok && sp_env_writer_seven_bit(w);
    }
    if (ok && o->mail) {
        g_mime_stream_reset(tmp);
        sp_carrier_opts c = {.info = info,
                             .h = h,
                             .d = d,
                             .notice = o->notice,
                             .crlf = o->crlf,
                             .seven_bit = seven_bit};
        ok = sp_carrier_write(out, &c, tmp, o->fields, err);
    }
    return ok;
}

/* An envelope starts with HTML; anything else is taken for an email. */
static bool looks_like_html(GMimeStream *in)
{
    char buf[1024];
    gssize n = g_mime_stream_read(in, buf, sizeof buf - 1);
    g_mime_stream_reset(in);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    const char *p = buf;
    if ((guchar)p[0] == 0xEF && (guchar)p[1] == 0xBB && (guchar)p[2] == 0xBF)
        p += 3; /* UTF-8 byte order mark */
    while (g_ascii_isspace(*p))
        p++;
    return *p == '<';
}

sp_env_reader *sp_open_reader(GMimeStream *in, bool *is_carrier, GError **err)
{
    *is_carrier = !looks_like_html(in);
    if (!*is_carrier)
        return sp_env_reader_new(in, err);
    g_autoptr(GMimeStream) env = sp_carrier_find_envelope(in, err);
    return env ? sp_env_reader_new(env, err) : NULL;
}

bool sp_open(GMimeStream *in, GMimeStream *out, const sp_open_opts *o, GError **err)
{
    bool carrier;
    g_autoptr(sp_env_reader) r = sp_open_reader(in, &carrier, err);
    if (r == NULL)
        return false;
    const sp_header *h = sp_env_reader_header(r);
    gint64 now = o->now ? o->now : g_get_real_time() / G_USEC_PER_SEC;
    if (h->expires != 0 && now >= h->expires) {
        g_autofree char *when = sp_time_format(h->expires);
        g_set_error(err, SP_ERROR, SP_ERR_REFUSED,
                    "this message expired on %s; ask the sender to send it again", when);
        return false;
    }
    uint8_t key[SP_KEY_LEN];
    if (o->key != NULL) {
        memcpy(key, o->key, SP_KEY_LEN);
    } else if (h->access == SP_ACCESS_PASSWORD && o->password != NULL) {
        if (!sp_crypto_argon2id(key, o->password, o->password_len, h->salt, h->kdf_m, h->kdf_t,
                                h->kdf_p, err))
            return false;
    } else {
        if (h->access == SP_ACCESS_PASSWORD)
            g_set_error_literal(err, SP_ERROR, SP_ERR_USAGE,
                                "this envelope is protected by a password: give it with "
                                "--password-file");
        else
            g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                        "this envelope's key is held by the key server %s: open it in a "
                        "browser, or sign in with --keyserver %s --email ADDR "
                        "--password-file F",
                        h->ks_url, h->ks_url);
        return false;
    }
    bool ok = sp_env_reader_decrypt(r, key, sp_sink_gmime, out, err);
    sp_crypto_wipe(key, sizeof key);
    return ok;
}
