/*
 * test_store_msg.c - the store conformance suite (see test_store.c), its
 * messages: creation and lookup by recipient, management (lock, unlock,
 * expiry, recall, read receipts), store_apply's batches and release rule,
 * the list with its filters, one message with its recipients, the sweep of
 * expired keys, KEK re-wrapping and the phrases an organisation may learn.
 */
#include "test_store.h"

void test_message_create_and_for_rcpt(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *oname = NULL;
    gint64 org = make_org(s, &oname);
    store_brand br = {.display_name = "Conf Display", .color = "#010203"};
    EXPECT(store_brand_set(s, org, &br, NULL, &err), true);
    g_autofree char *id = uniq("m"), *a = uniq_email(), *b = uniq_email(), *c = uniq_email();
    g_autofree char *sender = uniq_email();
    const char *rcpts[] = {a, b, c};
    gint64 now = now_s();
    msg_spec sp = {.org = org,
                   .sender = sender,
                   .created = now - 5,
                   .expires = now + 3600,
                   .n_unnamed = 1,
                   .read_receipts = true};
    EXPECT(make_message(s, &sp, id, rcpts, 3, &err), true);
    assert_int_equal(audit_count(s, "message.create", id), 1);

    uint8_t w[WRAP_LEN];
    wrap_for(id, w);
    store_message m = {0};
    EXPECT(store_message_for_rcpt(s, id, a, &m, &err), 1);
    assert_string_equal(m.id, id);
    assert_int_equal(m.org_id, org);
    assert_string_equal(m.org_name, oname);
    assert_string_equal(m.org_display, "Conf Display");
    assert_string_equal(m.org_color, "#010203");
    assert_string_equal(m.sender, sender);
    assert_string_equal(m.security, "high");
    assert_string_equal(m.kid, "kid-conf");
    assert_string_equal(m.kek_id, "kek-conf");
    assert_int_equal(m.created, now - 5);
    assert_int_equal(m.expires, now + 3600);
    assert_false(m.locked || m.recalled || m.key_gone || m.unnamed);
    assert_true(m.read_receipts);
    assert_int_equal(m.wrapped_len, WRAP_LEN);
    assert_memory_equal(m.wrapped, w, WRAP_LEN);
    assert_string_equal(store_message_state(&m, now), "active");
    store_message *dup = store_message_dup(&m);
    assert_memory_equal(dup->wrapped, w, WRAP_LEN);
    store_message_free(dup);
    store_message_clear(&m);
    EXPECT(store_message_for_rcpt(s, id, b, &m, &err), 1);
    assert_false(m.unnamed);
    store_message_clear(&m);
    EXPECT(store_message_for_rcpt(s, id, c, &m, &err), 1); /* the Bcc recipient */
    assert_true(m.unnamed);
    assert_memory_equal(m.wrapped, w, WRAP_LEN);
    store_message_clear(&m);

    /* Not a recipient, not a message: 0 alike. */
    g_autofree char *stranger = uniq_email(), *none = uniq("m");
    EXPECT(store_message_for_rcpt(s, id, stranger, &m, &err), 0);
    EXPECT(store_message_for_rcpt(s, none, a, &m, &err), 0);

    /* The same id again: a constraint, not audited. */
    EXPECT(make_message(s, &sp, id, rcpts, 1, &err), false);
    expect_error(&err, SP_ERR_INPUT);
    assert_int_equal(audit_count(s, "message.create", id), 1);

    /* An address both named and Bcc stays named; no read receipts. */
    g_autofree char *id2 = uniq("m");
    const char *r2[] = {a, b, a};
    msg_spec sp2 = {.org = org, .n_unnamed = 1};
    EXPECT(make_message(s, &sp2, id2, r2, 3, &err), true);
    EXPECT(store_message_for_rcpt(s, id2, a, &m, &err), 1);
    assert_false(m.unnamed);
    assert_false(m.read_receipts);
    assert_int_equal(m.expires, 0);
    store_message_clear(&m);
}

