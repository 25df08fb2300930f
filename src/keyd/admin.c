/*
 * admin.c - `sealpost-keyd admin`: organisations, gateway tokens, org
 * users, account unlock, KEKs and the audit check, run directly against
 * the store and the key file (a running keyd notices new KEKs by itself).
 */
#include "admin.h"
#include "admin_int.h"
#include "api.h"

#include "audit.h"
#include "brand.h"
#include "config.h"
#include "kek.h"
#include "migrate.h"
#include "secret.h"
#include "sp_error.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char admin_usage[] =
    "Usage: sealpost-keyd admin (--data DIR [--init] [--store URL] | --config FILE) COMMAND\n"
    "\n"
    "--data DIR must exist; --init creates it (mode 0700) for a new key server.\n"
    "--store URL names the development server's store when it is not DIR/keyd.db.\n"
    "\n"
    "Commands:\n"
    "  org create NAME --domain D [--domain D]...   an organisation and its mail domains\n"
    "  org brand NAME [--display-name TEXT] [--color #rrggbb] [--logo FILE|none] [--notice TEXT]\n"
    "                                               the brand on its envelopes and carrier mails\n"
    "  org reply-keys NAME [--retire KID]           its reply keys (registered by its gateways);\n"
    "                                               a retired key is no longer put on envelopes\n"
    "  org reply-route NAME [--host H [--port P] [--tls verify|required|none]]\n"
    "                                               where keyd relays its sealed answers (its\n"
    "                                               gateway's SMTP); default port 25, TLS verify\n"
    "  org set NAME --compose yes|no                may recipients write to it first (portal)\n"
    "  token create --org NAME                      a gateway token (printed once, stored hashed)\n"
    "  token list [--org NAME]                      gateway tokens: prefix, org, created, last "
    "use\n"
    "  token revoke PREFIX                          refuse that token from now on (every keyd)\n"
    "  user create --org NAME --email ADDR --role admin|sender (--password-file F | --existing)\n"
    "                                               a new account as a member; --existing makes\n"
    "                                               an existing account a member, password kept\n"
    "  profile set --org NAME --name P [--security high|medium|low] [--expires 30d|never]\n"
    "      [--reply yes|no] [--reply-all yes|no] [--forward yes|no] [--read-receipts yes|no]\n"
    "      [--subject shown|generic]             a message profile (the policy names it)\n"
    "  account unlock ADDR                          clear its failed sign-ins and resets now\n"
    "  kek create                                   a new key file (refuses to overwrite)\n"
    "  kek stage                                    add the next KEK to the key file (staged:\n"
    "                                               it opens keys, wraps none); for several keyd\n"
    "  kek rotate [--shared-file]                   make the staged (or a new) KEK current and\n"
    "                                               re-wrap every stored key under it\n"
    "  audit verify                                 check the audit chain; names the first broken "
    "row\n"
    "  migrate --to URL [--password-file F]         copy everything into a new, empty store\n"
    "                                               (postgresql://USER@HOST/DB or sqlite:PATH;\n"
    "                                               F: its password), in one transaction, then\n"
    "                                               verify it; stop keyd first\n"
    "\n"
    "Exit status: 0 done, 1 usage, 2 bad input or not found, 3 audit chain broken,\n"
    "4 database or key file unavailable.\n";

int admin_usage_error(const char *fmt, const char *arg)
{
    fputs("sealpost-keyd admin: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(run `sealpost-keyd admin --help`)\n", stderr);
    return 1;
}

int admin_fail(GError *err)
{
    fprintf(stderr, "sealpost-keyd admin: %s\n", err ? err->message : "failed");
    int code = err ? sp_error_exit_code(err) : 2;
    if (err)
        g_error_free(err);
    return code;
}

/* {"key":"value"} for an audit detail (g_free). */
char *admin_json_pair(const char *key, const char *value)
{
    json_t *o = json_pack("{s:s}", key, value);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    char *out = g_strdup(text);
    free(text);
    return out;
}

