/*
 * test_store.c - the store conformance suite: every call of store.h that
 * takes a store, checked against the contract in store.h's comments, so
 * that every backend (store_backend.h) behaves the same to keyd.
 *
 * By default it runs on a fresh SQLite file in a temporary directory. To
 * run it on another backend, name the store in SEALPOST_TEST_STORE:
 *
 *   SEALPOST_TEST_STORE=postgresql://keyd@localhost/keyd_test \
 *       ./build/tests/unit/test_store
 *
 * The database may hold what earlier runs and other tests wrote: every
 * test makes its own organisations, addresses, message ids and tokens with
 * a random suffix, and asserts only about those (or about what changed
 * during the test, for calls that act on the whole database). Nothing is
 * deleted afterwards; use a database kept for tests.
 *
 * Here: opening, organisations, brand, gateway tokens, members, profiles,
 * the audit chain, and writers in several threads on two handles. test_store_msg.c: messages, their
 * management, store_apply, the list, the sweep of expired keys, re-wrapping. test_store_more.c: the
 * recipient side (accounts, registrations, resets, the mail outbox, self-service, throttles,
 * sessions, devices, the housekeeping sweep). test_store_create.c: making messages for the
 * tests, and what key creation records and reads (the profile named, the brand version).
 * test_store_copy.c: copying the store into another (admin migrate), last, when the other tests
 * have filled it.
 */
#include "test_store.h"

#include <glib/gstdio.h>
#include <stdio.h>

static guint32 run_id;
static guint counter;   /* atomic */
static char *store_url; /* the suite's, for a second handle */

/* ---- helpers ---- */

void expect_error(GError **err, int code)
{
    if (!*err)
        fail_msg("expected an error with code %d, got none", code);
    if ((*err)->domain != SP_ERROR || (*err)->code != code)
        fail_msg("expected SP_ERROR code %d, got %s code %d: %s", code,
                 g_quark_to_string((*err)->domain), (*err)->code, (*err)->message);
    g_clear_error(err);
}

char *uniq(const char *prefix)
{
    return g_strdup_printf("%s-%08x-%u", prefix, run_id, g_atomic_int_add(&counter, 1));
}

char *uniq_email(void)
{
    return g_strdup_printf("u-%08x-%u@conf.example", run_id, g_atomic_int_add(&counter, 1));
}

void rand_hash(uint8_t h[KS_HASH_LEN])
{
    for (size_t i = 0; i < KS_HASH_LEN; i += 4) {
        guint32 r = g_random_int();
        memcpy(h + i, &r, 4);
    }
}

gint64 now_s(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
}

gint64 make_org(store *s, char **name_out)
{
    g_autoptr(GError) err = NULL;
    char *name = uniq("org");
    g_autofree char *domain = g_strdup_printf("%s.example", name);
    const char *d[] = {domain};
    EXPECT(store_org_create(s, name, d, 1, EV("org.create", name), &err), true);
    store_org o = {0};
    EXPECT(store_org_by_name(s, name, &o, &err), 1);
    gint64 id = o.id;
    store_org_clear(&o);
    if (name_out)
        *name_out = name;
    else
        g_free(name);
    return id;
}

gint64 make_account(store *s, const char *email, const char *phrase)
{
    g_autoptr(GError) err = NULL;
    const char *q[] = {"first pet?", "first street?"}, *a[] = {"h-pet", "h-street"};
    store_registration r = {email, "Conf User", "$argon2id$conf", phrase, q, a, 2};
    gint64 now = now_s();
    EXPECT(store_registration_add(s, &r, NULL, now, now + 3600, 100, NULL, NULL, &err),
           MAIL_QUEUED);
    store_mail_job j = {0};
    EXPECT(claim_mine(s, now, 60, email, &j), 1);
    uint8_t h[KS_HASH_LEN];
    rand_hash(h);
    EXPECT(store_mail_arm(s, &j, h, now + 3600, &err), 1);
    EXPECT(store_mail_done(s, j.id, true, 0, NULL, NULL, &err), true);
    store_pending p = {0};
    EXPECT(store_registration_lookup(s, h, now, &p, &err), 1);
    char *got = NULL;
    EXPECT(store_registration_activate(s, p.id, h, now, &got, NULL, &err), 1);
    g_free(got);
    store_pending_clear(&p);
    store_mail_job_clear(&j);
    store_account acc = {0};
    EXPECT(store_account_get(s, email, &acc, &err), 1);
    gint64 id = acc.id;
    store_account_clear(&acc);
    return id;
}

