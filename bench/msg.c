/*
 * msg.c - the benchmark's test messages: realistic RFC 5322 emails of an
 * exact size (headers, a text/plain part, a base64 attachment of
 * incompressible bytes such as a PDF or a JPEG would be), and comparing two
 * files byte for byte.
 *
 * Messages are deterministic (fixed seed), so runs compare like with like.
 */
#include "bench.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define MIN_MESSAGE 4096u
#define B64_LINE 76u               /* characters of base64 per line */
#define B64_RAW 57u                /* bytes encoded on one line */
#define B64_STRIDE (B64_LINE + 2u) /* with CRLF */
#define LINES_PER_BLOCK 4096u
#define TEXT_MAX (16u * 1024u)
#define BOUNDARY "=-sealpost-bench-7f3a9c"

static const char *const words[] = {
    "the",     "quarterly", "report",  "figures", "attached", "please",   "review",
    "before",  "Thursday",  "meeting", "budget",  "patient",  "records",  "contract",
    "signed",  "legal",     "team",    "draft",   "final",    "version",  "numbers",
    "revenue", "margin",    "account", "invoice", "payment",  "schedule", "thanks",
    "regards", "and",       "of",      "to",      "in",       "for",      "with",
};

/* xorshift64*: fast, deterministic filler for the attachment. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static char *message_head(uint64_t size)
{
    return g_strdup_printf(
        "Return-Path: <alice@example.com>\r\n"
        "Received: from mail.example.com (mail.example.com [192.0.2.10])\r\n"
        "\tby mx.example.org (Postfix) with ESMTPS id 4F1A2B3C4D\r\n"
        "\tfor <bob@example.org>; Tue,  3 Mar 2026 10:15:02 +0000 (UTC)\r\n"
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=mail;\r\n"
        "\th=from:to:cc:subject:date:message-id; "
        "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
        "\tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSwganVzdCBiZW5jaG1hcmsgZmlsbGVyIGRhdGE=\r\n"
        "From: \"Alice Example\" <alice@example.com>\r\n"
        "To: \"Bob Example\" <bob@example.org>, carol@example.net\r\n"
        "Cc: Dave <dave@example.com>\r\n"
        "Subject: Quarterly report and figures (%" G_GUINT64_FORMAT " bytes)\r\n"
        "Date: Tue, 03 Mar 2026 10:15:00 +0000\r\n"
        "Message-ID: <bench-%" G_GUINT64_FORMAT "@mail.example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"" BOUNDARY "\"\r\n"
        "\r\n"
        "This is a multi-part message in MIME format.\r\n"
        "--" BOUNDARY "\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n",
        size, size);
}

static const char attachment_head[] = "--" BOUNDARY "\r\n"
                                      "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
                                      "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
                                      "Content-Transfer-Encoding: base64\r\n"
                                      "\r\n";

static const char message_tail[] = "--" BOUNDARY "--\r\n";

/* Lines of words, about target bytes, CRLF-terminated. */
static GString *message_text(size_t target)
{
    GString *t = g_string_new("Hi Bob,\r\n\r\n");
    GRand *r = g_rand_new_with_seed(20260303);
    size_t line = 0;
    while (t->len < target) {
        const char *w = words[g_rand_int_range(r, 0, (gint32)G_N_ELEMENTS(words))];
        if (line + strlen(w) + 1 > 72) {
            g_string_append(t, "\r\n");
            line = 0;
        } else if (line > 0) {
            g_string_append_c(t, ' ');
            line++;
        }
        g_string_append(t, w);
        line += strlen(w);
    }
    g_string_append(t, "\r\n");
    g_rand_free(r);
    return t;
}

/* Lengthen the last text line by n characters (n < B64_STRIDE) so the
 * attachment can be whole lines and the file still has the exact size. */
static void pad_text(GString *t, size_t n)
{
    static const char filler[] = " Best wishes from the benchmark, Alice.";
    g_string_truncate(t, t->len - 2);
    for (size_t i = 0; i < n; i++)
        g_string_append_c(t, filler[i % (sizeof filler - 1)]);
    g_string_append(t, "\r\n");
}

