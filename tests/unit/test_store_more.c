/*
 * test_store_more.c - the store conformance suite (see test_store.c), its
 * recipient side: accounts and their phrases, registrations and their links,
 * password resets, the mail outbox, one's own account (name, phrase,
 * questions, sessions, password, deletion), throttles, sessions, remembered
 * devices and the housekeeping sweep.
 */
#include "test_store.h"

static const char *const qs[] = {"first pet?", "first street?"};
static const char *const hs[] = {"h-pet", "h-street"};

/* A registration of email with password pw, queued at now until expires. */
static int register_at(store *s, const char *email, const char *pw, const char *msg_id, gint64 now,
                       gint64 expires, unsigned limit, const ks_audit_event *ev)
{
    g_autoptr(GError) err = NULL;
    store_registration r = {email, "Reg Name", pw, "reg phrase", qs, hs, 2};
    int res = store_registration_add(s, &r, msg_id, now, expires, limit, ev,
                                     EV("register.throttled", email), &err);
    if (res < 0)
        fail_msg("store_registration_add: %s", err->message);
    return res;
}

static void session_at(store *s, gint64 account, uint8_t h[KS_HASH_LEN],
                       store_session_method method, gint64 expires)
{
    g_autoptr(GError) err = NULL;
    rand_hash(h);
    EXPECT(store_session_create(s, account, h, method, expires, NULL, &err), true);
}

static int session_live(store *s, const uint8_t h[KS_HASH_LEN], gint64 now)
{
    g_autoptr(GError) err = NULL;
    store_session ss = {0};
    int r = store_session_get(s, h, now, &ss, &err);
    if (r < 0)
        fail_msg("store_session_get: %s", err->message);
    store_session_clear(&ss);
    return r;
}

static gint64 live_devices(store *s, gint64 account, gint64 now)
{
    g_autoptr(GError) err = NULL;
    GArray *rows = NULL;
    gint64 devices = -1;
    EXPECT(store_sessions_list(s, account, now, &rows, &devices, &err), true);
    g_array_unref(rows);
    return devices;
}

/* A reset link for email's active account, armed: its job in *j. */
static void reset_link(store *s, const char *email, gint64 now, uint8_t h[KS_HASH_LEN],
                       store_mail_job *j)
{
    g_autoptr(GError) err = NULL;
    EXPECT(store_reset_enqueue(s, email, NULL, now, 100, NULL, NULL, &err), MAIL_QUEUED);
    EXPECT(claim_mine(s, now, 60, email, j), 1);
    rand_hash(h);
    EXPECT(store_mail_arm(s, j, h, now + 600, &err), 1);
}

static int reset_valid(store *s, const uint8_t h[KS_HASH_LEN], gint64 now)
{
    g_autoptr(GError) err = NULL;
    store_account a = {0};
    GArray *q = NULL;
    int r = store_reset_lookup(s, h, now, &a, &q, &err);
    if (r < 0)
        fail_msg("store_reset_lookup: %s", err->message);
    if (r == 1)
        g_array_unref(q);
    store_account_clear(&a);
    return r;
}

static store_throttle read_one(store *s, store_throttle_kind kind, const char *subject)
{
    g_autoptr(GError) err = NULL;
    store_throttle_op op = {.kind = kind, .subject = subject, .seen = {-1, -1}};
    EXPECT(store_throttle_read(s, &op, 1, &err), true);
    return op.seen;
}

/* Put count/last into a throttle read as zeros. */
static void throttle_put(store *s, store_throttle_kind kind, const char *subject, gint64 count,
                         gint64 last)
{
    g_autoptr(GError) err = NULL;
    store_throttle_op op = {.kind = kind, .subject = subject, .next = {count, last}};
    EXPECT(store_throttle_swap(s, &op, 1, NULL, &err), 1);
}

/* ---- accounts and phrases ---- */

void test_accounts_and_phrases(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e1 = uniq_email(), *unknown = uniq_email(), *pending = uniq_email();
    gint64 id = make_account(s, e1, "blue whale");
    store_account a = {0};
    EXPECT(store_account_get(s, e1, &a, &err), 1);
    assert_int_equal(a.id, id);
    assert_string_equal(a.email, e1);
    assert_string_equal(a.name, "Conf User");
    assert_string_equal(a.pw_hash, "$argon2id$conf");
    assert_string_equal(a.phrase, "blue whale");
    assert_int_equal(a.status, ACCOUNT_ACTIVE);
    store_account_clear(&a);
    EXPECT(store_account_get(s, unknown, &a, &err), 0);

    /* Only active accounts have phrases to give (a registration is none). */
    gint64 now = now_s();
    EXPECT(register_at(s, pending, "$pw", NULL, now, now + 3600, 100, NULL), MAIL_QUEUED);
    const char *emails[] = {e1, unknown, pending};
    GHashTable *t = store_account_phrases(s, emails, 3, &err);
    assert_non_null(t);
    assert_int_equal(g_hash_table_size(t), 1);
    assert_string_equal(g_hash_table_lookup(t, e1), "blue whale");
    g_hash_table_unref(t);
    t = store_account_phrases(s, emails, 0, &err);
    assert_non_null(t);
    assert_int_equal(g_hash_table_size(t), 0);
    g_hash_table_unref(t);
}

