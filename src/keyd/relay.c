/*
 * relay.c - the relay mail and its delivery to a reply route (relay.h).
 */
#include "relay.h"

#include "mailer.h"

#include "sp_error.h"

#include <curl/curl.h>
#include <gmime/gmime.h>
#include <string.h>

static GMimePart *part_of(const char *type, const char *subtype, const uint8_t *data, size_t len)
{
    GMimePart *p = g_mime_part_new_with_type(type, subtype);
    GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)data, len);
    GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(p, w);
    g_object_unref(w);
    g_object_unref(s);
    g_mime_part_set_content_encoding(
        p, g_mime_part_get_best_content_encoding(p, GMIME_ENCODING_CONSTRAINT_7BIT));
    return p;
}

GByteArray *relay_mail(const char *mail_from, const char *answer_id, const uint8_t *sealed,
                       size_t sealed_len, const char *attestation_json)
{
    GMimeMessage *m = g_mime_message_new(TRUE);
    g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, NULL, mail_from);
    g_mime_message_set_subject(m, "Sealed answer", NULL);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_mime_message_set_date(m, now);
    const char *at = strchr(mail_from, '@');
    g_autofree char *mid = g_mime_utils_generate_message_id(at ? at + 1 : "localhost");
    g_mime_message_set_message_id(m, mid);
    g_mime_object_set_header(GMIME_OBJECT(m), "X-Sealpost-Answer", answer_id, NULL);
    GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");
    static const char note[] =
        "This message carries a sealed answer to a secure message, relayed by the sealpost key\n"
        "server. Only the organisation's sealpost gateway can open it.\n";
    GMimePart *text = part_of("text", "plain", (const uint8_t *)note, sizeof note - 1);
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(text), "charset", "us-ascii");
    GMimePart *ans = part_of("application", "vnd.sealpost.answer", sealed, sealed_len);
    g_mime_part_set_filename(ans, "answer.html");
    GMimePart *att = part_of("application", "vnd.sealpost.attestation+json",
                             (const uint8_t *)attestation_json, strlen(attestation_json));
    g_mime_multipart_add(mp, GMIME_OBJECT(text));
    g_mime_multipart_add(mp, GMIME_OBJECT(ans));
    g_mime_multipart_add(mp, GMIME_OBJECT(att));
    g_mime_message_set_mime_part(m, GMIME_OBJECT(mp));
    g_object_unref(text);
    g_object_unref(ans);
    g_object_unref(att);
    g_object_unref(mp);
    GMimeStream *out = g_mime_stream_mem_new();
    GMimeFormatOptions *fo = g_mime_format_options_clone(NULL);
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    g_mime_object_write_to_stream(GMIME_OBJECT(m), fo, out);
    g_mime_format_options_free(fo);
    GByteArray *b = g_byte_array_new();
    GByteArray *mem = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    g_byte_array_append(b, mem->data, mem->len);
    g_object_unref(out);
    g_object_unref(m);
    return b;
}

bool relay_send(const store_reply_route *route, const char *ca_file, long timeout_s,
                const char *mail_from, GPtrArray *rcpts, const GByteArray *msg, GError **err)
{
    char errbuf[CURL_ERROR_SIZE];
    g_autofree char *url = g_strdup_printf("smtp://%s:%" G_GINT64_FORMAT, route->host, route->port);
    bool none = strcmp(route->tls, "none") == 0, verify = strcmp(route->tls, "verify") == 0;
    /* Every recipient must be accepted, or nothing is sent (libcurl's default). */
    ks_smtp t = {url, none ? CURLUSESSL_NONE : CURLUSESSL_ALL, verify, ca_file, timeout_s, NULL,
                 NULL};
    int rc =
        ks_smtp_send(&t, mail_from, (const char *const *)rcpts->pdata, rcpts->len, msg, errbuf);
    if (rc == CURLE_OK)
        return true;
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_USE_SSL_FAILED)
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "the reply route %s:%" G_GINT64_FORMAT
                    " does not offer STARTTLS, and its TLS setting is %s: nothing was sent",
                    route->host, route->port, route->tls);
    else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "the reply route %s:%" G_GINT64_FORMAT
                    "'s certificate did not verify (%s): nothing was sent",
                    route->host, route->port, why);
    else
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "the reply route %s:%" G_GINT64_FORMAT " did not accept the answer: %s",
                    route->host, route->port, why);
    return false;
}