void test_message_manage(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    gint64 org = make_org(s, NULL);
    g_autofree char *id = uniq("m"), *none = uniq("m"), *a = uniq_email(), *b = uniq_email();
    g_autofree char *stranger = uniq_email();
    const char *rcpts[] = {a, b};
    gint64 now = now_s();
    msg_spec sp = {.org = org, .expires = now + 3600};
    EXPECT(make_message(s, &sp, id, rcpts, 2, &err), true);
    store_message m = {0};

    EXPECT(store_message_lock(s, id, "phishing", EV("message.lock", id), &err), 1);
    EXPECT(store_message_for_rcpt(s, id, a, &m, &err), 1);
    assert_true(m.locked);
    assert_string_equal(m.lock_reason, "phishing");
    assert_string_equal(store_message_state(&m, now), "locked");
    store_message_clear(&m);
    EXPECT(store_message_lock(s, none, "x", EV("message.lock", none), &err), 0);
    assert_int_equal(audit_count(s, "message.lock", none), 0);
    assert_int_equal(audit_count(s, "message.lock", id), 1);

    EXPECT(store_message_unlock(s, id, EV("message.unlock", id), &err), 1);
    EXPECT(store_message_get(s, id, &m, NULL, &err), 1);
    assert_false(m.locked);
    assert_null(m.lock_reason);
    store_message_clear(&m);
    EXPECT(store_message_unlock(s, none, NULL, &err), 0);

    EXPECT(store_message_set_expires(s, id, now + 7200, EV("message.expires", id), &err), 1);
    EXPECT(store_message_for_rcpt(s, id, a, &m, &err), 1);
    assert_int_equal(m.expires, now + 7200);
    store_message_clear(&m);
    EXPECT(store_message_set_expires(s, id, 0, NULL, &err), 1); /* never */
    EXPECT(store_message_get(s, id, &m, NULL, &err), 1);
    assert_int_equal(m.expires, 0);
    store_message_clear(&m);
    EXPECT(store_message_set_expires(s, none, now, NULL, &err), 0);

    /* Read receipts: claimed once per recipient. */
    EXPECT(store_receipt_claim(s, id, a, &err), 1);
    EXPECT(store_receipt_claim(s, id, a, &err), 0);
    EXPECT(store_receipt_claim(s, id, b, &err), 1);
    EXPECT(store_receipt_claim(s, id, stranger, &err), 0);
    EXPECT(store_receipt_claim(s, none, a, &err), 0);

    /* Recall destroys the key: once. */
    EXPECT(store_message_recall(s, id, now, EV("message.recall", id), &err), 1);
    EXPECT(store_message_for_rcpt(s, id, a, &m, &err), 1);
    assert_true(m.recalled);
    assert_true(m.key_gone);
    assert_null(m.wrapped);
    assert_int_equal(m.wrapped_len, 0);
    assert_string_equal(store_message_state(&m, now), "recalled");
    store_message_clear(&m);
    EXPECT(store_message_get(s, id, &m, NULL, &err), 1);
    assert_true(m.recalled);
    store_message_clear(&m);
    EXPECT(store_message_recall(s, id, now, EV("message.recall", id), &err), 0);
    assert_int_equal(audit_count(s, "message.recall", id), 1);
    EXPECT(store_message_set_expires(s, id, now + 60, EV("message.expires", id), &err), 0);
    assert_int_equal(audit_count(s, "message.expires", id), 1);
    EXPECT(store_message_recall(s, none, now, NULL, &err), 0);
}

/* The release rule as asked inside store_apply, and what it was shown. */
static int rule_calls;
static store_message rule_seen;

static bool refuse_unusable(const store_message *now)
{
    rule_calls++;
    rule_seen.locked = now->locked;
    rule_seen.key_gone = now->key_gone;
    rule_seen.recalled = now->recalled;
    rule_seen.expires = now->expires;
    return now->locked || now->key_gone || now->recalled;
}

static bool refuse_always(const store_message *now)
{
    (void)now;
    return true;
}

static store_recipient_row rcpt_row(store *s, const char *id, const char *email)
{
    g_autoptr(GError) err = NULL;
    store_message m = {0};
    GArray *rows = NULL;
    EXPECT(store_message_get(s, id, &m, &rows, &err), 1);
    store_recipient_row out = {.account = -2};
    for (guint i = 0; i < rows->len; i++) {
        store_recipient_row *r = &g_array_index(rows, store_recipient_row, i);
        if (strcmp(r->email, email) == 0) {
            out = *r;
            out.email = g_strdup(r->email);
            out.last_ip = g_strdup(r->last_ip);
            out.last_agent = g_strdup(r->last_agent);
        }
    }
    g_array_unref(rows);
    store_message_clear(&m);
    if (!out.email)
        fail_msg("%s is not a recipient of %s", email, id);
    return out;
}

static void row_clear(store_recipient_row *r)
{
    g_free(r->email), g_free(r->last_ip), g_free(r->last_agent);
}