/* ---- registrations and their links ---- */

/* How many of email's mails are due at now (claimed for a minute); the
 * kind of the last in *kind. */
static int due_for(store *s, const char *email, gint64 now, store_mail_kind *kind)
{
    int n = 0;
    store_mail_job j = {0};
    while (claim_mine(s, now, 60, email, &j) == 1) {
        n++;
        if (kind)
            *kind = j.kind;
        store_mail_job_clear(&j);
    }
    return n;
}

void test_registration_add_and_throttle(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e = uniq_email(), *e2 = uniq_email(), *f = uniq_email();
    gint64 now = now_s();
    /* Two mails an hour per address and client: the third is throttled and
     * recorded nowhere but in its own audit row. */
    EXPECT(register_at(s, e, "$pw", NULL, now, now + 3600, 2, EV("register", e)), MAIL_QUEUED);
    EXPECT(register_at(s, e, "$pw", NULL, now, now + 3600, 2, EV("register", e)), MAIL_QUEUED);
    EXPECT(register_at(s, e, "$pw", NULL, now, now + 3600, 2, EV("register", e)), MAIL_THROTTLED);
    assert_int_equal(audit_count(s, "register", e), 2);
    assert_int_equal(audit_count(s, "register.throttled", e), 1);
    EXPECT(store_registration_pending(s, e, now, &err), 1);
    /* Another client has its own share. */
    ks_audit_event other = {"register", NULL, e, "198.51.100.1", NULL};
    EXPECT(register_at(s, e, "$pw", NULL, now, now + 3600, 2, &other), MAIL_QUEUED);
    store_mail_kind kind = -1;
    assert_int_equal(due_for(s, e, now, &kind), 3);
    assert_int_equal(kind, MAIL_ACTIVATE);

    /* Whoever asks, four times the limit per address at most. */
    for (int i = 0; i < 5; i++) {
        g_autofree char *ip = g_strdup_printf("203.0.113.%d", i + 1);
        ks_audit_event ev = {"register", NULL, e2, ip, NULL};
        EXPECT(register_at(s, e2, "$pw", NULL, now, now + 3600, 1, &ev),
               i < 4 ? MAIL_QUEUED : MAIL_THROTTLED);
    }
    assert_int_equal(due_for(s, e2, now, NULL), 4);

    /* An active address: no registration, the "already registered" mail. */
    gint64 id = make_account(s, f, "p");
    EXPECT(register_at(s, f, "$other", NULL, now, now + 3600, 100, NULL), MAIL_QUEUED);
    EXPECT(store_registration_pending(s, f, now, &err), 0);
    store_mail_job j = {0};
    EXPECT(claim_mine(s, now, 60, f, &j), 1);
    assert_int_equal(j.kind, MAIL_ALREADY_ACTIVE);
    assert_int_equal(j.ref, id);
    uint8_t h[KS_HASH_LEN];
    rand_hash(h);
    EXPECT(store_mail_arm(s, &j, h, now + 600, &err), 1); /* it carries a reset link */
    EXPECT(reset_valid(s, h, now), 1);
    store_mail_job_clear(&j);
    store_account a = {0};
    EXPECT(store_account_get(s, f, &a, &err), 1);
    assert_string_equal(a.pw_hash, "$argon2id$conf"); /* untouched */
    store_account_clear(&a);

    g_autofree char *none = uniq_email();
    EXPECT(store_registration_pending(s, none, now, &err), 0);
    EXPECT(store_registration_pending(s, e, now + 3600, &err), 0); /* expired */
}

