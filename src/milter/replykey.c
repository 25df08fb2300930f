/*
 * replykey.c - --genkey and --register-key (replykey.h).
 */
#include "replykey.h"

#include "gateway.h"
#include "hpke.h"
#include "mime.h"
#include "util.h"

#include <curl/curl.h>
#include <stdio.h>

static void print_key(const sp_hpke_key *k)
{
    uint8_t pk[SP_HPKE_PK_LEN];
    char kid[23];
    sp_hpke_key_public(k, pk);
    sp_hpke_key_id(pk, kid);
    g_autofree char *pub = sp_b64url_encode(pk, sizeof pk);
    printf("kid %s\npublic_key %s\n", kid, pub);
}

/* Register k with the key server the settings name: the exit status. */
static int register_key(const sp_hpke_key *k, const char *path, const mt_flags *f)
{
    g_autoptr(GError) err = NULL;
    mt_config cfg = {0};
    mt_flags kf = *f;
    kf.keyserver_only = true;
    if (!config_load(&cfg, &kf, &err)) {
        fprintf(stderr, "sealpost-milter: %s\n", err->message);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sp_mime_init();
    gw *g = gw_new(&cfg, &err);
    uint8_t pk[SP_HPKE_PK_LEN];
    char kid[23];
    sp_hpke_key_public(k, pk);
    sp_hpke_key_id(pk, kid);
    bool added = false, current = false;
    bool ok = g && gw_register_reply_key(g, pk, &added, &current, &err);
    if (ok)
        fprintf(stderr, "sealpost-milter: reply key %s %s at %s; %s\n", kid,
                added ? "registered" : "was registered already", cfg.keyserver,
                current ? "new envelopes carry it"
                        : "it is not the current one (a newer key is, or it was retired)");
    else
        fprintf(stderr,
                "sealpost-milter: reply key %s (%s) is not registered: %s\n"
                "(try again with: sealpost-milter -c CONFIG --register-key %s)\n",
                kid, path, err->message, path);
    gw_free(g);
    config_clear(&cfg);
    curl_global_cleanup();
    return ok ? 0 : 3;
}

int mt_genkey(const char *path, const mt_flags *f)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_hpke_key) k = sp_hpke_key_generate(&err);
    if (!k || !sp_hpke_key_save(k, path, &err)) {
        fprintf(stderr, "sealpost-milter: %s\n", err->message);
        return 2;
    }
    print_key(k);
    fprintf(stderr, "sealpost-milter: wrote the reply key %s; it stays on the gateway\n", path);
    if (!f->config && !f->keyserver) {
        fprintf(stderr,
                "sealpost-milter: no key server given: register it with "
                "sealpost-milter -c CONFIG --register-key %s\n",
                path);
        return 0;
    }
    return register_key(k, path, f);
}

int mt_register_key(const char *path, const mt_flags *f)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_hpke_key) k = sp_hpke_key_load(path, &err);
    if (!k) {
        fprintf(stderr, "sealpost-milter: %s\n", err->message);
        return 2;
    }
    print_key(k);
    return register_key(k, path, f);
}