/* Organisation names: letters, digits, '.', '-', '_'; 1..64. */
static bool valid_org_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != '_')
            return false;
    return true;
}

static char *valid_domain(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 253 || !strchr(s, '.') || s[0] == '.' || s[0] == '-' || s[n - 1] == '.')
        return NULL;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-')
            return NULL;
    return g_ascii_strdown(s, -1);
}

/* The value after option name in args (NULL if absent); every occurrence
 * when all is set (a NULL-terminated array in *many). */
const char *admin_opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static int org_create(store *s, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return admin_usage_error("org create needs a NAME%s", "");
    const char *name = argv[0];
    if (!valid_org_name(name))
        return admin_usage_error("organisation name \"%s\": use letters, digits, '.', '-' or '_' "
                                 "(at most 64)",
                                 name);
    g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func(g_free);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--domain") != 0 || i + 1 >= argc)
            return admin_usage_error("unexpected \"%s\": org create NAME --domain D...", argv[i]);
        char *d = valid_domain(argv[++i]);
        if (!d)
            return admin_usage_error("\"%s\" is not a mail domain (example.org)", argv[i]);
        g_ptr_array_add(domains, d);
    }
    if (!domains->len)
        return admin_usage_error("org create needs at least one --domain%s", "");
    GError *err = NULL;
    g_autofree char *detail = g_strdup_printf("{\"domains\":%u}", domains->len);
    ks_audit_event ev = {"org.create", "admin", name, NULL, detail};
    if (!store_org_create(s, name, (const char *const *)domains->pdata, domains->len, &ev, &err)) {
        if (err->code == SP_ERR_INPUT)
            g_prefix_error(&err, "organisation %s or one of its domains exists already: ", name);
        return admin_fail(err);
    }
    printf("created organisation %s for", name);
    for (guint i = 0; i < domains->len; i++)
        printf(" %s", (char *)domains->pdata[i]);
    printf("\n");
    return 0;
}

int admin_find_org(store *s, const char *name, store_org *org)
{
    GError *err = NULL;
    int found = store_org_by_name(s, name, org, &err);
    if (found < 0)
        return admin_fail(err);
    if (!found) {
        fprintf(stderr,
                "sealpost-keyd admin: no organisation named %s (create it with `org "
                "create`)\n",
                name);
        return 2;
    }
    return 0;
}

static int token_create(store *s, int argc, char **argv)
{
    const char *name = admin_opt(argc, argv, "--org");
    if (!name)
        return admin_usage_error("token create needs --org NAME%s", "");
    store_org org = {0};
    int rc = admin_find_org(s, name, &org);
    if (rc)
        return rc;
    uint8_t h[KS_HASH_LEN];
    char *token = auth_token_new("spg_", h);
    GError *err = NULL;
    g_autofree char *prefix = g_strndup(token, KS_TOKEN_PREFIX_LEN);
    g_autofree char *detail = admin_json_pair("prefix", prefix);
    ks_audit_event ev = {"token.create", "admin", name, NULL, detail};
    if (store_gateway_token_create(s, org.id, h, prefix, &ev, &err)) {
        printf("%s\n", token);
        fprintf(stderr,
                "gateway token %s... for %s created; it is shown only now: store it in the "
                "gateway's token file (mode 0600)\n",
                prefix, name);
    } else {
        rc = admin_fail(err);
    }
    sodium_memzero(token, strlen(token));
    g_free(token);
    store_org_clear(&org);
    return rc;
}

/* True when argv has the flag name (an option without a value). */
static bool flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

/* A member outside the organisation's domains is allowed (a consultant,
 * a shared mailbox) but worth a second look: say so on stderr. */
static void warn_foreign(store *s, const store_org *org, const char *addr)
{
    GError *err = NULL;
    int own = store_org_has_domain(s, org->id, strchr(addr, '@') + 1, &err);
    if (own == 0)
        fprintf(stderr,
                "sealpost-keyd admin: warning: %s is not in any of %s's mail domains; check "
                "the address\n",
                addr, org->name);
    g_clear_error(&err);
}