void test_registration_link_lifecycle(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e = uniq_email(), *mid = uniq("m");
    gint64 now = now_s();
    store_registration r1 = {e, "One", "$pw-one", "phrase one", qs, hs, 2};
    EXPECT(store_registration_add(s, &r1, mid, now, now + 3600, 100, NULL, NULL, &err),
           MAIL_QUEUED);
    EXPECT(register_at(s, e, "$pw-two", NULL, now, now + 3600, 100, NULL), MAIL_QUEUED);
    store_mail_job j[2] = {{0}}, *j1, *j2;
    EXPECT(claim_mine(s, now, 60, e, &j[0]), 1);
    EXPECT(claim_mine(s, now, 60, e, &j[1]), 1);
    j1 = j[0].msg_id ? &j[0] : &j[1]; /* r1's carries its message id */
    j2 = j[0].msg_id ? &j[1] : &j[0];
    assert_string_equal(j1->msg_id, mid);
    assert_null(j2->msg_id);
    assert_true(j1->ref != j2->ref);
    assert_int_equal(j1->kind, MAIL_ACTIVATE);
    assert_string_equal(j1->email, e);
    assert_int_equal(j1->created, now);
    assert_int_equal(j1->attempts, 1);

    /* Armed twice: only the second token works. */
    uint8_t h0[KS_HASH_LEN], h1[KS_HASH_LEN], h2[KS_HASH_LEN], hx[KS_HASH_LEN];
    rand_hash(h0), rand_hash(h1), rand_hash(h2), rand_hash(hx);
    EXPECT(store_mail_arm(s, j1, h0, now + 600, &err), 1);
    EXPECT(store_mail_arm(s, j1, h1, now + 600, &err), 1);
    EXPECT(store_mail_arm(s, j2, h2, now + 600, &err), 1);
    store_pending p1 = {0}, p2 = {0};
    EXPECT(store_registration_lookup(s, h0, now, &p1, &err), 0);
    EXPECT(store_registration_lookup(s, hx, now, &p1, &err), 0);
    EXPECT(store_registration_lookup(s, h1, now + 600, &p1, &err), 0); /* valid until expires */
    EXPECT(store_registration_lookup(s, h1, now, &p1, &err), 1);
    EXPECT(store_registration_lookup(s, h2, now, &p2, &err), 1);
    assert_int_equal(p1.id, j1->ref);
    assert_string_equal(p1.email, e);
    assert_string_equal(p1.pw_hash, "$pw-one");
    assert_string_equal(p2.pw_hash, "$pw-two");

    /* Activation: with its own link only, once; it ends the other one. */
    char *email = NULL;
    EXPECT(store_registration_activate(s, p1.id, h2, now, &email, NULL, &err), 0);
    assert_null(email);
    EXPECT(store_registration_activate(s, p1.id, h1, now, &email, EV("account.activate", e), &err),
           1);
    assert_string_equal(email, e);
    g_clear_pointer(&email, g_free);
    assert_int_equal(audit_count(s, "account.activate", e), 1);
    store_account a = {0};
    EXPECT(store_account_get(s, e, &a, &err), 1);
    assert_int_equal(a.status, ACCOUNT_ACTIVE);
    assert_string_equal(a.name, "One");
    assert_string_equal(a.pw_hash, "$pw-one");
    assert_string_equal(a.phrase, "phrase one");
    GPtrArray *q = NULL;
    EXPECT(store_account_questions(s, a.id, &q, &err), true);
    assert_int_equal(q->len, 2);
    assert_string_equal(q->pdata[0], qs[0]);
    assert_string_equal(q->pdata[1], qs[1]);
    g_ptr_array_unref(q);
    store_account_clear(&a);
    EXPECT(store_registration_activate(s, p1.id, h1, now, &email, NULL, &err), 0);
    EXPECT(store_registration_activate(s, p2.id, h2, now, &email, NULL, &err), 0);
    assert_null(email);
    EXPECT(store_registration_lookup(s, h2, now, &p1, &err), 0);
    EXPECT(store_registration_pending(s, e, now, &err), 0);
    /* The other registration's mail is moot now: dropped. */
    EXPECT(store_mail_arm(s, j2, h2, now + 600, &err), 0);
    EXPECT(claim_mine(s, now + 120, 60, e, &j[0]), 0);
    store_pending_clear(&p1);
    store_pending_clear(&p2);
    store_mail_job_clear(j1);
    store_mail_job_clear(j2);
}

void test_registration_failed_ends_link(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e = uniq_email();
    gint64 now = now_s();
    EXPECT(register_at(s, e, "$pw", NULL, now, now + 3600, 100, NULL), MAIL_QUEUED);
    store_mail_job j = {0};
    EXPECT(claim_mine(s, now, 60, e, &j), 1);
    uint8_t h[KS_HASH_LEN];
    rand_hash(h);
    EXPECT(store_mail_arm(s, &j, h, now + 600, &err), 1);
    store_pending p = {0};
    EXPECT(store_registration_lookup(s, h, now, &p, &err), 1);
    gint64 reg = p.id;
    store_pending_clear(&p);
    for (int i = 0; i < 2; i++) {
        EXPECT(store_registration_failed(s, reg, 3, EV("register.fail", e), &err), true);
        EXPECT(store_registration_lookup(s, h, now, &p, &err), 1);
        store_pending_clear(&p);
    }
    EXPECT(store_registration_failed(s, reg, 3, EV("register.fail", e), &err), true);
    EXPECT(store_registration_lookup(s, h, now, &p, &err), 0);
    assert_int_equal(audit_count(s, "register.fail", e), 3);
    char *email = NULL;
    EXPECT(store_registration_activate(s, reg, h, now, &email, NULL, &err), 0);
    store_account a = {0};
    EXPECT(store_account_get(s, e, &a, &err), 0);
    store_mail_job_clear(&j);
}

/* The address became active another way (an administrator added it):
 * its pending links are moot. */