static gint64 opens_of(store *s, const char *id, const char *email)
{
    store_recipient_row r = rcpt_row(s, id, email);
    row_clear(&r);
    return r.opens;
}

void test_apply(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    gint64 org = make_org(s, NULL);
    g_autofree char *m1 = uniq("m"), *m2 = uniq("m"), *m3 = uniq("m");
    g_autofree char *a = uniq_email(), *b = uniq_email();
    gint64 now = now_s();
    const char *r1[] = {a, b}, *r2[] = {a};
    uint8_t w1[WRAP_LEN], w2[WRAP_LEN];
    wrap_for(m1, w1), wrap_for(m2, w2);
    store_message msg1 = {.org_id = org,
                          .sender = "s@conf.example",
                          .security = "low",
                          .kid = "kid-conf",
                          .kek_id = "kek-conf",
                          .created = now,
                          .wrapped = w1,
                          .wrapped_len = WRAP_LEN};
    store_message msg2 = msg1;
    msg2.wrapped = w2;
    g_strlcpy(msg1.id, m1, sizeof msg1.id), g_strlcpy(msg2.id, m2, sizeof msg2.id);

    store_op create[] = {
        {.kind = STORE_OP_CREATE,
         .msg = &msg1,
         .rcpts = r1,
         .n_rcpts = 2,
         .ev = EV("message.create", m1)},
        {.kind = STORE_OP_CREATE,
         .msg = &msg2,
         .rcpts = r2,
         .n_rcpts = 1,
         .ev = EV("message.create", m2)},
    };
    EXPECT(store_apply(s, create, 2, &err), true);
    store_message m = {0};
    EXPECT(store_message_for_rcpt(s, m2, a, &m, &err), 1);
    assert_memory_equal(m.wrapped, w2, WRAP_LEN);
    store_message_clear(&m);
    assert_int_equal(audit_count(s, "message.create", m1), 1);

    /* Two releases of (m1, a) in one batch: counted twice, the last one's
     * client kept; each audited. */
    bool ref[3] = {true, true, true};
    store_op rel[] = {
        {.kind = STORE_OP_RELEASE,
         .id = m1,
         .rcpt = a,
         .agent = "UA-1",
         .ev = &(ks_audit_event){"key.release", a, m1, "192.0.2.1", NULL}},
        {.kind = STORE_OP_RELEASE,
         .id = m1,
         .rcpt = a,
         .agent = "UA-2",
         .ev = &(ks_audit_event){"key.release", a, m1, "192.0.2.2", NULL},
         .refuse = refuse_unusable,
         .refused = &ref[1]},
        {.kind = STORE_OP_RELEASE,
         .id = m1,
         .rcpt = b,
         .ev = EV("key.release", m1),
         .refused = &ref[2]},
    };
    EXPECT(store_apply(s, rel, 3, &err), true);
    assert_false(ref[1]);
    assert_false(ref[2]);
    store_recipient_row ra = rcpt_row(s, m1, a);
    assert_int_equal(ra.opens, 2);
    assert_true(ra.first_open >= now && ra.last_open >= ra.first_open);
    assert_string_equal(ra.last_agent, "UA-2");
    assert_string_equal(ra.last_ip, "192.0.2.2");
    row_clear(&ra);
    assert_int_equal(opens_of(s, m1, b), 1);
    assert_int_equal(audit_count(s, "key.release", m1), 3);

    /* Locked: the rule, asked with the state as stored, refuses; nothing
     * is recorded or audited. */
    EXPECT(store_message_lock(s, m1, "hold", NULL, &err), 1);
    rule_calls = 0;
    store_op one = {.kind = STORE_OP_RELEASE,
                    .id = m1,
                    .rcpt = a,
                    .ev = EV("key.release", m1),
                    .refuse = refuse_unusable,
                    .refused = &ref[0]};
    ref[0] = false;
    EXPECT(store_apply(s, &one, 1, &err), true);
    assert_true(ref[0]);
    assert_int_equal(rule_calls, 1);
    assert_true(rule_seen.locked);
    assert_false(rule_seen.key_gone || rule_seen.recalled);
    assert_int_equal(opens_of(s, m1, a), 2);
    assert_int_equal(audit_count(s, "key.release", m1), 3);

    /* A refused op and an allowed one in one batch. */
    store_op mixed[] = {
        {.kind = STORE_OP_RELEASE,
         .id = m2,
         .rcpt = a,
         .ev = EV("key.release", m2),
         .refuse = refuse_always,
         .refused = &ref[1]},
        {.kind = STORE_OP_RELEASE,
         .id = m2,
         .rcpt = a,
         .ev = EV("key.release", m2),
         .refuse = refuse_unusable,
         .refused = &ref[2]},
    };
    EXPECT(store_apply(s, mixed, 2, &err), true);
    assert_true(ref[1]);
    assert_false(ref[2]);
    assert_int_equal(opens_of(s, m2, a), 1);
    assert_int_equal(audit_count(s, "key.release", m2), 1);

    /* Unlocked: allowed again; recalled: the rule sees the key gone. */
    EXPECT(store_message_unlock(s, m1, NULL, &err), 1);
    EXPECT(store_apply(s, &one, 1, &err), true);
    assert_false(ref[0]);
    assert_int_equal(opens_of(s, m1, a), 3);
    EXPECT(store_message_recall(s, m1, now, NULL, &err), 1);
    EXPECT(store_apply(s, &one, 1, &err), true);
    assert_true(ref[0]);
    assert_true(rule_seen.key_gone || rule_seen.recalled);
    assert_int_equal(opens_of(s, m1, a), 3);

    /* A batch that fails leaves nothing of it: m3 is not created. */
    store_message msg3 = msg1;
    g_strlcpy(msg3.id, m3, sizeof msg3.id);
    store_op bad[] = {
        {.kind = STORE_OP_CREATE,
         .msg = &msg3,
         .rcpts = r2,
         .n_rcpts = 1,
         .ev = EV("message.create", m3)},
        {.kind = STORE_OP_CREATE,
         .msg = &msg2,
         .rcpts = r2,
         .n_rcpts = 1,
         .ev = EV("message.create", m2)},
    };
    EXPECT(store_apply(s, bad, 2, &err), false);
    expect_error(&err, SP_ERR_INPUT);
    EXPECT(store_message_get(s, m3, &m, NULL, &err), 0);
    assert_int_equal(audit_count(s, "message.create", m3), 0);
    assert_int_equal(audit_count(s, "message.create", m2), 1);
}