char *admin_when(gint64 t)
{
    return t ? sp_time_format(t) : g_strdup("never");
}

static int token_list(store *s, int argc, char **argv)
{
    const char *name = admin_opt(argc, argv, "--org");
    if (argc && !name)
        return admin_usage_error("token list takes only --org NAME%s", "");
    store_org org = {0};
    int rc = name ? admin_find_org(s, name, &org) : 0;
    if (rc)
        return rc;
    GArray *rows = NULL;
    GError *err = NULL;
    if (!store_gateway_tokens_list(s, org.id, &rows, &err)) {
        store_org_clear(&org);
        return admin_fail(err);
    }
    printf("%-24s %-20s %-20s %-20s %s\n", "PREFIX", "ORG", "CREATED", "LAST USED", "STATE");
    for (guint i = 0; i < rows->len; i++) {
        store_token_row *t = &g_array_index(rows, store_token_row, i);
        g_autofree char *created = admin_when(t->created), *used = admin_when(t->last_used);
        g_autofree char *revoked = t->revoked ? sp_time_format(t->revoked) : NULL;
        g_autofree char *state =
            revoked ? g_strconcat("revoked ", revoked, NULL) : g_strdup("live");
        printf("%-24s %-20s %-20s %-20s %s\n", t->prefix, t->org, created, used, state);
    }
    g_array_unref(rows);
    store_org_clear(&org);
    return 0;
}

static int token_revoke(store *s, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-')
        return admin_usage_error("token revoke needs the token's PREFIX (from `token list`)%s", "");
    const char *arg = argv[0];
    uint8_t h[KS_HASH_LEN];
    bool whole = auth_token_hash(arg, "spg_", h);
    /* A prefix short enough to name several tokens by chance is refused by
     * the store; this floor keeps a typo from matching by luck. */
    if (!whole && strlen(arg) < 8)
        return admin_usage_error("token PREFIX \"%s\": give at least 8 characters, as `token list` "
                                 "shows them",
                                 arg);
    g_autofree char *prefix = whole ? g_strndup(arg, KS_TOKEN_PREFIX_LEN) : g_strdup(arg);
    g_autofree char *detail = admin_json_pair("prefix", prefix);
    ks_audit_event ev = {"token.revoke", "admin", prefix, NULL, detail};
    GError *err = NULL;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    int n = store_gateway_token_revoke(s, whole ? NULL : arg, whole ? h : NULL, now, &ev, &err);
    sodium_memzero(h, sizeof h);
    if (n < 0)
        return admin_fail(err);
    if (n == 0) {
        fprintf(stderr, "sealpost-keyd admin: no live gateway token %s (see `token list`)\n",
                prefix);
        return 2;
    }
    if (n > 1) {
        fprintf(stderr,
                "sealpost-keyd admin: %s names %d tokens: nothing revoked; give more of "
                "the prefix\n",
                prefix, n);
        return 2;
    }
    printf("revoked gateway token %s; every keyd refuses it from now on\n", prefix);
    return 0;
}

