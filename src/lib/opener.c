/*
 * opener.c - the static page an envelope shows: what it is and how to open
 * it. The style is allowed by its SHA-256 in the CSP, computed here so the
 * two can never drift apart.
 */
#include "opener.h"

#include "crypto.h"

#include <glib.h>
#include <string.h>

static const char style[] =
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}"
    "main{max-width:36rem;margin:3rem auto;padding:1.5rem 2rem;background:#fff;"
    "border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}"
    "h1{font-size:1.4rem;margin-top:0}code{background:#eef0f3;padding:0 .25rem}"
    "@media (prefers-color-scheme:dark){body{background:#15181e;color:#e6e8ec}"
    "main{background:#1f232b}code{background:#2b303a}}";

static const char body[] =
    "<main id=\"sealpost-outside\">\n"
    "<h1>Secure message</h1>\n"
    "<p>This file is an encrypted message (sealpost envelope, format v1). Its contents "
    "stay unreadable until you open it with the password or account the sender gave "
    "you.</p>\n"
    "<p>To open it on a computer with sealpost installed, run<br>"
    "<code>sealpost open --password-file PASSWORD.txt securemessage.html</code></p>\n"
    "</main>\n";

char *sp_opener_head(void)
{
    uint8_t digest[SP_SHA256_LEN];
    sp_crypto_sha256(style, strlen(style), digest);
    g_autofree char *hash = g_base64_encode(digest, sizeof digest);
    return g_strdup_printf(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'sha256-%s'; img-src data: blob:; base-uri 'none'; form-action 'none'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"generator\" content=\"sealpost\">\n"
        "<title>Secure message</title>\n<style>%s</style>\n</head>\n<body>\n%s",
        hash, style, body);
}

char *sp_opener_foot(void)
{
    return g_strdup("</body>\n</html>\n");
}