/* The rows of q, with their ids one a line in *ids (newest first). */
static GArray *find(store *s, const store_message_query *q, gint64 *total, GString *ids)
{
    g_autoptr(GError) err = NULL;
    GArray *rows = NULL;
    EXPECT(store_messages_find(s, q, &rows, total, &err), true);
    g_string_truncate(ids, 0);
    for (guint i = 0; i < rows->len; i++)
        g_string_append_printf(ids, "%s%s", i ? " " : "",
                               g_array_index(rows, store_message_row, i).id);
    return rows;
}

/* The ids of msgs[i] for each index in idx (-1 ends), space-separated. */
static char *ids_of(char *const *msgs, const int *idx)
{
    GString *out = g_string_new(NULL);
    for (int i = 0; idx[i] >= 0; i++)
        g_string_append_printf(out, "%s%s", i ? " " : "", msgs[idx[i]]);
    return g_string_free(out, FALSE);
}

#define EXPECT_IDS(q, want_total, ...)                                                             \
    do {                                                                                           \
        gint64 t_ = -1;                                                                            \
        GArray *r_ = find(s, (q), &t_, got);                                                       \
        g_autofree char *w_ = ids_of(ids, (const int[]){__VA_ARGS__, -1});                         \
        assert_string_equal(got->str, w_);                                                         \
        assert_int_equal(t_, (want_total));                                                        \
        g_array_unref(r_);                                                                         \
    } while (0)