static int user_create(store *s, const ks_config *cfg, int argc, char **argv)
{
    const char *name = admin_opt(argc, argv, "--org"), *email = admin_opt(argc, argv, "--email");
    const char *role = admin_opt(argc, argv, "--role"),
               *pwfile = admin_opt(argc, argv, "--password-file");
    bool existing = flag(argc, argv, "--existing");
    if (!name || !email || !role || (!pwfile && !existing))
        return admin_usage_error("user create needs --org, --email, --role and --password-file (or "
                                 "--existing)%s",
                                 "");
    if (existing && pwfile)
        return admin_usage_error("--existing keeps the account's own password: leave out "
                                 "--password-file%s",
                                 "");
    if (strcmp(role, "admin") != 0 && strcmp(role, "sender") != 0)
        return admin_usage_error("--role %s: use admin or sender", role);
    g_autofree char *addr = auth_address_normalise(email);
    if (!addr)
        return admin_usage_error("--email %s is not an email address", email);
    char *pw = NULL;
    int rc = 0;
    if (pwfile) {
        size_t n = 0;
        GError *rerr = NULL;
        pw = sp_secret_read(pwfile, &n, &rerr);
        if (!pw)
            return admin_fail(rerr);
        const char *weak = auth_password_problem(pw, addr);
        if (weak) {
            fprintf(stderr, "sealpost-keyd admin: the password in %s is refused: %s\n", pwfile,
                    weak);
            rc = 2;
        }
    }
    store_org org = {0};
    if (!rc)
        rc = admin_find_org(s, name, &org);
    if (!rc) {
        warn_foreign(s, &org, addr);
        g_autofree char *hash = pw ? auth_password_hash(&cfg->argon2, pw) : NULL;
        GError *err = NULL;
        g_autofree char *detail = api_detail_json(
            json_pack("{s:s, s:s, s:b}", "org", name, "role", role, "existing", existing));
        ks_audit_event ev = {"user.create", "admin", addr, NULL, detail};
        int done = pw && !hash ? -1 : store_org_user_add(s, org.id, addr, hash, role, &ev, &err);
        if (done == 1) {
            printf("%s is now %s %s of %s\n", addr, strcmp(role, "admin") ? "a" : "an", role, name);
        } else if (done == 0 && existing) {
            fprintf(stderr,
                    "sealpost-keyd admin: %s has no active account: create it with "
                    "--password-file instead of --existing\n",
                    addr);
            rc = 2;
        } else if (done == 0) {
            /* Never take over an account: it may be a recipient's, used for
             * envelopes from every organisation, or another's member. */
            fprintf(stderr,
                    "sealpost-keyd admin: %s already has an account (a recipient's, or a "
                    "member's); its password was not changed. To make that account %s %s of "
                    "%s, run the command again with --existing instead of --password-file\n",
                    addr, strcmp(role, "admin") ? "a" : "an", role, name);
            rc = 2;
        } else {
            rc = err ? admin_fail(err) : 4;
        }
    }
    if (pw)
        sp_secret_free(pw);
    store_org_clear(&org);
    return rc;
}

/* A yes/no option into *out (left as is when absent); false when bad. */
static bool yes_no(int argc, char **argv, const char *name, bool *out)
{
    const char *v = admin_opt(argc, argv, name);
    if (!v)
        return true;
    if (!strcmp(v, "yes") || !strcmp(v, "no")) {
        *out = !strcmp(v, "yes");
        return true;
    }
    admin_usage_error("%s: use yes or no", name);
    return false;
}

static int profile_set(store *s, int argc, char **argv)
{
    const char *org_name = admin_opt(argc, argv, "--org"), *name = admin_opt(argc, argv, "--name");
    if (!org_name || !name)
        return admin_usage_error("profile set needs --org and --name%s", "");
    if (!valid_org_name(name))
        return admin_usage_error(
            "profile name \"%s\": use letters, digits, '.', '-' or '_' (1 to 64)", name);
    store_profile p; /* what a profile without options means */
    api_profile_default(&p, name);
    const char *sec = admin_opt(argc, argv, "--security");
    if (sec && strcmp(sec, "high") && strcmp(sec, "medium") && strcmp(sec, "low"))
        return admin_usage_error("--security %s: use high, medium or low", sec);
    if (sec)
        p.security = (char *)sec;
    const char *exp = admin_opt(argc, argv, "--expires");
    if (exp && strcmp(exp, "never") &&
        (!sp_duration_parse(exp, 0, &p.expires_seconds) || p.expires_seconds <= 0))
        return admin_usage_error("--expires %s: use a duration such as 30d, 12h or never", exp);
    const char *subj = admin_opt(argc, argv, "--subject");
    if (subj && strcmp(subj, "shown") && strcmp(subj, "generic"))
        return admin_usage_error("--subject %s: use shown or generic", subj);
    if (subj)
        p.subject_shown = !strcmp(subj, "shown");
    if (!yes_no(argc, argv, "--reply", &p.reply) ||
        !yes_no(argc, argv, "--reply-all", &p.reply_all) ||
        !yes_no(argc, argv, "--forward", &p.forward) ||
        !yes_no(argc, argv, "--read-receipts", &p.read_receipts))
        return 1;
    store_org org = {0};
    int rc = admin_find_org(s, org_name, &org);
    if (!rc) {
        GError *err = NULL;
        g_autofree char *detail = api_detail_json(json_pack("{s:s}", "org", org_name));
        ks_audit_event ev = {"profile.set", "admin", name, NULL, detail};
        if (store_profile_set(s, org.id, &p, &ev, &err))
            printf("profile %s of %s: security %s, expires %s, reply %s, reply-all %s, forward %s, "
                   "read receipts %s, subject %s\n",
                   name, org_name, p.security, exp ? exp : "never", p.reply ? "yes" : "no",
                   p.reply_all ? "yes" : "no", p.forward ? "yes" : "no",
                   p.read_receipts ? "yes" : "no", p.subject_shown ? "shown" : "generic");
        else
            rc = admin_fail(err);
    }
    store_org_clear(&org);
    return rc;
}

