/*
 * test_store_release.c - the store conformance suite (test_store.c): a
 * key release asked with a session is recorded only while that session is
 * live, asked inside the release's own transaction (store_op.session).
 * This is what lets keyd cache sessions on its hottest path and still
 * honour a sign-out made through any other keyd at once.
 */
#include "test_store.h"

#include <string.h>

static bool refuse_never(const store_message *now)
{
    (void)now;
    return false;
}

static gint64 opens_of(store *s, const char *id, const char *email)
{
    g_autoptr(GError) err = NULL;
    store_message m = {0};
    GArray *rows = NULL;
    EXPECT(store_message_get(s, id, &m, &rows, &err), 1);
    gint64 opens = -1;
    for (guint i = 0; i < rows->len; i++) {
        store_recipient_row *r = &g_array_index(rows, store_recipient_row, i);
        if (!strcmp(r->email, email))
            opens = r->opens;
    }
    g_array_unref(rows);
    store_message_clear(&m);
    return opens;
}

void test_release_session(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    gint64 org = make_org(s, NULL);
    g_autofree char *id = uniq("rs"), *a = uniq_email(), *b = uniq_email();
    const char *rcpts[] = {a, b};
    msg_spec sp = {.org = org, .created = now_s()};
    assert_true(make_message(s, &sp, id, rcpts, 2, &err));
    gint64 acc_a = make_account(s, a, "pa"), acc_b = make_account(s, b, "pb");
    uint8_t live[KS_HASH_LEN], ended[KS_HASH_LEN], expired[KS_HASH_LEN];
    rand_hash(live), rand_hash(ended), rand_hash(expired);
    gint64 now = now_s();
    EXPECT(store_session_create(s, acc_a, live, SESSION_PASSWORD, now + 3600, NULL, &err), true);
    EXPECT(store_session_create(s, acc_b, ended, SESSION_PASSWORD, now + 3600, NULL, &err), true);
    /* expiring now counts as expired, as for store_session_get */
    EXPECT(store_session_create(s, acc_b, expired, SESSION_PASSWORD, now, NULL, &err), true);
    EXPECT(store_session_delete(s, ended, NULL, &err), true);

    /* One batch: the live session's release is recorded, the ended and the
     * expired ones are refused with session_ended, nothing recorded. */
    bool refused[3] = {true, false, false}, gone[3] = {true, false, false};
    store_op ops[3] = {
        {.kind = STORE_OP_RELEASE,
         .id = id,
         .rcpt = a,
         .ev = EV("key.release", id),
         .refuse = refuse_never,
         .refused = &refused[0],
         .session = live,
         .session_ended = &gone[0]},
        {.kind = STORE_OP_RELEASE,
         .id = id,
         .rcpt = b,
         .ev = EV("key.release", id),
         .refuse = refuse_never,
         .refused = &refused[1],
         .session = ended,
         .session_ended = &gone[1]},
        {.kind = STORE_OP_RELEASE,
         .id = id,
         .rcpt = b,
         .ev = EV("key.release", id),
         .refused = &refused[2],
         .session = expired,
         .session_ended = &gone[2]},
    };
    EXPECT(store_apply(s, ops, 3, &err), true);
    assert_false(refused[0]);
    assert_false(gone[0]);
    assert_true(refused[1] && gone[1]);
    assert_true(refused[2] && gone[2]);
    assert_int_equal(opens_of(s, id, a), 1);
    assert_int_equal(opens_of(s, id, b), 0);
    assert_int_equal(audit_count(s, "key.release", id), 1);

    /* The live session ends (sign out everywhere): the next release asked
     * with it is refused, whatever the message's state. */
    EXPECT(store_sessions_end_all(s, acc_a, NULL, NULL, &err), true);
    EXPECT(store_apply(s, ops, 1, &err), true);
    assert_true(refused[0] && gone[0]);
    assert_int_equal(opens_of(s, id, a), 1);
    assert_int_equal(audit_count(s, "key.release", id), 1);

    /* Without a session (no password asked): only the message rule. */
    store_op plain = {.kind = STORE_OP_RELEASE,
                      .id = id,
                      .rcpt = b,
                      .ev = EV("key.release", id),
                      .refuse = refuse_never,
                      .refused = &refused[1],
                      .session_ended = &gone[1]};
    EXPECT(store_apply(s, &plain, 1, &err), true);
    assert_false(refused[1] || gone[1]);
    assert_int_equal(opens_of(s, id, b), 1);
}