void test_messages_find(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    gint64 org = make_org(s, NULL), other = make_org(s, NULL);
    g_autofree char *s1 = uniq_email(), *s2 = uniq_email(), *tag = uniq("rx");
    char *ids[5], *rc[4];
    for (int i = 0; i < 5; i++)
        ids[i] = uniq("m");
    for (int i = 0; i < 4; i++)
        rc[i] = g_strdup_printf("%c-%s@conf.example", 'a' + i, tag);
    g_autofree char *special = g_strdup_printf("special-%s@conf.example", tag);
    gint64 base = now_s() - 100000, now = base + 1000;
    /* m0 active, m1 locked, m2 expired, m3 recalled, m4 active with four
     * recipients given out of order; created base + i. */
    g_autofree char *plain = uniq_email(); /* without tag */
    const char *one[] = {rc[0]}, *sp1[] = {special}, *plain1[] = {plain};
    const char *four[] = {rc[3], rc[1], rc[0], rc[2]};
    msg_spec sp[5] = {
        {.org = org, .sender = s1, .created = base},
        {.org = org, .sender = s1, .created = base + 1},
        {.org = org, .sender = s2, .created = base + 2, .expires = base + 50},
        {.org = org, .sender = s2, .created = base + 3},
        {.org = org, .sender = s1, .created = base + 4, .expires = base + 5000},
    };
    for (int i = 0; i < 4; i++)
        EXPECT(make_message(s, &sp[i], ids[i],
                            i == 0   ? one
                            : i == 1 ? sp1
                                     : plain1,
                            1, &err),
               true);
    EXPECT(make_message(s, &sp[4], ids[4], four, 4, &err), true);
    EXPECT(store_message_lock(s, ids[1], "spam", NULL, &err), 1);
    EXPECT(store_message_recall(s, ids[3], base + 10, NULL, &err), 1);
    store_op rel = {.kind = STORE_OP_RELEASE, .id = ids[4], .rcpt = rc[2], .ev = NULL};
    EXPECT(store_apply(s, &rel, 1, &err), true);

    GString *got = g_string_new(NULL);
    store_message_query q = {.org_id = org, .now = now, .limit = 100};
    EXPECT_IDS(&q, 5, 4, 3, 2, 1, 0);

    /* Each row: its fields, and the state store_message_state() gives. */
    gint64 total = 0;
    GArray *rows = find(s, &q, &total, got);
    static const char *const states[] = {"active", "recalled", "expired", "locked", "active"};
    for (guint i = 0; i < rows->len; i++) {
        store_message_row *r = &g_array_index(rows, store_message_row, i);
        int k = 4 - (int)i;
        store_message m = {0};
        EXPECT(store_message_get(s, r->id, &m, NULL, &err), 1);
        assert_string_equal(r->state, store_message_state(&m, now));
        assert_string_equal(r->state, states[i]);
        assert_string_equal(r->sender, sp[k].sender);
        assert_string_equal(r->security, "high");
        assert_int_equal(r->created, sp[k].created);
        assert_int_equal(r->expires, sp[k].expires);
        assert_int_equal(r->locked, k == 1);
        store_message_clear(&m);
    }
    store_message_row *r4 = &g_array_index(rows, store_message_row, 0);
    assert_int_equal(r4->n_rcpts, 4);
    assert_int_equal(r4->n_opened, 1);
    g_autofree char *first3 = g_strjoin("\n", rc[0], rc[1], rc[2], NULL);
    assert_string_equal(r4->first_rcpts, first3);
    assert_string_equal(g_array_index(rows, store_message_row, 3).lock_reason, "spam");
    assert_int_equal(g_array_index(rows, store_message_row, 3).n_opened, 0);
    g_array_unref(rows);

    q.sender = s1;
    EXPECT_IDS(&q, 3, 4, 1, 0);
    q.sender = NULL;
    g_autofree char *part = g_strdup_printf("special-%s", tag);
    q.recipient = part;
    EXPECT_IDS(&q, 1, 1);
    g_autofree char *bpart = g_strdup_printf("b-%s", tag);
    q.recipient = bpart; /* one of m4's four */
    EXPECT_IDS(&q, 1, 4);
    q.recipient = tag; /* in every recipient of m0, m1 and m4 */
    EXPECT_IDS(&q, 3, 4, 1, 0);
    q.recipient = NULL;
    q.state = "active";
    EXPECT_IDS(&q, 2, 4, 0);
    q.state = "locked";
    EXPECT_IDS(&q, 1, 1);
    q.state = "expired";
    EXPECT_IDS(&q, 1, 2);
    q.state = "recalled";
    EXPECT_IDS(&q, 1, 3);
    q.state = NULL;
    q.since = base + 1, q.until = base + 3; /* [since, until) */
    EXPECT_IDS(&q, 2, 2, 1);
    q.since = q.until = 0;
    q.limit = 2, q.offset = 1;
    EXPECT_IDS(&q, 5, 3, 2);
    q.offset = 4;
    EXPECT_IDS(&q, 5, 0);
    /* Another organisation sees none of them. */
    store_message_query oq = {.org_id = other, .now = now, .limit = 100};
    rows = find(s, &oq, &total, got);
    assert_int_equal(rows->len, 0);
    assert_int_equal(total, 0);
    g_array_unref(rows);
    g_string_free(got, TRUE);
    for (int i = 0; i < 5; i++)
        g_free(ids[i]);
    for (int i = 0; i < 4; i++)
        g_free(rc[i]);
}

