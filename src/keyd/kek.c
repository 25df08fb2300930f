/*
 * kek.c - the KEK keyring file, wrapping and rotation (see kek.h).
 */
#include "kek.h"

#include "sp_error.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_KEKS 16

typedef struct {
    char id[48];
    uint8_t *key; /* sodium_malloc'd, SP_KEY_LEN */
    bool staged;  /* unwraps, never wraps: the next KEK, on its way to every host */
} kek;

struct ks_keyring {
    kek keys[MAX_KEKS];
    int n;
};

static kek *ring_add(ks_keyring *r, const char *id, const uint8_t key[SP_KEY_LEN])
{
    kek *k = &r->keys[r->n++];
    g_strlcpy(k->id, id, sizeof k->id);
    k->key = sodium_malloc(SP_KEY_LEN);
    if (!k->key)
        g_error("kek: out of guarded memory");
    memcpy(k->key, key, SP_KEY_LEN);
    return k;
}

void kek_free(ks_keyring *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n; i++)
        sodium_free(r->keys[i].key);
    g_free(r);
}

const char *kek_current_id(const ks_keyring *r)
{
    return r->keys[0].id;
}

static char *new_kek_id(void)
{
    uint8_t rnd[4];
    sp_crypto_random(rnd, sizeof rnd);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *day = g_date_time_format(now, "%Y%m%d");
    return g_strdup_printf("kek-%s-%02x%02x%02x%02x", day, rnd[0], rnd[1], rnd[2], rnd[3]);
}

/* Write the keyring atomically (temp file, fsync, rename), mode 0600. */
static bool ring_save(const ks_keyring *r, const char *path, GError **err)
{
    GString *text = g_string_new("# sealpost-keyd key-encryption keys; the first is current,\n"
                                 "# a \"staged\" one the next (it unwraps, it does not wrap yet).\n"
                                 "# Secret: keep this file mode 0600, owned by the keyd user.\n");
    for (int i = 0; i < r->n; i++) {
        char b64[sodium_base64_ENCODED_LEN(SP_KEY_LEN, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, r->keys[i].key, SP_KEY_LEN,
                          sodium_base64_VARIANT_ORIGINAL);
        g_string_append_printf(text, "%s %s%s\n", r->keys[i].id, b64,
                               r->keys[i].staged ? " staged" : "");
        sodium_memzero(b64, sizeof b64);
    }
    g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
    bool ok = false;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ok = write(fd, text->str, text->len) == (ssize_t)text->len && fsync(fd) == 0;
        ok = close(fd) == 0 && ok;
        ok = ok && rename(tmp, path) == 0;
    }
    if (!ok) {
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot write the key file %s: %s", path,
                    g_strerror(errno));
        unlink(tmp);
    }
    sodium_memzero(text->str, text->len);
    g_string_free(text, TRUE);
    return ok;
}

bool kek_create(const char *path, GError **err)
{
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "the key file %s exists already; use `kek rotate` to change keys", path);
        return false;
    }
    ks_keyring *r = g_new0(ks_keyring, 1);
    uint8_t key[SP_KEY_LEN];
    sp_crypto_random(key, sizeof key);
    g_autofree char *id = new_kek_id();
    ring_add(r, id, key);
    sodium_memzero(key, sizeof key);
    bool ok = ring_save(r, path, err);
    kek_free(r);
    return ok;
}

