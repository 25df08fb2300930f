/*
 * answer_tool.c - a sealed answer written by the C library, for the tests
 * of keyd's relay and the gateway (the browser writes the real ones:
 * web/src/opener/answer-seal.js). Built for the tests only.
 *
 *   answer_tool seal PUBLIC_KEY MESSAGE ORG ACTION FROM TO[,TO...] IN OUT
 *
 * PUBLIC_KEY is the reply key as sealpost-milter --genkey prints it
 * (base64url), MESSAGE the envelope answered ("-" for compose), ACTION
 * reply|replyAll|forward|compose, IN the RFC 5322 message, OUT the sealed
 * answer. Prints the answer's id. Exit status 0, 1 usage, 2 failure.
 */
#include "answer.h"
#include "sp_error.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

static int failed(GError *err)
{
    fprintf(stderr, "answer_tool: %s\n", err ? err->message : "failed");
    g_clear_error(&err);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc != 10 || strcmp(argv[1], "seal") != 0) {
        fprintf(stderr, "usage: answer_tool seal PUBLIC_KEY MESSAGE ORG ACTION FROM TO IN OUT\n");
        return 1;
    }
    if (!sp_crypto_init())
        return 2;
    g_mime_init();
    GError *err = NULL;
    uint8_t pk[SP_REPLY_PK_LEN];
    sp_answer_action action;
    if (!sp_b64url_decode_exact(argv[2], pk, sizeof pk) ||
        !sp_answer_action_parse(argv[5], &action)) {
        fprintf(stderr, "answer_tool: bad public key or action\n");
        return 1;
    }
    gchar *msg = NULL;
    gsize len = 0;
    if (!g_file_get_contents(argv[8], &msg, &len, &err))
        return failed(err);
    sp_header h;
    sp_header_init(&h);
    h.answer_action = action;
    h.answer_message = strcmp(argv[3], "-") ? g_strdup(argv[3]) : NULL;
    h.answer_org = g_strdup(argv[4]);
    g_free(h.from);
    h.from = g_strdup(argv[6]);
    g_auto(GStrv) to = g_strsplit(argv[7], ",", -1);
    for (char **t = to; *t; t++)
        g_ptr_array_add(h.to, g_strdup(*t));
    uint8_t key[SP_KEY_LEN];
    sp_crypto_random(key, sizeof key);
    GMimeStream *out = g_mime_stream_fs_open(argv[9], O_WRONLY | O_CREAT | O_TRUNC, 0600, &err);
    bool ok = out && sp_answer_wrap(&h, pk, key, &err);
    sp_env_writer *w = ok ? sp_env_writer_new(out, &h, &(sp_display){0}, key, &err) : NULL;
    ok = w && sp_env_writer_write(w, (const uint8_t *)msg, len, &err) &&
         sp_env_writer_finish(w, &err);
    if (w)
        sp_env_writer_free(w);
    if (out)
        g_object_unref(out);
    if (ok)
        printf("%s\n", h.id);
    sp_crypto_wipe(key, sizeof key);
    sp_header_clear(&h);
    g_free(msg);
    return ok ? 0 : failed(err);
}