typedef struct {
    const char *event, *subject;
    gint64 n;
} audit_match;

static bool count_row(void *ctx, const store_audit_row *row)
{
    audit_match *m = ctx;
    if ((!m->event || g_strcmp0(row->event, m->event) == 0) &&
        (!m->subject || g_strcmp0(row->subject, m->subject) == 0))
        m->n++;
    return true;
}

gint64 audit_count(store *s, const char *event, const char *subject)
{
    g_autoptr(GError) err = NULL;
    audit_match m = {event, subject, 0};
    EXPECT(store_audit_each(s, count_row, &m, &err), true);
    return m.n;
}

int claim_mine(store *s, gint64 now, gint64 lease, const char *email, store_mail_job *out)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    for (;;) {
        store_mail_job j = {0};
        int r = store_mail_claim(s, now, lease, &j, &err);
        if (r < 0)
            fail_msg("store_mail_claim: %s", err ? err->message : "failed");
        if (r == 0)
            return 0;
        if (g_strcmp0(j.email, email) == 0) {
            *out = j;
            return 1;
        }
        /* Someone else's: leased, left alone; never handed out again
         * within its lease. */
        if (lease > 0 && g_hash_table_contains(seen, &j.id))
            fail_msg("mail %" G_GINT64_FORMAT " claimed twice within its lease", j.id);
        g_hash_table_add(seen, g_memdup2(&j.id, sizeof j.id));
        store_mail_job_clear(&j);
    }
}

/* ---- opening, health ---- */

/* Store URLs in messages and logs never carry a password. */
static void test_url_shown(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"postgresql://keyd:pw@db.example:5432/keyd?sslmode=require",
         "postgresql://keyd@db.example:5432/keyd?sslmode=require"},
        {"postgres://keyd@db/keyd", "postgres://keyd@db/keyd"},
        {"postgresql://db/keyd?user=keyd&password=pw&sslmode=verify-full",
         "postgresql://db/keyd?user=keyd&password=***&sslmode=verify-full"},
        {"postgresql://db/keyd?password=pw", "postgresql://db/keyd?password=***"},
        {"sqlite:/var/lib/sealpost/keyd.db", "sqlite:/var/lib/sealpost/keyd.db"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *shown = store_url_shown(cases[i][0]);
        assert_string_equal(shown, cases[i][1]);
    }
}

static void test_open_and_health(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    assert_true(store_schema_version(s) > 0);
    EXPECT(store_ping(s, &err), true);
    EXPECT(store_maintain(s, &err), true);
    /* Not a store URL: refused as a usage error, nothing opened. */
    assert_null(store_open("mysql://x@y/z", NULL, &err));
    expect_error(&err, SP_ERR_USAGE);
    /* A database that cannot be used: SP_ERR_UNAVAILABLE. */
    assert_null(store_open("sqlite:/nonexistent-conf/dir/store.db", NULL, &err));
    expect_error(&err, SP_ERR_UNAVAILABLE);
    /* A PostgreSQL that does not answer: unavailable, and the message
     * names the database without the password in its URL. */
    assert_null(store_open("postgresql://keyd:s3cret-pw@127.0.0.1:1/keyd", NULL, &err));
    assert_non_null(err);
    assert_null(strstr(err->message, "s3cret-pw"));
    assert_non_null(strstr(err->message, "postgresql://keyd@127.0.0.1:1/keyd"));
    expect_error(&err, SP_ERR_UNAVAILABLE);
    /* A password file that cannot be read: a usage error. */
    store_options bad = {.password_file = "/nonexistent-conf/pw"};
    assert_null(store_open("postgresql://keyd@127.0.0.1:1/keyd", &bad, &err));
    expect_error(&err, SP_ERR_USAGE);
    g_autofree char *shown = store_url_shown("postgresql://keyd:s3cret@db/keyd?password=x&a=b");
    assert_null(strstr(shown, "s3cret"));
    assert_null(strstr(shown, "password=x"));
}

/* ---- organisations, brand, gateway tokens, members, profiles ---- */