void test_message_get_recipients(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *oname = NULL;
    gint64 org = make_org(s, &oname);
    g_autofree char *active = uniq_email(), *pending = uniq_email(), *stranger = uniq_email();
    g_autofree char *id = uniq("m"), *none = uniq("m");
    make_account(s, active, "phrase");
    const char *q[] = {"q"}, *h[] = {"h"};
    store_registration reg = {pending, "P", "$pw", "p", q, h, 1};
    gint64 now = now_s();
    EXPECT(store_registration_add(s, &reg, NULL, now, now + 3600, 100, NULL, NULL, &err),
           MAIL_QUEUED);
    const char *rcpts[] = {stranger, pending, active};
    msg_spec sp = {.org = org, .created = now, .expires = now + 60};
    EXPECT(make_message(s, &sp, id, rcpts, 3, &err), true);

    store_message m = {0};
    GArray *rows = NULL;
    EXPECT(store_message_get(s, id, &m, &rows, &err), 1);
    assert_string_equal(m.id, id);
    assert_string_equal(m.org_name, oname);
    assert_int_equal(m.expires, now + 60);
    assert_false(m.recalled || m.locked);
    assert_int_equal(rows->len, 3);
    store_message_clear(&m);
    g_array_unref(rows);
    store_recipient_row r = rcpt_row(s, id, active);
    assert_int_equal(r.account, ACCOUNT_ACTIVE);
    assert_int_equal(r.opens, 0);
    assert_int_equal(r.first_open, 0);
    assert_int_equal(r.last_open, 0);
    assert_null(r.last_ip);
    assert_null(r.last_agent);
    row_clear(&r);
    r = rcpt_row(s, id, pending);
    assert_int_equal(r.account, ACCOUNT_PENDING);
    row_clear(&r);
    r = rcpt_row(s, id, stranger);
    assert_int_equal(r.account, -1);
    row_clear(&r);

    store_op rel = {.kind = STORE_OP_RELEASE,
                    .id = id,
                    .rcpt = stranger,
                    .agent = "Agent/1",
                    .ev = &(ks_audit_event){"key.release", stranger, id, "198.51.100.9", NULL}};
    EXPECT(store_apply(s, &rel, 1, &err), true);
    r = rcpt_row(s, id, stranger);
    assert_int_equal(r.opens, 1);
    assert_true(r.first_open >= now && r.last_open == r.first_open);
    assert_string_equal(r.last_ip, "198.51.100.9");
    assert_string_equal(r.last_agent, "Agent/1");
    row_clear(&r);

    EXPECT(store_message_get(s, id, &m, NULL, &err), 1); /* without recipients */
    store_message_clear(&m);
    rows = NULL;
    EXPECT(store_message_get(s, none, &m, &rows, &err), 0);
    if (rows)
        g_array_unref(rows);
}

typedef struct {
    gint64 seq, n_destroy;
} since_match;

static bool destroys_after(void *ctx, const store_audit_row *row)
{
    since_match *m = ctx;
    if (row->seq > m->seq && g_strcmp0(row->event, "key.destroy") == 0)
        m->n_destroy++;
    return true;
}

static bool last_seq(void *ctx, const store_audit_row *row)
{
    *(gint64 *)ctx = row->seq;
    return true;
}

/* key.destroy rows appended since the audit row seq. */
static gint64 destroys_since(store *s, gint64 seq)
{
    g_autoptr(GError) err = NULL;
    since_match m = {seq, 0};
    EXPECT(store_audit_each(s, destroys_after, &m, &err), true);
    return m.n_destroy;
}

static gint64 audit_head(store *s)
{
    g_autoptr(GError) err = NULL;
    gint64 seq = 0;
    EXPECT(store_audit_each(s, last_seq, &seq, &err), true);
    return seq;
}

