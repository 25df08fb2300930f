/*
 * test_keyclient.c - the key-server client against a small HTTP/1.1 server
 * in this process that answers what a test sets: the URL rules, the
 * requests the client sends (method, path, headers, JSON body), what it
 * makes of good answers, and how it treats every bad one - problem reports
 * mapped to error codes with safe messages, oversized and malformed answers,
 * a server that is not there - and that calls share one connection.
 * The real key server is driven end to end by
 * tests/integration/keyd-cli.test.mjs.
 */
#include "testutil.h"
#include "keyclient.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the canned server ---------------------------------------------------- */

static struct {
    GMutex lock;
    int port;
    char *answer; /* the whole HTTP answer to give next */
    size_t answer_len;
    char *request;   /* the last request received */
    int connections; /* accepted so far */
} srv;

static void set_answer_raw(const char *text, size_t len)
{
    g_mutex_lock(&srv.lock);
    g_free(srv.answer);
    srv.answer = g_memdup2(text, len);
    srv.answer_len = len;
    g_mutex_unlock(&srv.lock);
}

static void set_answer(int status, const char *ctype, const char *extra, const char *body)
{
    g_autofree char *a = g_strdup_printf("HTTP/1.1 %d X\r\nContent-Type: %s\r\n%sContent-Length: "
                                         "%zu\r\n\r\n%s",
                                         status, ctype, extra ? extra : "", strlen(body), body);
    set_answer_raw(a, strlen(a));
}

static char *last_request(void)
{
    g_mutex_lock(&srv.lock);
    char *r = g_strdup(srv.request);
    g_mutex_unlock(&srv.lock);
    return r;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Serve one connection: requests one after the other (keep-alive). */
static void serve(int fd)
{
    GString *in = g_string_new(NULL);
    char buf[4096];
    for (;;) {
        const char *end;
        while ((end = strstr(in->str, "\r\n\r\n")) == NULL) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0)
                goto out;
            g_string_append_len(in, buf, n);
        }
        size_t head = (size_t)(end - in->str) + 4, body = 0;
        const char *cl = strstr(in->str, "Content-Length: ");
        if (cl != NULL && cl < end)
            body = (size_t)g_ascii_strtoull(cl + 16, NULL, 10);
        while (in->len < head + body) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0)
                goto out;
            g_string_append_len(in, buf, n);
        }
        g_mutex_lock(&srv.lock);
        g_free(srv.request);
        srv.request = g_strndup(in->str, head + body);
        g_autofree char *a = g_memdup2(srv.answer, srv.answer_len);
        size_t alen = srv.answer_len;
        g_mutex_unlock(&srv.lock);
        g_string_erase(in, 0, (gssize)(head + body));
        if (!send_all(fd, a, alen) || g_strstr_len(a, (gssize)alen, "Connection: close") != NULL)
            goto out;
    }
out:
    g_string_free(in, TRUE);
    close(fd);
}

static gpointer server_main(gpointer data)
{
    int ls = GPOINTER_TO_INT(data);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            continue;
        g_mutex_lock(&srv.lock);
        srv.connections++;
        g_mutex_unlock(&srv.lock);
        serve(fd);
    }
    return NULL;
}

static int listen_loopback(void)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 8), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
    srv.port = ntohs(a.sin_port);
    return ls;
}

static sp_kc *client(void)
{
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d/", srv.port);
    g_autoptr(GError) err = NULL;
    sp_kc *kc = sp_kc_new(url, &err);
    assert_non_null(kc);
    return kc;
}

/* The JSON body of the last request. */
static json_t *request_json(void)
{
    g_autofree char *r = last_request();
    const char *b = strstr(r, "\r\n\r\n");
    assert_non_null(b);
    json_t *j = json_loads(b + 4, 0, NULL);
    assert_non_null(j);
    return j;
}

/* A known key and its standard base64. */
static const uint8_t KEY[SP_KEY_LEN] = {0xfb, 0xff, 0x01, 2,  3,  4,  5,  6,  7,  8,   9,
                                        10,   11,   12,   13, 14, 15, 16, 17, 18, 19,  20,
                                        21,   22,   23,   24, 25, 26, 27, 28, 29, 0xfe};

