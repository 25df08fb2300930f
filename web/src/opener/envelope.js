// envelope.js - read and open a sealpost envelope v1 from inside the page.
//
// Implements docs/envelope-format.md for a browser opener that works on the
// DOM (§4): the blocks are the first script elements with the three ids, the
// header bytes are the UTF-8 encoding of the header element's textContent.
// The header is validated (§5) before anything is shown as a fact, the key
// check (§7.3) tells a wrong password from tampering, and the payload is
// opened segment by segment (§8) with WebCrypto AES-GCM. No plaintext leaves
// openPayload() before the last segment has verified.
//
// The header's `reply` member (revision 1.2, §5.5) is checked here too:
// its kid against its key (checkReply, before decryption), so that a view
// offers answers only with a key the sealer wrote and the payload then
// authenticated (§12.1).
//
// Errors are EnvelopeError with one of the classes of §10 in `kind`
// ('not-envelope', 'malformed', 'version', 'expired', 'wrong-key',
// 'tampered', 'truncated'), 'browser' when the browser lacks WebCrypto or
// WebAssembly, or 'kdf' when Argon2id could not run (memory).

import { argon2id } from 'hash-wasm';
import { REPLY_SUITE, TAG_LEN, fromBase64url, keyCheckOf, nonceFor, replyKeyId, sameBytes, utf8 } from './primitives.js';

const HEADER_MAX = 65536;
const DISPLAY_MAX = 1048576;
const SEGMENT_MIN = 64;
const SEGMENT_MAX = 16 * 1024 * 1024;

export class EnvelopeError extends Error {
  constructor(kind, detail) {
    super(`${kind}: ${detail}`);
    this.kind = kind;
    this.detail = detail;
  }
}

const fail = (kind, detail) => {
  throw new EnvelopeError(kind, detail);
};

// ---- locating the blocks (§4, browser form) --------------------------------

/**
 * Find the blocks in `doc`. Returns { headerText, displayText (or null),
 * payloadEl }. Two header or display blocks before the payload are
 * malformed; no header before the payload is not an envelope.
 */
export function findBlocks(doc) {
  const payloadEl = doc.querySelector('script#sealpost-payload');
  const before = (el) => !!(el.compareDocumentPosition(payloadEl) & Node.DOCUMENT_POSITION_FOLLOWING);
  const pick = (id) => {
    const els = [...doc.querySelectorAll(`script#${id}`)].filter(before);
    if (els.length > 1) fail('malformed', `two ${id} blocks`);
    return els[0] || null;
  };
  if (!payloadEl) fail('not-envelope', 'no payload block');
  const header = pick('sealpost-header');
  if (!header) fail('not-envelope', 'no header block before the payload');
  const display = pick('sealpost-display');
  return { headerText: header.textContent, displayText: display ? display.textContent : null, payloadEl };
}

// ---- JSON strictness (§2.2, §5, §12.8) -------------------------------------

/**
 * Walk valid JSON text; throw on a member name that occurs twice in one
 * object (JSON.parse keeps the last one silently). Returns the set of
 * dotted member paths whose value is a number written with a fraction or an
 * exponent, so integer fields can refuse "8192.0" as the spec asks.
 */
function scanJson(text) {
  const strRe = /"(?:[^"\\]|\\.)*"/y;
  const numRe = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
  const litRe = /true|false|null/y;
  const inexact = new Set();
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = () => {
    strRe.lastIndex = i;
    const m = strRe.exec(text);
    i = strRe.lastIndex;
    return JSON.parse(m[0]);
  };
  const value = (path) => {
    ws();
    const c = text[i];
    if (c === '{') {
      const names = new Set();
      for (i++, ws(); text[i] !== '}'; ws(), text[i] === ',' && i++) {
        ws();
        const name = string();
        if (names.has(name)) fail('malformed', `member "${name}" occurs twice`);
        names.add(name);
        ws();
        i++; // ':'
        value(path ? `${path}.${name}` : name);
      }
      i++;
    } else if (c === '[') {
      for (i++, ws(); text[i] !== ']'; ws(), text[i] === ',' && i++) value(`${path}[]`);
      i++;
    } else if (c === '"') {
      string();
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      numRe.lastIndex = i;
      const m = numRe.exec(text);
      if (m[1] || m[2]) inexact.add(path);
      i = numRe.lastIndex;
    } else {
      litRe.lastIndex = i;
      litRe.exec(text);
      i = litRe.lastIndex;
    }
  };
  value('');
  return inexact;
}

