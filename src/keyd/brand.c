/*
 * brand.c - logos for envelopes and carrier mails (see brand.h). An SVG
 * logo is shown inside every envelope of its organisation, so it is
 * rebuilt from what libxml2 parsed, keeping only shapes, text, gradients
 * and their presentation attributes: no script, no event handler, no
 * link or reference outside the document, no foreign content, no style
 * sheet, no entity.
 */
#include "brand.h"

#include "sp_error.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#define SVG_NS "http://www.w3.org/2000/svg"

static const char *const elements[] = {
    "svg",      "g",        "path",           "rect",           "circle", "ellipse", "line",
    "polyline", "polygon",  "text",           "tspan",          "title",  "desc",    "defs",
    "stop",     "clipPath", "linearGradient", "radialGradient", NULL,
};

static const char *const attributes[] = {
    "id",
    "d",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "fx",
    "fy",
    "width",
    "height",
    "viewBox",
    "preserveAspectRatio",
    "points",
    "transform",
    "fill",
    "fill-opacity",
    "fill-rule",
    "stroke",
    "stroke-width",
    "stroke-opacity",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-dasharray",
    "stroke-dashoffset",
    "opacity",
    "offset",
    "stop-color",
    "stop-opacity",
    "gradientUnits",
    "gradientTransform",
    "spreadMethod",
    "clip-path",
    "clip-rule",
    "clipPathUnits",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "dominant-baseline",
    "letter-spacing",
    "version",
    NULL,
};

bool brand_color_ok(const char *c)
{
    if (!c || strlen(c) != 7 || c[0] != '#')
        return false;
    for (int i = 1; i < 7; i++)
        if (!g_ascii_isxdigit(c[i]))
            return false;
    return true;
}

/* A value that may stay: no reference but to this document ("url(#id)"),
 * no scheme, no markup characters. */
static bool value_ok(const char *v)
{
    if (strlen(v) > 20000 || strpbrk(v, "<>\\"))
        return false;
    g_autofree char *low = g_ascii_strdown(v, -1);
    if (strstr(low, "javascript:") || strstr(low, "data:") || strstr(low, "expression("))
        return false;
    for (const char *u = strstr(low, "url("); u; u = strstr(u + 4, "url(")) {
        const char *p = u + 4;
        while (*p == ' ')
            p++;
        if (*p != '#')
            return false;
        for (p++; *p && *p != ')'; p++)
            if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
                return false;
        if (*p != ')')
            return false;
    }
    return true;
}

static bool in_svg_ns(const xmlNode *n)
{
    return !n->ns || (n->ns->href && strcmp((const char *)n->ns->href, SVG_NS) == 0);
}

static bool holds_text(const char *name)
{
    return !strcmp(name, "text") || !strcmp(name, "tspan") || !strcmp(name, "title") ||
           !strcmp(name, "desc");
}

/* Copy what is allowed of in (an element) under out. */
static void copy_clean(const xmlNode *in, xmlNode *out, int depth)
{
    for (const xmlAttr *a = in->properties; a; a = a->next) {
        const char *name = (const char *)a->name;
        if (a->ns || !g_strv_contains(attributes, name))
            continue; /* on*, href, xlink:href, style, class, ... */
        xmlChar *v = xmlNodeListGetString(in->doc, a->children, 1);
        if (v && value_ok((const char *)v))
            xmlNewProp(out, a->name, v);
        xmlFree(v);
    }
    for (const xmlNode *c = in->children; c && depth < 64; c = c->next) {
        if (c->type == XML_TEXT_NODE && holds_text((const char *)in->name)) {
            xmlAddChild(out, xmlNewText(c->content));
        } else if (c->type == XML_ELEMENT_NODE && in_svg_ns(c) &&
                   g_strv_contains(elements, (const char *)c->name) &&
                   strcmp((const char *)c->name, "svg") != 0) {
            xmlNode *n = xmlNewChild(out, NULL, c->name, NULL);
            copy_clean(c, n, depth + 1);
        }
    }
}

static bool svg_clean(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len, GError **err)
{
    /* No network, no entity substitution, no DTD loading. */
    xmlDoc *doc = xmlReadMemory((const char *)data, (int)len, "logo.svg", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    const char *why = !doc                               ? "it is not well-formed XML"
                      : doc->intSubset || doc->extSubset ? "it declares a DTD"
                                                         : NULL;
    xmlNode *root = doc && !why ? xmlDocGetRootElement(doc) : NULL;
    if (!why && (!root || strcmp((const char *)root->name, "svg") != 0 || !in_svg_ns(root)))
        why = "its root element is not <svg>";
    if (why) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "the SVG logo is refused: %s", why);
        xmlFreeDoc(doc);
        return false;
    }
    xmlDoc *clean = xmlNewDoc((const xmlChar *)"1.0");
    xmlNode *svg = xmlNewNode(NULL, (const xmlChar *)"svg");
    xmlDocSetRootElement(clean, svg);
    xmlSetNs(svg, xmlNewNs(svg, (const xmlChar *)SVG_NS, NULL));
    copy_clean(root, svg, 0);
    xmlChar *mem = NULL;
    int n = 0;
    xmlDocDumpMemoryEnc(clean, &mem, &n, "UTF-8");
    *out = g_memdup2(mem, (gsize)n);
    *out_len = (size_t)n;
    xmlFree(mem);
    xmlFreeDoc(clean);
    xmlFreeDoc(doc);
    return true;
}

bool brand_logo_check(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len,
                      const char **type, GError **err)
{
    if (len == 0 || len > BRAND_LOGO_MAX) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "the logo is %zu bytes; it must be 1 to %d bytes (256 KiB)", len,
                    BRAND_LOGO_MAX);
        return false;
    }
    if (len > 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) {
        *type = "image/png";
    } else if (len > 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) {
        *type = "image/jpeg";
    } else {
        *type = "image/svg+xml";
        return svg_clean(data, len, out, out_len, err);
    }
    *out = g_memdup2(data, len);
    *out_len = len;
    return true;
}
