/*
 * make_seeds.c - writes the generated part of the fuzz seed corpus: envelopes
 * and carrier emails sealed with the fixed fuzzing key (fuzz_common.h), so
 * that mutations of them get past the key check into the payload.
 *
 * Usage: make_seeds CORPUS_DIR
 * writes CORPUS_DIR/fuzz_envelope/gen-*.html (which fuzz_open reads too),
 * CORPUS_DIR/fuzz_open/gen-*.eml and CORPUS_DIR/fuzz_mime/gen-*.eml through sp_seal(), the same
 * code the CLI and the gateway use. The output differs from run to run (ids, salts and nonce
 * prefixes are random), so the seeds are generated once and kept in the repository; run it again
 * only when the envelope format changes.
 */
#include "fuzz_common.h"
#include "seal.h"

#include <errno.h>
#include <string.h>

static const char msg_plain[] =
    "From: Alice Example <alice@example.org>\r\n"
    "To: Bob <bob@example.net>, carol@example.net\r\n"
    "Cc: Bob <BOB@example.net>\r\n"
    "Subject: Quarterly figures\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "Message-ID: <seed-1@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "\r\n"
    "the figures are attached in the usual place. The password is the one we\r\n"
    "agreed on the phone. Please do not forward this message.\r\n"
    "\r\n"
    "Alice\r\n";

static const char msg_multipart[] = "From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>\n"
                                    "To: Team: dora@example.com, \"Eve, E.\" <eve@example.com>;\n"
                                    "Cc: <dora@example.com>\n"
                                    "Reply-To: office@example.de\n"
                                    "Subject: =?utf-8?b?R3LDvMOfZSDigJMgdmVydHJhdWxpY2g=?=\n"
                                    "In-Reply-To: <prev@example.com>\n"
                                    "References: <first@example.com> <prev@example.com>\n"
                                    "MIME-Version: 1.0\n"
                                    "Content-Type: multipart/alternative; boundary=\"b1\"\n"
                                    "\n"
                                    "--b1\n"
                                    "Content-Type: text/plain; charset=utf-8\n"
                                    "Content-Transfer-Encoding: quoted-printable\n"
                                    "\n"
                                    "Vertraulich: gr=C3=BC=C3=9Fe.\n"
                                    "--b1\n"
                                    "Content-Type: text/html; charset=utf-8\n"
                                    "\n"
                                    "<p>Vertraulich</p>\n"
                                    "--b1--\n";

typedef struct {
    const char *name;
    const char *msg;
    uint32_t segment; /* 0: the default */
    bool keyserver;
    gint64 expires; /* relative to FUZZ_NOW; 0: none */
    bool brand;
    bool mail;
} seed;

static const seed seeds[] = {
    {"plain", msg_plain, 0, false, 0, true, false},
    {"empty", "", 0, false, 0, false, false},
    {"multiseg", msg_plain, 64, false, 0, false, false},
    {"keyserver", msg_multipart, 100, true, 3600, true, false},
    {"expired", msg_plain, 0, false, -60, false, false},
    {"carrier-plain", msg_plain, 0, false, 0, true, true},
    {"carrier-multipart", msg_multipart, 64, true, 0, false, true},
};

static bool write_seed(const char *dir, const char *harness, const char *name, const char *ext,
                       const GByteArray *bytes)
{
    g_autofree char *sub = g_build_filename(dir, harness, NULL);
    g_autofree char *file = g_strdup_printf("gen-%s.%s", name, ext);
    g_autofree char *path = g_build_filename(sub, file, NULL);
    g_autoptr(GError) err = NULL;
    if (g_mkdir_with_parents(sub, 0755) != 0 ||
        !g_file_set_contents(path, (const char *)bytes->data, bytes->len, &err)) {
        fprintf(stderr, "make_seeds: cannot write %s: %s\n", path,
                err ? err->message : g_strerror(errno));
        return false;
    }
    printf("%s (%u bytes)\n", path, bytes->len);
    return true;
}

static bool make_seed(const char *dir, const seed *s)
{
    sp_header h;
    sp_header_init(&h);
    h.created = FUZZ_NOW - 86400;
    if (s->segment != 0)
        h.segment_size = s->segment;
    if (s->keyserver) {
        h.access = SP_ACCESS_KEYSERVER;
        h.ks_url = g_strdup("https://keys.example.org");
        h.ks_org = g_strdup("example");
        h.ks_kid = g_strdup("k-2023-11");
    } else {
        h.access = SP_ACCESS_PASSWORD;
        h.kdf_m = 8 * 1024;
        h.kdf_t = 1;
        h.kdf_p = SP_KDF_P_DEFAULT;
        sp_crypto_random(h.salt, sizeof h.salt);
        h.hint = g_strdup("the usual one");
    }
    if (s->expires != 0)
        h.expires = FUZZ_NOW + s->expires;
    sp_display d = {0};
    if (s->brand) {
        d.brand_name = g_strdup("Example Bank");
        d.brand_color = g_strdup("#1f4e79");
        d.brand_logo = g_strdup("data:image/gif;base64,R0lGODlhAQABAAAAACw=");
        d.phrase = g_strdup("blue heron");
    }

    g_autoptr(GMimeStream) in = g_mime_stream_mem_new_with_buffer(s->msg, strlen(s->msg));
    g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
    sp_seal_opts o = {.key = FUZZ_KEY, .hdr = &h, .disp = &d, .mail = s->mail, .in_size = -1};
    g_autoptr(GError) err = NULL;
    bool ok = sp_seal(in, out, &o, &err);
    sp_header_clear(&h);
    sp_display_clear(&d);
    if (!ok) {
        fprintf(stderr, "make_seeds: sealing %s failed: %s\n", s->name, err->message);
        return false;
    }
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    if (s->mail)
        return write_seed(dir, "fuzz_open", s->name, "eml", bytes) &&
               write_seed(dir, "fuzz_mime", s->name, "eml", bytes);
    /* fuzz_open also starts from fuzz_envelope's seeds (scripts/fuzz). */
    return write_seed(dir, "fuzz_envelope", s->name, "html", bytes);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: make_seeds CORPUS_DIR\n", stderr);
        return 1;
    }
    if (!sp_crypto_init())
        return 1;
    sp_mime_init();
    for (size_t i = 0; i < G_N_ELEMENTS(seeds); i++)
        if (!make_seed(argv[1], &seeds[i]))
            return 1;
    return 0;
}
