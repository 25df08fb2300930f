/*
 * keyclient_fields.c - the fields the API calls send and receive, checked
 * and kept secret: message ids, tokens and keys are checked before use, and
 * JSON that holds a key, a token or a password is wiped or kept in guarded
 * memory. Used by keyclient_calls.c; declared in keyclient_int.h.
 */
#include "keyclient_int.h"

#include "sp_error.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>

/* Wipe a string value held inside a Jansson object (a key, a token or a
 * password) before the object is freed. Jansson owns the bytes; the const
 * is cast away for this one purpose. */
void kc_wipe_json_string(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (json_is_string(v))
        sodium_memzero((char *)json_string_value(v), json_string_length(v));
}

/* Serialise doc into guarded memory (it may hold a password); free with
 * sodium_free(). */
char *kc_dump_secret_json(const json_t *doc, size_t *len)
{
    size_t n = json_dumpb(doc, NULL, 0, JSON_COMPACT);
    if (n == 0)
        g_error("cannot serialise a key-server request");
    char *buf = sodium_malloc(n + 1);
    if (buf == NULL)
        g_error("out of memory for a key-server request");
    json_dumpb(doc, buf, n, JSON_COMPACT);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* A 32-byte key in standard base64 (44 characters, one '='), strictly. */
bool kc_decode_key(const char *text, uint8_t key[SP_KEY_LEN])
{
    if (text == NULL || strlen(text) != 44 || text[43] != '=' || text[42] == '=')
        return false;
    for (size_t i = 0; i < 43; i++)
        if (!g_ascii_isalnum(text[i]) && text[i] != '+' && text[i] != '/')
            return false;
    unsigned char raw[33]; /* EVP_DecodeBlock counts the padding as a zero byte */
    int n = EVP_DecodeBlock(raw, (const unsigned char *)text, 44);
    bool ok = n == 33 && raw[32] == 0;
    if (ok)
        memcpy(key, raw, SP_KEY_LEN);
    sodium_memzero(raw, sizeof raw);
    return ok;
}

bool kc_valid_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isalnum(id[i]) && id[i] != '-' && id[i] != '_')
            return false;
    return true;
}

bool kc_valid_token(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (n == 0 || n > TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (t[i] < 0x21 || t[i] > 0x7e)
            return false;
    return true;
}

bool kc_bad_id(const char *id, GError **err)
{
    (void)id; /* not echoed: it may be anything */
    g_set_error_literal(err, SP_ERROR, SP_ERR_USAGE,
                        "the message id is not valid (base64url characters only)");
    return false;
}