void test_shred_expired(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    gint64 org = make_org(s, NULL), now = now_s();
    g_autofree char *e1 = uniq("m"), *e2 = uniq("m"), *live = uniq("m"), *never = uniq("m");
    g_autofree char *a = uniq_email();
    const char *r[] = {a};
    msg_spec old1 = {.org = org, .expires = now - 10}, old2 = {.org = org, .expires = now};
    msg_spec later = {.org = org, .expires = now + 3600}, forever = {.org = org};
    EXPECT(make_message(s, &old1, e1, r, 1, &err), true);
    EXPECT(make_message(s, &old2, e2, r, 1, &err), true);
    EXPECT(make_message(s, &later, live, r, 1, &err), true);
    EXPECT(make_message(s, &forever, never, r, 1, &err), true);

    gint64 head = audit_head(s), count = -1;
    EXPECT(store_messages_shred_expired(s, now, &count, &err), true);
    assert_true(count >= 2);                          /* others' expired keys may go too */
    assert_int_equal(destroys_since(s, head), count); /* one row per key destroyed */
    assert_int_equal(audit_count(s, "key.destroy", e1), 1);
    assert_int_equal(audit_count(s, "key.destroy", e2), 1);
    assert_int_equal(audit_count(s, "key.destroy", live), 0);
    assert_int_equal(audit_count(s, "key.destroy", never), 0);
    store_message m = {0};
    EXPECT(store_message_for_rcpt(s, e1, a, &m, &err), 1);
    assert_true(m.key_gone);
    assert_null(m.wrapped);
    assert_false(m.recalled); /* expired, not withdrawn */
    assert_string_equal(store_message_state(&m, now), "expired");
    store_message_clear(&m);
    uint8_t w[WRAP_LEN];
    for (const char *const *id = (const char *const[]){live, never, NULL}; *id; id++) {
        EXPECT(store_message_for_rcpt(s, *id, a, &m, &err), 1);
        wrap_for(*id, w);
        assert_false(m.key_gone);
        assert_memory_equal(m.wrapped, w, WRAP_LEN);
        store_message_clear(&m);
    }
    /* Each key once: a second sweep destroys none of them again. */
    head = audit_head(s);
    EXPECT(store_messages_shred_expired(s, now, &count, &err), true);
    assert_int_equal(destroys_since(s, head), count);
    assert_int_equal(audit_count(s, "key.destroy", e1), 1);
    assert_int_equal(audit_count(s, "key.destroy", e2), 1);
    /* A destroyed key cannot be re-dated back to life. */
    EXPECT(store_message_set_expires(s, e1, now + 3600, NULL, &err), 0);
}

typedef struct {
    const char *old, *nw, *abort_id, *recalled_id;
    int calls;
    bool saw_recalled;
} rewrap_ctx;

static bool rewrap(void *p, const char *msg_id, const char *kek_id, const uint8_t *wrapped,
                   size_t len, uint8_t **out, size_t *out_len, char **out_kek_id, GError **err)
{
    rewrap_ctx *x = p;
    x->calls++;
    if (g_strcmp0(msg_id, x->recalled_id) == 0)
        x->saw_recalled = true;
    if (g_strcmp0(msg_id, x->abort_id) == 0) {
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "rotation aborted by the test");
        return false;
    }
    *out = g_memdup2(wrapped, len);
    *out_len = len;
    if (g_strcmp0(kek_id, x->old) == 0) { /* ours: new bytes under the new KEK */
        for (size_t i = 0; i < len; i++)
            (*out)[i] ^= 0x5a;
        *out_kek_id = g_strdup(x->nw);
    } else { /* others' keys: unchanged */
        *out_kek_id = g_strdup(kek_id);
    }
    return true;
}

static bool strv_has(char **v, const char *s)
{
    bool has = v && g_strv_contains((const char *const *)v, s);
    g_strfreev(v);
    return has;
}