static void test_org_create_and_lookup(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *name = NULL, *other = NULL;
    gint64 id = make_org(s, &name), id2 = make_org(s, &other);
    assert_true(id != id2);
    store_org o = {0};
    EXPECT(store_org_by_name(s, name, &o, &err), 1);
    assert_int_equal(o.id, id);
    assert_string_equal(o.name, name);
    store_org_clear(&o);
    g_autofree char *unknown = uniq("org-none");
    EXPECT(store_org_by_name(s, unknown, &o, &err), 0);

    g_autofree char *dom = g_strdup_printf("%s.example", name);
    g_autofree char *dom2 = g_strdup_printf("%s.example", other);
    EXPECT(store_org_has_domain(s, id, dom, &err), 1);
    EXPECT(store_org_has_domain(s, id, dom2, &err), 0); /* another organisation's */
    EXPECT(store_org_has_domain(s, id, "nowhere.invalid", &err), 0);

    /* A duplicate name: SP_ERR_INPUT, no audit row. */
    const char *d[] = {"fresh.invalid"};
    g_autofree char *fresh = g_strdup_printf("%s.x.example", name);
    d[0] = fresh;
    EXPECT(store_org_create(s, name, d, 1, EV("org.create", name), &err), false);
    expect_error(&err, SP_ERR_INPUT);
    assert_int_equal(audit_count(s, "org.create", name), 1);
    EXPECT(store_org_has_domain(s, id, fresh, &err), 0);

    /* A domain another organisation has: refused, and the whole call with it. */
    g_autofree char *n3 = uniq("org");
    g_autofree char *d3 = g_strdup_printf("%s.example", n3);
    const char *two[] = {d3, dom2};
    EXPECT(store_org_create(s, n3, two, 2, EV("org.create", n3), &err), false);
    expect_error(&err, SP_ERR_INPUT);
    EXPECT(store_org_by_name(s, n3, &o, &err), 0);
    assert_int_equal(audit_count(s, "org.create", n3), 0);

    /* Several domains. */
    g_autofree char *n4 = uniq("org");
    g_autofree char *d4a = g_strdup_printf("a.%s.example", n4);
    g_autofree char *d4b = g_strdup_printf("b.%s.example", n4);
    const char *both[] = {d4a, d4b};
    EXPECT(store_org_create(s, n4, both, 2, NULL, &err), true);
    EXPECT(store_org_by_name(s, n4, &o, &err), 1);
    EXPECT(store_org_has_domain(s, o.id, d4a, &err), 1);
    EXPECT(store_org_has_domain(s, o.id, d4b, &err), 1);
    store_org_clear(&o);
}

static void test_brand(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *name = NULL;
    gint64 id = make_org(s, &name);
    store_brand b = {0};
    EXPECT(store_brand_get(s, id, &b, &err), 1);
    assert_null(b.display_name);
    assert_null(b.logo);
    assert_int_equal(b.logo_len, 0);
    assert_int_equal(b.version, 0); /* no brand yet */
    gint64 v = b.version;
    store_brand_clear(&b);

    store_brand set = {.display_name = "Conf Org", .color = "#123456"};
    EXPECT(store_brand_set(s, id, &set, EV("brand.set", name), &err), true);
    EXPECT(store_brand_get(s, id, &b, &err), 1);
    assert_string_equal(b.display_name, "Conf Org");
    assert_string_equal(b.color, "#123456");
    assert_null(b.logo);
    assert_true(b.version > v);
    v = b.version;
    store_brand_clear(&b);
    store_org o = {0};
    EXPECT(store_org_by_name(s, name, &o, &err), 1);
    assert_string_equal(o.display_name, "Conf Org");
    assert_string_equal(o.color, "#123456");
    store_org_clear(&o);

    /* Only the fields given change. */
    static const uint8_t logo[] = {0x89, 'P', 'N', 'G', 0x00, 0x0d, 0xff, 0x00, 0x7f};
    set = (store_brand){.notice = "Read me",
                        .logo = (uint8_t *)logo,
                        .logo_len = sizeof logo,
                        .logo_type = "image/png"};
    EXPECT(store_brand_set(s, id, &set, EV("brand.set", name), &err), true);
    EXPECT(store_brand_get(s, id, &b, &err), 1);
    assert_string_equal(b.display_name, "Conf Org");
    assert_string_equal(b.color, "#123456");
    assert_string_equal(b.notice, "Read me");
    assert_int_equal(b.logo_len, sizeof logo);
    assert_memory_equal(b.logo, logo, sizeof logo);
    assert_string_equal(b.logo_type, "image/png");
    assert_true(b.version > v);
    v = b.version;
    store_brand_clear(&b);

    /* logo_len 0 keeps the logo. */
    set = (store_brand){.color = "#abcdef"};
    EXPECT(store_brand_set(s, id, &set, EV("brand.set", name), &err), true);
    EXPECT(store_brand_get(s, id, &b, &err), 1);
    assert_string_equal(b.color, "#abcdef");
    assert_int_equal(b.logo_len, sizeof logo);
    assert_memory_equal(b.logo, logo, sizeof logo);
    assert_true(b.version > v);
    v = b.version;
    store_brand_clear(&b);

    /* A logo_type of "" removes it. */
    set = (store_brand){.logo_type = ""};
    EXPECT(store_brand_set(s, id, &set, EV("brand.set", name), &err), true);
    EXPECT(store_brand_get(s, id, &b, &err), 1);
    assert_null(b.logo);
    assert_int_equal(b.logo_len, 0);
    assert_null(b.logo_type);
    assert_string_equal(b.display_name, "Conf Org");
    assert_string_equal(b.notice, "Read me");
    assert_true(b.version > v);
    store_brand_clear(&b);
    assert_int_equal(audit_count(s, "brand.set", name), 4);

    EXPECT(store_brand_get(s, -7, &b, &err), 0);
}

