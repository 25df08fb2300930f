/*
 * test_keyd_core.c - keyd's modules below HTTP: the KEK keyring (wrapping
 * bound to the message id, rotation), the SQLite store (single-use
 * tokens, lockout arithmetic, migrations), the audit chain, the password
 * rules and the per-address rate limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "audit.h"
#include "auth.h"
#include "kek.h"
#include "ratelimit.h"
#include "throttle.h"
#include "sp_error.h"
#include "store.h"

#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

static char *scratch(void)
{
    return g_dir_make_tmp("keyd-unit-XXXXXX", NULL);
}

static void rm_rf(const char *dir)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static store *open_store(const char *dir)
{
    g_autofree char *url = g_strdup_printf("sqlite:%s/keyd.db", dir);
    g_autoptr(GError) err = NULL;
    store *s = store_open(url, NULL, &err);
    assert_non_null(s);
    return s;
}

static void add_message(store *s, ks_keyring *ring, const char *id, const char *rcpt,
                        uint8_t key[SP_KEY_LEN])
{
    g_autoptr(GError) err = NULL;
    store_org org = {0};
    if (store_org_by_name(s, "org", &org, NULL) != 1) {
        const char *d[] = {"org.example"};
        assert_true(store_org_create(s, "org", d, 1, NULL, &err));
        assert_int_equal(store_org_by_name(s, "org", &org, NULL), 1);
    }
    uint8_t wrapped[KS_WRAPPED_LEN];
    sp_crypto_random(key, SP_KEY_LEN);
    assert_true(kek_wrap(ring, id, key, wrapped, &err));
    store_message m = {0};
    g_strlcpy(m.id, id, sizeof m.id);
    m.org_id = org.id;
    m.sender = "a@org.example";
    m.security = "high";
    m.kid = (char *)kek_current_id(ring);
    m.kek_id = m.kid;
    m.wrapped = wrapped;
    m.wrapped_len = sizeof wrapped;
    const char *rcpts[] = {rcpt};
    assert_true(store_message_create(s, &m, rcpts, 1, NULL, &err));
    store_org_clear(&org);
}

static void test_kek_wrap_binds_message_id(void **state)
{
    g_autofree char *dir = scratch();
    g_autofree char *path = g_build_filename(dir, "kek", NULL);
    g_autoptr(GError) err = NULL;
    assert_true(kek_create(path, &err));
    assert_false(kek_create(path, &err)); /* never overwrites */
    g_clear_error(&err);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    ks_keyring *r = kek_load(path, &err);
    assert_non_null(r);
    uint8_t key[SP_KEY_LEN], out[SP_KEY_LEN], w[KS_WRAPPED_LEN];
    sp_crypto_random(key, sizeof key);
    assert_true(kek_wrap(r, "message-one", key, w, &err));
    assert_true(kek_unwrap(r, kek_current_id(r), "message-one", w, sizeof w, out, &err));
    assert_memory_equal(key, out, sizeof key);
    /* Moved to another message's row: refused. */
    assert_false(kek_unwrap(r, kek_current_id(r), "message-two", w, sizeof w, out, &err));
    assert_int_equal(err->code, SP_ERR_TAMPERED);
    g_clear_error(&err);
    w[20] ^= 1;
    assert_false(kek_unwrap(r, kek_current_id(r), "message-one", w, sizeof w, out, &err));
    g_clear_error(&err);
    assert_false(kek_unwrap(r, "kek-unknown", "message-one", w, sizeof w, out, &err));
    assert_int_equal(err->code, SP_ERR_INTERNAL);
    g_clear_error(&err);
    kek_free(r);

    /* A key file others can read is refused. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_null(kek_load(path, &err));
    assert_non_null(strstr(err->message, "chmod 600"));
    rm_rf(dir);
}

static void test_kek_rotate_rewraps_and_keeps_kid(void **state)
{
    g_autofree char *dir = scratch();
    g_autofree char *path = g_build_filename(dir, "kek", NULL);
    g_autoptr(GError) err = NULL;
    assert_true(kek_create(path, &err));
    ks_keyring *r = kek_load(path, &err);
    store *s = open_store(dir);
    uint8_t k1[SP_KEY_LEN], k2[SP_KEY_LEN], out[SP_KEY_LEN];
    add_message(s, r, "m1", "x@example.com", k1);
    add_message(s, r, "m2", "y@example.com", k2);
    g_autofree char *old = g_strdup(kek_current_id(r));
    kek_free(r);

    gint64 count = 0;
    g_autofree char *nid = NULL;
    assert_true(kek_rotate(path, s, false, &count, &nid, &err));
    assert_int_equal(count, 2);
    assert_string_not_equal(nid, old);
    r = kek_load(path, &err);
    assert_string_equal(kek_current_id(r), nid);
    store_message m = {0};
    assert_int_equal(store_message_for_rcpt(s, "m1", "x@example.com", &m, &err), 1);
    assert_string_equal(m.kid, old);    /* the envelope's kid still names the message's key */
    assert_string_equal(m.kek_id, nid); /* but it is wrapped under the new KEK */
    assert_true(kek_unwrap(r, m.kek_id, m.id, m.wrapped, m.wrapped_len, out, &err));
    assert_memory_equal(out, k1, SP_KEY_LEN);
    store_message_clear(&m);
    /* The KEK just replaced stays until the next rotation; then it goes. */
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    assert_non_null(strstr(text, old));
    g_autofree char *nid2 = NULL;
    assert_true(kek_rotate(path, s, false, &count, &nid2, &err));
    g_autofree char *text2 = NULL;
    assert_true(g_file_get_contents(path, &text2, NULL, NULL));
    assert_null(strstr(text2, old));
    assert_non_null(strstr(text2, nid));
    kek_free(r);
    store_close(s);
    rm_rf(dir);
}

