// main.js - the envelope opener: runs inside every sealpost HTML envelope,
// after the header, display and payload blocks (docs/envelope-format.md).
//
// Outside: the brand, sender, date, subject and security phrase from the
// (unauthenticated) display block and the header, shown with textContent
// only. Password envelopes: Argon2id (hash-wasm) -> key check -> AES-GCM
// segment by segment (WebCrypto) -> postal-mime -> message view, with no
// network request at all (the envelope's CSP has connect-src 'none').
// Key-server envelopes: the account flow of ksflow.js fetches the key from
// the key server named in the header, the only origin the envelope's CSP
// lets it connect to. See view.js.

import { h } from './dom.js';
import { readEnvelope, showEnvelope } from './view.js';

/**
 * Whether this document's own CSP (the meta element the envelope carries)
 * lets it fetch from origin. A copy of an envelope rewrapped in another
 * page (connect-src 'none') must not try, and can say so plainly instead.
 */
function cspAllows(origin) {
  const meta = document.querySelector('meta[http-equiv="Content-Security-Policy" i]');
  if (!meta) return true;
  const directives = new Map();
  for (const part of meta.getAttribute('content').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), sources);
  }
  const list = directives.get('connect-src') || directives.get('default-src');
  if (!list) return true;
  const want = origin.toLowerCase();
  return list.some((s) => {
    const v = s.toLowerCase();
    if (v === '*') return true;
    if (/^[a-z][a-z0-9+.-]*:$/.test(v)) return want.startsWith(v);
    try {
      return new URL(v).origin === want;
    } catch {
      return false;
    }
  });
}

// The style of everything after the outside (opener-app.css, built in by
// web/build.mjs): added first, allowed by its hash in the page's CSP.
/* global __SP_APP_CSS__ */
document.head.append(h('style', {}, __SP_APP_CSS__));

const app = document.getElementById('sealpost-outside') || document.body.appendChild(h('div', { id: 'sealpost-outside' }));
showEnvelope(app, readEnvelope(document), { place: 'envelope', canConnect: cspAllows });
