// htmlmail.js - show the HTML body of a decrypted message without letting it
// run code, leave the page, or phone home.
//
// The message is hostile input even after it decrypted: the sender holds
// the key. Layers, each enough on its own for scripts:
//
//   1. DOMPurify (HTML profile only: no SVG, no MathML) removes scripts,
//      event handlers, forms, frames, embeds, media, <base>, <meta>, <link>
//      and <style>; URL attributes are rewritten by our hooks: links become
//      absolute http(s)/mailto opening in a new tab with rel=noopener
//      noreferrer, images keep only cid: (as blob: URLs of the related
//      parts) and raster data: sources, and remote sources are dropped (or,
//      after the reader's click, kept as https:).
//   2. CSS is never parsed as markup: <style> text and style attributes are
//      parsed with the browser's CSSOM, every url()/image-set() that is not
//      a data:, cid: or (after the click) https: resource is removed, and
//      the result is applied to the frame through CSSOM (adopted style
//      sheets and element.style), which CSP does not govern. So the envelope
//      CSP keeps style-src hash-only and still shows styled mail.
//   3. The frame is <iframe sandbox="allow-same-origin allow-popups
//      allow-popups-to-escape-sandbox" srcdoc=...>: no allow-scripts, so
//      nothing in it runs; no allow-forms, no allow-top-navigation.
//      allow-same-origin lets this script (not the frame) style and measure
//      the frame; without scripts the frame cannot use it.
//   4. The srcdoc inherits the envelope's CSP and adds its own meta CSP:
//      before the click only data:/blob: images and data: fonts, after the
//      click also https: images, fonts and style sheets.

import createDOMPurify from 'dompurify';

const purify = createDOMPurify(window);

// Per-call state for the hooks (DOMPurify hooks are global to the instance).
let ctx = null;

const RASTER_DATA = /^data:image\/(?:png|jpeg|gif|webp|bmp|avif)(?:;[^,]*)?,/i;

/**
 * Classify a resource URL (image source, CSS url()): returns the URL to use,
 * or null to drop it. Counts remote resources it drops so the reader can be
 * offered "Show remote images".
 */
function resource(raw, { css = false } = {}) {
  const url = String(raw).trim();
  if (/^cid:/i.test(url)) return ctx.cid(url) || null;
  if (css ? /^data:/i.test(url) : RASTER_DATA.test(url)) return url;
  if (/^https?:\/\//i.test(url)) {
    if (!ctx.remote) {
      ctx.blocked++;
      return null;
    }
    // Remote content is loaded only over https (the CSP allows no http:).
    return url.replace(/^http:/i, 'https:');
  }
  return null;
}

// ---- CSS -------------------------------------------------------------------

const CSS_URL = /url\(\s*(?:"((?:[^"\\]|\\[\s\S])*)"|'((?:[^'\\]|\\[\s\S])*)'|([^)\s]*))\s*\)/gi;

function cssUnescape(s) {
  return s.replace(/\\(?:([0-9a-fA-F]{1,6})\s?|([\s\S]))/g, (m, hex, ch) =>
    hex ? String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff) || 0xfffd) : ch === '\n' ? '' : ch,
  );
}