void test_registration_moot_when_active(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e = uniq_email();
    gint64 now = now_s(), org = make_org(s, NULL);
    EXPECT(register_at(s, e, "$pw", NULL, now, now + 3600, 100, NULL), MAIL_QUEUED);
    EXPECT(register_at(s, e, "$pw", NULL, now, now + 3600, 100, NULL), MAIL_QUEUED);
    store_mail_job j1 = {0}, j2 = {0};
    EXPECT(claim_mine(s, now, 60, e, &j1), 1);
    EXPECT(claim_mine(s, now, 60, e, &j2), 1);
    uint8_t h[KS_HASH_LEN];
    rand_hash(h);
    EXPECT(store_mail_arm(s, &j1, h, now + 600, &err), 1);
    store_pending p = {0};
    EXPECT(store_registration_lookup(s, h, now, &p, &err), 1);
    EXPECT(store_org_user_add(s, org, e, "$admin-set", "sender", NULL, &err), 1);
    char *email = NULL;
    EXPECT(store_registration_activate(s, p.id, h, now, &email, NULL, &err), 0);
    assert_null(email);
    EXPECT(store_mail_arm(s, &j2, h, now + 600, &err), 0);
    store_account a = {0};
    EXPECT(store_account_get(s, e, &a, &err), 1);
    assert_string_equal(a.pw_hash, "$admin-set");
    store_account_clear(&a);
    store_pending_clear(&p);
    store_mail_job_clear(&j1);
    store_mail_job_clear(&j2);
}

/* ---- password resets and the outbox ---- */

void test_reset_flow(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e = uniq_email(), *unknown = uniq_email(), *mid = uniq("m");
    gint64 id = make_account(s, e, "p"), now = now_s();
    uint8_t sh[KS_HASH_LEN], dh[KS_HASH_LEN], h[KS_HASH_LEN], hx[KS_HASH_LEN];
    session_at(s, id, sh, SESSION_PASSWORD, now + 3600);
    rand_hash(dh), rand_hash(hx);
    EXPECT(store_device_create(s, id, dh, now + 3600, &err), true);
    throttle_put(s, THROTTLE_ACCOUNT, e, 3, 1000);
    throttle_put(s, THROTTLE_RESET, e, 2, 1000);

    EXPECT(store_reset_enqueue(s, e, mid, now, 5, EV("reset", e), EV("reset.throttled", e), &err),
           MAIL_QUEUED);
    EXPECT(store_reset_enqueue(s, unknown, NULL, now, 5, EV("reset", unknown),
                               EV("reset.throttled", unknown), &err),
           MAIL_NONE);
    assert_int_equal(audit_count(s, "reset", unknown), 1); /* the same work */
    /* Over the limit, an unknown address is still MAIL_NONE (and ev). */
    EXPECT(store_reset_enqueue(s, unknown, NULL, now, 0, EV("reset", unknown),
                               EV("reset.throttled", unknown), &err),
           MAIL_NONE);
    assert_int_equal(audit_count(s, "reset", unknown), 2);
    assert_int_equal(audit_count(s, "reset.throttled", unknown), 0);
    store_mail_job j = {0};
    EXPECT(claim_mine(s, now, 60, e, &j), 1);
    EXPECT(claim_mine(s, now, 60, unknown, &(store_mail_job){0}), 0);
    assert_int_equal(j.kind, MAIL_RESET);
    assert_int_equal(j.ref, id);
    assert_string_equal(j.msg_id, mid);
    rand_hash(h);
    EXPECT(store_mail_arm(s, &j, h, now + 600, &err), 1);
    EXPECT(store_mail_done(s, j.id, true, 0, NULL, NULL, &err), true); /* as the worker does */

    store_account a = {0};
    GArray *q = NULL;
    EXPECT(store_reset_lookup(s, h, now, &a, &q, &err), 1);
    assert_int_equal(a.id, id);
    assert_string_equal(a.email, e);
    assert_int_equal(q->len, 2);
    assert_string_equal(g_array_index(q, store_question, 0).question, qs[0]);
    assert_string_equal(g_array_index(q, store_question, 1).answer_hash, hs[1]);
    g_array_unref(q);
    store_account_clear(&a);
    EXPECT(reset_valid(s, h, now), 1); /* not consumed by looking */
    EXPECT(reset_valid(s, hx, now), 0);
    EXPECT(reset_valid(s, h, now + 600), 0);

    EXPECT(store_reset_complete(s, h, now, "$reset", EV("reset.done", e), &err), 1);
    EXPECT(store_account_get(s, e, &a, &err), 1);
    assert_string_equal(a.pw_hash, "$reset");
    store_account_clear(&a);
    assert_int_equal(session_live(s, sh, now), 0);
    EXPECT(store_device_check(s, e, dh, now, &err), 0);
    assert_int_equal(read_one(s, THROTTLE_ACCOUNT, e).count, 0);
    assert_int_equal(read_one(s, THROTTLE_RESET, e).count, 0);
    assert_int_equal(audit_count(s, "reset.done", e), 1);
    EXPECT(store_reset_complete(s, h, now, "$again", EV("reset.done", e), &err), 0);
    EXPECT(reset_valid(s, h, now), 0);
    assert_int_equal(audit_count(s, "reset.done", e), 1);

    /* The limit counts this client's mails to the address: throttled. */
    EXPECT(store_reset_enqueue(s, e, NULL, now, 1, EV("reset", e), EV("reset.throttled", e), &err),
           MAIL_THROTTLED);
    assert_int_equal(audit_count(s, "reset", e), 1);
    assert_int_equal(audit_count(s, "reset.throttled", e), 1);
    EXPECT(claim_mine(s, now, 60, e, &j), 0);
    store_mail_job_clear(&j);
}