ks_keyring *kek_load(const char *path, GError **err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        g_set_error(err, SP_ERROR, SP_ERR_IO,
                    "cannot read the key file %s: %s (create it with `sealpost-keyd admin kek "
                    "create`)",
                    path, g_strerror(errno));
        return NULL;
    }
    if (st.st_mode & 077) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "the key file %s can be read or written by others (mode %03o): "
                    "run chmod 600 %s",
                    path, (unsigned)(st.st_mode & 0777), path);
        return NULL;
    }
    gchar *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &text, &len, NULL) || len > 64 * 1024) {
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot read the key file %s", path);
        g_free(text);
        return NULL;
    }
    ks_keyring *r = g_new0(ks_keyring, 1);
    bool ok = true;
    int lineno = 0;
    for (char *line = text, *next; ok && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        g_strstrip(line);
        if (!*line || *line == '#')
            continue;
        char *sp = strchr(line, ' ');
        uint8_t key[SP_KEY_LEN];
        size_t klen = 0;
        bool staged = false;
        ok = sp && sp - line < 48 && r->n < MAX_KEKS;
        if (ok) {
            *sp = '\0';
            char *b64 = sp + 1, *mark = strchr(b64, ' ');
            if (mark) {
                *mark++ = '\0';
                staged = !strcmp(mark, "staged");
                ok = staged;
            }
            ok = ok &&
                 sodium_base642bin(key, sizeof key, b64, strlen(b64), NULL, &klen, NULL,
                                   sodium_base64_VARIANT_ORIGINAL) == 0 &&
                 klen == SP_KEY_LEN;
            /* the current KEK (the first) is never a staged one */
            ok = ok && !(staged && r->n == 0);
        }
        if (ok)
            ring_add(r, line, key)->staged = staged;
        else
            g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                        "the key file %s, line %d, is not \"ID BASE64-KEY [staged]\" with a "
                        "32-byte key (and a first line that is not staged)",
                        path, lineno);
        sodium_memzero(key, sizeof key);
    }
    sodium_memzero(text, len);
    g_free(text);
    if (ok && r->n == 0) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "the key file %s holds no key", path);
        ok = false;
    }
    if (!ok) {
        kek_free(r);
        return NULL;
    }
    return r;
}

static const kek *find(const ks_keyring *r, const char *id)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->keys[i].id, id) == 0)
            return &r->keys[i];
    return NULL;
}

int kek_count(const ks_keyring *r)
{
    return r->n;
}

const char *kek_id_at(const ks_keyring *r, int i)
{
    return r->keys[i].id;
}

int kek_index(const ks_keyring *r, const char *id)
{
    const kek *k = find(r, id);
    return k ? (int)(k - r->keys) : -1;
}

void kek_derive(const ks_keyring *r, int i, const char *label, uint8_t out[32])
{
    crypto_generichash(out, 32, (const uint8_t *)label, strlen(label), r->keys[i].key, SP_KEY_LEN);
}

bool kek_wrap(ks_keyring *r, const char *msg_id, const uint8_t key[SP_KEY_LEN],
              uint8_t out[KS_WRAPPED_LEN], GError **err)
{
    g_autoptr(sp_aead) a = sp_aead_new(r->keys[0].key);
    sp_crypto_random(out, SP_NONCE_LEN);
    if (!a || !sp_aead_seal(a, out, (const uint8_t *)msg_id, strlen(msg_id), key, SP_KEY_LEN,
                            out + SP_NONCE_LEN, out + SP_NONCE_LEN + SP_KEY_LEN)) {
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "cannot wrap a message key");
        return false;
    }
    return true;
}

bool kek_unwrap(ks_keyring *r, const char *kek_id, const char *msg_id, const uint8_t *wrapped,
                size_t len, uint8_t key[SP_KEY_LEN], GError **err)
{
    const kek *k = kek_id ? find(r, kek_id) : NULL;
    if (!k) {
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL,
                    "message %s is wrapped under KEK %s, which the key file does not hold", msg_id,
                    kek_id ? kek_id : "(none)");
        return false;
    }
    if (len != KS_WRAPPED_LEN) {
        g_set_error(err, SP_ERROR, SP_ERR_TAMPERED, "the stored key of message %s is damaged",
                    msg_id);
        return false;
    }
    g_autoptr(sp_aead) a = sp_aead_new(k->key);
    if (!a ||
        !sp_aead_open(a, wrapped, (const uint8_t *)msg_id, strlen(msg_id), wrapped + SP_NONCE_LEN,
                      SP_KEY_LEN, wrapped + SP_NONCE_LEN + SP_KEY_LEN, key)) {
        g_set_error(err, SP_ERROR, SP_ERR_TAMPERED,
                    "the stored key of message %s does not unwrap (edited or moved)", msg_id);
        return false;
    }
    return true;
}

