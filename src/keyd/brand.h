/*
 * brand.h - checking an organisation's logo before it is stored and put
 * on every envelope and carrier mail of that organisation.
 */
#ifndef KS_BRAND_H
#define KS_BRAND_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define BRAND_LOGO_MAX (256 * 1024)

/* A PNG or JPEG (recognised by its signature) as it is, or an SVG parsed
 * and rebuilt from a whitelist of drawing elements and attributes
 * (scripts, event handlers, external references, foreign content and
 * DTDs are dropped or refused). *out (g_free) holds what to store, *type
 * its media type. Anything else, or more than BRAND_LOGO_MAX bytes, is
 * refused with a reason (SP_ERR_INPUT). */
bool brand_logo_check(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len,
                      const char **type, GError **err);

/* "#rrggbb" */
bool brand_color_ok(const char *c);

#endif