/* A cluster's rotation: `kek stage` adds the next KEK, which opens keys
 * but wraps none, until `kek rotate` makes it current; a key file whose
 * first KEK is staged is refused. */
static void test_kek_stage_then_rotate(void **state)
{
    g_autofree char *dir = scratch();
    g_autofree char *path = g_build_filename(dir, "kek", NULL);
    g_autoptr(GError) err = NULL;
    assert_true(kek_create(path, &err));
    ks_keyring *r = kek_load(path, &err);
    store *s = open_store(dir);
    uint8_t k1[SP_KEY_LEN], out[SP_KEY_LEN];
    add_message(s, r, "s1", "x@example.com", k1);
    g_autofree char *old = g_strdup(kek_current_id(r));
    kek_free(r);

    g_autofree char *staged = NULL;
    assert_true(kek_stage(path, &staged, &err));
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_autofree char *line_end = g_strdup_printf("%s ", staged);
    assert_non_null(strstr(text, line_end));
    assert_non_null(strstr(text, " staged\n"));
    /* Loaded: the current KEK is still the old one (new keys wrap under
     * it), and nothing was re-wrapped. */
    r = kek_load(path, &err);
    assert_non_null(r);
    assert_string_equal(kek_current_id(r), old);
    uint8_t w[KS_WRAPPED_LEN];
    assert_true(kek_wrap(r, "s1", k1, w, &err));
    assert_true(kek_unwrap(r, old, "s1", w, sizeof w, out, &err));
    kek_free(r);
    /* A second stage is refused while one waits. */
    g_autofree char *again = NULL;
    assert_false(kek_stage(path, &again, &err));
    assert_non_null(strstr(err->message, "staged KEK already"));
    g_clear_error(&err);

    gint64 count = 0;
    g_autofree char *nid = NULL;
    assert_true(kek_rotate(path, s, false, &count, &nid, &err));
    assert_string_equal(nid, staged); /* the staged KEK, not a fresh one */
    assert_int_equal(count, 1);
    r = kek_load(path, &err);
    assert_string_equal(kek_current_id(r), staged);
    store_message m = {0};
    assert_int_equal(store_message_for_rcpt(s, "s1", "x@example.com", &m, &err), 1);
    assert_string_equal(m.kek_id, staged);
    assert_true(kek_unwrap(r, m.kek_id, m.id, m.wrapped, m.wrapped_len, out, &err));
    assert_memory_equal(out, k1, SP_KEY_LEN);
    store_message_clear(&m);
    kek_free(r);
    g_autofree char *text2 = NULL;
    assert_true(g_file_get_contents(path, &text2, NULL, NULL));
    assert_null(strstr(text2, " staged"));

    /* A file whose first (current) KEK is marked staged is refused. */
    g_autofree char *bad = g_build_filename(dir, "bad", NULL);
    const char *line = strchr(text2, '\n');
    while (line && line[1] == '#')
        line = strchr(line + 1, '\n');
    g_autofree char *first = g_strndup(line + 1, strcspn(line + 1, "\n"));
    g_autofree char *badtext = g_strdup_printf("%s staged\n", first);
    assert_true(g_file_set_contents(bad, badtext, -1, NULL));
    assert_int_equal(chmod(bad, 0600), 0);
    assert_null(kek_load(bad, &err));
    assert_non_null(strstr(err->message, "staged"));
    g_clear_error(&err);
    store_close(s);
    rm_rf(dir);
}

