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

/* Request rate limits shared by every keyd: one token bucket per (kind,
 * subject), refilled with time, never above its burst, never refilled by
 * a clock that went back. */
void test_rate_take(void **state)
{
    store *s = *state;
    g_autoptr(GError) err = NULL;
    g_autofree char *ip = uniq("198.51.100."), *other = uniq("198.51.100.");
    const gint64 per_ms = 1000, burst = 3000000; /* 1 token a second, 3 at most */
    gint64 t0 = now_s() * 1000, left = -1;
#define TAKE(kind, who, at) store_rate_take(s, (kind), (who), per_ms, burst, (at), &left, &err)
    /* A new bucket starts full: three at once, then none. */
    assert_int_equal(TAKE(RATE_REQUESTS, ip, t0), 1);
    assert_int_equal(left, 2000000);
    assert_int_equal(TAKE(RATE_REQUESTS, ip, t0), 1);
    assert_int_equal(TAKE(RATE_REQUESTS, ip, t0), 1);
    assert_int_equal(left, 0);
    assert_int_equal(TAKE(RATE_REQUESTS, ip, t0), 0);
    assert_int_equal(left, 0);
    /* Another address, and another kind for the same address: their own. */
    assert_int_equal(TAKE(RATE_REQUESTS, other, t0), 1);
    assert_int_equal(TAKE(RATE_STATUS, ip, t0), 1);
    /* 999 ms later: not a whole token yet (and the refusal spends none). */
    assert_int_equal(TAKE(RATE_REQUESTS, ip, t0 + 999), 0);
    assert_int_equal(left, 999000);
    /* A clock behind the last take (another host's) refills nothing. */
    assert_int_equal(TAKE(RATE_REQUESTS, ip, t0 + 500), 0);
    assert_int_equal(left, 999000);
    assert_int_equal(TAKE(RATE_REQUESTS, ip, t0 + 1000), 1);
    assert_int_equal(left, 0);
    /* An hour later: full again, and no more than full. */
    assert_int_equal(TAKE(RATE_REQUESTS, ip, t0 + 3600 * 1000), 1);
    assert_int_equal(left, 2000000);
#undef TAKE
}