const cssString = (s) => '"' + s.replace(/["\\\n\r\f]/g, (c) => '\\' + c.charCodeAt(0).toString(16) + ' ') + '"';

/** A declaration value with every url() checked; null if it must go. */
function cleanValue(value) {
  if (!/url\(|image-set\(|image\(|src\(|element\(/i.test(value)) return value;
  // Strings in image-set() are URLs too; keep image-set only where every
  // candidate is a url() we can check.
  if (/image-set\(/i.test(value) && /image-set\([^)]*["']/i.test(value.replace(CSS_URL, ''))) {
    if (!ctx.remote) ctx.blocked++;
    return null;
  }
  if (/(?:^|[^-\w])(?:image|src|element)\(/i.test(value)) return null;
  let bad = false;
  const out = value.replace(CSS_URL, (m, dq, sq, bare) => {
    const url = resource(cssUnescape(dq ?? sq ?? bare), { css: true });
    if (url === null) bad = true;
    return url === null ? m : `url(${cssString(url)})`;
  });
  return bad ? null : out;
}

/** Clean a CSSStyleDeclaration in place. */
function cleanDeclarations(style) {
  for (let i = style.length - 1; i >= 0; i--) {
    const name = style[i];
    // Old engines' scripting hooks; no current browser runs them, drop anyway.
    if (/^(?:behavior|-moz-binding)$/i.test(name)) {
      style.removeProperty(name);
      continue;
    }
    const value = style.getPropertyValue(name);
    const clean = cleanValue(value);
    if (clean === null) style.removeProperty(name);
    else if (clean !== value) style.setProperty(name, clean, style.getPropertyPriority(name));
  }
}

function cleanRules(rules) {
  for (const rule of Array.from(rules)) {
    if (rule.style) cleanDeclarations(rule.style);
    if (rule.cssRules) cleanRules(rule.cssRules);
  }
}

const scratch = document.createElement('div');

/** A style attribute's text, cleaned (through CSSOM, never as markup). */
function cleanInlineStyle(text) {
  scratch.style.cssText = text;
  cleanDeclarations(scratch.style);
  const out = scratch.style.cssText;
  scratch.style.cssText = '';
  return out;
}

/** A style sheet's text, cleaned: @import is dropped by replaceSync(). */
function cleanSheet(text) {
  if (typeof CSSStyleSheet !== 'function' || !('replaceSync' in CSSStyleSheet.prototype)) return '';
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(text);
    cleanRules(sheet.cssRules);
    return Array.from(sheet.cssRules, (r) => r.cssText).join('\n');
  } catch {
    return '';
  }
}

// ---- DOMPurify hooks -------------------------------------------------------

purify.addHook('uponSanitizeElement', (node, data) => {
  if (!ctx) return;
  if (data.tagName === 'style') {
    ctx.sheets.push(node.textContent || '');
  } else if (data.tagName === 'link') {
    const rel = (node.getAttribute('rel') || '').toLowerCase().split(/\s+/);
    const href = (node.getAttribute('href') || '').trim();
    if (rel.includes('stylesheet') && /^https?:\/\//i.test(href)) {
      if (ctx.remote) ctx.links.push(href.replace(/^http:/i, 'https:'));
      else ctx.blocked++;
    }
  }
});

purify.addHook('afterSanitizeAttributes', (node) => {
  if (!ctx || node.nodeType !== 1) return;
  const tag = node.nodeName.toLowerCase();

  if (node.hasAttribute('style')) {
    const css = cleanInlineStyle(node.getAttribute('style'));
    node.removeAttribute('style');
    if (css) node.setAttribute('data-sp-style', css);
  }

  if (tag === 'a' || tag === 'area') {
    const href = (node.getAttribute('href') || '').trim();
    node.removeAttribute('target');
    if (/^#[^\s]*$/.test(href)) {
      // in-message anchor: stays inside the frame
    } else if (/^(?:https?:\/\/|mailto:)/i.test(href)) {
      let ok = null;
      try {
        const u = new URL(href);
        if (['http:', 'https:', 'mailto:'].includes(u.protocol)) ok = u.href;
      } catch {
        // unparsable: dropped below
      }
      if (ok) {
        node.setAttribute('href', ok);
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      } else node.removeAttribute('href');
    } else {
      node.removeAttribute('href');
    }
  }

  for (const attr of ['src', 'background']) {
    if (!node.hasAttribute(attr)) continue;
    const url = resource(node.getAttribute(attr));
    if (url === null) node.removeAttribute(attr);
    else node.setAttribute(attr, url);
  }

  if (node.hasAttribute('srcset')) {
    const value = node.getAttribute('srcset');
    node.removeAttribute('srcset');
    const candidates = value.split(/,\s+/).map((c) => c.trim().split(/\s+/)[0]);
    const remote = candidates.filter((u) => /^https?:\/\//i.test(u));
    if (ctx.remote && remote.length && remote.length === candidates.length) {
      node.setAttribute('srcset', value.replace(/(^|,\s+)http:\/\//gi, '$1https://'));
    } else if (remote.length && !ctx.remote) {
      ctx.blocked++;
    }
  }

  if (tag === 'img') node.setAttribute('referrerpolicy', 'no-referrer');
});

const CONFIG = {
  WHOLE_DOCUMENT: true,
  RETURN_DOM: true,
  USE_PROFILES: { html: true },
  FORBID_TAGS: [
    'style', 'link', 'meta', 'base', 'title', 'form', 'input', 'button', 'select', 'option', 'optgroup',
    'textarea', 'datalist', 'output', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'portal',
    'video', 'audio', 'source', 'track', 'picture', 'noscript', 'template', 'dialog', 'slot', 'canvas',
  ],
  FORBID_ATTR: ['action', 'formaction', 'ping', 'poster', 'usemap', 'is', 'autofocus', 'popover', 'popovertarget'],
  ALLOW_DATA_ATTR: false,
  ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto|cid):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
};

// ---- the frame -------------------------------------------------------------

const FRAME_CSP_LOCAL = "default-src 'none'; img-src data: blob:; font-src data:; style-src 'none'";
const FRAME_CSP_REMOTE = "default-src 'none'; img-src data: blob: https:; font-src data: https:; style-src https:";

// Our base style for the message inside the frame; the message's own rules
// come after it and win.
const BASE_CSS = `
html{color-scheme:light;background:#fff}
body{margin:0;padding:16px 20px;font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;background:#fff;overflow-wrap:break-word}
img{max-width:100%;height:auto}
table{max-width:100%}
pre{white-space:pre-wrap}
a{color:#0b57d0}
blockquote{margin:0 0 0 .8em;padding-left:.8em;border-left:3px solid #d0d7de;color:#57606a}
@media print{body{padding:0}}
`;

const escAttr = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * Sanitise html. options: remote (load https: images/styles), cid(url) ->
 * blob: URL or null. Returns { srcdoc, sheets (clean CSS texts), blocked
 * (number of remote resources withheld) }.
 */
export function prepareHtml(html, { remote = false, cid = () => null } = {}) {
  ctx = { remote, blocked: 0, sheets: [], links: [], cid };
  try {
    const root = purify.sanitize(html, CONFIG);
    const body = root.querySelector('body') || root.ownerDocument.createElement('body');
    const sheets = ctx.sheets.map(cleanSheet).filter(Boolean);
    const links = ctx.links.map((href) => `<link rel="stylesheet" href="${escAttr(href)}">`).join('');
    const head =
      '<meta charset="utf-8">' +
      `<meta http-equiv="Content-Security-Policy" content="${remote ? FRAME_CSP_REMOTE : FRAME_CSP_LOCAL}">` +
      '<meta name="referrer" content="no-referrer">' +
      links;
    const srcdoc = `<!DOCTYPE html><html><head>${head}</head>${body.outerHTML}</html>`;
    return { srcdoc, sheets, blocked: ctx.blocked };
  } finally {
    ctx = null;
  }
}

/**
 * Style a loaded frame made from prepareHtml(): adopt the base and message
 * sheets, move data-sp-style attributes into element.style. All through
 * CSSOM, so CSP style-src does not apply and no CSS becomes markup.
 */
export function styleFrame(frame, sheets) {
  const win = frame.contentWindow;
  const doc = frame.contentDocument;
  if (!win || !doc) return;
  try {
    const adopted = [BASE_CSS, ...sheets].map((text) => {
      const s = new win.CSSStyleSheet();
      s.replaceSync(text);
      return s;
    });
    doc.adoptedStyleSheets = adopted;
  } catch {
    // An engine without constructable sheets shows the message unstyled.
  }
  for (const el of doc.querySelectorAll('[data-sp-style]')) {
    el.style.cssText = el.getAttribute('data-sp-style');
    el.removeAttribute('data-sp-style');
  }
}