/* The sweep destroys the keys of expired messages (and only those), each
 * audited; a message re-dated into the future before the sweep keeps its
 * key. */
static void test_sweep_shreds_expired_keys(void **state)
{
    g_autofree char *dir = scratch();
    g_autofree char *path = g_build_filename(dir, "kek", NULL);
    g_autoptr(GError) err = NULL;
    assert_true(kek_create(path, &err));
    ks_keyring *r = kek_load(path, &err);
    store *s = open_store(dir);
    uint8_t k[SP_KEY_LEN];
    add_message(s, r, "old", "x@example.com", k);
    add_message(s, r, "live", "x@example.com", k);
    add_message(s, r, "never", "x@example.com", k);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    assert_int_equal(store_message_set_expires(s, "old", now - 1, NULL, &err), 1);
    assert_int_equal(store_message_set_expires(s, "live", now + 3600, NULL, &err), 1);
    gint64 n = 0;
    assert_true(store_messages_shred_expired(s, now, &n, &err));
    assert_int_equal(n, 1);
    store_message m = {0};
    assert_int_equal(store_message_for_rcpt(s, "old", "x@example.com", &m, &err), 1);
    assert_null(m.wrapped); /* gone */
    assert_true(m.key_gone);
    assert_false(m.recalled); /* expired, not withdrawn: the envelope says so */
    store_message_clear(&m);
    for (const char *const *id = (const char *const[]){"live", "never", NULL}; *id; id++) {
        assert_int_equal(store_message_for_rcpt(s, *id, "x@example.com", &m, &err), 1);
        assert_non_null(m.wrapped);
        store_message_clear(&m);
    }
    /* Nothing left to do; a destroyed key cannot be re-dated. */
    assert_true(store_messages_shred_expired(s, now, &n, &err));
    assert_int_equal(n, 0);
    assert_int_equal(store_message_set_expires(s, "old", now + 3600, NULL, &err), 0);
    kek_free(r);
    store_close(s);
    rm_rf(dir);
}