static void test_gateway_tokens(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *oname = NULL, *oname2 = NULL;
    gint64 org = make_org(s, &oname), org2 = make_org(s, &oname2);
    /* Prefixes of KS_TOKEN_PREFIX_LEN characters sharing their first ten. */
    g_autofree char *base = g_strdup_printf("spg_%06x", g_random_int() & 0xffffff);
    g_autofree char *p1 = g_strconcat(base, "a1", NULL), *p2 = g_strconcat(base, "a2", NULL);
    g_autofree char *p3 = g_strconcat(base, "b1", NULL), *pa = g_strconcat(base, "a", NULL);
    uint8_t h1[KS_HASH_LEN], h2[KS_HASH_LEN], h3[KS_HASH_LEN], hx[KS_HASH_LEN];
    rand_hash(h1), rand_hash(h2), rand_hash(h3), rand_hash(hx);
    EXPECT(store_gateway_token_create(s, org, h1, p1, EV("token.create", base), &err), true);
    EXPECT(store_gateway_token_create(s, org, h2, p2, EV("token.create", base), &err), true);
    EXPECT(store_gateway_token_create(s, org2, h3, p3, EV("token.create", base), &err), true);
    assert_int_equal(audit_count(s, "token.create", base), 3);
    /* The same token twice: a constraint. */
    EXPECT(store_gateway_token_create(s, org, h1, p1, NULL, &err), false);
    expect_error(&err, SP_ERR_INPUT);

    store_org o = {0};
    EXPECT(store_gateway_token_org(s, h1, &o, &err), 1);
    assert_int_equal(o.id, org);
    assert_string_equal(o.name, oname);
    store_org_clear(&o);
    EXPECT(store_gateway_token_org(s, hx, &o, &err), 0);

    /* The organisation's tokens, oldest first; h1's use recorded. */
    GArray *rows = NULL;
    EXPECT(store_gateway_tokens_list(s, org, &rows, &err), true);
    assert_int_equal(rows->len, 2);
    store_token_row *t = &g_array_index(rows, store_token_row, 0);
    assert_string_equal(t[0].prefix, p1);
    assert_string_equal(t[1].prefix, p2);
    assert_string_equal(t[0].org, oname);
    assert_true(t[0].created > 0);
    assert_true(t[0].last_used > 0);
    assert_int_equal(t[1].last_used, 0);
    assert_int_equal(t[0].revoked, 0);
    g_array_unref(rows);
    EXPECT(store_gateway_tokens_list(s, 0, &rows, &err), true); /* every organisation's */
    int mine = 0;
    for (guint i = 0; i < rows->len; i++)
        mine += g_str_has_prefix(g_array_index(rows, store_token_row, i).prefix, base);
    assert_int_equal(mine, 3);
    g_array_unref(rows);

    /* Revoke: ambiguous prefix (nothing revoked), one, gone, by hash. */
    gint64 now = now_s();
    EXPECT(store_gateway_token_revoke(s, pa, NULL, now, EV("token.revoke", base), &err), 2);
    EXPECT(store_gateway_token_org(s, h1, &o, &err), 1);
    store_org_clear(&o);
    EXPECT(store_gateway_token_org(s, h2, &o, &err), 1);
    store_org_clear(&o);
    EXPECT(store_gateway_token_revoke(s, p1, NULL, now, EV("token.revoke", base), &err), 1);
    EXPECT(store_gateway_token_org(s, h1, &o, &err), 0); /* refused from now on */
    EXPECT(store_gateway_token_revoke(s, p1, NULL, now, EV("token.revoke", base), &err), 0);
    g_autofree char *pz = g_strconcat(base, "zz", NULL);
    EXPECT(store_gateway_token_revoke(s, pz, NULL, now, EV("token.revoke", base), &err), 0);
    EXPECT(store_gateway_token_revoke(s, NULL, h2, now, EV("token.revoke", base), &err), 1);
    EXPECT(store_gateway_token_revoke(s, NULL, h2, now, EV("token.revoke", base), &err), 0);
    EXPECT(store_gateway_token_org(s, h2, &o, &err), 0);
    /* A prefix is text, not a pattern: "_" in it matches "_" only. */
    g_autofree char *pc = g_strconcat(base, "c", NULL), *p5 = g_strconcat(base, "c1", NULL);
    g_autofree char *p6 = g_strdup(p5);
    p6[3] = 'X'; /* spgX...c1 */
    uint8_t h5[KS_HASH_LEN], h6[KS_HASH_LEN];
    rand_hash(h5), rand_hash(h6);
    EXPECT(store_gateway_token_create(s, org2, h5, p5, NULL, &err), true);
    EXPECT(store_gateway_token_create(s, org2, h6, p6, NULL, &err), true);
    EXPECT(store_gateway_token_revoke(s, pc, NULL, now, EV("token.revoke", base), &err), 1);
    EXPECT(store_gateway_token_org(s, h5, &o, &err), 0);
    EXPECT(store_gateway_token_org(s, h6, &o, &err), 1);
    store_org_clear(&o);
    /* Only b1 is live now: the ten shared characters name it alone. */
    EXPECT(store_gateway_token_revoke(s, base, NULL, now, EV("token.revoke", base), &err), 1);
    EXPECT(store_gateway_token_org(s, h3, &o, &err), 0);
    assert_int_equal(audit_count(s, "token.revoke", base), 4);

    EXPECT(store_gateway_tokens_list(s, org, &rows, &err), true);
    assert_int_equal(rows->len, 2); /* revoked tokens stay listed */
    assert_int_equal(g_array_index(rows, store_token_row, 0).revoked, now);
    assert_int_equal(g_array_index(rows, store_token_row, 1).revoked, now);
    g_array_unref(rows);
}

