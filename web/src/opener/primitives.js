// primitives.js - the pieces of envelope format v1 (docs/envelope-format.md)
// that opening an envelope (envelope.js) and sealing an answer
// (answer-seal.js) share: base64 and base64url (§2, §2.1), the STREAM nonce
// (§8), the key check (§7.3) and a comparison that does not stop early.
//
// No DOM: runs in browsers and in Node 18+ (globalThis.crypto.subtle, atob,
// btoa, TextEncoder).

export const TAG_LEN = 16;
export const KEY_CHECK_INFO = 'sealpost v1 key check';
/** The one HPKE suite of revision 1.2 (§5.5, §5.2). */
export const REPLY_SUITE = 'DHKEM(P-256,HKDF-SHA256),HKDF-SHA256,AES-256-GCM';

export const utf8 = new TextEncoder();

/** Standard base64 text (no white space) as bytes. */
export function fromBase64(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Bytes as standard base64 with padding (for short values: keys, ids). */
export function toBase64(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Bytes as unpadded base64url (§2.1). */
export const toBase64url = (bytes) => toBase64(bytes).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/**
 * The bytes of text if it is the unpadded, canonical base64url of exactly
 * len bytes (§2.1: ⌈4n/3⌉ characters of the alphabet, unused bits zero),
 * else null.
 */
export function fromBase64url(text, len) {
  if (typeof text !== 'string' || text.length !== Math.ceil((len * 4) / 3) || !/^[A-Za-z0-9_-]*$/.test(text)) return null;
  let std = text.replace(/-/g, '+').replace(/_/g, '/');
  while (std.length % 4) std += '=';
  const bytes = fromBase64(std);
  return bytes.length === len && toBase64url(bytes) === text ? bytes : null;
}

/**
 * Base64 (§9; RFC 2045 §6.8) written straight into a buffer made large
 * enough beforehand (Base64Writer.size), in lines of lineLength characters
 * (a multiple of 4) each followed by eol (bytes), the last line's too when
 * lastEol. push() bytes as they come; end() writes the padded last group.
 * No string as large as the data is ever made.
 */
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export class Base64Writer {
  /** The bytes written for n bytes of data. */
  static size(n, lineLength, eol, lastEol) {
    const chars = 4 * Math.ceil(n / 3);
    const lines = Math.ceil(chars / lineLength);
    return chars + (lastEol ? lines : Math.max(0, lines - 1)) * eol.length;
  }

  constructor(out, at, lineLength, eol, lastEol) {
    Object.assign(this, { out, at, lineLength, eol, lastEol, col: 0, carry: [], alphabet: utf8.encode(BASE64) });
  }

  quad(a, b, c) {
    const A = this.alphabet;
    const o = this.out;
    if (this.col === this.lineLength) {
      o.set(this.eol, this.at);
      this.at += this.eol.length;
      this.col = 0;
    }
    o[this.at++] = A[a >> 2];
    o[this.at++] = A[((a & 3) << 4) | (b >> 4)];
    o[this.at++] = A[((b & 15) << 2) | (c >> 6)];
    o[this.at++] = A[c & 63];
    this.col += 4;
  }

  push(bytes) {
    let i = 0;
    while (this.carry.length && this.carry.length < 3 && i < bytes.length) this.carry.push(bytes[i++]);
    if (this.carry.length === 3) {
      this.quad(...this.carry);
      this.carry = [];
    }
    if (this.carry.length) return;
    const whole = i + Math.floor((bytes.length - i) / 3) * 3;
    for (; i < whole; i += 3) this.quad(bytes[i], bytes[i + 1], bytes[i + 2]);
    while (i < bytes.length) this.carry.push(bytes[i++]);
  }

  /** Write the last group (with = padding) and, when asked, the last line
   * end; returns the position after it. */
  end() {
    const n = this.carry.length;
    if (n) {
      const [a, b = 0] = this.carry;
      this.quad(a, b, 0);
      this.out[this.at - 1] = 61; // '='
      if (n === 1) this.out[this.at - 2] = 61;
    }
    if (this.lastEol && this.col) {
      this.out.set(this.eol, this.at);
      this.at += this.eol.length;
    }
    this.col = 0;
    return this.at;
  }
}

/** The 12-byte nonce of segment i (§8): prefix (7) || i (4, big-endian) || last flag (1). */
export function nonceFor(prefix, i, last) {
  const n = new Uint8Array(12);
  n.set(prefix, 0);
  new DataView(n.buffer).setUint32(7, i, false);
  n[11] = last ? 1 : 0;
  return n;
}

/** The key check of K (§7.3): HKDF-SHA256(K, empty salt, KEY_CHECK_INFO, 16 bytes). */
export async function keyCheckOf(key) {
  const ikm = await crypto.subtle.importKey('raw', key, 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8.encode(KEY_CHECK_INFO) },
    ikm,
    128,
  );
  return new Uint8Array(bits);
}

/** Whether a and b hold the same bytes; looks at every byte whatever it finds. */
export function sameBytes(a, b) {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** The kid of a reply public key (§5.5): base64url of the first 16 bytes of its SHA-256. */
export async function replyKeyId(publicKey) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', publicKey));
  return toBase64url(digest.subarray(0, 16));
}
