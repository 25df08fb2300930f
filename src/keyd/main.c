/*
 * main.c - sealpost-keyd, the key server: start-up, signals, housekeeping.
 *
 * SECURITY: keyd holds the key-encryption keys (the key file, readable only
 * by its user) and, wrapped under them, one key per message; it never sees
 * message content. It talks HTTPS to gateways (gateway tokens) and to
 * recipients' browsers (passwords, session tokens), SMTP to one relay, and
 * its database. Secrets it handles (passwords, tokens, keys) are never
 * logged, stored only hashed or wrapped, and wiped after use. Plain HTTP is
 * refused except on loopback. Run it as its own unprivileged user (see
 * docs/keyd.md for the systemd unit); it needs no privilege after binding a
 * port above 1023.
 */
#include "admin.h"
#include "api.h"
#include "outbox.h"
#include "sp_error.h"
#include "throttle.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <unistd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static const char usage_text[] =
    "Usage: sealpost-keyd --config FILE [--check-config] [--verbose]\n"
    "       sealpost-keyd --dev --data DIR [--init] --listen 127.0.0.1:PORT [--public-url URL]\n"
    "                     [--store URL]\n"
    "       sealpost-keyd admin (--data DIR | --config FILE) COMMAND ...\n"
    "       sealpost-keyd --list-routes | --help | --version\n"
    "\n"
    "The sealpost key server: one key per message, released only to the\n"
    "message's authenticated recipients. See sealpost-keyd(8) and docs/keyd.md.\n"
    "\n"
    "  --config FILE     settings (GKeyFile; docs/keyd.md lists them)\n"
    "  --check-config    check the settings, the key file and the database, then exit\n"
    "  --dev             development: SQLite at DIR/keyd.db, key file DIR/kek (created),\n"
    "                    mail written to DIR/outbox/, plain HTTP on loopback only\n"
    "  --data DIR        the development data directory (must exist unless --init)\n"
    "  --init            create the --data directory (mode 0700) when it does not exist\n"
    "  --store URL       development: this store instead of SQLite at DIR/keyd.db\n"
    "                    (postgresql://USER@HOST:PORT/DB; the password from PGPASSFILE)\n"
    "  --listen H:P      where to listen (development: a loopback address)\n"
    "  --public-url URL  the base URL envelopes and mails point to (default http://LISTEN)\n"
    "  --verbose         log every request (method, path, status, time; never secrets)\n"
    "  --list-routes     print the routes this server answers, one per line\n"
    "\n"
    "Admin commands: run `sealpost-keyd admin --help`.\n";

static bool verbose;

static GLogWriterOutput log_writer(GLogLevelFlags level, const GLogField *fields, gsize n,
                                   gpointer user)
{
    if ((level & G_LOG_LEVEL_INFO) && !verbose)
        return G_LOG_WRITER_HANDLED;
    if ((level & G_LOG_LEVEL_DEBUG))
        return G_LOG_WRITER_HANDLED;
    const char *msg = "";
    for (gsize i = 0; i < n; i++)
        if (strcmp(fields[i].key, "MESSAGE") == 0)
            msg = fields[i].value;
    const char *lv = (level & G_LOG_LEVEL_ERROR)      ? "fatal"
                     : (level & G_LOG_LEVEL_CRITICAL) ? "panic"
                     : (level & G_LOG_LEVEL_WARNING)  ? "warning"
                                                      : "info";
    fprintf(stderr, "sealpost-keyd: %s: %s\n", lv, msg);
    return G_LOG_WRITER_HANDLED;
}

static int fail(GError *err)
{
    fprintf(stderr, "sealpost-keyd: %s\n", err ? err->message : "failed");
    int code = err ? sp_error_exit_code(err) : 2;
    g_clear_error(&err);
    return code;
}