static void test_org_users_and_members(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *na = NULL, *nb = NULL;
    gint64 a = make_org(s, &na), b = make_org(s, &nb);
    g_autofree char *e1 = uniq_email(), *e2 = uniq_email(), *e4 = uniq_email();

    /* A new address with a password: a new active account, a member. */
    EXPECT(store_org_user_add(s, a, e1, "$pw1", "sender", EV("org.user", e1), &err), 1);
    store_account acc = {0};
    EXPECT(store_account_get(s, e1, &acc, &err), 1);
    assert_int_equal(acc.status, ACCOUNT_ACTIVE);
    assert_string_equal(acc.pw_hash, "$pw1");
    store_account_clear(&acc);
    store_member m = {0};
    EXPECT(store_member_get(s, e1, &m, &err), 1);
    assert_int_equal(m.org_id, a);
    assert_string_equal(m.org_name, na);
    assert_string_equal(m.role, "sender");
    store_member_clear(&m);

    /* With a password again: it has an account, nothing changes. */
    EXPECT(store_org_user_add(s, a, e1, "$pw2", "admin", EV("org.user", e1), &err), 0);
    EXPECT(store_account_get(s, e1, &acc, &err), 1);
    assert_string_equal(acc.pw_hash, "$pw1");
    store_account_clear(&acc);
    EXPECT(store_member_get(s, e1, &m, &err), 1);
    assert_string_equal(m.role, "sender");
    store_member_clear(&m);
    assert_int_equal(audit_count(s, "org.user", e1), 1);

    /* Without a password: the existing active account joins; the admin
     * membership comes first. */
    EXPECT(store_org_user_add(s, b, e1, NULL, "admin", EV("org.user", e1), &err), 1);
    EXPECT(store_member_get(s, e1, &m, &err), 1);
    assert_int_equal(m.org_id, b);
    assert_string_equal(m.org_name, nb);
    assert_string_equal(m.role, "admin");
    store_member_clear(&m);
    EXPECT(store_account_get(s, e1, &acc, &err), 1);
    assert_string_equal(acc.pw_hash, "$pw1");
    store_account_clear(&acc);
    assert_int_equal(audit_count(s, "org.user", e1), 2);

    /* Without a password and without an account: 0, nothing made. */
    EXPECT(store_org_user_add(s, a, e2, NULL, "sender", EV("org.user", e2), &err), 0);
    EXPECT(store_account_get(s, e2, &acc, &err), 0);
    EXPECT(store_member_get(s, e2, &m, &err), 0);
    assert_int_equal(audit_count(s, "org.user", e2), 0);

    /* An active account of no organisation is no member until added. */
    gint64 id4 = make_account(s, e4, "phrase four");
    EXPECT(store_member_get(s, e4, &m, &err), 0);
    EXPECT(store_org_user_add(s, a, e4, NULL, "sender", NULL, &err), 1);
    EXPECT(store_member_get(s, e4, &m, &err), 1);
    assert_int_equal(m.org_id, a);
    store_member_clear(&m);
    /* Added again: the new role. */
    EXPECT(store_org_user_add(s, a, e4, NULL, "admin", NULL, &err), 1);
    EXPECT(store_member_get(s, e4, &m, &err), 1);
    assert_string_equal(m.role, "admin");
    store_member_clear(&m);
    EXPECT(store_account_get(s, e4, &acc, &err), 1);
    assert_int_equal(acc.id, id4);
    assert_string_equal(acc.pw_hash, "$argon2id$conf");
    assert_string_equal(acc.phrase, "phrase four");
    store_account_clear(&acc);
}

