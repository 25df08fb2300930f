/*
 * text.c - bench-scan's inputs, built deterministically from the DLP
 * development corpus (tests/corpus/dlp/messages): the test text (every
 * message's text as the engine extracts it, sp_text_extract(), in file
 * name order, repeated to the size asked for) cut into chunks, and the
 * 20 KB message (a clinical message padded with business text).
 */
#include "text.h"

#include "sp_gmime.h"
#include "textx.h"

#include <string.h>

static GMimeMessage *parse(const char *bytes, size_t len)
{
    g_autoptr(GMimeStream) st = g_mime_stream_mem_new_with_buffer(bytes, len);
    g_autoptr(GMimeParser) pr = g_mime_parser_new_with_stream(st);
    return g_mime_parser_construct_message(pr, NULL);
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The corpus's .eml files whose names start with prefix (NULL: all), sorted. */
static GPtrArray *corpus_files(const char *dir, const char *prefix, GError **err)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, err);
    if (!d) {
        g_prefix_error(err, "cannot read the DLP corpus (use --corpus DIR): ");
        return NULL;
    }
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    for (const char *n; (n = g_dir_read_name(d));)
        if (g_str_has_suffix(n, ".eml") && (!prefix || g_str_has_prefix(n, prefix)))
            g_ptr_array_add(out, g_build_filename(dir, n, NULL));
    g_ptr_array_sort(out, by_name);
    if (!out->len) {
        g_set_error(err, SP_ERROR, SP_ERR_IO, "no %s*.eml messages in %s", prefix ? prefix : "",
                    dir);
        g_ptr_array_unref(out);
        return NULL;
    }
    return out;
}

/* The extracted text of every file, one line break after each part. */
static bool append_text(GString *out, GPtrArray *files, GError **err)
{
    for (guint i = 0; i < files->len; i++) {
        g_autofree char *bytes = NULL;
        gsize len = 0;
        if (!g_file_get_contents(files->pdata[i], &bytes, &len, err))
            return false;
        g_autoptr(GMimeMessage) msg = parse(bytes, len);
        if (!msg)
            continue; /* not a message: nothing a scanner would see */
        g_autoptr(GPtrArray) parts = sp_text_extract(msg, G_MAXUINT64, NULL);
        for (guint p = 0; p < parts->len; p++) {
            const sp_text_part *t = parts->pdata[p];
            g_string_append_len(out, t->text->str, (gssize)t->text->len);
            g_string_append_c(out, '\n');
        }
    }
    return true;
}

/* Where to end a piece of text near want: after the last space or line
 * break at or before it, else at a UTF-8 character boundary. */
static size_t cut_at(const char *t, size_t from, size_t want)
{
    for (size_t e = want; e > from + want / 2 && e > from; e--)
        if (t[e - 1] == ' ' || t[e - 1] == '\n')
            return e;
    size_t e = want;
    while (e > from + 1 && ((unsigned char)t[e] & 0xc0) == 0x80)
        e--;
    return e;
}

bool sb_text_build(const char *dir, size_t bytes, size_t chunk, sb_text *out, GError **err)
{
    g_autoptr(GPtrArray) files = corpus_files(dir, NULL, err);
    if (!files)
        return false;
    GString *one = g_string_new(NULL);
    if (!append_text(one, files, err)) {
        g_string_free(one, TRUE);
        return false;
    }
    out->corpus_messages = files->len;
    out->corpus_bytes = one->len;
    GString *all = g_string_sized_new(bytes + one->len);
    while (all->len + one->len <= bytes)
        g_string_append_len(all, one->str, (gssize)one->len);
    if (all->len < bytes) {
        size_t rest = bytes - all->len;
        g_string_append_len(all, one->str, (gssize)cut_at(one->str, 0, rest));
    }
    g_string_free(one, TRUE);
    out->len = all->len;
    out->text = g_string_free(all, FALSE);
    out->utf8 = g_utf8_validate_len(out->text, out->len, NULL);
    out->chunks.text = out->text;
    out->chunks.len = out->len;
    out->chunks.starts = g_array_new(FALSE, FALSE, sizeof(size_t));
    size_t at = 0;
    g_array_append_val(out->chunks.starts, at);
    while (at < out->len) {
        at = at + chunk >= out->len ? out->len : cut_at(out->text, at, at + chunk);
        g_array_append_val(out->chunks.starts, at);
    }
    return true;
}