/* Open everything the server needs from cfg into srv. */
static bool server_open(ks_server *srv, ks_config *cfg, GError **err)
{
    srv->cfg = cfg;
    srv->started = g_get_real_time() / G_USEC_PER_SEC;
    g_rw_lock_init(&srv->ring_lock);
    if (!auth_blocklist_load(cfg->blocklist, err))
        return false;
    srv->st = store_open(cfg->store_url,
                         &(store_options){cfg->store_password_file, cfg->store_pool}, err);
    if (!srv->st)
        return false;
    if (cfg->dev && !g_file_test(cfg->kek_file, G_FILE_TEST_EXISTS) &&
        !kek_create(cfg->kek_file, err))
        return false;
    srv->ring = kek_load(cfg->kek_file, err);
    if (!srv->ring)
        return false;
    ks_mail_config mc = {
        .relay = cfg->mail_relay,
        .outbox = cfg->mail_relay ? NULL : cfg->mail_outbox,
        .from = cfg->mail_from,
        .username = cfg->mail_username,
        .password = cfg->mail_password,
        .ca_file = cfg->mail_ca_file,
        .require_tls = cfg->mail_require_tls,
    };
    srv->mailer = ks_mailer_new(&mc, err);
    if (!srv->mailer)
        return false;
    if (store_shared(srv->st)) {
        /* one budget per client address for every keyd on the database */
        srv->limit =
            ratelimit_new_shared(srv->st, RATE_REQUESTS, cfg->rate_per_second, cfg->rate_burst);
        srv->status_limit = ratelimit_new_shared(srv->st, RATE_STATUS, cfg->status_rate_per_second,
                                                 cfg->status_rate_burst);
    } else {
        srv->limit = ratelimit_new(cfg->rate_per_second, cfg->rate_burst);
        srv->status_limit = ratelimit_new(cfg->status_rate_per_second, cfg->status_rate_burst);
    }
    srv->writer = writer_new(srv->st);
    srv->receipts = g_thread_pool_new(api_receipt_send, srv, 1, FALSE, NULL);
    /* Only key release reads these caches, and it asks the store again,
     * inside its own transaction, whether the session is live and the
     * message may be released: a sign-out, lock or recall through any keyd
     * holds for the next release everywhere. */
    srv->sessions = cache_new(cfg->cache_ms * 1000, 100000, store_session_dup, store_session_free);
    srv->messages = cache_new(cfg->cache_ms * 1000, 100000, store_message_dup, store_message_free);
    /* Key creation's: a profile changed elsewhere applies within cache_ms;
     * a brand is cached under its version, so it is never stale. */
    srv->profiles = cache_new(cfg->cache_ms * 1000, 10000, store_profile_dup, store_profile_free);
    srv->brands = api_brand_cache_new(cfg->cache_ms * 1000);
    /* A key registered or retired elsewhere is offered (or no longer)
     * within cache_ms. */
    srv->reply_keys = api_reply_key_cache_new(cfg->cache_ms * 1000);
    return true;
}

static void server_close(ks_server *srv)
{
    if (srv->tls_key_pem) /* prepared but never started */
        sodium_memzero(srv->tls_key_pem, strlen(srv->tls_key_pem));
    g_free(srv->tls_key_pem);
    g_free(srv->tls_cert_pem);
    if (srv->slow)
        g_thread_pool_free(srv->slow, FALSE, TRUE);
    ks_outbox_stop(srv->outbox);
    writer_free(srv->writer);
    if (srv->receipts) /* after the writer: its last releases may queue receipts */
        g_thread_pool_free(srv->receipts, FALSE, TRUE);
    cache_free(srv->sessions);
    cache_free(srv->messages);
    cache_free(srv->profiles);
    cache_free(srv->brands);
    cache_free(srv->reply_keys);
    ratelimit_free(srv->limit);
    ratelimit_free(srv->status_limit);
    ks_mailer_free(srv->mailer);
    kek_free(srv->ring);
    store_close(srv->st);
    auth_blocklist_free();
    g_rw_lock_clear(&srv->ring_lock);
}

/* The signals serve() waits for. main() blocks them before the first
 * thread starts (threads inherit the mask): a thread that did not block
 * them would take SIGTERM's default action and kill keyd mid-request. */
static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

/* Started as root: become [server] user now that the port is bound and
 * the TLS key read, before serving anything. */
static bool drop_privileges(const ks_config *cfg)
{
    if (geteuid() != 0)
        return true;
    if (!cfg->user) {
        if (!cfg->dev)
            g_warning("running as root: set [server] user so keyd drops root after binding");
        return true;
    }
    g_autoptr(GError) err = NULL;
    if (!sp_switch_user(cfg->user, &err)) {
        g_critical("[server] user: %s", err->message);
        return false;
    }
    g_message("running as user %s", cfg->user);
    return true;
}