static char *key_b64(void)
{
    return g_base64_encode(KEY, sizeof KEY);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_url_rules(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } good[] = {
        {"https://keys.example.org", "https://keys.example.org"},
        {"https://keys.example.org/", "https://keys.example.org"},
        {"https://host.example/prefix/", "https://host.example/prefix"},
        {"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
        {"http://127.1.2.3/", "http://127.1.2.3"},
        {"http://[::1]:9000/", "http://[::1]:9000"},
        {"http://localhost:9000", "http://localhost:9000"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autofree char *n = NULL;
        g_autoptr(GError) err = NULL;
        assert_true(sp_kc_url_check(good[i].in, &n, &err));
        assert_string_equal(n, good[i].out);
    }
    static const char *bad[] = {
        "http://keys.example.org",
        "http://128.0.0.1",
        "http://[::2]/",
        "ftp://keys.example.org",
        "https://user:secret@keys.example.org",
        "https://keys.example.org/?token=secret",
        "https://keys.example.org/#x",
        "keys.example.org",
        "",
        "https://",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        assert_false(sp_kc_url_check(bad[i], NULL, &err));
        assert_true(g_error_matches(err, SP_ERROR, SP_ERR_USAGE));
        assert_null(strstr(err->message, "secret"));
    }
}

static void test_create_message(void **state)
{
    (void)state;
    g_autofree char *k = key_b64();
    g_autofree char *body = g_strdup_printf(
        "{\"id\":\"AAECAwQFBgcICQoLDA0ODw\",\"key\":\"%s\",\"kid\":\"k1\","
        "\"url\":\"http://127.0.0.1:1/\",\"org\":\"clinic\",\"security\":\"medium\","
        "\"expires\":\"2030-01-02T03:04:05Z\",\"phrases\":{\"pat@example.org\":\"blue kite\"}}",
        k);
    set_answer(201, "application/json", NULL, body);
    g_autoptr(sp_kc) kc = client();
    const char *to[] = {"Pat@Example.org", "other@example.net"};
    sp_kc_request req = {.from = "dr@clinic.example",
                         .to = to,
                         .n_to = 2,
                         .security = "medium",
                         .expires = 1893553445,
                         .profile = "lab"};
    sp_kc_message m;
    g_autoptr(GError) err = NULL;
    assert_true(sp_kc_create_message(kc, "spg_gateway", &req, &m, &err));
    assert_string_equal(m.id, "AAECAwQFBgcICQoLDA0ODw");
    assert_memory_equal(m.key, KEY, SP_KEY_LEN);
    assert_string_equal(m.kid, "k1");
    assert_string_equal(m.url, "http://127.0.0.1:1");
    assert_string_equal(m.org, "clinic");
    assert_string_equal(m.security, "medium");
    assert_int_equal(m.expires, 1893553445);
    assert_string_equal(sp_kc_message_phrase(&m, "PAT@example.org"), "blue kite");
    assert_null(sp_kc_message_phrase(&m, "other@example.net"));
    sp_kc_message_clear(&m);

    g_autofree char *r = last_request();
    assert_true(g_str_has_prefix(r, "POST /v1/messages HTTP/1.1\r\n"));
    assert_non_null(strstr(r, "\r\nAuthorization: Bearer spg_gateway\r\n"));
    assert_non_null(strstr(r, "\r\nContent-Type: application/json\r\n"));
    json_t *j = request_json();
    const char *from, *sec, *exp, *prof, *t0, *t1;
    assert_int_equal(json_unpack(j, "{s:s, s:[s, s], s:s, s:s, s:s}", "from", &from, "to", &t0, &t1,
                                 "security", &sec, "expires", &exp, "profile", &prof),
                     0);
    assert_string_equal(from, "dr@clinic.example");
    assert_string_equal(t0, "Pat@Example.org");
    assert_string_equal(exp, "2030-01-02T03:04:05Z");
    assert_string_equal(prof, "lab");
    json_decref(j);
}

static void test_bad_answers(void **state)
{
    (void)state;
    g_autoptr(sp_kc) kc = client();
    const char *to[] = {"pat@example.org"};
    sp_kc_request req = {.from = "dr@clinic.example", .to = to, .n_to = 1};
    static const char *bodies[] = {
        /* a 31-byte key */
        "{\"id\":\"AAECAwQFBgcICQoLDA0ODw\",\"key\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="
        "\","
        "\"kid\":\"k\",\"url\":\"https://k.example\",\"org\":\"o\"}",
        /* an id that is not 16 bytes */
        "{\"id\":\"AAEC\",\"key\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\","
        "\"kid\":\"k\",\"url\":\"https://k.example\",\"org\":\"o\"}",
        /* a public URL over plain http */
        "{\"id\":\"AAECAwQFBgcICQoLDA0ODw\",\"key\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        "\","
        "\"kid\":\"k\",\"url\":\"http://k.example\",\"org\":\"o\"}",
        "[1, 2]",
        "<html>not the API</html>",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++) {
        set_answer(201, "application/json", NULL, bodies[i]);
        sp_kc_message m;
        g_autoptr(GError) err = NULL;
        assert_false(sp_kc_create_message(kc, "spg_x", &req, &m, &err));
        assert_true(g_error_matches(err, SP_ERROR, SP_ERR_UNAVAILABLE));
        for (size_t b = 0; b < SP_KEY_LEN; b++)
            assert_int_equal(m.key[b], 0);
        sp_kc_message_clear(&m);
    }
}

/* Each problem report gives the right error class and a message a user can
 * act on, without control characters from the server. */
static void test_problems(void **state)
{
    (void)state;
    g_autoptr(sp_kc) kc = client();
    static const struct {
        int status;
        const char *extra, *body;
        int code;
        const char *says;
    } cases[] = {
        {403, NULL,
         "{\"type\":\"https://sealpost.org/problems/message-locked\",\"title\":\"Message "
         "locked\",\"status\":403,\"reason\":\"sent to the wrong person\\u001b[31m\"}",
         SP_ERR_REFUSED,
         "the key server refused: this message was locked by the sender: sent to the wrong "
         "person [31m"},
        {401, NULL,
         "{\"type\":\"https://sealpost.org/problems/invalid-credentials\",\"title\":\"Wrong email "
         "address or password\",\"status\":401}",
         SP_ERR_REFUSED, "the key server refused: Wrong email address or password"},
        /* keyd's own answers: its detail is what the user reads. */
        {429, "Retry-After: 7\r\n",
         "{\"type\":\"https://sealpost.org/problems/too-many-requests\",\"title\":\"Too many "
         "requests\",\"status\":429,\"retry_after\":7,\"detail\":\"Wait 7 seconds before "
         "trying again.\"}",
         SP_ERR_REFUSED, "the key server refused: Wait 7 seconds before trying again."},
        {423, NULL,
         "{\"type\":\"https://sealpost.org/problems/account-locked\",\"title\":\"Account "
         "locked\",\"status\":423,\"reset_required\":true,\"detail\":\"Too many failed "
         "attempts: signing in with the password is blocked until the password is reset.\"}",
         SP_ERR_REFUSED,
         "the key server refused: Too many failed attempts: signing in with the password is "
         "blocked until the password is reset."},
        {410, NULL,
         "{\"type\":\"https://sealpost.org/problems/message-expired\",\"title\":\"The "
         "message has expired\",\"status\":410,\"expires\":\"2026-01-01T00:00:00Z\","
         "\"detail\":\"This message expired on 2026-01-01T00:00:00Z.\"}",
         SP_ERR_REFUSED, "the key server refused: This message expired on 2026-01-01T00:00:00Z."},
        /* Another server's (a proxy's) answers without words: the status,
         * the problem type, and what its members add. */
        {429, "Retry-After: 7\r\n",
         "{\"type\":\"https://sealpost.org/problems/too-many-requests\",\"status\":429}",
         SP_ERR_REFUSED,
         "the key server refused: HTTP status 429, problem type too-many-requests; try again "
         "in 7 seconds"},
        {423, NULL,
         "{\"type\":\"https://sealpost.org/problems/account-locked\",\"title\":\"Account "
         "locked\",\"status\":423,\"retry_after\":900}",
         SP_ERR_REFUSED, "the key server refused: Account locked; try again in 900 seconds"},
        {410, NULL,
         "{\"type\":\"https://sealpost.org/problems/message-expired\",\"status\":410,"
         "\"expires\":\"2026-01-01T00:00:00Z\"}",
         SP_ERR_REFUSED,
         "the key server refused: HTTP status 410, problem type message-expired (on "
         "2026-01-01T00:00:00Z)"},
        {404, NULL, "", SP_ERR_REFUSED, "the key server refused: HTTP status 404"},
        {404, NULL, "{\"type\":\"about:blank\",\"status\":404}", SP_ERR_REFUSED,
         "the key server refused: HTTP status 404"},
        {422, NULL,
         "{\"type\":\"https://sealpost.org/problems/invalid-request\",\"title\":\"Invalid "
         "request\",\"status\":422,\"field\":\"to[1]\"}",
         SP_ERR_INPUT, "invalid: Invalid request (field to[1])"},
        {503, NULL, "{\"type\":\"https://sealpost.org/problems/unavailable\",\"status\":503}",
         SP_ERR_UNAVAILABLE,
         "cannot serve this now (HTTP status 503, problem type unavailable): try again later"},
        {502, NULL, "", SP_ERR_UNAVAILABLE,
         "cannot serve this now (HTTP status 502): try again later"},
        {503, NULL,
         "{\"type\":\"https://sealpost.org/problems/unavailable\",\"title\":\"Service "
         "unavailable\",\"status\":503,\"detail\":\"The key server is restarting; try again "
         "in a moment.\"}",
         SP_ERR_UNAVAILABLE,
         "cannot serve this now (HTTP 503: The key server is restarting; try again in a "
         "moment.): try again later"},
        {500, NULL, "oops", SP_ERR_UNAVAILABLE, "try again later"},
        {302, "Location: https://elsewhere.example/\r\n", "", SP_ERR_UNAVAILABLE, "HTTP 302"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        set_answer(cases[i].status, "application/problem+json", cases[i].extra, cases[i].body);
        uint8_t key[SP_KEY_LEN];
        g_autoptr(GError) err = NULL;
        assert_false(sp_kc_release_key(kc, NULL, "AAECAwQFBgcICQoLDA0ODw", "pat@example.org", key,
                                       NULL, &err));
        assert_true(g_error_matches(err, SP_ERROR, cases[i].code));
        if (strstr(err->message, cases[i].says) == NULL)
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err->message, cases[i].says);
        assert_null(strchr(err->message, '\x1b'));
    }
}

static void test_oversized_answers(void **state)
{
    (void)state;
    g_autoptr(sp_kc) kc = client();
    size_t n = 2 * SP_KC_BODY_MAX;
    g_autofree char *big = g_malloc(n + 200);
    /* Announced by Content-Length, and sent without one (until close). */
    for (int framed = 0; framed < 2; framed++) {
        int h = framed ? g_snprintf(big, 200,
                                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                    "Content-Length: %zu\r\n\r\n",
                                    n)
                       : g_snprintf(big, 200,
                                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                    "Connection: close\r\n\r\n");
        memset(big + h, ' ', n);
        set_answer_raw(big, (size_t)h + n);
        sp_kc_status st;
        g_autoptr(GError) err = NULL;
        assert_false(sp_kc_status_get(kc, "AAECAwQFBgcICQoLDA0ODw", "a@b.example", &st, &err));
        assert_true(g_error_matches(err, SP_ERROR, SP_ERR_UNAVAILABLE));
        assert_non_null(strstr(err->message, "more than"));
        sp_kc_status_clear(&st);
    }
}

static void test_session_flow_one_connection(void **state)
{
    (void)state;
    g_autoptr(sp_kc) kc = client();
    g_mutex_lock(&srv.lock);
    int before = srv.connections;
    g_mutex_unlock(&srv.lock);

    set_answer(201, "application/json", NULL,
               "{\"token\":\"sps_session\",\"expires\":\"2030-01-01T00:00:00Z\","
               "\"method\":\"password\"}");
    g_autoptr(GError) err = NULL;
    const char pw[] = "pässword with spaces";
    g_autoptr(sp_kc_session) s = sp_kc_sign_in(kc, "pat@example.org", pw, strlen(pw), &err);
    assert_non_null(s);
    g_autofree char *r1 = last_request();
    assert_true(g_str_has_prefix(r1, "POST /v1/sessions HTTP/1.1\r\n"));
    assert_null(strstr(r1, "Authorization"));
    json_t *j = request_json();
    const char *email, *got;
    assert_int_equal(json_unpack(j, "{s:s, s:s}", "email", &email, "password", &got), 0);
    assert_string_equal(got, pw);
    json_decref(j);

    g_autofree char *k = key_b64();
    g_autofree char *kb = g_strdup_printf("{\"key\":\"%s\",\"kid\":\"k7\"}", k);
    set_answer(200, "application/json", NULL, kb);
    uint8_t key[SP_KEY_LEN];
    g_autofree char *kid = NULL;
    assert_true(sp_kc_release_key(kc, s, "AAECAwQFBgcICQoLDA0ODw", NULL, key, &kid, &err));
    assert_memory_equal(key, KEY, SP_KEY_LEN);
    assert_string_equal(kid, "k7");
    g_autofree char *r2 = last_request();
    assert_true(g_str_has_prefix(r2, "POST /v1/messages/AAECAwQFBgcICQoLDA0ODw/key HTTP/1.1\r\n"));
    assert_non_null(strstr(r2, "\r\nAuthorization: Bearer sps_session\r\n"));
    assert_true(g_str_has_suffix(r2, "\r\n\r\n{}"));

    set_answer_raw("HTTP/1.1 204 No Content\r\n\r\n", 27);
    assert_true(sp_kc_sign_out(kc, s, &err));
    g_autofree char *r3 = last_request();
    assert_true(g_str_has_prefix(r3, "DELETE /v1/sessions/current HTTP/1.1\r\n"));
    assert_non_null(strstr(r3, "\r\nAuthorization: Bearer sps_session\r\n"));

    set_answer(200, "application/json", NULL,
               "{\"id\":\"AAECAwQFBgcICQoLDA0ODw\",\"org\":\"clinic\",\"brand\":{\"name\":"
               "\"Clinic\"},\"security\":\"high\",\"state\":\"locked\",\"reason\":\"typo\","
               "\"expires\":null,\"recipient\":{\"email\":\"a+b@example.org\","
               "\"account\":\"pending\"}}");
    sp_kc_status st;
    assert_true(sp_kc_status_get(kc, "AAECAwQFBgcICQoLDA0ODw", "a+b@example.org", &st, &err));
    assert_string_equal(st.state, "locked");
    assert_string_equal(st.reason, "typo");
    assert_string_equal(st.account, "pending");
    assert_string_equal(st.brand_name, "Clinic");
    sp_kc_status_clear(&st);
    g_autofree char *r4 = last_request();
    assert_true(g_str_has_prefix(
        r4, "GET /v1/messages/AAECAwQFBgcICQoLDA0ODw/status?rcpt=a%2Bb%40example.org HTTP/1.1"));

    g_mutex_lock(&srv.lock);
    int after = srv.connections;
    g_mutex_unlock(&srv.lock);
    assert_int_equal(after - before, 1); /* four calls, one connection */
}

static void test_refused_before_sending(void **state)
{
    (void)state;
    g_autoptr(sp_kc) kc = client();
    uint8_t key[SP_KEY_LEN];
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
    assert_false(sp_kc_release_key(kc, NULL, "../admin", "a@b.example", key, NULL, &e1));
    assert_true(g_error_matches(e1, SP_ERROR, SP_ERR_USAGE));
    const char *to[] = {"a@b.example"};
    sp_kc_request req = {.from = "x@y.example", .to = to, .n_to = 1};
    sp_kc_message m;
    assert_false(sp_kc_create_message(kc, "spg_with\r\nInjected: header", &req, &m, &e2));
    assert_true(g_error_matches(e2, SP_ERROR, SP_ERR_INPUT));
    assert_null(strstr(e2->message, "Injected"));
    sp_kc_message_clear(&m);
    assert_null(sp_kc_sign_in(kc, "a@b.example", "\xff\xfe", 2, &e3));
    assert_true(g_error_matches(e3, SP_ERROR, SP_ERR_INPUT));
}

static void test_no_server(void **state)
{
    (void)state;
    /* A port that was just free: nothing listens there. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d", ntohs(a.sin_port));
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_kc) kc = sp_kc_new(url, &err);
    assert_non_null(kc);
    const char pw[] = "secret password";
    assert_null(sp_kc_sign_in(kc, "a@b.example", pw, strlen(pw), &err));
    assert_true(g_error_matches(err, SP_ERROR, SP_ERR_UNAVAILABLE));
    assert_int_equal(sp_error_exit_code(err), 4);
    assert_non_null(strstr(err->message, url));
    assert_null(strstr(err->message, "secret"));
}

int main(void)
{
    assert_true(sp_crypto_init());
    g_mutex_init(&srv.lock);
    int ls = listen_loopback();
    g_thread_unref(g_thread_new("canned-http", server_main, GINT_TO_POINTER(ls)));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_rules),
        cmocka_unit_test(test_create_message),
        cmocka_unit_test(test_bad_answers),
        cmocka_unit_test(test_problems),
        cmocka_unit_test(test_oversized_answers),
        cmocka_unit_test(test_session_flow_one_connection),
        cmocka_unit_test(test_refused_before_sending),
        cmocka_unit_test(test_no_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