static bool put(FILE *f, const void *p, size_t n, const char *path, GError **err)
{
    if (n == 0 || fwrite(p, 1, n, f) == n)
        return true;
    g_set_error(err, BENCH_ERROR, 1, "cannot write %s: %s", path, g_strerror(errno));
    return false;
}

/* lines base64 lines of 76 characters of random bytes. */
static bool put_attachment(FILE *f, uint64_t lines, const char *path, GError **err)
{
    g_autofree uint8_t *raw = g_malloc(B64_RAW * LINES_PER_BLOCK + 8);
    g_autofree char *text = g_malloc(B64_STRIDE * LINES_PER_BLOCK + 1);
    uint64_t seed = 0x5ea1905712345678ULL;
    while (lines > 0) {
        size_t n = (size_t)MIN(lines, (uint64_t)LINES_PER_BLOCK);
        for (size_t i = 0; i < B64_RAW * n; i += 8) {
            uint64_t v = next_random(&seed);
            memcpy(raw + i, &v, 8);
        }
        for (size_t i = 0; i < n; i++) {
            char *line = text + i * B64_STRIDE;
            EVP_EncodeBlock((unsigned char *)line, raw + i * B64_RAW, (int)B64_RAW);
            line[B64_LINE] = '\r';
            line[B64_LINE + 1] = '\n';
        }
        if (!put(f, text, n * B64_STRIDE, path, err))
            return false;
        lines -= n;
    }
    return true;
}

static bool write_parts(FILE *f, const char *head, const GString *text, uint64_t lines,
                        const char *path, GError **err)
{
    return put(f, head, strlen(head), path, err) && put(f, text->str, text->len, path, err) &&
           put(f, attachment_head, strlen(attachment_head), path, err) &&
           put_attachment(f, lines, path, err) &&
           put(f, message_tail, strlen(message_tail), path, err);
}

bool bench_write_message(const char *path, uint64_t size, GError **err)
{
    if (size < MIN_MESSAGE) {
        g_set_error(err, BENCH_ERROR, 1, "test messages must be at least %u bytes", MIN_MESSAGE);
        return false;
    }
    g_autofree char *head = message_head(size);
    g_autoptr(GString) text = message_text(MIN(size / 5, (uint64_t)TEXT_MAX));
    uint64_t fixed = strlen(head) + text->len + strlen(attachment_head) + strlen(message_tail);
    if (fixed > size) {
        g_set_error(err, BENCH_ERROR, 1, "%" G_GUINT64_FORMAT " bytes is too small", size);
        return false;
    }
    pad_text(text, (size_t)((size - fixed) % B64_STRIDE));
    FILE *f = g_fopen(path, "wb");
    if (f == NULL) {
        g_set_error(err, BENCH_ERROR, 1, "cannot create %s: %s", path, g_strerror(errno));
        return false;
    }
    bool ok = write_parts(f, head, text, (size - fixed) / B64_STRIDE, path, err);
    if (fclose(f) != 0 && ok) {
        g_set_error(err, BENCH_ERROR, 1, "cannot write %s: %s", path, g_strerror(errno));
        ok = false;
    }
    return ok;
}

static bool map_file(const char *path, GMappedFile **m, GError **err)
{
    *m = g_mapped_file_new(path, FALSE, err);
    return *m != NULL;
}

bool bench_files_equal(const char *a, const char *b, GError **err)
{
    g_autoptr(GMappedFile) ma = NULL;
    g_autoptr(GMappedFile) mb = NULL;
    if (!map_file(a, &ma, err) || !map_file(b, &mb, err))
        return false;
    size_t la = g_mapped_file_get_length(ma), lb = g_mapped_file_get_length(mb);
    const char *pa = g_mapped_file_get_contents(ma), *pb = g_mapped_file_get_contents(mb);
    if (la == lb && (la == 0 || memcmp(pa, pb, la) == 0))
        return true;
    size_t i = 0;
    while (i < la && i < lb && pa[i] == pb[i])
        i++;
    g_set_error(err, BENCH_ERROR, 1,
                "%s (%zu bytes) differs from %s (%zu bytes) at byte %zu: the round trip "
                "did not give back the message",
                b, lb, a, la, i);
    return false;
}