static void test_store_tokens_single_use_and_migrations(void **state)
{
    g_autofree char *dir = scratch();
    g_autoptr(GError) err = NULL;
    store *s = open_store(dir);
    assert_int_equal(store_schema_version(s), 9);
    const char *q[] = {"q1", "q2"}, *a[] = {"h1", "h2"};
    store_registration reg = {"p@example.com", "P", "$argon2id$x", "phrase", q, a, 2};
    uint8_t t1[KS_HASH_LEN], t2[KS_HASH_LEN];
    g_free(auth_token_new("spa_", t1));
    g_free(auth_token_new("spa_", t2));
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    /* Two registrations of one address: both kept, each with its own link. */
    assert_int_equal(store_registration_add(s, &reg, NULL, now, now + 100, 10, NULL, NULL, &err),
                     MAIL_QUEUED);
    assert_int_equal(store_registration_add(s, &reg, NULL, now, now + 100, 10, NULL, NULL, &err),
                     MAIL_QUEUED);
    store_mail_job j1 = {0}, j2 = {0};
    assert_int_equal(store_mail_claim(s, now, 300, &j1, &err), 1);
    assert_int_equal(store_mail_claim(s, now, 300, &j2, &err), 1);
    assert_int_equal(store_mail_claim(s, now, 300, &j2, &err), 0); /* both claimed */
    assert_int_equal(store_mail_arm(s, &j1, t1, now + 100, &err), 1);
    assert_int_equal(store_mail_arm(s, &j2, t2, now + 100, &err), 1);
    store_pending p1 = {0}, p2 = {0};
    assert_int_equal(store_registration_lookup(s, t1, now, &p1, &err), 1);
    assert_int_equal(store_registration_lookup(s, t2, now, &p2, &err), 1);
    assert_true(p1.id != p2.id);
    assert_int_equal(store_registration_lookup(s, t2, now + 101, &p2, &err), 0); /* expired */
    char *email = NULL;
    assert_int_equal(store_registration_activate(s, p1.id, t2, now, &email, NULL, &err), 0);
    assert_int_equal(store_registration_activate(s, p1.id, t1, now, &email, NULL, &err), 1);
    assert_string_equal(email, "p@example.com");
    g_free(email);
    email = NULL;
    /* Activating ended the other registration and its link. */
    assert_int_equal(store_registration_activate(s, p2.id, t2, now, &email, NULL, &err), 0);
    assert_int_equal(store_registration_lookup(s, t1, now, &p1, &err), 0); /* used */
    store_pending_clear(&p1);
    store_pending_clear(&p2);
    store_mail_job_clear(&j1);
    store_mail_job_clear(&j2);
    store_close(s);
    /* Reopening does not migrate again. */
    s = open_store(dir);
    assert_int_equal(store_schema_version(s), 9);
    store_close(s);
    rm_rf(dir);
}