/* Re-read the key file when it changed (kek rotate, SIGHUP); false when
 * it did not or cannot be read (the keys in use stay). */
static bool kek_reload(ks_server *srv, const char *why)
{
    GError *err = NULL;
    ks_keyring *fresh = kek_load(srv->cfg->kek_file, &err);
    if (!fresh) {
        g_warning("%s: %s (keeping the keys in use)", why, err->message);
        g_clear_error(&err);
        return false;
    }
    g_rw_lock_writer_lock(&srv->ring_lock);
    kek_free(srv->ring);
    srv->ring = fresh;
    g_rw_lock_writer_unlock(&srv->ring_lock);
    g_message("%s: re-read the key file (current KEK %s)", why, kek_current_id(fresh));
    return true;
}

static void kek_stamp(const char *path, struct stat *out)
{
    if (stat(path, out) != 0)
        memset(out, 0, sizeof *out);
}

static bool kek_changed(const struct stat *a, const struct stat *b)
{
    return a->st_ino != b->st_ino || a->st_size != b->st_size ||
           a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

/* As many descriptors as the hard limit allows (systemd: LimitNOFILE):
 * the connection limits are derived from it (http.c). */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            g_warning("cannot raise the descriptor limit to %llu: %s", (unsigned long long)want,
                      g_strerror(errno));
    }
}

/* Serve until SIGINT or SIGTERM; checkpoint the database ten times a
 * second (so that commits never have to); every minute, sweep expired
 * sessions and tokens and destroy the keys of expired messages. */
static int serve(ks_server *srv)
{
    sigset_t set;
    stop_signals(&set); /* blocked in main() before any thread started */

    /* Bind and read the TLS key with privilege; drop it before the first
     * request is served. */
    GError *err = NULL;
    raise_nofile();
    if (!http_prepare(srv, &err))
        return fail(err);
    if (!drop_privileges(srv->cfg))
        return 2;
    struct MHD_Daemon *d = http_start(srv, &err);
    if (!d)
        return fail(err);
    srv->outbox = ks_outbox_start(srv);
    fprintf(stderr,
            "sealpost-keyd: listening on %s:%u, public URL %s (%u passwords blocklisted%s)\n",
            srv->cfg->listen_host, srv->cfg->listen_port, srv->cfg->public_url,
            (unsigned)auth_blocklist_size(),
            srv->cfg->dev ? "; development mode: mail goes to the outbox" : "");
    struct stat kek_seen;
    kek_stamp(srv->cfg->kek_file, &kek_seen);
    for (unsigned tick = 1;; tick++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM)
            break;
        if (sig == SIGHUP) {
            kek_reload(srv, "SIGHUP");
            kek_stamp(srv->cfg->kek_file, &kek_seen);
            continue;
        }
        struct stat now_st;
        kek_stamp(srv->cfg->kek_file, &now_st);
        if (kek_changed(&now_st, &kek_seen) && kek_reload(srv, "key file changed"))
            kek_seen = now_st;
        if (!store_maintain(srv->st, &err)) {
            g_warning("checkpoint: %s", err->message);
            g_clear_error(&err);
        }
        if (tick % (unsigned)(srv->cfg->sweep_seconds * 10) == 0) {
            gint64 now = g_get_real_time() / G_USEC_PER_SEC, shredded = 0;
            /* a client address's failures lapse after a quiet hour (throttle.h) */
            if (!store_sweep(srv->st, now, &err) ||
                !store_throttle_forget(srv->st, THROTTLE_ADDRESS, now * 1000 - THROTTLE_QUIET_MS,
                                       &err) ||
                !store_messages_shred_expired(srv->st, now, &shredded, &err)) {
                g_warning("sweep: %s", err->message);
                g_clear_error(&err);
            } else if (shredded) {
                g_message("sweep: destroyed the keys of %" G_GINT64_FORMAT " expired message%s",
                          shredded, shredded == 1 ? "" : "s");
            }
        }
    }
    fprintf(stderr, "sealpost-keyd: stopping\n");
    http_stop(srv, d, 10000);
    return 0;
}

