/*
 * config.c - sealpost-milter's settings (see config.h).
 */
#include "config.h"

#include "conf.h"
#include "keyclient.h"
#include "sp_error.h"
#include "util.h"

#include <string.h>

#define DEFAULT_MAX_SIZE (50u << 20)
#define DEFAULT_SPOOL (1u << 20)
#define DEFAULT_TIMEOUT_S 15
/* libmilter's largest packet (MILTER_CHUNK_SIZE). miltertest, which the
 * tests drive the filter with, reads replies into a 1 KiB buffer and
 * crashes on larger ones: its tests pass --reply-chunk 1K. */
#define MAX_REPLY_CHUNK 65535

static void defaults(mt_config *c)
{
    memset(c, 0, sizeof *c);
    c->internal_domains = g_ptr_array_new_with_free_func(g_free);
    c->reply_keys = g_ptr_array_new_with_free_func(g_free);
    c->max_size = DEFAULT_MAX_SIZE;
    c->spool_threshold = DEFAULT_SPOOL;
    c->timeout_s = DEFAULT_TIMEOUT_S;
    c->reply_chunk = MAX_REPLY_CHUNK;
}

void config_clear(mt_config *c)
{
    g_free(c->socket);
    g_free(c->user);
    if (c->internal_domains)
        g_ptr_array_unref(c->internal_domains);
    g_free(c->keyserver);
    g_free(c->token_file);
    g_free(c->policy_file);
    if (c->reply_keys)
        g_ptr_array_unref(c->reply_keys);
    g_free(c->reseal_from);
    g_free(c->threads_file);
    memset(c, 0, sizeof *c);
}

static void set(char **field, const char *value)
{
    if (value) {
        g_free(*field);
        *field = g_strdup(value);
    }
}

/* A domain as given: lower case, no leading '@' or trailing dot. */
static bool add_domain(mt_config *c, const char *d, GError **err)
{
    g_autofree char *v = g_ascii_strdown(d, -1);
    g_strstrip(v);
    char *start = v[0] == '@' ? v + 1 : v;
    size_t n = strlen(start);
    if (n && start[n - 1] == '.')
        start[--n] = '\0';
    if (!n || strchr(start, '@') || strchr(start, ' ') || !strchr(start, '.')) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "\"%s\" is not a mail domain (expected a name such as example.org)", d);
        return false;
    }
    g_ptr_array_add(c->internal_domains, g_strdup(start));
    return true;
}

static bool size_value(const char *text, const char *what, guint64 *out, GError **err)
{
    if (!sp_size_parse(text, out) || *out == 0) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "%s = %s: expected a size such as 50MiB, 800KiB or 1048576", what, text);
        return false;
    }
    return true;
}

static bool read_file(mt_config *c, const char *path, GError **err)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) e = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &e)) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "cannot read the configuration %s: %s", path,
                    e->message);
        return false;
    }
    static const char *const known[] = {
        "milter:socket",
        "milter:user",
        "milter:internal_domains",
        "milter:max_size",
        "milter:spool_threshold",
        "keyserver:url",
        "keyserver:token_file",
        "keyserver:timeout",
        "policy:file",
        "reply:keys",
        "reply:reseal_from",
        "reply:threads",
        NULL,
    };
    if (!sp_conf_check_known(kf, known, "docs/postfix.md", err))
        return false;
    g_autofree char *sock = sp_conf_str(kf, "milter", "socket");
    g_autofree char *user = sp_conf_str(kf, "milter", "user");
    g_autofree char *url = sp_conf_str(kf, "keyserver", "url");
    g_autofree char *tok = sp_conf_str(kf, "keyserver", "token_file");
    g_autofree char *pol = sp_conf_str(kf, "policy", "file");
    set(&c->socket, sock);
    set(&c->user, user);
    set(&c->keyserver, url);
    set(&c->token_file, tok);
    set(&c->policy_file, pol);
    g_autofree char *domains = sp_conf_str(kf, "milter", "internal_domains");
    if (domains) {
        g_auto(GStrv) list = g_strsplit_set(domains, ";, ", -1);
        for (char **d = list; *d; d++)
            if (**d && !add_domain(c, *d, err)) {
                g_prefix_error(err, "[milter] internal_domains: ");
                return false;
            }
    }
    g_autofree char *keys = sp_conf_str(kf, "reply", "keys");
    g_auto(GStrv) key_list = keys ? g_strsplit_set(keys, ";,", -1) : NULL;
    for (char **k = key_list; k && *k; k++)
        if (*g_strstrip(*k))
            g_ptr_array_add(c->reply_keys, g_strdup(*k));
    g_autofree char *reseal = sp_conf_str(kf, "reply", "reseal_from");
    set(&c->reseal_from, reseal);
    g_autofree char *threads = sp_conf_str(kf, "reply", "threads");
    set(&c->threads_file, threads);
    g_autofree char *max = sp_conf_str(kf, "milter", "max_size");
    g_autofree char *spool = sp_conf_str(kf, "milter", "spool_threshold");
    if ((max && !size_value(max, "[milter] max_size", &c->max_size, err)) ||
        (spool && !size_value(spool, "[milter] spool_threshold", &c->spool_threshold, err)))
        return false;
    return sp_conf_int(kf, "keyserver", "timeout", 1, 600, &c->timeout_s, err);
}