static void test_profiles(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *name = NULL;
    gint64 org = make_org(s, &name), other = make_org(s, NULL);
    store_profile p = {"default", "high", 86400, true, false, true, true, false};
    EXPECT(store_profile_set(s, org, &p, EV("profile.set", name), &err), true);
    store_profile got = {0};
    EXPECT(store_profile_get(s, org, "default", &got, &err), 1);
    assert_string_equal(got.name, "default");
    assert_string_equal(got.security, "high");
    assert_int_equal(got.expires_seconds, 86400);
    assert_true(got.reply && !got.reply_all && got.forward && got.read_receipts &&
                !got.subject_shown);
    store_profile *dup = store_profile_dup(&got);
    assert_string_equal(dup->security, "high");
    store_profile_free(dup);
    store_profile_clear(&got);

    /* Replaced whole, every flag the other way. */
    store_profile q = {"default", "low", 0, false, true, false, false, true};
    EXPECT(store_profile_set(s, org, &q, EV("profile.set", name), &err), true);
    EXPECT(store_profile_get(s, org, "default", &got, &err), 1);
    assert_string_equal(got.security, "low");
    assert_int_equal(got.expires_seconds, 0);
    assert_true(!got.reply && got.reply_all && !got.forward && !got.read_receipts &&
                got.subject_shown);
    store_profile_clear(&got);
    assert_int_equal(audit_count(s, "profile.set", name), 2);

    store_profile r = {"bulk", "medium", 3600, true, true, true, false, true};
    EXPECT(store_profile_set(s, org, &r, NULL, &err), true);
    EXPECT(store_profile_get(s, org, "bulk", &got, &err), 1);
    assert_string_equal(got.security, "medium");
    store_profile_clear(&got);
    EXPECT(store_profile_get(s, org, "default", &got, &err), 1); /* still there */
    assert_string_equal(got.security, "low");
    store_profile_clear(&got);
    EXPECT(store_profile_get(s, org, "none", &got, &err), 0);
    EXPECT(store_profile_get(s, other, "default", &got, &err), 0);
}

/* ---- the audit chain ---- */

typedef struct {
    gint64 rows, last_seq, stop_after;
    uint8_t last_hash[KS_HASH_LEN];
    const char *subject;
    GPtrArray *mine; /* "event|actor|ip|detail" of the subject's rows, NULL as "-" */
    gint64 ts_min, ts_max;
} chain_walk;

