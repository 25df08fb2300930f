/*
 * test_store_create.c - the store conformance suite (see test_store.c),
 * message creation: the helper that makes the tests' messages, and what
 * key creation records and reads (the profile the gateway named, created
 * alone or in a group commit; the brand version with the gateway token),
 * and the organisation's reply keys.
 */
#include "test_store.h"

void wrap_for(const char *id, uint8_t out[WRAP_LEN])
{
    guint h = g_str_hash(id);
    for (size_t i = 0; i < WRAP_LEN; i++)
        out[i] = (uint8_t)(h >> (i % 4 * 8)) ^ (uint8_t)(i * 37);
    out[3] = 0x00; /* a NUL inside: binary-safe storage */
    out[4] = 0xff;
    out[WRAP_LEN - 1] = 0x00;
}

bool make_message(store *s, const msg_spec *sp, const char *id, const char *const *rcpts, size_t n,
                  GError **err)
{
    uint8_t w[WRAP_LEN];
    wrap_for(id, w);
    store_message m = {0};
    g_strlcpy(m.id, id, sizeof m.id);
    m.org_id = sp->org;
    m.sender = (char *)(sp->sender ? sp->sender : "sender@conf.example");
    m.security = "high";
    m.kid = "kid-conf";
    m.kek_id = (char *)(sp->kek ? sp->kek : "kek-conf");
    m.created = sp->created ? sp->created : now_s();
    m.expires = sp->expires;
    m.read_receipts = sp->read_receipts;
    m.profile = (char *)sp->profile;
    m.n_unnamed = sp->n_unnamed;
    m.wrapped = w;
    m.wrapped_len = sizeof w;
    return store_message_create(s, &m, rcpts, n, EV("message.create", id), err);
}

/* A message keeps the profile its gateway named (NULL: none), created
 * alone or in a group commit (PostgreSQL's pipelined batch), in every
 * read of it and in the list. */
void test_message_profile(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    gint64 org = make_org(s, NULL);
    g_autofree char *m1 = uniq("m"), *m2 = uniq("m"), *m3 = uniq("m"), *a = uniq_email();
    const char *rcpts[] = {a};
    gint64 now = now_s();
    msg_spec sp = {.org = org, .created = now - 2, .profile = "health"};
    EXPECT(make_message(s, &sp, m1, rcpts, 1, &err), true);
    uint8_t w[WRAP_LEN];
    wrap_for(m2, w);
    store_message in = {.org_id = org,
                        .sender = "s@conf.example",
                        .security = "high",
                        .kid = "kid-conf",
                        .kek_id = "kek-conf",
                        .profile = "letters",
                        .created = now - 1,
                        .wrapped = w,
                        .wrapped_len = WRAP_LEN};
    g_strlcpy(in.id, m2, sizeof in.id);
    store_op op = {.kind = STORE_OP_CREATE, .msg = &in, .rcpts = rcpts, .n_rcpts = 1};
    EXPECT(store_apply(s, &op, 1, &err), true);
    msg_spec none = {.org = org, .created = now};
    EXPECT(make_message(s, &none, m3, rcpts, 1, &err), true);

    store_message m = {0};
    EXPECT(store_message_get(s, m1, &m, NULL, &err), 1);
    assert_string_equal(m.profile, "health");
    store_message *dup = store_message_dup(&m);
    assert_string_equal(dup->profile, "health");
    store_message_free(dup);
    store_message_clear(&m);
    EXPECT(store_message_for_rcpt(s, m2, a, &m, &err), 1);
    assert_string_equal(m.profile, "letters");
    assert_memory_equal(m.wrapped, w, WRAP_LEN); /* the columns after it read right */
    store_message_clear(&m);
    EXPECT(store_message_get(s, m3, &m, NULL, &err), 1);
    assert_null(m.profile);
    store_message_clear(&m);

    store_message_query q = {.org_id = org, .now = now, .limit = 10};
    GArray *rows = NULL;
    gint64 total = 0;
    EXPECT(store_messages_find(s, &q, &rows, &total, &err), true);
    assert_int_equal(total, 3);
    assert_string_equal(g_array_index(rows, store_message_row, 0).id, m3);
    assert_null(g_array_index(rows, store_message_row, 0).profile);
    assert_string_equal(g_array_index(rows, store_message_row, 1).profile, "letters");
    assert_string_equal(g_array_index(rows, store_message_row, 2).profile, "health");
    assert_int_equal(g_array_index(rows, store_message_row, 2).n_rcpts, 1);
    g_array_unref(rows);
}