void test_mail_outbox(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e = uniq_email(), *f = uniq_email();
    gint64 now = now_s();
    EXPECT(register_at(s, e, "$pw", NULL, now, now + 3600, 100, NULL), MAIL_QUEUED);
    /* A claim holds the mail for its lease; then it is due again. */
    store_mail_job j = {0}, k = {0};
    EXPECT(claim_mine(s, now, 10, e, &j), 1);
    assert_int_equal(j.attempts, 1);
    EXPECT(claim_mine(s, now + 5, 10, e, &k), 0);
    EXPECT(claim_mine(s, now + 10, 10, e, &k), 1);
    assert_int_equal(k.id, j.id);
    assert_int_equal(k.attempts, 2);
    store_mail_job_clear(&k);
    uint8_t h[KS_HASH_LEN], h2[KS_HASH_LEN];
    rand_hash(h), rand_hash(h2);
    EXPECT(store_mail_arm(s, &j, h, now + 600, &err), 1);

    /* Failed: tried again from next_try; the new attempt's link replaces
     * the old one. */
    EXPECT(store_mail_done(s, j.id, false, now + 30, "451 later", EV("mail.retry", e), &err), true);
    assert_int_equal(audit_count(s, "mail.retry", e), 1);
    EXPECT(claim_mine(s, now + 29, 10, e, &k), 0);
    EXPECT(claim_mine(s, now + 30, 10, e, &k), 1);
    assert_int_equal(k.attempts, 3);
    EXPECT(store_mail_arm(s, &k, h2, now + 600, &err), 1);
    store_pending p = {0};
    EXPECT(store_registration_lookup(s, h, now, &p, &err), 0);
    EXPECT(store_registration_lookup(s, h2, now, &p, &err), 1);
    store_pending_clear(&p);
    /* Sent: never again; its link stays good. */
    EXPECT(store_mail_done(s, k.id, true, 0, NULL, NULL, &err), true);
    EXPECT(claim_mine(s, now + 60, 10, e, &k), 0);
    EXPECT(store_registration_lookup(s, h2, now, &p, &err), 1);
    store_pending_clear(&p);
    store_mail_job_clear(&j);
    store_mail_job_clear(&k);

    /* Given up (next_try 0): never again, and its link ends. */
    make_account(s, f, "p");
    uint8_t hr[KS_HASH_LEN];
    reset_link(s, f, now, hr, &j);
    EXPECT(reset_valid(s, hr, now), 1);
    EXPECT(store_mail_done(s, j.id, false, 0, "550 no such user", NULL, &err), true);
    EXPECT(reset_valid(s, hr, now), 0);
    EXPECT(claim_mine(s, now + 120, 10, f, &k), 0);
    store_mail_job_clear(&j);
}

/* ---- one's own account ---- */