static bool walk_row(void *ctx, const store_audit_row *row)
{
    chain_walk *w = ctx;
    uint8_t zero[KS_HASH_LEN] = {0}, h[KS_HASH_LEN];
    if (w->rows == 0)
        assert_memory_equal(row->prev, zero, KS_HASH_LEN);
    else {
        assert_int_equal(row->seq, w->last_seq + 1); /* no gap */
        assert_memory_equal(row->prev, w->last_hash, KS_HASH_LEN);
    }
    audit_row_hash(row->prev, row->seq, row->ts, row->event, row->actor, row->subject, row->ip,
                   row->detail, h);
    assert_memory_equal(row->hash, h, KS_HASH_LEN);
    w->rows++;
    w->last_seq = row->seq;
    memcpy(w->last_hash, row->hash, KS_HASH_LEN);
    if (w->subject && g_strcmp0(row->subject, w->subject) == 0) {
        assert_true(row->ts >= w->ts_min && row->ts <= w->ts_max);
        g_ptr_array_add(w->mine,
                        g_strdup_printf("%s|%s|%s|%s", row->event, row->actor ? row->actor : "-",
                                        row->ip ? row->ip : "-", row->detail ? row->detail : "-"));
    }
    return w->stop_after == 0 || w->rows < w->stop_after;
}

