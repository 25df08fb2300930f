/*
 * auth.c - password rules, Argon2id hashing and token handling (auth.h).
 */
#include "auth.h"

#include "crypto.h"
#include "util.h"

#include <sodium.h>
#include <string.h>

static GHashTable *blocklist; /* set once at start-up, read-only after */

bool auth_blocklist_load(const char *path, GError **err)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    if (!path || !g_file_get_contents(path, &text, &len, err)) {
        if (!path)
            g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT, "no password blocklist configured");
        g_prefix_error(err, "password blocklist: ");
        return false;
    }
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        g_strchomp(line);
        if (*line && *line != '#')
            g_hash_table_add(t, g_utf8_strdown(line, -1));
    }
    auth_blocklist_free();
    blocklist = t;
    return true;
}

size_t auth_blocklist_size(void)
{
    return blocklist ? g_hash_table_size(blocklist) : 0;
}

void auth_blocklist_free(void)
{
    if (blocklist)
        g_hash_table_destroy(blocklist);
    blocklist = NULL;
}

const char *auth_password_problem(const char *password, const char *email)
{
    if (!g_utf8_validate(password, -1, NULL))
        return "The password is not valid text.";
    glong chars = g_utf8_strlen(password, -1);
    if (chars < AUTH_PASSWORD_MIN)
        return "Use at least 8 characters.";
    if (chars > AUTH_PASSWORD_MAX)
        return "Use at most 256 characters.";
    g_autofree char *norm = g_utf8_normalize(password, -1, G_NORMALIZE_NFC);
    g_autofree char *lower = g_utf8_strdown(norm, -1);
    gunichar first = g_utf8_get_char(lower);
    bool same = true;
    for (const char *p = lower; *p; p = g_utf8_next_char(p))
        if (g_utf8_get_char(p) != first)
            same = false;
    if (same)
        return "Do not repeat one character.";
    if (blocklist && g_hash_table_contains(blocklist, lower))
        return "This password is too common: it appears in lists attackers try first. "
               "Choose a less predictable one (a few unrelated words work well).";
    if (email) {
        g_autofree char *mail = g_utf8_strdown(email, -1);
        char *at = strchr(mail, '@');
        if (strcmp(lower, mail) == 0 || (at && strlen(lower) == (size_t)(at - mail) &&
                                         strncmp(lower, mail, (size_t)(at - mail)) == 0))
            return "Do not use your email address as the password.";
    }
    return NULL;
}

char *auth_hash(const auth_params *p, const char *secret, size_t len)
{
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, secret, len, p->passes, (size_t)p->memory_kib * 1024,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return NULL;
    return g_strdup(out);
}

bool auth_verify(const char *encoded, const char *secret, size_t len)
{
    if (!encoded || !g_str_has_prefix(encoded, "$argon2id$"))
        return false;
    return crypto_pwhash_str_verify(encoded, secret, len) == 0;
}

/* NFC of a password (a copy; the bytes as given when not valid UTF-8). */
static char *nfc(const char *password)
{
    char *n = g_utf8_normalize(password, -1, G_NORMALIZE_NFC);
    return n ? n : g_strdup(password);
}

static void wipe_free(char *s)
{
    sodium_memzero(s, strlen(s));
    g_free(s);
}

char *auth_password_hash(const auth_params *p, const char *password)
{
    char *n = nfc(password);
    char *h = auth_hash(p, n, strlen(n));
    wipe_free(n);
    return h;
}

bool auth_password_verify(const char *encoded, const char *password)
{
    char *n = nfc(password);
    bool ok = auth_verify(encoded, n, strlen(n));
    wipe_free(n);
    return ok;
}

void auth_verify_dummy(const auth_params *p, const char *secret, size_t len)
{
    g_autofree char *h = auth_hash(p, secret, len);
    (void)h;
}

char *auth_token_new(const char *prefix, uint8_t hash[KS_HASH_LEN])
{
    uint8_t raw[AUTH_TOKEN_BYTES];
    sp_crypto_random(raw, sizeof raw);
    g_autofree char *b64 = sp_b64url_encode(raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    char *token = g_strconcat(prefix, b64, NULL);
    sodium_memzero(b64, strlen(b64));
    sp_crypto_sha256(token, strlen(token), hash);
    return token;
}

bool auth_token_hash(const char *token, const char *prefix, uint8_t hash[KS_HASH_LEN])
{
    size_t plen = strlen(prefix);
    /* 32 bytes in base64url without padding are 43 characters. */
    if (!token || strlen(token) != plen + 43 || strncmp(token, prefix, plen) != 0)
        return false;
    for (const char *p = token + plen; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
            return false;
    sp_crypto_sha256(token, strlen(token), hash);
    return true;
}

char *auth_csrf_token(const char *session_token)
{
    static const char label[] = "sealpost csrf v1\n";
    size_t n = sizeof label - 1, t = strlen(session_token);
    g_autofree uint8_t *in = g_malloc(n + t);
    memcpy(in, label, n);
    memcpy(in + n, session_token, t);
    uint8_t d[KS_HASH_LEN];
    sp_crypto_sha256(in, n + t, d);
    sodium_memzero(in, n + t);
    g_autofree char *b64 = sp_b64url_encode(d, sizeof d);
    return g_strconcat("spc_", b64, NULL);
}

bool auth_csrf_check(const char *session_token, const char *presented)
{
    g_autofree char *want = auth_csrf_token(session_token);
    size_t n = strlen(want);
    return presented && strlen(presented) == n && sodium_memcmp(want, presented, n) == 0;
}

char *auth_answer_normalise(const char *answer)
{
    g_autofree char *lower = g_utf8_strdown(answer, -1);
    g_auto(GStrv) words = g_strsplit_set(g_strstrip(lower), " \t\r\n", -1);
    GString *out = g_string_new(NULL);
    for (char **w = words; *w; w++) {
        if (!**w)
            continue;
        if (out->len)
            g_string_append_c(out, ' ');
        g_string_append(out, *w);
    }
    return g_string_free(out, FALSE);
}

char *auth_address_normalise(const char *addr)
{
    size_t n = strlen(addr);
    if (n < 3 || n > 254)
        return NULL;
    const char *at = strchr(addr, '@');
    if (!at || at == addr || !at[1] || strchr(at + 1, '@') || at - addr > 64)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' || *p == '(' || *p == ')' ||
            *p == ',' || *p == ';' || *p == '"' || *p == '\\')
            return NULL;
    if (!g_utf8_validate(addr, -1, NULL) || !strchr(at + 1, '.') || at[1] == '.' ||
        addr[n - 1] == '.')
        return NULL;
    return g_utf8_strdown(addr, -1);
}