void test_self_service(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e = uniq_email();
    gint64 id = make_account(s, e, "old phrase"), now = now_s();
    store_account a = {0};
    EXPECT(store_account_update(s, id, "New Name", NULL, EV("account.update", e), &err), true);
    EXPECT(store_account_get(s, e, &a, &err), 1);
    assert_string_equal(a.name, "New Name");
    assert_string_equal(a.phrase, "old phrase");
    store_account_clear(&a);
    EXPECT(store_account_update(s, id, NULL, "new phrase", EV("account.update", e), &err), true);
    EXPECT(store_account_get(s, e, &a, &err), 1);
    assert_string_equal(a.name, "New Name");
    assert_string_equal(a.phrase, "new phrase");
    store_account_clear(&a);
    assert_int_equal(audit_count(s, "account.update", e), 2);

    const char *q3[] = {"Q1", "Q2", "Q3"}, *h3[] = {"a1", "a2", "a3"};
    EXPECT(store_account_questions_set(s, id, q3, h3, 3, EV("questions.set", e), &err), true);
    GPtrArray *q = NULL;
    EXPECT(store_account_questions(s, id, &q, &err), true);
    assert_int_equal(q->len, 3);
    for (guint i = 0; i < 3; i++)
        assert_string_equal(q->pdata[i], q3[i]);
    g_ptr_array_unref(q);
    const char *q1[] = {"Only"}, *h1[] = {"h-only"};
    EXPECT(store_account_questions_set(s, id, q1, h1, 1, NULL, &err), true);
    EXPECT(store_account_questions(s, id, &q, &err), true);
    assert_int_equal(q->len, 1);
    assert_string_equal(q->pdata[0], "Only");
    g_ptr_array_unref(q);

    /* The live sessions and remembered browsers. */
    uint8_t s1[KS_HASH_LEN], s2[KS_HASH_LEN], s3[KS_HASH_LEN], d1[KS_HASH_LEN], d2[KS_HASH_LEN];
    session_at(s, id, s1, SESSION_PASSWORD, now + 3600);
    session_at(s, id, s2, SESSION_DEVICE, now + 7200);
    session_at(s, id, s3, SESSION_PASSWORD, now - 1);
    rand_hash(d1), rand_hash(d2);
    EXPECT(store_device_create(s, id, d1, now + 86400, &err), true);
    EXPECT(store_device_create(s, id, d2, now - 1, &err), true);
    GArray *rows = NULL;
    gint64 devices = -1;
    EXPECT(store_sessions_list(s, id, now, &rows, &devices, &err), true);
    assert_int_equal(rows->len, 2);
    assert_int_equal(devices, 1);
    int seen = 0;
    for (guint i = 0; i < rows->len; i++) {
        store_session_row *r = &g_array_index(rows, store_session_row, i);
        if (memcmp(r->hash, s1, KS_HASH_LEN) == 0) {
            seen |= 1;
            assert_int_equal(r->expires, now + 3600);
            assert_int_equal(r->method, SESSION_PASSWORD);
            assert_true(r->created >= now - 5);
        } else if (memcmp(r->hash, s2, KS_HASH_LEN) == 0) {
            seen |= 2;
            assert_int_equal(r->method, SESSION_DEVICE);
        }
    }
    assert_int_equal(seen, 3);
    g_array_unref(rows);

    /* Sign out everywhere but here, then everywhere. */
    EXPECT(store_sessions_end_all(s, id, s1, EV("sessions.end", e), &err), true);
    assert_int_equal(session_live(s, s1, now), 1);
    assert_int_equal(session_live(s, s2, now), 0);
    assert_int_equal(live_devices(s, id, now), 0);
    EXPECT(store_device_check(s, e, d1, now, &err), 0);
    EXPECT(store_sessions_end_all(s, id, NULL, EV("sessions.end", e), &err), true);
    assert_int_equal(session_live(s, s1, now), 0);
    assert_int_equal(audit_count(s, "sessions.end", e), 2);
}

void test_password_change_and_delete(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e = uniq_email(), *member = uniq_email();
    gint64 id = make_account(s, e, "p"), now = now_s();
    uint8_t s1[KS_HASH_LEN], s2[KS_HASH_LEN], d[KS_HASH_LEN], hr[KS_HASH_LEN];
    session_at(s, id, s1, SESSION_PASSWORD, now + 3600);
    session_at(s, id, s2, SESSION_PASSWORD, now + 3600);
    rand_hash(d);
    EXPECT(store_device_create(s, id, d, now + 3600, &err), true);
    store_mail_job j = {0}, queued = {0};
    reset_link(s, e, now, hr, &j); /* an armed link */
    EXPECT(store_reset_enqueue(s, e, NULL, now, 100, NULL, NULL, &err), MAIL_QUEUED); /* queued */

    EXPECT(store_password_change(s, id, "$changed", s1, EV("password.change", e), &err), true);
    store_account a = {0};
    EXPECT(store_account_get(s, e, &a, &err), 1);
    assert_string_equal(a.pw_hash, "$changed");
    store_account_clear(&a);
    assert_int_equal(session_live(s, s1, now), 1);
    assert_int_equal(session_live(s, s2, now), 0);
    EXPECT(store_device_check(s, e, d, now, &err), 0);
    EXPECT(reset_valid(s, hr, now), 0);
    EXPECT(claim_mine(s, now, 60, e, &queued), 0);
    /* The claimed one is moot: arming it drops it. */
    EXPECT(store_mail_arm(s, &j, hr, now + 600, &err), 0);
    EXPECT(reset_valid(s, hr, now), 0);
    assert_int_equal(audit_count(s, "password.change", e), 1);
    store_mail_job_clear(&j);

    /* An organisation's member is removed by its administrator only. */
    gint64 org = make_org(s, NULL);
    EXPECT(store_org_user_add(s, org, member, "$pw", "sender", NULL, &err), 1);
    EXPECT(store_account_get(s, member, &a, &err), 1);
    EXPECT(store_account_delete(s, a.id, EV("account.delete", member), &err), 0);
    store_account_clear(&a);
    EXPECT(store_account_get(s, member, &a, &err), 1);
    store_account_clear(&a);
    assert_int_equal(audit_count(s, "account.delete", member), 0);

    EXPECT(store_account_delete(s, id, EV("account.delete", e), &err), 1);
    EXPECT(store_account_get(s, e, &a, &err), 0);
    assert_int_equal(session_live(s, s1, now), 0);
    assert_int_equal(audit_count(s, "account.delete", e), 1);
    /* The address is free: it may register again. */
    EXPECT(register_at(s, e, "$pw", NULL, now, now + 3600, 100, NULL), MAIL_QUEUED);
    EXPECT(store_registration_pending(s, e, now, &err), 1);
}