static int org_brand(store *s, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return admin_usage_error("org brand needs the organisation's NAME%s", "");
    const char *name = argv[0];
    store_brand b = {0};
    b.display_name = (char *)admin_opt(argc, argv, "--display-name");
    b.color = (char *)admin_opt(argc, argv, "--color");
    b.notice = (char *)admin_opt(argc, argv, "--notice");
    const char *logo = admin_opt(argc, argv, "--logo");
    if (!b.display_name && !b.color && !b.notice && !logo)
        return admin_usage_error("org brand: give --display-name, --color, --logo or --notice%s",
                                 "");
    if (b.display_name && (!*b.display_name || strlen(b.display_name) > 100))
        return admin_usage_error("--display-name: 1 to 100 characters%s", "");
    if (b.color && !brand_color_ok(b.color))
        return admin_usage_error("--color %s: use #rrggbb", b.color);
    if (b.notice && strlen(b.notice) > 1000)
        return admin_usage_error("--notice: at most 1000 characters%s", "");
    g_autofree uint8_t *clean = NULL;
    if (logo && !strcmp(logo, "none")) {
        b.logo_type = "";
    } else if (logo) {
        g_autofree char *bytes = NULL;
        gsize n = 0;
        GError *err = NULL;
        const char *type = NULL;
        if (!g_file_get_contents(logo, &bytes, &n, NULL)) {
            fprintf(stderr, "sealpost-keyd admin: cannot read the logo %s\n", logo);
            return 2;
        }
        if (!brand_logo_check((const uint8_t *)bytes, n, &clean, &b.logo_len, &type, &err))
            return admin_fail(err);
        b.logo = clean;
        b.logo_type = (char *)type;
    }
    store_org org = {0};
    int rc = admin_find_org(s, name, &org);
    if (!rc) {
        GError *err = NULL;
        ks_audit_event ev = {"org.brand", "admin", name, NULL, NULL};
        if (store_brand_set(s, org.id, &b, &ev, &err))
            printf("brand of %s updated%s%s\n", name, b.logo_len ? ", logo " : "",
                   b.logo_len ? b.logo_type : "");
        else
            rc = admin_fail(err);
    }
    store_org_clear(&org);
    return rc;
}

static int account_unlock(store *s, int argc, char **argv)
{
    if (argc < 1)
        return admin_usage_error("account unlock needs an ADDRESS%s", "");
    g_autofree char *addr = auth_address_normalise(argv[0]);
    if (!addr)
        return admin_usage_error("%s is not an email address", argv[0]);
    GError *err = NULL;
    ks_audit_event ev = {"account.unlock", "admin", addr, NULL, NULL};
    if (!store_failures_clear(s, addr, &ev, &err))
        return admin_fail(err);
    printf("%s can sign in again\n", addr);
    return 0;
}

