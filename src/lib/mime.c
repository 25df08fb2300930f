/*
 * mime.c - MIME intake with GMime; see mime.h.
 */
#include "mime.h"

#include "crypto.h"
#include "sp_error.h"

#include <errno.h>
#include <string.h>

void sp_mime_init(void)
{
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        g_mime_init();
        g_once_init_leave(&done, 1);
    }
}

/* Offset just past the blank line that ends the header block, looking at
 * line ends from offset from on, or 0 if none is in data yet. A message that
 * starts with a blank line has no headers. */
static size_t head_end(const guint8 *data, size_t len, size_t from)
{
    if (from == 0 && len >= 1 && data[0] == '\n')
        return 1;
    if (from == 0 && len >= 2 && data[0] == '\r' && data[1] == '\n')
        return 2;
    for (size_t i = from; i + 1 < len; i++) {
        if (data[i] != '\n')
            continue;
        if (data[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static char *valid_utf8(const char *s)
{
    if (s == NULL)
        return NULL;
    return g_utf8_make_valid(s, -1);
}

static void add_mailboxes(InternetAddressList *list, GPtrArray *out, GHashTable *seen)
{
    int n = list ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            add_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out,
                          seen);
            continue;
        }
        const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        if (addr == NULL || addr[0] == '\0')
            continue;
        char *a = valid_utf8(addr);
        g_autofree char *key = g_utf8_casefold(a, -1);
        if (g_hash_table_contains(seen, key)) {
            g_free(a);
            continue;
        }
        g_hash_table_add(seen, g_steal_pointer(&key));
        g_ptr_array_add(out, a);
    }
}

GPtrArray *sp_mime_named_rcpts(GMimeMessage *msg)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    add_mailboxes(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), out, seen);
    add_mailboxes(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC), out, seen);
    return out;
}

void sp_mime_parse_head(const guint8 *data, size_t len, sp_msg_info *info)
{
    memset(info, 0, sizeof *info);
    info->from = g_strdup("");
    info->sender_name = g_strdup("");
    info->rcpts = g_ptr_array_new_with_free_func(g_free);
    size_t end = head_end(data, len, 0);
    if (end == 0)
        end = len;
    /* A header block alone, ended by a blank line, parses as a message with
     * an empty body. GMime copes with broken and 8-bit headers. */
    g_autoptr(GByteArray) block = g_byte_array_sized_new((guint)end + 2);
    g_byte_array_append(block, data, (guint)end);
    g_byte_array_append(block, (const guint8 *)"\n\n", 2);
    g_autoptr(GMimeStream) mem =
        g_mime_stream_mem_new_with_buffer((const char *)block->data, block->len);
    g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(mem);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    info->head = g_mime_parser_construct_message(parser, NULL);
    if (info->head == NULL)
        return;

    InternetAddressList *from = g_mime_message_get_from(info->head);
    if (from != NULL && internet_address_list_length(from) > 0) {
        g_autoptr(GPtrArray) addrs = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        add_mailboxes(from, addrs, seen);
        if (addrs->len > 0) {
            g_free(info->from);
            info->from = g_strdup(g_ptr_array_index(addrs, 0));
        }
        const char *name = internet_address_get_name(internet_address_list_get_address(from, 0));
        g_free(info->sender_name);
        info->sender_name = valid_utf8(name && name[0] ? name : info->from);
    }
    g_ptr_array_unref(info->rcpts);
    info->rcpts = sp_mime_named_rcpts(info->head);
    info->subject = valid_utf8(g_mime_message_get_subject(info->head));
}

bool sp_mime_read_head(GMimeStream *in, GByteArray *head, sp_msg_info *info, GError **err)
{
    char buf[16 * 1024];
    size_t scanned = 0;
    while (head->len < SP_MIME_HEAD_MAX) {
        gssize n = g_mime_stream_read(in, buf, MIN(sizeof buf, SP_MIME_HEAD_MAX - head->len));
        if (n < 0) {
            memset(info, 0, sizeof *info);
            g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot read the message: %s",
                        errno ? g_strerror(errno) : "read error");
            return false;
        }
        if (n == 0)
            break;
        g_byte_array_append(head, (const guint8 *)buf, (guint)n);
        /* Look again only at what is new, with 2 bytes of overlap. */
        if (head_end(head->data, head->len, scanned > 2 ? scanned - 2 : 0) != 0)
            break;
        scanned = head->len;
    }
    sp_mime_parse_head(head->data, head->len, info);
    return true;
}

void sp_msg_info_clear(sp_msg_info *info)
{
    if (info->head != NULL)
        g_object_unref(info->head);
    g_free(info->from);
    g_free(info->sender_name);
    g_free(info->subject);
    if (info->rcpts != NULL)
        g_ptr_array_unref(info->rcpts);
    memset(info, 0, sizeof *info);
}

/* Whether the header field starting at line is Bcc: or Resent-Bcc:. */
static bool bcc_field(const guint8 *line, size_t len)
{
    static const char *const names[] = {"bcc", "resent-bcc"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        size_t n = strlen(names[i]);
        size_t k = n;
        while (k < len && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (len > n && g_ascii_strncasecmp((const char *)line, names[i], n) == 0 && k < len &&
            line[k] == ':')
            return true;
    }
    return false;
}

GMimeStream *sp_mime_without_bcc(GMimeStream *in, gint64 *removed, GError **err)
{
    if (removed)
        *removed = 0;
    if (g_mime_stream_reset(in) != 0) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_IO, "cannot rewind the message");
        return NULL;
    }
    g_autoptr(GByteArray) head = g_byte_array_new();
    sp_msg_info info;
    bool ok = sp_mime_read_head(in, head, &info, err);
    sp_msg_info_clear(&info);
    if (!ok)
        return NULL;
    size_t end = head_end(head->data, head->len, 0);
    if (end == 0)
        end = head->len; /* headers only, or a header block past SP_MIME_HEAD_MAX */
    GByteArray *kept = g_byte_array_sized_new((guint)end);
    bool skipping = false;
    for (size_t i = 0; i < end;) {
        const guint8 *nl = memchr(head->data + i, '\n', end - i);
        size_t next = nl ? (size_t)(nl - head->data) + 1 : end;
        bool continuation = head->data[i] == ' ' || head->data[i] == '\t';
        if (!continuation)
            skipping = bcc_field(head->data + i, next - i);
        if (!skipping)
            g_byte_array_append(kept, head->data + i, (guint)(next - i));
        i = next;
    }
    gint64 gone = (gint64)(end - kept->len);
    sp_crypto_wipe(head->data, head->len);
    bool rewound = g_mime_stream_reset(in) == 0;
    if (gone == 0 || !rewound) {
        sp_crypto_wipe(kept->data, kept->len);
        g_byte_array_unref(kept);
        if (!rewound) {
            g_set_error_literal(err, SP_ERROR, SP_ERR_IO, "cannot rewind the message");
            return NULL;
        }
        return g_object_ref(in);
    }
    if (removed)
        *removed = gone;
    GMimeStream *cat = g_mime_stream_cat_new();
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new_with_byte_array(kept); /* owns kept */
    g_autoptr(GMimeStream) rest = g_mime_stream_substream(in, (gint64)end, -1);
    g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), mem);
    g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), rest);
    return cat;
}