/* ---- throttles ---- */

void test_throttles(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e = uniq_email(), *ip = uniq("ip"), *ip2 = uniq("ip");
    store_throttle_op ops[3] = {{.kind = THROTTLE_ACCOUNT, .subject = e},
                                {.kind = THROTTLE_ADDRESS, .subject = ip},
                                {.kind = THROTTLE_RESET, .subject = e}};
    for (int i = 0; i < 3; i++)
        ops[i].seen = (store_throttle){-1, -1};
    EXPECT(store_throttle_read(s, ops, 3, &err), true);
    for (int i = 0; i < 3; i++)
        assert_true(ops[i].seen.count == 0 && ops[i].seen.last == 0);
    ops[0].next = (store_throttle){1, 1000};
    ops[1].next = (store_throttle){1, 1000};
    ops[2].next = (store_throttle){2, 2000};
    EXPECT(store_throttle_swap(s, ops, 3, EV("throttle", e), &err), 1);
    assert_int_equal(audit_count(s, "throttle", e), 1);
    store_throttle t = read_one(s, THROTTLE_RESET, e);
    assert_true(t.count == 2 && t.last == 2000);
    t = read_one(s, THROTTLE_ACCOUNT, e);
    assert_true(t.count == 1 && t.last == 1000);

    /* A swap from a stale state (one of them changed): 0, nothing written,
     * not even the throttles whose state was current. */
    store_throttle_op late[2] = {{.kind = THROTTLE_ACCOUNT, .subject = e},
                                 {.kind = THROTTLE_ADDRESS, .subject = ip}};
    late[0].seen = (store_throttle){1, 1000};
    late[0].next = (store_throttle){5, 5000};
    late[1].seen = (store_throttle){0, 0}; /* stale */
    late[1].next = (store_throttle){9, 9000};
    EXPECT(store_throttle_swap(s, late, 2, EV("throttle", e), &err), 0);
    t = read_one(s, THROTTLE_ACCOUNT, e);
    assert_true(t.count == 1 && t.last == 1000);
    t = read_one(s, THROTTLE_ADDRESS, ip);
    assert_true(t.count == 1 && t.last == 1000);
    assert_int_equal(audit_count(s, "throttle", e), 1);

    /* A count of 0 forgets. */
    store_throttle_op zero = {.kind = THROTTLE_RESET, .subject = e, .seen = {2, 2000}};
    EXPECT(store_throttle_swap(s, &zero, 1, NULL, &err), 1);
    t = read_one(s, THROTTLE_RESET, e);
    assert_true(t.count == 0 && t.last == 0);

    /* Housekeeping forgets one kind's lapsed throttles only. */
    gint64 now_ms = g_get_real_time() / 1000;
    throttle_put(s, THROTTLE_ADDRESS, ip2, 3, now_ms);
    EXPECT(store_throttle_forget(s, THROTTLE_ADDRESS, 1001, &err), true);
    assert_int_equal(read_one(s, THROTTLE_ADDRESS, ip).count, 0);
    assert_int_equal(read_one(s, THROTTLE_ADDRESS, ip2).count, 3);
    assert_int_equal(read_one(s, THROTTLE_ACCOUNT, e).count, 1);

    /* failures_clear: the address's sign-in and reset failures, not a
     * client address's. */
    throttle_put(s, THROTTLE_RESET, e, 1, 1000);
    throttle_put(s, THROTTLE_ADDRESS, e, 4, 1000);
    EXPECT(store_failures_clear(s, e, EV("failures.clear", e), &err), true);
    assert_int_equal(read_one(s, THROTTLE_ACCOUNT, e).count, 0);
    assert_int_equal(read_one(s, THROTTLE_RESET, e).count, 0);
    assert_int_equal(read_one(s, THROTTLE_ADDRESS, e).count, 4);
    assert_int_equal(audit_count(s, "failures.clear", e), 1);
}

/* ---- sessions, devices, the sweep ---- */