void test_rewrap_and_kek_ids(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    gint64 org = make_org(s, NULL);
    g_autofree char *old = uniq("kek-old"), *nw = uniq("kek-new"), *gone = uniq("kek-gone");
    g_autofree char *k1 = uniq("m"), *k2 = uniq("m"), *k3 = uniq("m"), *a = uniq_email();
    const char *r[] = {a};
    msg_spec sp = {.org = org, .kek = old}, sg = {.org = org, .kek = gone};
    EXPECT(make_message(s, &sp, k1, r, 1, &err), true);
    EXPECT(make_message(s, &sp, k2, r, 1, &err), true);
    EXPECT(make_message(s, &sg, k3, r, 1, &err), true);
    assert_true(strv_has(store_kek_ids_in_use(s, &err), old));
    assert_true(strv_has(store_kek_ids_in_use(s, &err), gone));
    EXPECT(store_message_recall(s, k3, now_s(), NULL, &err), 1);
    assert_false(strv_has(store_kek_ids_in_use(s, &err), gone)); /* no live key uses it */

    /* The callback refuses one key: the rotation changes nothing. */
    rewrap_ctx x = {.old = old, .nw = nw, .abort_id = k2, .recalled_id = k3};
    gint64 count = -1;
    EXPECT(store_rewrap_keys(s, rewrap, &x, &count, EV("kek.rotate", nw), &err), false);
    g_clear_error(&err);
    store_message m = {0};
    uint8_t w[WRAP_LEN];
    for (const char *const *id = (const char *const[]){k1, k2, NULL}; *id; id++) {
        EXPECT(store_message_for_rcpt(s, *id, a, &m, &err), 1);
        wrap_for(*id, w);
        assert_memory_equal(m.wrapped, w, WRAP_LEN);
        assert_string_equal(m.kek_id, old);
        store_message_clear(&m);
    }
    assert_false(strv_has(store_kek_ids_in_use(s, &err), nw));
    assert_int_equal(audit_count(s, "kek.rotate", nw), 0);

    x = (rewrap_ctx){.old = old, .nw = nw, .recalled_id = k3};
    EXPECT(store_rewrap_keys(s, rewrap, &x, &count, EV("kek.rotate", nw), &err), true);
    assert_int_equal(count, x.calls);
    assert_true(count >= 2);
    assert_false(x.saw_recalled); /* a destroyed key is not re-wrapped */
    for (const char *const *id = (const char *const[]){k1, k2, NULL}; *id; id++) {
        EXPECT(store_message_for_rcpt(s, *id, a, &m, &err), 1);
        wrap_for(*id, w);
        for (size_t i = 0; i < WRAP_LEN; i++)
            w[i] ^= 0x5a;
        assert_int_equal(m.wrapped_len, WRAP_LEN);
        assert_memory_equal(m.wrapped, w, WRAP_LEN);
        assert_string_equal(m.kek_id, nw);
        assert_string_equal(m.kid, "kid-conf"); /* the envelope's kid stays */
        store_message_clear(&m);
    }
    assert_true(strv_has(store_kek_ids_in_use(s, &err), nw));
    assert_false(strv_has(store_kek_ids_in_use(s, &err), old));
    assert_int_equal(audit_count(s, "kek.rotate", nw), 1);
}

/* ---- the phrases an organisation may learn for its mails ---- */

/* phrases_for_org with limit: the table's size and *withheld. */
static GHashTable *phrases(store *s, gint64 org, const char *const *emails, size_t n, gint64 now,
                           gint64 limit, gint64 want_size, gint64 want_withheld)
{
    g_autoptr(GError) err = NULL;
    gint64 withheld = -1;
    GHashTable *t = store_phrases_for_org(s, org, emails, n, now, limit, &withheld, &err);
    if (!t)
        fail_msg("store_phrases_for_org: %s", err ? err->message : "NULL");
    assert_int_equal(g_hash_table_size(t), want_size);
    assert_int_equal(withheld, want_withheld);
    return t;
}

void test_phrases_for_org_limit(void **state)
{
    store *s = *state;
    gint64 org = make_org(s, NULL), org2 = make_org(s, NULL), org3 = make_org(s, NULL);
    char *e[3];
    for (int i = 0; i < 3; i++) {
        e[i] = uniq_email();
        g_autofree char *p = g_strdup_printf("phrase %d", i);
        make_account(s, e[i], p);
    }
    g_autofree char *unknown = uniq_email();
    const char *all[] = {e[0], e[1], e[2], unknown};
    gint64 now = now_s();
    /* Two new addresses an hour: the third is withheld; an address without
     * an account is neither given nor withheld. */
    GHashTable *t = phrases(s, org, all, 4, now, 2, 2, 1);
    assert_null(g_hash_table_lookup(t, unknown));
    for (int i = 0; i < 3; i++) {
        const char *p = g_hash_table_lookup(t, e[i]);
        g_autofree char *want = g_strdup_printf("phrase %d", i);
        if (p)
            assert_string_equal(p, want);
    }
    /* The same again: the two given stay given, the third still waits. */
    GHashTable *t2 = phrases(s, org, all, 4, now + 60, 2, 2, 1);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, t);
    while (g_hash_table_iter_next(&it, &k, NULL))
        assert_non_null(g_hash_table_lookup(t2, k));
    g_hash_table_unref(t2);
    g_hash_table_unref(t);
    /* An hour later the budget is back. */
    g_hash_table_unref(phrases(s, org, all, 4, now + 3601, 2, 3, 0));
    /* Each organisation has its own budget. */
    g_hash_table_unref(phrases(s, org2, all, 4, now, 1, 1, 2));
    g_hash_table_unref(phrases(s, org3, all, 1, now, 0, 0, 1));
    for (int i = 0; i < 3; i++)
        g_free(e[i]);
}