static int audit_check(store *s)
{
    audit_report rep;
    GError *err = NULL;
    if (!audit_verify(s, &rep, &err))
        return admin_fail(err);
    if (rep.first_bad) {
        printf("audit chain BROKEN at row %" G_GINT64_FORMAT ": %s\n", rep.first_bad, rep.problem);
        g_free(rep.problem);
        return 3;
    }
    printf("audit chain intact: %" G_GINT64_FORMAT " rows\n", rep.rows);
    return 0;
}

/* migrate --to URL [--password-file F]: s, opened from cfg, into the store
 * at URL (migrate.c). */
static int migrate_cmd(store *s, const ks_config *cfg, int argc, char **argv)
{
    const char *to = NULL, *pwfile = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--to") && i + 1 < argc)
            to = argv[++i];
        else if (!strcmp(argv[i], "--password-file") && i + 1 < argc)
            pwfile = argv[++i];
        else
            return admin_usage_error("unexpected \"%s\": migrate --to URL [--password-file FILE]",
                                     argv[i]);
    }
    if (!to)
        return admin_usage_error("migrate needs --to URL (postgresql://USER@HOST/DATABASE)%s", "");
    g_autofree char *from_shown = store_url_shown(cfg->store_url);
    g_autofree char *to_shown = store_url_shown(to);
    if (!strcmp(to, cfg->store_url))
        return admin_usage_error("--to %s is the store migrate copies from", to_shown);
    GError *err = NULL;
    store *dst = store_open(to, &(store_options){pwfile, 2}, &err);
    if (!dst) {
        g_prefix_error(&err, "the target store: ");
        return admin_fail(err);
    }
    fprintf(stderr, "copying %s (%s) into %s (%s)\n", from_shown, store_backend_name(s), to_shown,
            store_backend_name(dst));
    migrate_bar bar;
    migrate_bar_init(&bar, stderr);
    migrate_report rep;
    bool ok = migrate_copy(s, dst, migrate_bar_update, &bar, &rep, &err);
    migrate_bar_finish(&bar);
    int rc = 0;
    if (ok) {
        migrate_print_summary(stdout, &rep, from_shown, to_shown, store_shared(dst));
    } else {
        g_prefix_error(&err, "migrate to %s: ", to_shown);
        rc = admin_fail(err);
    }
    migrate_report_clear(&rep);
    store_close(dst);
    return rc;
}