static void test_store_throttle(void **state)
{
    g_autofree char *dir = scratch();
    g_autoptr(GError) err = NULL;
    store *s = open_store(dir);
    /* The store keeps counts and swaps them only from the state read. */
    store_throttle_op ops[2] = {{.kind = THROTTLE_ACCOUNT, .subject = "z@example.com"},
                                {.kind = THROTTLE_ADDRESS, .subject = "192.0.2.1"}};
    assert_true(store_throttle_read(s, ops, 2, &err));
    assert_int_equal(ops[0].seen.count, 0);
    ops[0].next = throttle_reserve(THROTTLE_ACCOUNT, &ops[0].seen, 1000);
    ops[1].next = throttle_reserve(THROTTLE_ADDRESS, &ops[1].seen, 1000);
    assert_int_equal(store_throttle_swap(s, ops, 2, NULL, &err), 1);
    /* A second request that read the same old state loses: nothing written. */
    store_throttle_op late[2] = {ops[0], ops[1]};
    late[0].next.count = 7;
    assert_int_equal(store_throttle_swap(s, late, 2, NULL, &err), 0);
    assert_true(store_throttle_read(s, ops, 2, &err));
    assert_int_equal(ops[0].seen.count, 1);
    assert_int_equal(ops[0].seen.last, 1000);
    assert_int_equal(ops[1].seen.count, 1);
    /* The rule: one failure waits the base, max_failures holds. */
    throttle_policy p = {100, 3, 2};
    gint64 wait;
    assert_int_equal(throttle_judge(&p, THROTTLE_ACCOUNT, &ops[0].seen, 1050, &wait),
                     THROTTLE_WAIT);
    assert_int_equal(wait, 50);
    assert_int_equal(throttle_judge(&p, THROTTLE_ACCOUNT, &ops[0].seen, 1100, &wait), THROTTLE_GO);
    assert_int_equal(throttle_judge(&p, THROTTLE_ADDRESS, &ops[1].seen, 1000, &wait), THROTTLE_GO);
    store_throttle two = {2, 1000};
    assert_int_equal(throttle_judge(&p, THROTTLE_ADDRESS, &two, 1050, &wait), THROTTLE_WAIT);
    store_throttle three = {3, 1000};
    assert_int_equal(throttle_judge(&p, THROTTLE_ACCOUNT, &three, 999999, &wait), THROTTLE_HELD);
    assert_int_equal(throttle_judge(&p, THROTTLE_ADDRESS, &three, 1050, &wait), THROTTLE_WAIT);
    assert_int_equal(throttle_judge(&p, THROTTLE_ADDRESS, &three, 1000 + THROTTLE_QUIET_MS, &wait),
                     THROTTLE_GO);
    assert_true(store_failures_clear(s, "z@example.com", NULL, &err));
    assert_true(store_throttle_read(s, ops, 2, &err));
    assert_int_equal(ops[0].seen.count, 0);
    assert_int_equal(ops[1].seen.count, 1);
    /* Housekeeping forgets a client address's lapsed throttle only. */
    assert_true(store_throttle_forget(s, THROTTLE_ADDRESS, 1001, &err));
    assert_true(store_throttle_read(s, ops, 2, &err));
    assert_int_equal(ops[1].seen.count, 0);
    store_close(s);
    rm_rf(dir);
}

static void test_audit_chain(void **state)
{
    g_autofree char *dir = scratch();
    g_autoptr(GError) err = NULL;
    store *s = open_store(dir);
    for (int i = 0; i < 10; i++) {
        g_autofree char *subj = g_strdup_printf("m%d", i);
        ks_audit_event ev = {"test.event", "tester", subj, "127.0.0.1", i % 2 ? "{}" : NULL};
        assert_true(store_audit_append(s, &ev, &err));
    }
    audit_report rep;
    assert_true(audit_verify(s, &rep, &err));
    assert_int_equal(rep.rows, 10);
    assert_int_equal(rep.first_bad, 0);

    /* Edit row 4 behind keyd's back: verify names row 4. */
    g_autofree char *db = g_build_filename(dir, "keyd.db", NULL);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(h, "UPDATE audit SET ip = '10.0.0.1' WHERE seq = 4", 0, 0, 0),
                         SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"
                                  "UPDATE audit SET ip = '10.0.0.1' WHERE seq = 4",
                                  0, 0, 0),
                     SQLITE_OK);
    assert_true(audit_verify(s, &rep, &err));
    assert_int_equal(rep.first_bad, 4);
    assert_non_null(strstr(rep.problem, "edited"));
    g_free(rep.problem);
    /* Undo the edit, delete row 6 instead: the gap is named. */
    assert_int_equal(sqlite3_exec(h,
                                  "UPDATE audit SET ip = '127.0.0.1' WHERE seq = 4;"
                                  "DELETE FROM audit WHERE seq = 6",
                                  0, 0, 0),
                     SQLITE_OK);
    assert_true(audit_verify(s, &rep, &err));
    assert_int_equal(rep.first_bad, 7);
    g_free(rep.problem);
    sqlite3_close(h);
    store_close(s);
    rm_rf(dir);
}