/* The --data directory: it must exist, unless init asks to create it
 * (mode 0700). A mistyped path must not silently start an empty key
 * server. 0 when usable, else the exit status (message printed). */
int keyd_data_dir(const char *prog, const char *data, bool init)
{
    if (g_file_test(data, G_FILE_TEST_IS_DIR))
        return 0;
    if (g_file_test(data, G_FILE_TEST_EXISTS)) {
        fprintf(stderr, "%s: --data %s is not a directory\n", prog, data);
        return 2;
    }
    if (!init) {
        fprintf(stderr,
                "%s: the data directory %s does not exist (add --init to create a new, empty "
                "key server there)\n",
                prog, data);
        return 2;
    }
    if (g_mkdir_with_parents(data, 0700) != 0) {
        fprintf(stderr, "%s: cannot create %s: %s\n", prog, data, g_strerror(errno));
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* Everything keyd creates (database, its -wal and -shm, key file,
     * outbox mails, directories) is its user's alone, whatever umask it
     * was started with. */
    umask(077);
    g_log_set_writer_func(log_writer, NULL, NULL);
    if (!sp_crypto_init()) {
        fprintf(stderr, "sealpost-keyd: the crypto libraries failed to start\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc > 1 && strcmp(argv[1], "admin") == 0)
        return admin_main(argc - 1, argv + 1);

    const char *config = NULL, *data = NULL, *listen = NULL, *public_url = NULL, *store_url = NULL;
    bool dev = false, check = false, routes = false, init = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("sealpost-keyd %s\n", SEALPOST_VERSION);
            return 0;
        } else if (!strcmp(a, "--dev"))
            dev = true;
        else if (!strcmp(a, "--init"))
            init = true;
        else if (!strcmp(a, "--check-config"))
            check = true;
        else if (!strcmp(a, "--verbose"))
            verbose = true;
        else if (!strcmp(a, "--list-routes"))
            routes = true;
        else if (!strcmp(a, "--config") && has_value)
            config = argv[++i];
        else if (!strcmp(a, "--data") && has_value)
            data = argv[++i];
        else if (!strcmp(a, "--listen") && has_value)
            listen = argv[++i];
        else if (!strcmp(a, "--public-url") && has_value)
            public_url = argv[++i];
        else if (!strcmp(a, "--store") && has_value)
            store_url = argv[++i];
        else {
            fprintf(stderr, "sealpost-keyd: %s: unknown option or missing value\n%s", a,
                    usage_text);
            return 1;
        }
    }
    if (routes) {
        for (const ks_route *r = ks_routes; r->method; r++)
            printf("%s %s\n", r->method, r->pattern);
        return 0;
    }
    ks_config cfg;
    GError *err = NULL;
    if (dev) {
        if (!data || !listen || config) {
            fprintf(stderr, "sealpost-keyd: --dev needs --data DIR and --listen 127.0.0.1:PORT "
                            "(and no --config)\n");
            return 1;
        }
        int drc = keyd_data_dir("sealpost-keyd", data, init);
        if (drc)
            return drc;
        if (!config_dev(&cfg, data, listen, public_url, &err))
            return fail(err);
        if (store_url) {
            g_free(cfg.store_url);
            cfg.store_url = g_strdup(store_url);
        }
    } else if (config) {
        if (data || listen || public_url || init || store_url) {
            fprintf(stderr, "sealpost-keyd: with --config, set listen and public_url in the "
                            "file\n");
            return 1;
        }
        if (!config_load(&cfg, config, &err))
            return fail(err);
    } else {
        fprintf(stderr, "sealpost-keyd: give --config FILE, or --dev for development\n%s",
                usage_text);
        return 1;
    }

    sigset_t set;
    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    ks_server srv = {0};
    int rc = 0;
    if (!server_open(&srv, &cfg, &err))
        rc = fail(err);
    else if (check)
        fprintf(stderr, "sealpost-keyd: configuration OK (database schema %d, current KEK %s)\n",
                store_schema_version(srv.st), kek_current_id(srv.ring));
    else
        rc = serve(&srv);
    server_close(&srv);
    config_clear(&cfg);
    curl_global_cleanup();
    return rc;
}