int admin_main(int argc, char **argv)
{
    const char *data = NULL, *config = NULL, *store_url = NULL;
    bool init = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(admin_usage, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--init"))
            init = true;
        else if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
        else if (!strcmp(argv[i], "--store") && i + 1 < argc)
            store_url = argv[++i];
        else
            return admin_usage_error("unknown option %s", argv[i]);
    }
    if (!data == !config)
        return admin_usage_error("give --data DIR (development) or --config FILE%s", "");
    /* migrate is a command of one word; the others are NOUN VERB */
    bool one_word = i < argc && !strcmp(argv[i], "migrate");
    if (i + (one_word ? 0 : 1) >= argc)
        return admin_usage_error(
            "which command? (org, token, user, account, kek, audit, migrate)%s", "");
    const char *noun = argv[i], *verb = one_word ? "" : argv[i + 1];
    int rest_c = argc - i - (one_word ? 1 : 2);
    char **rest = argv + i + (one_word ? 1 : 2);

    if (init && !data)
        return admin_usage_error("--init goes with --data DIR%s", "");
    int drc = data ? keyd_data_dir("sealpost-keyd admin", data, init) : 0;
    if (drc)
        return drc;
    ks_config cfg;
    GError *err = NULL;
    if (store_url && !data)
        return admin_usage_error("--store goes with --data DIR (with --config, [store] url)%s", "");
    if (!config_for_admin(&cfg, data, config, &err))
        return admin_fail(err);
    if (store_url) {
        g_free(cfg.store_url);
        cfg.store_url = g_strdup(store_url);
    }
    int rc;
    if (!strcmp(noun, "kek") && !strcmp(verb, "create")) {
        rc = kek_create(cfg.kek_file, &err) ? 0 : admin_fail(err);
        if (!rc)
            printf("created the key file %s\n", cfg.kek_file);
        config_clear(&cfg);
        return rc;
    }
    bool needs_blocklist = !strcmp(noun, "user");
    if (needs_blocklist && !auth_blocklist_load(cfg.blocklist, &err)) {
        config_clear(&cfg);
        return admin_fail(err);
    }
    store *s =
        store_open(cfg.store_url, &(store_options){cfg.store_password_file, cfg.store_pool}, &err);
    if (!s) {
        config_clear(&cfg);
        return admin_fail(err);
    }
    if (!strcmp(noun, "org") && !strcmp(verb, "create"))
        rc = org_create(s, rest_c, rest);
    else if (!strcmp(noun, "org") && !strcmp(verb, "brand"))
        rc = org_brand(s, rest_c, rest);
    else if (!strcmp(noun, "org") && !strcmp(verb, "reply-keys"))
        rc = admin_org_reply_keys(s, rest_c, rest);
    else if (!strcmp(noun, "org") && !strcmp(verb, "reply-route"))
        rc = admin_org_reply_route(s, rest_c, rest);
    else if (!strcmp(noun, "org") && !strcmp(verb, "set"))
        rc = admin_org_set(s, rest_c, rest);
    else if (!strcmp(noun, "token") && !strcmp(verb, "create"))
        rc = token_create(s, rest_c, rest);
    else if (!strcmp(noun, "token") && !strcmp(verb, "list"))
        rc = token_list(s, rest_c, rest);
    else if (!strcmp(noun, "token") && !strcmp(verb, "revoke"))
        rc = token_revoke(s, rest_c, rest);
    else if (!strcmp(noun, "user") && !strcmp(verb, "create"))
        rc = user_create(s, &cfg, rest_c, rest);
    else if (!strcmp(noun, "profile") && !strcmp(verb, "set"))
        rc = profile_set(s, rest_c, rest);
    else if (!strcmp(noun, "account") && !strcmp(verb, "unlock"))
        rc = account_unlock(s, rest_c, rest);
    else if (!strcmp(noun, "audit") && !strcmp(verb, "verify"))
        rc = audit_check(s);
    else if (one_word)
        rc = migrate_cmd(s, &cfg, rest_c, rest);
    else if (!strcmp(noun, "kek") && !strcmp(verb, "rotate")) {
        gint64 count = 0;
        g_autofree char *id = NULL;
        bool shared_file = rest_c == 1 && !strcmp(rest[0], "--shared-file");
        if (rest_c > (shared_file ? 1 : 0)) {
            rc = admin_usage_error("kek rotate takes only --shared-file%s", "");
        } else {
            bool ok = (!data || g_file_test(cfg.kek_file, G_FILE_TEST_EXISTS) ||
                       kek_create(cfg.kek_file, &err)) &&
                      kek_rotate(cfg.kek_file, s, shared_file, &count, &id, &err);
            if (ok)
                printf("new KEK %s; %" G_GINT64_FORMAT " message keys re-wrapped\n", id, count);
            if (ok && store_shared(s) && !shared_file)
                printf("now copy %s to every keyd host again\n", cfg.kek_file);
            rc = ok ? 0 : admin_fail(err);
        }
    } else if (!strcmp(noun, "kek") && !strcmp(verb, "stage")) {
        g_autofree char *id = NULL;
        rc = kek_stage(cfg.kek_file, &id, &err) ? 0 : admin_fail(err);
        if (!rc)
            printf("staged KEK %s: copy %s to every keyd host, then run `kek rotate`\n", id,
                   cfg.kek_file);
    } else {
        rc = admin_usage_error("unknown command \"%s\"", noun);
    }
    store_close(s);
    auth_blocklist_free();
    config_clear(&cfg);
    return rc;
}