static void test_password_rules(void **state)
{
    g_autofree char *dir = scratch();
    g_autofree char *bl = g_build_filename(dir, "bl.txt", NULL);
    assert_true(g_file_set_contents(bl, "# comment\npassword123\nletmein!\n", -1, NULL));
    g_autoptr(GError) err = NULL;
    assert_true(auth_blocklist_load(bl, &err));
    assert_int_equal(auth_blocklist_size(), 2);
    assert_non_null(auth_password_problem("short", NULL));
    assert_non_null(auth_password_problem("PassWord123", NULL));
    assert_non_null(auth_password_problem("zzzzzzzzzz", NULL));
    assert_non_null(auth_password_problem("Someone.Else", "someone.else@example.com"));
    assert_non_null(auth_password_problem("someone.else@example.com", "someone.else@example.com"));
    assert_null(auth_password_problem("purple monkey dishwasher", "a@example.com"));
    assert_null(auth_password_problem("ünïcödé pässwörd", NULL)); /* characters, not bytes */
    assert_non_null(auth_password_problem("ééééééé", NULL));
    /* The same password typed composed (é) or decomposed (e + U+0301). */
    auth_params p = {8192, 1};
    g_autofree char *h = auth_password_hash(&p, "caf\xc3\xa9 au lait");
    assert_true(auth_password_verify(h, "cafe\xcc\x81 au lait"));
    assert_false(auth_password_verify(h, "cafe au lait"));
    auth_blocklist_free();
    rm_rf(dir);
}

static void test_tokens_and_addresses(void **state)
{
    uint8_t h[KS_HASH_LEN], h2[KS_HASH_LEN];
    char *t = auth_token_new("sps_", h);
    assert_int_equal(strlen(t), 4 + 43);
    assert_true(auth_token_hash(t, "sps_", h2));
    assert_memory_equal(h, h2, sizeof h);
    assert_false(auth_token_hash(t, "spg_", h2)); /* a session is not a gateway token */
    t[10] = '\'';
    assert_false(auth_token_hash(t, "sps_", h2));
    g_free(t);
    g_autofree char *a = auth_address_normalise("Bob.Smith@Example.COM");
    assert_string_equal(a, "bob.smith@example.com");
    const char *bad[] = {"bob",       "@x.org",      "a@b",    "a b@c.org", "a@b@c.org",
                         "<a@b.org>", "a@b.org' --", "a@.org", "a@b.org."};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *n = auth_address_normalise(bad[i]);
        if (n)
            fail_msg("accepted %s", bad[i]);
    }
    g_autofree char *ans = auth_answer_normalise("  Rex\t the   DOG ");
    assert_string_equal(ans, "rex the dog");
}

static void test_ratelimit(void **state)
{
    ks_ratelimit *r = ratelimit_new(1, 3);
    gint64 retry = 0;
    for (int i = 0; i < 3; i++)
        assert_true(ratelimit_take(r, "10.0.0.1", &retry));
    assert_false(ratelimit_take(r, "10.0.0.1", &retry));
    assert_int_equal(retry, 1);
    assert_true(ratelimit_take(r, "10.0.0.2", &retry)); /* another address has its own bucket */
    ratelimit_free(r);
    r = ratelimit_new(0, 0); /* off */
    for (int i = 0; i < 1000; i++)
        assert_true(ratelimit_take(r, "10.0.0.1", &retry));
    ratelimit_free(r);
}

int main(void)
{
    if (!sp_crypto_init())
        return 1;
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kek_wrap_binds_message_id),
        cmocka_unit_test(test_kek_rotate_rewraps_and_keeps_kid),
        cmocka_unit_test(test_kek_stage_then_rotate),
        cmocka_unit_test(test_sweep_shreds_expired_keys),
        cmocka_unit_test(test_store_tokens_single_use_and_migrations),
        cmocka_unit_test(test_store_throttle),
        cmocka_unit_test(test_audit_chain),
        cmocka_unit_test(test_password_rules),
        cmocka_unit_test(test_tokens_and_addresses),
        cmocka_unit_test(test_ratelimit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
