/*
 * attest.c - keyd's Ed25519 signatures (attest.h).
 */
#include "attest.h"

#include "api.h"
#include "kek.h"
#include "util.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

#define SIGN_LABEL "sealpost attestation signing key v1"
#define GRANT_CONTEXT "sealpost reply grant v1"

/* The last key pair derived, by KEK id: deriving it (BLAKE2b, then a
 * scalar multiplication) on every key release would cost the hottest path
 * more than the signature. One ring per process, so one slot. */
static GMutex pair_lock;
static char pair_kid[48];
static uint8_t pair_pk[KS_SIGN_PK_LEN];
static uint8_t *pair_sk; /* sodium_malloc'd, crypto_sign_SECRETKEYBYTES */

/* The key pair of KEK kid (NULL: the current one) into kid_out, pk and
 * sk (the caller wipes sk); false when the ring has no such KEK. */
static bool key_pair(ks_server *srv, const char *kid, char kid_out[48], uint8_t pk[KS_SIGN_PK_LEN],
                     uint8_t sk[crypto_sign_SECRETKEYBYTES])
{
    g_rw_lock_reader_lock(&srv->ring_lock);
    int i = kid ? kek_index(srv->ring, kid) : 0;
    if (i >= 0) {
        g_strlcpy(kid_out, kek_id_at(srv->ring, i), 48);
        g_mutex_lock(&pair_lock);
        if (!pair_sk && !(pair_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)))
            g_error("attest: out of guarded memory");
        if (strcmp(pair_kid, kid_out) != 0) {
            uint8_t seed[32];
            kek_derive(srv->ring, i, SIGN_LABEL, seed);
            crypto_sign_seed_keypair(pair_pk, pair_sk, seed);
            sodium_memzero(seed, sizeof seed);
            g_strlcpy(pair_kid, kid_out, sizeof pair_kid);
        }
        memcpy(pk, pair_pk, KS_SIGN_PK_LEN);
        memcpy(sk, pair_sk, crypto_sign_SECRETKEYBYTES);
        g_mutex_unlock(&pair_lock);
    }
    g_rw_lock_reader_unlock(&srv->ring_lock);
    return i >= 0;
}

static GByteArray *signed_bytes(const char *context, const uint8_t *msg, size_t len)
{
    GByteArray *b = g_byte_array_sized_new((guint)(strlen(context) + 1 + len));
    g_byte_array_append(b, (const guint8 *)context, (guint)strlen(context) + 1);
    g_byte_array_append(b, msg, (guint)len);
    return b;
}

static void sign_with(const uint8_t sk[crypto_sign_SECRETKEYBYTES], const char *context,
                      const uint8_t *msg, size_t len, uint8_t sig[KS_SIG_LEN])
{
    g_autoptr(GByteArray) b = signed_bytes(context, msg, len);
    crypto_sign_detached(sig, NULL, b->data, b->len, sk);
}

void attest_sign(ks_server *srv, const char *context, const uint8_t *msg, size_t len, char **kid,
                 uint8_t sig[KS_SIG_LEN])
{
    char id[48];
    uint8_t pk[KS_SIGN_PK_LEN], sk[crypto_sign_SECRETKEYBYTES];
    key_pair(srv, NULL, id, pk, sk); /* the current KEK always exists */
    sign_with(sk, context, msg, len, sig);
    sodium_memzero(sk, sizeof sk);
    *kid = g_strdup(id);
}

bool attest_verify(ks_server *srv, const char *kid, const char *context, const uint8_t *msg,
                   size_t len, const uint8_t sig[KS_SIG_LEN])
{
    char id[48];
    uint8_t pk[KS_SIGN_PK_LEN], sk[crypto_sign_SECRETKEYBYTES];
    bool known = key_pair(srv, kid, id, pk, sk);
    sodium_memzero(sk, sizeof sk);
    if (!known)
        return false;
    g_autoptr(GByteArray) b = signed_bytes(context, msg, len);
    return crypto_sign_verify_detached(sig, b->data, b->len, pk) == 0;
}