void sb_text_clear(sb_text *t)
{
    g_clear_pointer(&t->text, g_free);
    g_clear_pointer(&t->chunks.starts, g_array_unref);
}

guint sb_chunks_upto(const sb_chunks *c, size_t upto, size_t *bytes)
{
    guint n = 0;
    while (n + 1 < c->starts->len && g_array_index(c->starts, size_t, n + 1) <= upto)
        n++;
    if (n == 0 && c->starts->len > 1)
        n = 1;
    if (bytes)
        *bytes = g_array_index(c->starts, size_t, n);
    return n;
}

/* Is the message's only part text/plain without a transfer encoding to undo,
 * so business text can be appended to its body as it is? */
static bool plain_8bit(const char *bytes, size_t len)
{
    g_autoptr(GMimeMessage) msg = parse(bytes, len);
    GMimeObject *part = msg ? g_mime_message_get_mime_part(msg) : NULL;
    if (!part || !GMIME_IS_TEXT_PART(part))
        return false;
    GMimeContentEncoding enc = g_mime_part_get_content_encoding(GMIME_PART(part));
    return enc == GMIME_CONTENT_ENCODING_DEFAULT || enc == GMIME_CONTENT_ENCODING_7BIT ||
           enc == GMIME_CONTENT_ENCODING_8BIT;
}

bool sb_message_build(const char *dir, size_t size, GString **out, char **name, GError **err)
{
    g_autoptr(GPtrArray) clinical = corpus_files(dir, "clinical-", err);
    if (!clinical)
        return false;
    g_autoptr(GPtrArray) business = corpus_files(dir, "business-", err);
    if (!business)
        return false;
    g_autofree char *bytes = NULL;
    gsize len = 0;
    for (guint i = 0; i < clinical->len && !bytes; i++) {
        g_autofree char *b = NULL;
        if (g_file_get_contents(clinical->pdata[i], &b, &len, NULL) && plain_8bit(b, len)) {
            bytes = g_steal_pointer(&b);
            *name = g_path_get_basename(clinical->pdata[i]);
        }
    }
    if (!bytes) {
        g_set_error(err, SP_ERROR, SP_ERR_IO,
                    "no plain-text clinical message in %s to build the 20 KB message from", dir);
        return false;
    }
    g_autoptr(GString) pad = g_string_new(NULL);
    if (!append_text(pad, business, err))
        return false;
    /* the clinical message, then the business text as 72-column lines */
    GString *m = g_string_new_len(bytes, (gssize)len);
    if (m->len && m->str[m->len - 1] != '\n')
        g_string_append_c(m, '\n');
    g_string_append(m, "\n-----Original Message-----\n");
    size_t at = 0;
    while (m->len < size && pad->len) {
        if (at >= pad->len)
            at = 0; /* the business text again, as in a long thread */
        size_t e = at + 72 >= pad->len ? pad->len : cut_at(pad->str, at, at + 72);
        g_string_append_len(m, pad->str + at, (gssize)(e - at));
        if (m->str[m->len - 1] != '\n')
            g_string_append_c(m, '\n');
        at = e;
        while (at < pad->len && pad->str[at] == ' ')
            at++;
    }
    if (m->len > size) {
        size_t e = cut_at(m->str, size / 2, size - 1);
        g_string_truncate(m, e);
        g_string_append_c(m, '\n');
    }
    *out = m;
    return true;
}

GMimeMessage *sb_message_parse(const GString *m)
{
    return parse(m->str, m->len);
}