static bool rewrap_one(void *ctx, const char *msg_id, const char *kek_id, const uint8_t *wrapped,
                       size_t len, uint8_t **out, size_t *out_len, char **out_kek_id, GError **err)
{
    ks_keyring *r = ctx;
    uint8_t *key = sodium_malloc(SP_KEY_LEN);
    if (!key)
        g_error("kek: out of guarded memory");
    bool ok = kek_unwrap(r, kek_id, msg_id, wrapped, len, key, err);
    if (ok) {
        *out = g_malloc(KS_WRAPPED_LEN);
        *out_len = KS_WRAPPED_LEN;
        ok = kek_wrap(r, msg_id, key, *out, err);
        *out_kek_id = g_strdup(kek_current_id(r));
    }
    sodium_free(key);
    return ok;
}

bool kek_stage(const char *path, char **new_id, GError **err)
{
    ks_keyring *r = kek_load(path, err);
    if (!r)
        return false;
    for (int i = 0; i < r->n; i++) {
        if (r->keys[i].staged) {
            g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                        "the key file %s has a staged KEK already (%s): copy the file to every "
                        "keyd host, then run `kek rotate`",
                        path, r->keys[i].id);
            kek_free(r);
            return false;
        }
    }
    if (r->n >= MAX_KEKS) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "the key file %s is full", path);
        kek_free(r);
        return false;
    }
    uint8_t key[SP_KEY_LEN];
    sp_crypto_random(key, sizeof key);
    g_autofree char *id = new_kek_id();
    ring_add(r, id, key)->staged = true;
    sodium_memzero(key, sizeof key);
    bool ok = ring_save(r, path, err);
    kek_free(r);
    if (ok)
        *new_id = g_steal_pointer(&id);
    return ok;
}

bool kek_rotate(const char *path, store *s, bool shared_file, gint64 *count, char **new_id,
                GError **err)
{
    ks_keyring *r = kek_load(path, err);
    if (!r)
        return false;
    const kek *staged = NULL;
    for (int i = 0; i < r->n; i++)
        if (r->keys[i].staged)
            staged = &r->keys[i];
    if (!staged && store_shared(s) && !shared_file) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "several keyd share this database: a KEK only this host's key file holds "
                    "would leave the others unable to open any message. Run `kek stage`, copy "
                    "the key file to every keyd host, then `kek rotate` (or, when every keyd "
                    "reads this very file, `kek rotate --shared-file`)");
        kek_free(r);
        return false;
    }
    if (!staged && r->n >= MAX_KEKS) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "the key file %s is full", path);
        kek_free(r);
        return false;
    }
    /* The new KEK (the staged one, or a fresh one) goes first; the old
     * ones stay until no key needs them. */
    ks_keyring *next = g_new0(ks_keyring, 1);
    g_autofree char *id = NULL;
    if (staged) {
        id = g_strdup(staged->id);
        ring_add(next, staged->id, staged->key);
    } else {
        uint8_t key[SP_KEY_LEN];
        sp_crypto_random(key, sizeof key);
        id = new_kek_id();
        ring_add(next, id, key);
        sodium_memzero(key, sizeof key);
    }
    for (int i = 0; i < r->n; i++)
        if (&r->keys[i] != staged)
            ring_add(next, r->keys[i].id, r->keys[i].key);
    kek_free(r);
    bool ok = ring_save(next, path, err);
    g_autofree char *detail = g_strdup_printf("{\"kek\":\"%s\"}", id);
    ks_audit_event ev = {.event = "kek.rotate", .actor = "admin", .detail = detail};
    ok = ok && store_rewrap_keys(s, rewrap_one, next, count, &ev, err);
    if (ok) {
        /* Keep the new KEK and the one it replaces (a keyd that has not
         * re-read the file yet may still wrap under it), and older ones only
         * while some stored key uses them. */
        g_auto(GStrv) used = store_kek_ids_in_use(s, err);
        ok = used != NULL;
        if (ok) {
            ks_keyring *keep = g_new0(ks_keyring, 1);
            for (int i = 0; i < next->n; i++)
                if (i <= 1 || g_strv_contains((const char *const *)used, next->keys[i].id))
                    ring_add(keep, next->keys[i].id, next->keys[i].key);
            ok = ring_save(keep, path, err);
            kek_free(keep);
        }
    }
    kek_free(next);
    if (ok)
        *new_id = g_steal_pointer(&id);
    return ok;
}