/* The organisation a gateway token finds carries the brand's version as
 * stored now, so key creation learns of a change without reading the
 * brand; every change bumps it. */
void test_org_brand_version(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *name = NULL;
    gint64 id = make_org(s, &name);
    uint8_t h[KS_HASH_LEN];
    rand_hash(h);
    g_autofree char *prefix = g_strdup_printf("spg_%08x", g_random_int());
    EXPECT(store_gateway_token_create(s, id, h, prefix, NULL, &err), true);
    store_org o = {0};
    EXPECT(store_gateway_token_org(s, h, &o, &err), 1);
    assert_int_equal(o.brand_version, 0); /* no brand yet */
    store_org_clear(&o);
    gint64 v = 0;
    store_brand set[] = {
        {.display_name = "Conf Org", .color = "#123456"}, {.notice = "Read me"}, {.logo_type = ""}};
    for (size_t i = 0; i < G_N_ELEMENTS(set); i++) {
        EXPECT(store_brand_set(s, id, &set[i], NULL, &err), true);
        EXPECT(store_gateway_token_org(s, h, &o, &err), 1);
        assert_true(o.brand_version > v);
        v = o.brand_version;
        store_org_clear(&o);
        store_brand b = {0};
        EXPECT(store_brand_get(s, id, &b, &err), 1);
        assert_int_equal(b.version, v);
        store_brand_clear(&b);
        EXPECT(store_org_by_name(s, name, &o, &err), 1);
        assert_int_equal(o.brand_version, v);
        store_org_clear(&o);
    }
}

/* An organisation's reply keys: registered once (again with the same
 * public key: nothing changes; with another: refused), listed oldest
 * first, the newest live one current, retired ones kept and never
 * current, another organisation's never seen. */
void test_reply_keys(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    gint64 org = make_org(s, NULL), other = make_org(s, NULL);
    gint64 now = now_s();
    store_reply_key k = {0};
    EXPECT(store_reply_key_current(s, org, &k, &err), 0);
    g_autofree char *kid1 = uniq("kid"), *kid2 = uniq("kid");
    gint64 before = audit_count(s, "reply_key.register", NULL);
    EXPECT(
        store_reply_key_put(s, org, kid1, "PK-one", now - 10, EV("reply_key.register", kid1), &err),
        1);
    EXPECT(
        store_reply_key_put(s, org, kid1, "PK-one", now - 5, EV("reply_key.register", kid1), &err),
        0);
    EXPECT(store_reply_key_put(s, org, kid1, "PK-other", now, EV("reply_key.register", kid1), &err),
           -1);
    expect_error(&err, SP_ERR_INPUT);
    assert_int_equal(audit_count(s, "reply_key.register", NULL), before + 1);
    EXPECT(store_reply_key_current(s, org, &k, &err), 1);
    assert_string_equal(k.kid, kid1);
    assert_string_equal(k.public_key, "PK-one");
    assert_int_equal(k.created, now - 10);
    store_reply_key_clear(&k);
    EXPECT(store_reply_key_put(s, org, kid2, "PK-two", now, EV("reply_key.register", kid2), &err),
           1);
    EXPECT(store_reply_key_current(s, org, &k, &err), 1);
    assert_string_equal(k.kid, kid2);
    store_reply_key_clear(&k);
    EXPECT(store_reply_key_current(s, other, &k, &err), 0);

    EXPECT(store_reply_key_touch(s, org, kid1, now, &err), true);
    EXPECT(store_reply_key_retire(s, org, kid2, now + 1, EV("reply_key.retire", kid2), &err), 1);
    EXPECT(store_reply_key_retire(s, org, kid2, now + 2, EV("reply_key.retire", kid2), &err), 0);
    EXPECT(store_reply_key_retire(s, other, kid1, now + 2, EV("reply_key.retire", kid1), &err), 0);
    EXPECT(store_reply_key_current(s, org, &k, &err), 1);
    assert_string_equal(k.kid, kid1);
    store_reply_key_clear(&k);

    GArray *rows = NULL;
    EXPECT(store_reply_keys_list(s, org, &rows, &err), true);
    assert_int_equal(rows->len, 2);
    store_reply_key *r0 = &g_array_index(rows, store_reply_key, 0);
    store_reply_key *r1 = &g_array_index(rows, store_reply_key, 1);
    assert_string_equal(r0->kid, kid1);
    assert_int_equal(r0->last_used, now);
    assert_int_equal(r0->retired, 0);
    assert_string_equal(r1->kid, kid2);
    assert_int_equal(r1->retired, now + 1);
    assert_string_equal(r1->public_key, "PK-two");
    g_array_unref(rows);
    EXPECT(store_reply_keys_list(s, other, &rows, &err), true);
    assert_int_equal(rows->len, 0);
    g_array_unref(rows);

    /* The last registered is current, whatever the clock said (keys
     * registered within one second, or a clock set back). */
    g_autofree char *kid3 = uniq("kid");
    EXPECT(store_reply_key_put(s, org, kid3, "PK-three", now - 100, EV("reply_key.register", kid3),
                               &err),
           1);
    EXPECT(store_reply_key_current(s, org, &k, &err), 1);
    assert_string_equal(k.kid, kid3);
    store_reply_key_clear(&k);
    EXPECT(store_reply_keys_list(s, org, &rows, &err), true);
    assert_string_equal(g_array_index(rows, store_reply_key, 2).kid, kid3);
    g_array_unref(rows);
}