static void test_audit_chain(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *subj = uniq("audit");
    gint64 t0 = now_s();
    ks_audit_event evs[] = {
        {"test.one", "tester", subj, "127.0.0.1", "{\"n\":1}"},
        {"test.two", NULL, subj, NULL, NULL},
        {"test.three", "", subj, "", ""}, /* "" is not NULL */
        {"test.four", "admin", subj, "2001:db8::1", "{\"text\":\"é ✓ \\\" '\"}"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(evs); i++)
        EXPECT(store_audit_append(s, &evs[i], &err), true);

    chain_walk w = {.subject = subj,
                    .mine = g_ptr_array_new_with_free_func(g_free),
                    .ts_min = t0 - 5,
                    .ts_max = now_s() + 5};
    EXPECT(store_audit_each(s, walk_row, &w, &err), true);
    assert_int_equal(w.mine->len, 4);
    assert_string_equal(w.mine->pdata[0], "test.one|tester|127.0.0.1|{\"n\":1}");
    assert_string_equal(w.mine->pdata[1], "test.two|-|-|-");
    assert_string_equal(w.mine->pdata[2], "test.three|||");
    assert_string_equal(w.mine->pdata[3], "test.four|admin|2001:db8::1|{\"text\":\"é ✓ \\\" '\"}");
    g_ptr_array_unref(w.mine);
    assert_true(w.rows >= 4);

    audit_report rep = {0};
    EXPECT(audit_verify(s, &rep, &err), true);
    assert_int_equal(rep.first_bad, 0);
    assert_null(rep.problem);
    assert_int_equal(rep.rows, w.rows);

    /* fn returning false stops the walk. */
    chain_walk one = {.stop_after = 1};
    EXPECT(store_audit_each(s, walk_row, &one, &err), true);
    assert_int_equal(one.rows, 1);
}

/* ---- several threads, several handles ---- */

#define N_THREADS 4
#define N_WRITES 20

typedef struct {
    store *s;
    const char *subject;
    gint64 org;
    int failures;
} writer_arg;

static gpointer writer(gpointer p)
{
    writer_arg *w = p;
    for (int i = 0; i < N_WRITES; i++) {
        GError *err = NULL;
        g_autofree char *id = uniq("m"), *rcpt = uniq_email();
        const char *r[] = {rcpt};
        msg_spec sp = {.org = w->org};
        bool ok = i % 2 ? make_message(w->s, &sp, id, r, 1, &err)
                        : store_audit_append(w->s, EV("test.concurrent", w->subject), &err);
        if (!ok) {
            g_printerr("concurrent write: %s\n", err ? err->message : "failed");
            w->failures++;
        }
        g_clear_error(&err);
    }
    return NULL;
}

/* Writers in several threads on two handles of one database (two keyd
 * processes): every write lands, and the audit chain stays unbroken. */
static void test_concurrent_writers(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    store *s2 = store_open(store_url, NULL, &err);
    if (!s2)
        fail_msg("a second handle: %s", err->message);
    g_autofree char *subject = uniq("concurrent");
    gint64 org = make_org(s, NULL);
    writer_arg args[N_THREADS];
    GThread *th[N_THREADS];
    gint64 before = audit_count(s, "message.create", NULL);
    for (int i = 0; i < N_THREADS; i++) {
        args[i] = (writer_arg){i % 2 ? s2 : s, subject, org, 0};
        th[i] = g_thread_new("writer", writer, &args[i]);
    }
    for (int i = 0; i < N_THREADS; i++) {
        g_thread_join(th[i]);
        assert_int_equal(args[i].failures, 0);
    }
    store_close(s2);
    assert_int_equal(audit_count(s, "test.concurrent", subject), N_THREADS * N_WRITES / 2);
    assert_true(audit_count(s, "message.create", NULL) - before >= N_THREADS * N_WRITES / 2);
    store_message_query q = {.org_id = org, .now = now_s(), .limit = 1};
    GArray *rows = NULL;
    gint64 total = 0;
    EXPECT(store_messages_find(s, &q, &rows, &total, &err), true);
    assert_int_equal(total, N_THREADS * N_WRITES / 2);
    g_array_unref(rows);
    audit_report rep = {0};
    EXPECT(audit_verify(s, &rep, &err), true);
    if (rep.first_bad)
        fail_msg("audit chain broken at %" G_GINT64_FORMAT ": %s", rep.first_bad, rep.problem);
}

/* ---- the suite: one store for every test ---- */

static char *tmpdir;

static int suite_setup(void **state)
{
    const char *url = g_getenv("SEALPOST_TEST_STORE");
    g_autofree char *own = NULL;
    if (!url || !*url) {
        tmpdir = g_dir_make_tmp("store-conf-XXXXXX", NULL);
        if (!tmpdir)
            return -1;
        url = own = g_strdup_printf("sqlite:%s/store.db", tmpdir);
    }
    store_url = g_strdup(url);
    g_autofree char *shown = store_url_shown(url);
    g_autoptr(GError) err = NULL;
    store *s = store_open(url, NULL, &err);
    if (!s) {
        fprintf(stderr, "cannot open the store %s: %s\n", shown, err->message);
        return -1;
    }
    fprintf(stderr, "store conformance: %s (run %08x)\n", shown, run_id);
    *state = s;
    return 0;
}

static int suite_teardown(void **state)
{
    if (*state)
        store_close(*state);
    g_clear_pointer(&store_url, g_free);
    if (tmpdir) {
        GDir *d = g_dir_open(tmpdir, 0, NULL);
        const char *f;
        while (d && (f = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(tmpdir, f, NULL);
            g_remove(p);
        }
        if (d)
            g_dir_close(d);
        g_rmdir(tmpdir);
        g_clear_pointer(&tmpdir, g_free);
    }
    return 0;
}

int main(void)
{
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
    run_id = g_random_int();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_shown),
        cmocka_unit_test(test_open_and_health),
        cmocka_unit_test(test_org_create_and_lookup),
        cmocka_unit_test(test_brand),
        cmocka_unit_test(test_gateway_tokens),
        cmocka_unit_test(test_org_users_and_members),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_message_create_and_for_rcpt),
        cmocka_unit_test(test_message_manage),
        cmocka_unit_test(test_message_profile),
        cmocka_unit_test(test_org_brand_version),
        cmocka_unit_test(test_reply_keys),
        cmocka_unit_test(test_answers_and_route),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_release_session),
        cmocka_unit_test(test_rate_take),
        cmocka_unit_test(test_messages_find),
        cmocka_unit_test(test_message_get_recipients),
        cmocka_unit_test(test_shred_expired),
        cmocka_unit_test(test_rewrap_and_kek_ids),
        cmocka_unit_test(test_audit_chain),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_accounts_and_phrases),
        cmocka_unit_test(test_phrases_for_org_limit),
        cmocka_unit_test(test_registration_add_and_throttle),
        cmocka_unit_test(test_registration_link_lifecycle),
        cmocka_unit_test(test_registration_failed_ends_link),
        cmocka_unit_test(test_registration_moot_when_active),
        cmocka_unit_test(test_reset_flow),
        cmocka_unit_test(test_mail_outbox),
        cmocka_unit_test(test_self_service),
        cmocka_unit_test(test_password_change_and_delete),
        cmocka_unit_test(test_throttles),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_copy_tables_known),
        cmocka_unit_test(test_copy_into_empty),
    };
    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