static bool check(mt_config *c, bool keyserver_only, GError **err)
{
    const char *missing = !c->socket && !keyserver_only
                              ? "the milter socket ([milter] socket or --socket)"
                          : !c->keyserver  ? "the key server ([keyserver] url or --keyserver)"
                          : !c->token_file ? "the gateway token ([keyserver] token_file or "
                                             "--token-file)"
                          : !c->internal_domains->len && !keyserver_only
                              ? "the organisation's domains ([milter] internal_domains or "
                                "--internal-domain)"
                              : NULL;
    if (missing) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "missing %s", missing);
        return false;
    }
    if (c->socket && !g_str_has_prefix(c->socket, "inet:") &&
        !g_str_has_prefix(c->socket, "inet6:") && !g_str_has_prefix(c->socket, "unix:") &&
        !g_str_has_prefix(c->socket, "local:")) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "socket %s: expected inet:PORT@ADDRESS or unix:PATH", c->socket);
        return false;
    }
    g_autofree char *norm = NULL;
    if (!sp_kc_url_check(c->keyserver, &norm, err)) {
        g_prefix_error(err, "key server URL: ");
        return false;
    }
    g_free(c->keyserver);
    c->keyserver = g_steal_pointer(&norm);
    if (c->spool_threshold > c->max_size)
        c->spool_threshold = c->max_size;
    if (!c->reseal_from && c->internal_domains->len)
        c->reseal_from =
            g_strconcat("postmaster@", (const char *)c->internal_domains->pdata[0], NULL);
    if (c->reseal_from && !config_is_internal(c, c->reseal_from)) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "[reply] reseal_from %s is not an address of the organisation's domains",
                    c->reseal_from);
        return false;
    }
    return true;
}

bool config_load(mt_config *c, const mt_flags *f, GError **err)
{
    defaults(c);
    bool ok = !f->config || read_file(c, f->config, err);
    if (ok) {
        set(&c->socket, f->socket);
        set(&c->user, f->user);
        set(&c->keyserver, f->keyserver);
        set(&c->token_file, f->token_file);
        set(&c->policy_file, f->policy);
        if (f->timeout_s)
            c->timeout_s = f->timeout_s;
        if (f->max_size)
            ok = size_value(f->max_size, "--max-size", &c->max_size, err);
        if (ok && f->reply_chunk) {
            ok = size_value(f->reply_chunk, "--reply-chunk", &c->reply_chunk, err);
            if (ok && c->reply_chunk == MAX_REPLY_CHUNK + 1)
                c->reply_chunk = MAX_REPLY_CHUNK; /* "64K" */
            if (ok && (c->reply_chunk < 512 || c->reply_chunk > MAX_REPLY_CHUNK)) {
                g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                            "--reply-chunk: expected 512 bytes to 64K (65535)");
                ok = false;
            }
        }
        for (char **d = f->internal_domains; ok && d && *d; d++)
            ok = add_domain(c, *d, err);
        for (char **k = f->reply_keys; ok && k && *k; k++)
            g_ptr_array_add(c->reply_keys, g_strdup(*k));
    }
    ok = ok && check(c, f->keyserver_only, err);
    if (!ok)
        config_clear(c);
    return ok;
}

bool config_is_internal(const mt_config *c, const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    if (!at || !at[1])
        return false;
    g_autofree char *dom = g_ascii_strdown(at + 1, -1);
    size_t n = strlen(dom);
    if (n && dom[n - 1] == '.')
        dom[--n] = '\0';
    for (guint i = 0; i < c->internal_domains->len; i++) {
        const char *d = c->internal_domains->pdata[i];
        size_t k = strlen(d);
        if (!strcmp(dom, d) || (n > k && dom[n - k - 1] == '.' && !strcmp(dom + n - k, d)))
            return true;
    }
    return false;
}
