/*
 * keyclient_problem.c - a key server's answer other than 2xx (an RFC 9457
 * problem report, or whatever a proxy sent) turned into the SP_ERROR a user
 * reads. The words are the server's own (its detail, else its title), made
 * safe for a terminal: keyd gives both for every problem, and this client
 * keeps no texts of its own for keyd's problem types. When a server gives
 * neither (a proxy's bare 502), the HTTP status and the problem type say
 * what happened. The error class follows the status (keyclient.h).
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

/* The problem type for a message when the server gave no words: our name
 * for one of ours ("not-found"), another server's type as it gave it, or
 * NULL for none ("about:blank" is RFC 9457's "none"). */
static char *type_name(const char *type)
{
    if (type == NULL || type[0] == '\0' || strcmp(type, "about:blank") == 0)
        return NULL;
    return server_text(g_str_has_prefix(type, PROBLEM_PREFIX) ? type + strlen(PROBLEM_PREFIX)
                                                              : type);
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
    bool said = detail != NULL || title != NULL;
    if (strcmp(name, "message-locked") == 0) {
        g_string_append(msg, "this message was locked by the sender");
        if (reason != NULL && reason[0] != '\0') {
            g_autofree char *r = server_text(reason);
            g_string_append_printf(msg, ": %s", r);
        }
    } else {
        if (said) { /* keyd always gives them */
            g_autofree char *w = server_text(detail ? detail : title);
            g_string_append(msg, w);
        } else {
            g_autofree char *t = type_name(type);
            g_string_append_printf(msg, "HTTP status %ld", status);
            if (t != NULL)
                g_string_append_printf(msg, ", problem type %s", t);
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
        /* Without the server's words, msg names the status already. */
        g_autofree char *st = said ? g_strdup_printf("HTTP %ld: ", status) : g_strdup("");
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "the key server at %s cannot serve this now (%s%s): try again later", base, st,
                    msg->str);
    } else if (status == 401 || status == 403 || status == 404 || status == 410 || status == 423 ||
               status == 429) {
        g_set_error(err, SP_ERROR, SP_ERR_REFUSED, "the key server refused: %s", msg->str);
    } else {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "the key server found the request invalid: %s",
                    msg->str);
    }
    return false;
}