json_t *attest_public_keys(ks_server *srv)
{
    g_rw_lock_reader_lock(&srv->ring_lock);
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < kek_count(srv->ring); i++)
        g_ptr_array_add(ids, g_strdup(kek_id_at(srv->ring, i)));
    g_rw_lock_reader_unlock(&srv->ring_lock);
    json_t *keys = json_array();
    for (guint i = 0; i < ids->len; i++) {
        char id[48];
        uint8_t pk[KS_SIGN_PK_LEN], sk[crypto_sign_SECRETKEYBYTES];
        bool known = key_pair(srv, ids->pdata[i], id, pk, sk);
        sodium_memzero(sk, sizeof sk);
        if (!known)
            continue; /* dropped by a rotation meanwhile */
        g_autofree char *pub = sp_b64url_encode(pk, sizeof pk);
        json_array_append_new(
            keys, json_pack("{s:s, s:s, s:s}", "kid", id, "alg", "Ed25519", "public_key", pub));
    }
    return keys;
}

/* A grant is "spy_" STATEMENT "." SIGNATURE, both base64url; the statement
 * is the JSON {"k": signing kid, "m": message id, "a": recipient, "e":
 * expiry}. Nothing is stored: a grant ends at its expiry, and the replies
 * call checks the message's state and profile afresh. */
char *attest_grant_make(ks_server *srv, const char *id, const char *rcpt, gint64 expires)
{
    char kid[48];
    uint8_t pk[KS_SIGN_PK_LEN], sk[crypto_sign_SECRETKEYBYTES], sig[KS_SIG_LEN];
    key_pair(srv, NULL, kid, pk, sk);
    json_t *st =
        json_pack("{s:s, s:s, s:s, s:I}", "k", kid, "m", id, "a", rcpt, "e", (json_int_t)expires);
    char *text = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(st);
    sign_with(sk, GRANT_CONTEXT, (const uint8_t *)text, strlen(text), sig);
    sodium_memzero(sk, sizeof sk);
    g_autofree char *a = sp_b64url_encode((const uint8_t *)text, strlen(text));
    g_autofree char *b = sp_b64url_encode(sig, sizeof sig);
    free(text);
    return g_strconcat("spy_", a, ".", b, NULL);
}

bool attest_grant_check(ks_server *srv, const char *token, gint64 now, char **id, char **rcpt)
{
    if (!token || !g_str_has_prefix(token, "spy_") || strlen(token) > 2048)
        return false;
    const char *dot = strchr(token + 4, '.');
    if (!dot)
        return false;
    g_autofree char *st_b64 = g_strndup(token + 4, (gsize)(dot - token - 4));
    size_t st_len = 0;
    g_autofree uint8_t *st = sp_b64url_decode(st_b64, &st_len);
    uint8_t sig[KS_SIG_LEN];
    if (!st || !sp_b64url_decode_exact(dot + 1, sig, sizeof sig))
        return false;
    json_t *o = json_loadb((const char *)st, st_len, JSON_REJECT_DUPLICATES, NULL);
    const char *kid = NULL, *m = NULL, *a = NULL;
    json_int_t e = 0;
    bool ok = o &&
              json_unpack(o, "{s:s, s:s, s:s, s:I}", "k", &kid, "m", &m, "a", &a, "e", &e) == 0 &&
              e > now && attest_verify(srv, kid, GRANT_CONTEXT, st, st_len, sig);
    if (ok) {
        *id = g_strdup(m);
        *rcpt = g_strdup(a);
    }
    json_decref(o);
    return ok;
}

void api_attestation_keys(ks_req *r)
{
    reply_json(r, 200, json_pack("{s:o}", "keys", attest_public_keys(req_server(r))));
}
