/*
 * keyclient_problem.c - a key server's answer other than 2xx (an RFC 9457
 * problem report, or whatever a proxy sent) turned into the SP_ERROR a user
 * reads. The words are the server's own (its detail, else its title), made
 * safe for a terminal; when it gave none, a text of this client's for a
 * known problem type, else the HTTP status. The error class follows the
 * status (keyclient.h).
 */
#include "keyclient_int.h"

#include "sp_error.h"

#include <jansson.h>
#include <string.h>

#define SERVER_TEXT_MAX 300
#define PROBLEM_PREFIX "https://sealpost.org/problems/"

/* Server text made safe for a terminal: no control characters, valid
 * UTF-8, at most SERVER_TEXT_MAX characters. */
static char *server_text(const char *s)
{
    g_autofree char *valid = g_utf8_make_valid(s, -1);
    GString *out = g_string_new(NULL);
    glong count = 0;
    for (const char *p = valid; *p && count < SERVER_TEXT_MAX; p = g_utf8_next_char(p), count++) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029)
            g_string_append_c(out, ' ');
        else
            g_string_append_unichar(out, c);
    }
    if (*valid && count >= SERVER_TEXT_MAX)
        g_string_append(out, "...");
    return g_string_free(out, FALSE);
}

/* What to say for a problem type when the server gives no detail. */
static const char *problem_fallback(const char *name)
{
    static const struct {
        const char *name, *text;
    } known[] = {
        {"invalid-credentials", "wrong email address or password"},
        {"unauthorized", "not signed in, or the token or session is not valid (or has expired)"},
        {"password-required", "this message needs the account password"},
        {"account-inactive",
         "the account is not active yet: follow the activation link that was mailed to you"},
        {"account-locked", "too many failed attempts: the account is locked for a while"},
        {"too-many-requests", "too many attempts"},
        {"forbidden", "not allowed"},
        {"not-found", "unknown message, or the address is not one of its recipients"},
        {"message-expired", "this message has expired"},
        {"message-recalled", "this message was recalled by the sender"},
        {"weak-password", "the password is too weak"},
        {"invalid-request", "the request is not valid"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(known); i++)
        if (strcmp(name, known[i].name) == 0)
            return known[i].text;
    return NULL;
}

bool kc_problem_error(const char *base, long status, const char *body, size_t len,
                      const char *retry_after, GError **err)
{
    g_autoptr(json_t) p = len ? json_loadb(body, len, 0, NULL) : NULL;
    const char *type = NULL, *title = NULL, *detail = NULL, *reason = NULL, *field = NULL;
    const char *expires = NULL;
    json_int_t retry = -1;
    if (json_is_object(p))
        json_unpack(p, "{s?s, s?s, s?s, s?s, s?s, s?s, s?I}", "type", &type, "title", &title,
                    "detail", &detail, "reason", &reason, "field", &field, "expires", &expires,
                    "retry_after", &retry);
    const char *name =
        type && g_str_has_prefix(type, PROBLEM_PREFIX) ? type + strlen(PROBLEM_PREFIX) : "";
    if (retry < 0 && retry_after[0] != '\0')
        retry = (json_int_t)g_ascii_strtoll(retry_after, NULL, 10);

    g_autoptr(GString) msg = g_string_new(NULL);
    if (strcmp(name, "message-locked") == 0) {
        g_string_append(msg, "this message was locked by the sender");
        if (reason != NULL && reason[0] != '\0') {
            g_autofree char *r = server_text(reason);
            g_string_append_printf(msg, ": %s", r);
        }
    } else {
        const char *text = detail ? detail : title ? title : problem_fallback(name);
        if (text != NULL) {
            g_autofree char *t = server_text(text);
            g_string_append(msg, t);
        } else {
            g_string_append_printf(msg, "HTTP status %ld", status);
        }
        /* Add what the detail does not already say. */
        if (strcmp(name, "message-expired") == 0 && expires != NULL && detail == NULL) {
            g_autofree char *e = server_text(expires);
            g_string_append_printf(msg, " (on %s)", e);
        }
        if (field != NULL && strstr(msg->str, field) == NULL) {
            g_autofree char *f = server_text(field);
            g_string_append_printf(msg, " (field %s)", f);
        }
    }
    if (retry > 0 && detail == NULL && (status == 423 || status == 429))
        g_string_append_printf(msg, "; try again in %" JSON_INTEGER_FORMAT " second%s", retry,
                               retry == 1 ? "" : "s");

    if (status >= 300 && status < 400) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "the key server at %s answered with a redirect (HTTP %ld), which is not "
                    "followed: give the key server's own URL",
                    base, status);
    } else if (status >= 500 || status < 400) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "the key server at %s cannot serve this now (HTTP %ld: %s): try again later",
                    base, status, msg->str);
    } else if (status == 401 || status == 403 || status == 404 || status == 410 || status == 423 ||
               status == 429) {
        g_set_error(err, SP_ERROR, SP_ERR_REFUSED, "the key server refused: %s", msg->str);
    } else {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "the key server found the request invalid: %s",
                    msg->str);
    }
    return false;
}