function parseJsonObject(text, what, max) {
  if (utf8.encode(text).length > max) fail('malformed', `${what} is larger than ${max} bytes`);
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    fail('malformed', `${what} is not JSON (${e.message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('malformed', `${what} is not an object`);
  return { value: v, inexact: scanJson(text) };
}

// ---- the header (§5) -------------------------------------------------------

/** Unpadded, canonical base64url of exactly len bytes (§2.1). */
function b64url(text, len, field) {
  const bytes = fromBase64url(text, len);
  if (!bytes) fail('malformed', `${field} is not the canonical base64url of ${len} bytes`);
  return bytes;
}

const RFC3339 = /^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/;

function time(value, field) {
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value.toUpperCase())))
    fail('malformed', `${field} is not an RFC 3339 time`);
  return new Date(value.toUpperCase());
}

/**
 * Parse and check the header text (§5). Returns { bytes, header } where
 * header is the parsed object with decoded fields added under `$`:
 * $.created, $.expires (Date or null), $.salt, $.prefix, $.keyCheck, $.reply
 * (see parseReply; null without one). The reply's kid is checked against
 * its key by checkReply (asynchronous: SHA-256).
 */
export function parseHeader(text) {
  const bytes = utf8.encode(text);
  const { value: h, inexact } = parseJsonObject(text, 'the header', HEADER_MAX);
  if (h.v !== 1 || inexact.has('v')) fail('version', `format version ${JSON.stringify(h.v)}`);
  const int = (v, path) => Number.isInteger(v) && !inexact.has(path);
  const obj = (v, field) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('malformed', `${field} is missing`);
    return v;
  };
  const $ = {};
  b64url(h.id, 16, 'id');
  $.created = time(h.created, 'created');

  const ka = obj(h.keyAccess, 'keyAccess');
  if (ka.type === 'password') {
    if (ka.kdf !== 'argon2id') fail('version', `key derivation ${JSON.stringify(ka.kdf)}`);
    for (const f of ['m', 't', 'p'])
      if (!int(ka[f], `keyAccess.${f}`) || ka[f] <= 0) fail('malformed', `keyAccess.${f} is not a positive integer`);
    if (ka.p !== 1) fail('version', `Argon2id with ${ka.p} lanes`);
    if (ka.m < 8192 || ka.m > 1048576) fail('malformed', `Argon2id memory ${ka.m} KiB is out of bounds`);
    if (ka.t > 16) fail('malformed', `Argon2id passes ${ka.t} is out of bounds`);
    $.salt = b64url(ka.salt, 16, 'keyAccess.salt');
    if ('hint' in ka && typeof ka.hint !== 'string') fail('malformed', 'keyAccess.hint is not a string');
  } else if (ka.type === 'keyserver') {
    if (typeof ka.url !== 'string' || !/^https?:\/\//.test(ka.url)) fail('malformed', 'keyAccess.url');
    if (typeof ka.org !== 'string' || typeof ka.kid !== 'string') fail('malformed', 'keyAccess.org or kid');
  } else {
    fail('version', `key access ${JSON.stringify(ka.type)}`);
  }

  const m = obj(h.method, 'method');
  if (m.algorithm !== 'AES-256-GCM') fail('version', `algorithm ${JSON.stringify(m.algorithm)}`);
  if (!int(m.segmentSize, 'method.segmentSize') || m.segmentSize < SEGMENT_MIN || m.segmentSize > SEGMENT_MAX)
    fail('malformed', 'method.segmentSize is out of bounds');
  $.prefix = b64url(m.noncePrefix, 7, 'method.noncePrefix');
  $.keyCheck = b64url(m.keyCheck, 16, 'method.keyCheck');

  const p = obj(h.policy, 'policy');
  if (typeof p.from !== 'string') fail('malformed', 'policy.from');
  if (!Array.isArray(p.to) || !p.to.every((x) => typeof x === 'string')) fail('malformed', 'policy.to');
  if (!['high', 'medium', 'low'].includes(p.security)) fail('malformed', 'policy.security');
  if (!('expires' in p)) fail('malformed', 'policy.expires is missing');
  $.expires = p.expires === null ? null : time(p.expires, 'policy.expires');
  $.reply = 'reply' in h ? parseReply(h.reply, ka.type, obj) : null;

  h.$ = $;
  return { bytes, header: h };
}

/** The reply member (§5.5) as { kid, publicKey (65 bytes), allow: { reply,
 * replyAll, forward } }, or null for a suite this opener does not know. */
function parseReply(r, access, obj) {
  if (access !== 'keyserver') fail('malformed', 'reply is only for key-server envelopes');
  obj(r, 'reply');
  if (typeof r.suite !== 'string') fail('malformed', 'reply.suite is not a string');
  if (r.suite !== REPLY_SUITE) return null; // a later suite: no answers offered
  const publicKey = b64url(r.publicKey, 65, 'reply.publicKey');
  if (publicKey[0] !== 4) fail('malformed', 'reply.publicKey is not an uncompressed point');
  b64url(r.kid, 16, 'reply.kid');
  const a = obj(r.allow, 'reply.allow');
  for (const k of ['reply', 'replyAll', 'forward'])
    if (typeof a[k] !== 'boolean') fail('malformed', `reply.allow.${k} is not a boolean`);
  return { kid: r.kid, publicKey, allow: { reply: a.reply, replyAll: a.replyAll, forward: a.forward } };
}

/** Throw 'malformed' unless the reply member's kid is its key's (§5.5). */
export async function checkReply(header) {
  const r = header.$.reply;
  if (r && (await replyKeyId(r.publicKey)) !== r.kid) fail('malformed', 'reply.kid is not its public key\'s');
}

/**
 * The display block (§6) as { brandName, brandColor, brandLogo, sender,
 * subject, phrase }, each a string or absent. It is unauthenticated: a block
 * that is not an object is ignored (§6 allows this), members of the wrong
 * type are dropped, the colour must be #rrggbb and the logo a raster data:
 * image. The caller shows these with textContent only.
 */
export function parseDisplay(text) {
  const out = {};
  if (text == null) return out;
  let d;
  try {
    // A writer may break the block's lines anywhere, inside strings too
    // (§6): JSON has no raw line ends inside a string, so dropping them all
    // gives the text back.
    d = parseJsonObject(text.replace(/[\r\n]/g, ''), 'the display block', DISPLAY_MAX).value;
  } catch {
    return out;
  }
  const str = (v) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 500) : undefined);
  const b = d.brand && typeof d.brand === 'object' && !Array.isArray(d.brand) ? d.brand : {};
  out.brandName = str(b.name);
  if (typeof b.color === 'string' && /^#[0-9a-fA-F]{6}$/.test(b.color)) out.brandColor = b.color;
  // Only ever an <img> source: an SVG there runs no script and loads nothing
  // (browsers draw SVG images in secure static mode), whoever edited it.
  if (typeof b.logo === 'string' && /^data:image\/(?:png|jpeg|gif|webp|svg\+xml)(?:;[^,]*)?,/i.test(b.logo)) {
    out.brandLogo = b.logo;
  }
  out.sender = str(d.sender);
  out.subject = str(d.subject);
  out.phrase = str(d.phrase);
  return out;
}

/** Throw 'expired' if policy.expires is set and not in the future (§10). */
export function checkExpiry(header, now = new Date()) {
  const exp = header.$.expires;
  if (exp && now.getTime() >= exp.getTime()) {
    const e = new EnvelopeError('expired', `expired at ${exp.toISOString()}`);
    e.expires = exp;
    throw e;
  }
}

/** Throw 'browser' unless WebCrypto (a secure context) and WebAssembly are here. */
export function checkBrowser() {
  if (!globalThis.crypto || !crypto.subtle) fail('browser', 'crypto.subtle is not available');
  if (typeof WebAssembly !== 'object') fail('browser', 'WebAssembly is not available');
}

// ---- keys (§7) -------------------------------------------------------------

/** K = Argon2id(password as UTF-8, header salt, m KiB, t passes, 1 lane). */
export async function deriveKey(password, header) {
  const ka = header.keyAccess;
  try {
    return await argon2id({
      password: utf8.encode(password),
      salt: header.$.salt,
      parallelism: ka.p,
      iterations: ka.t,
      memorySize: ka.m,
      hashLength: 32,
      outputType: 'binary',
    });
  } catch (e) {
    // hash-wasm fails this way when the browser refuses to compile
    // WebAssembly or cannot give it the memory the header asks for.
    const err = new EnvelopeError('kdf', `Argon2id failed: ${e && e.message}`);
    err.memory = ka.m * 1024;
    throw err;
  }
}

/** Throw 'wrong-key' unless the key check of key matches the header (§7.3);
 * the comparison does not stop at the first differing byte. */
export async function verifyKey(key, header) {
  if (!sameBytes(await keyCheckOf(key), header.$.keyCheck)) fail('wrong-key', 'the key check does not match');
}

// ---- the payload (§8, §9) --------------------------------------------------

/** The payload text as bytes: standard base64, SP HT CR LF ignored, anything
 * else outside the alphabet (or misplaced padding) is tampering. */
export function decodePayload(text) {
  const compact = text.replace(/[ \t\r\n]+/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact))
    fail('tampered', 'the payload is not valid base64');
  const pad = compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((compact.length / 4) * 3 - pad);
  const step = 4 * 65536;
  let o = 0;
  for (let i = 0; i < compact.length; i += step) {
    const bin = atob(compact.slice(i, i + step));
    for (let j = 0; j < bin.length; j++) out[o++] = bin.charCodeAt(j);
  }
  return out;
}

/**
 * Open the payload with key (already verified). headerBytes are the exact
 * header bytes (AAD = their SHA-256). onProgress(doneBytes, totalBytes) is
 * called after each segment. Returns the message bytes, only once every
 * segment, the last one included, has verified.
 */
export async function openPayload(key, headerBytes, header, payload, onProgress) {
  if (payload.length === 0) fail('truncated', 'the payload is empty');
  const aad = new Uint8Array(await crypto.subtle.digest('SHA-256', headerBytes));
  const k = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['decrypt']);
  const segIn = header.method.segmentSize + TAG_LEN;
  const count = Math.ceil(payload.length / segIn);
  if (count > 2 ** 32) fail('malformed', 'more than 2^32 segments');
  const lastLen = payload.length - (count - 1) * segIn;
  if (lastLen < TAG_LEN) fail('truncated', 'the payload ends inside the last segment tag');
  const out = new Uint8Array(payload.length - count * TAG_LEN);
  const open = (nonce, chunk) =>
    crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 }, k, chunk);
  const prefix = header.$.prefix;
  let written = 0;
  for (let i = 0; i < count; i++) {
    const chunk = payload.subarray(i * segIn, Math.min((i + 1) * segIn, payload.length));
    const last = i === count - 1;
    let plain;
    try {
      plain = new Uint8Array(await open(nonceFor(prefix, i, last), chunk));
    } catch {
      if (last) {
        let asMiddle = false;
        try {
          await open(nonceFor(prefix, i, false), chunk);
          asMiddle = true;
        } catch {
          // not a middle segment either: plain tampering
        }
        if (asMiddle) fail('truncated', `segment ${i} is not the last one`);
      }
      fail('tampered', `segment ${i} failed authentication`);
    }
    out.set(plain, written);
    written += plain.length;
    if (onProgress) onProgress(written, out.length);
  }
  return out;
}