/* The reply route is set and read back; an answer is claimed once, a
 * retry of a delivered one is told so, a dropped claim is claimed again,
 * a stale claim is taken over; only delivered answers are listed. */
void test_answers_and_route(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    gint64 org = make_org(s, NULL);
    store_reply_route rt = {0};
    EXPECT(store_reply_route_get(s, org, &rt, &err), 0);
    store_reply_route in = {"mx.clinic.example", "verify", 25};
    EXPECT(store_reply_route_set(s, org, &in, EV("org.reply_route", "x"), &err), true);
    EXPECT(store_reply_route_get(s, org, &rt, &err), 1);
    assert_string_equal(rt.host, "mx.clinic.example");
    assert_string_equal(rt.tls, "verify");
    assert_int_equal(rt.port, 25);
    store_reply_route_clear(&rt);

    gint64 now = now_s();
    g_autofree char *id = uniq("ans"), *msg = uniq("m"), *id2 = uniq("ans");
    store_answer a = {id, msg, "pat@example.com", "reply", "kid1", org, 2, 1234, now, 0};
    EXPECT(store_answer_claim(s, &a, now - 300, &err), 1);
    EXPECT(store_answer_claim(s, &a, now - 300, &err), 2); /* being relayed */
    EXPECT(store_answer_claim(s, &a, now + 1, &err), 1);   /* a stale claim is taken over */
    EXPECT(store_answer_settle(s, id, 0, EV("answer.relay", id), &err), true);
    EXPECT(store_answer_claim(s, &a, now - 300, &err), 1); /* dropped: claimed again */
    gint64 before = audit_count(s, "answer.relay", id);
    EXPECT(store_answer_settle(s, id, now + 5, EV("answer.relay", id), &err), true);
    assert_int_equal(audit_count(s, "answer.relay", id), before + 1);
    EXPECT(store_answer_claim(s, &a, now - 300, &err), 0); /* delivered already */
    store_answer b = {id2, msg, "pat@example.com", "forward", "kid1", org, 1, 99, now + 1, 0};
    EXPECT(store_answer_claim(s, &b, now - 300, &err), 1); /* not delivered: not listed */
    GArray *rows = NULL;
    EXPECT(store_answers_list(s, msg, &rows, &err), true);
    assert_int_equal(rows->len, 1);
    store_answer *r0 = &g_array_index(rows, store_answer, 0);
    assert_string_equal(r0->id, id);
    assert_string_equal(r0->action, "reply");
    assert_int_equal(r0->n_rcpts, 2);
    assert_int_equal(r0->size, 1234);
    assert_int_equal(r0->delivered, now + 5);
    g_array_unref(rows);
}