void test_sessions(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e = uniq_email();
    gint64 id = make_account(s, e, "p"), now = now_s();
    uint8_t h1[KS_HASH_LEN], h2[KS_HASH_LEN], hx[KS_HASH_LEN];
    rand_hash(h1), rand_hash(hx);
    EXPECT(
        store_session_create(s, id, h1, SESSION_PASSWORD, now + 100, EV("session.create", e), &err),
        true);
    assert_int_equal(audit_count(s, "session.create", e), 1);
    store_session ss = {0};
    EXPECT(store_session_get(s, h1, now, &ss, &err), 1);
    assert_int_equal(ss.account_id, id);
    assert_string_equal(ss.email, e);
    assert_int_equal(ss.method, SESSION_PASSWORD);
    assert_int_equal(ss.expires, now + 100);
    assert_true(ss.created >= now - 5 && ss.created <= now + 5);
    store_session *dup = store_session_dup(&ss);
    assert_string_equal(dup->email, e);
    store_session_free(dup);
    store_session_clear(&ss);
    assert_int_equal(session_live(s, h1, now + 100), 0); /* expired */
    assert_int_equal(session_live(s, hx, now), 0);

    EXPECT(store_session_extend(s, h1, now + 500, &err), true);
    EXPECT(store_session_get(s, h1, now + 400, &ss, &err), 1);
    assert_int_equal(ss.expires, now + 500);
    store_session_clear(&ss);

    session_at(s, id, h2, SESSION_DEVICE, now + 100);
    EXPECT(store_session_get(s, h2, now, &ss, &err), 1);
    assert_int_equal(ss.method, SESSION_DEVICE);
    store_session_clear(&ss);
    EXPECT(store_session_create(s, id, h2, SESSION_PASSWORD, now + 100, NULL, &err), false);
    expect_error(&err, SP_ERR_INPUT);

    EXPECT(store_session_delete(s, h1, EV("session.delete", e), &err), true);
    assert_int_equal(session_live(s, h1, now), 0);
    assert_int_equal(session_live(s, h2, now), 1);
    assert_int_equal(audit_count(s, "session.delete", e), 1);
}

void test_devices(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e1 = uniq_email(), *e2 = uniq_email();
    gint64 id1 = make_account(s, e1, "p"), id2 = make_account(s, e2, "p"), now = now_s();
    uint8_t d[KS_HASH_LEN], dx[KS_HASH_LEN];
    rand_hash(d), rand_hash(dx);
    EXPECT(store_device_create(s, id1, d, now + 100, &err), true);
    EXPECT(store_device_check(s, e1, d, now, &err), 1);
    EXPECT(store_device_check(s, e2, d, now, &err), 0); /* another account's */
    EXPECT(store_device_check(s, e1, d, now + 100, &err), 0);
    EXPECT(store_device_check(s, e1, dx, now, &err), 0);
    EXPECT(store_device_delete(s, id2, d, &err), true); /* not id2's: left alone */
    EXPECT(store_device_check(s, e1, d, now, &err), 1);
    EXPECT(store_device_delete(s, id1, d, &err), true);
    EXPECT(store_device_check(s, e1, d, now, &err), 0);
}

void test_sweep(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *e = uniq_email(), *r = uniq_email();
    gint64 id = make_account(s, e, "p"), now = now_s();
    uint8_t live[KS_HASH_LEN], old[KS_HASH_LEN], dl[KS_HASH_LEN], dold[KS_HASH_LEN];
    uint8_t hr[KS_HASH_LEN];
    session_at(s, id, live, SESSION_PASSWORD, now + 3600);
    session_at(s, id, old, SESSION_PASSWORD, now - 10);
    rand_hash(dl), rand_hash(dold);
    EXPECT(store_device_create(s, id, dl, now + 3600, &err), true);
    EXPECT(store_device_create(s, id, dold, now - 10, &err), true);
    EXPECT(register_at(s, r, "$pw", NULL, now - 100, now - 10, 100, NULL), MAIL_QUEUED);
    store_mail_job j = {0};
    EXPECT(store_reset_enqueue(s, e, NULL, now - 100, 100, NULL, NULL, &err), MAIL_QUEUED);
    EXPECT(claim_mine(s, now - 100, 60, e, &j), 1);
    rand_hash(hr);
    EXPECT(store_mail_arm(s, &j, hr, now - 10, &err), 1);
    store_mail_job_clear(&j);
    /* Seen from before they expired, all are there... */
    assert_int_equal(session_live(s, old, now - 20), 1);
    EXPECT(store_device_check(s, e, dold, now - 20, &err), 1);
    EXPECT(store_registration_pending(s, r, now - 20, &err), 1);
    EXPECT(reset_valid(s, hr, now - 20), 1);

    EXPECT(store_sweep(s, now, &err), true);
    /* ...and after the sweep the expired ones are gone, the live stay. */
    assert_int_equal(session_live(s, old, now - 20), 0);
    EXPECT(store_device_check(s, e, dold, now - 20, &err), 0);
    EXPECT(store_registration_pending(s, r, now - 20, &err), 0);
    EXPECT(reset_valid(s, hr, now - 20), 0);
    assert_int_equal(session_live(s, live, now), 1);
    EXPECT(store_device_check(s, e, dl, now, &err), 1);
}
