// answer-seal.js - seal a recipient's answer (reply, reply-all, forward or a
// new message) for the organisation that sent an envelope: a sealed answer
// of envelope format v1, revision 1.2 (docs/envelope-format.md §5.2 HPKE
// access, §5.6), which only the organisation's gateway opens.
//
// A fresh message key K, id and nonce prefix; K is wrapped with HPKE
// (RFC 9180 base mode, @hpke/core) for the organisation's reply key taken
// from the envelope's authenticated header (§5.5, §12.1); the message is
// encrypted segment by segment (STREAM, §8) straight into the file's base64
// lines (§9), so sealing holds the message, the finished file and one
// segment, never more copies. The file is a bare page around the header and
// payload blocks (§3, §5.6: no opener, no display block), ASCII in lines of
// at most 998 octets.
//
// Pure: no DOM. Runs in browsers and in Node 18+ (globalThis.crypto.subtle).

import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from '@hpke/core';
import {
  Base64Writer, REPLY_SUITE, TAG_LEN, fromBase64url, keyCheckOf, nonceFor, replyKeyId, toBase64url, utf8,
} from './primitives.js';

export const ANSWER_INFO = 'sealpost answer v1';
export const ACTIONS = ['reply', 'replyAll', 'forward', 'compose'];
const SEGMENT_MIN = 64;
const SEGMENT_MAX = 16 * 1024 * 1024;
// The reference writer's header lines (src/lib/util.h SP_JSON_LINE_SOFT):
// a line ends after a "," between tokens once it holds this many octets.
const JSON_LINE_SOFT = 600;

const HEAD =
  '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
  '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; base-uri \'none\'; form-action \'none\'">\n' +
  '<title>Sealed answer</title>\n</head>\n<body>\n<main id="sealpost-outside">\n<h1>Sealed answer</h1>\n' +
  '<p>This file is an encrypted answer (sealpost envelope, format v1). Only the organisation it is sealed to can open it.</p>\n' +
  '</main>\n<script type="application/json" id="sealpost-header">';
const MIDDLE = '</script>\n<script type="application/octet-stream" id="sealpost-payload">\n';
const TAIL = '</script>\n</body>\n</html>\n';

/** A string with no lone UTF-16 surrogate (Jansson, the gateway's JSON
 * parser, refuses one, and UTF-8 cannot carry it). */
const wellFormed = (s) =>
  typeof s === 'string' && !/[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/.test(s);

function invalid(what) {
  throw new TypeError(`sealAnswer: ${what}`);
}

/**
 * JSON text for a header block (§2.2), as the reference writes it
 * (src/lib/util.c sp_json_dump_html): compact, ASCII (other characters as
 * \uXXXX with uppercase hex, surrogate pairs beyond U+FFFF), control
 * characters as \b \f \n \r \t or \u00XX, "/" not escaped, "<" ">" "&" as
 * \u003c \u003e \u0026, and an LF after a "," between tokens once a line
 * holds 600 octets.
 */
export function headerJson(value) {
  const ascii = JSON.stringify(value).replace(/\\(?:\\|u([0-9a-f]{4}))|[^\x00-\x7f]|[<>&]/g, (m, hex) => {
    if (m === '\\\\') return m; // an escaped backslash: what follows it is text
    if (hex) return `\\u${hex.toUpperCase()}`;
    if (m === '<') return '\\u003c';
    if (m === '>') return '\\u003e';
    if (m === '&') return '\\u0026';
    return `\\u${m.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  });
  let out = '';
  let line = 0;
  let inString = false;
  let escaped = false;
  for (const c of ascii) {
    out += c;
    line++;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === ',' && line >= JSON_LINE_SOFT) {
      out += '\n';
      line = 0;
    }
  }
  return out;
}

function checkInputs({ message, replyKey, answer, from, to, segmentSize }) {
  if (!(message instanceof Uint8Array)) invalid('message must be a Uint8Array');
  if (!replyKey || typeof replyKey.kid !== 'string') invalid('replyKey.kid is missing');
  const publicKey =
    replyKey.publicKey instanceof Uint8Array ? replyKey.publicKey : fromBase64url(replyKey.publicKey, 65);
  if (!publicKey || publicKey.length !== 65 || publicKey[0] !== 4)
    invalid('replyKey.publicKey is not an uncompressed P-256 point (65 bytes, base64url)');
  if (!answer || !ACTIONS.includes(answer.action)) invalid(`answer.action must be one of ${ACTIONS.join(', ')}`);
  if (answer.action === 'compose' ? answer.message !== null : !fromBase64url(answer.message, 16))
    invalid('answer.message must be the id of the envelope answered (null for compose)');
  if (!wellFormed(answer.org)) invalid('answer.org must be a string');
  if (!wellFormed(from)) invalid('from must be a string');
  if (!Array.isArray(to) || !to.every(wellFormed)) invalid('to must be an array of addresses');
  if (!Number.isInteger(segmentSize) || segmentSize < SEGMENT_MIN || segmentSize > SEGMENT_MAX)
    invalid(`segmentSize must be an integer from ${SEGMENT_MIN} to ${SEGMENT_MAX}`);
  if (Math.ceil(message.length / segmentSize) > 2 ** 32) invalid('the message has more than 2^32 segments');
  return publicKey;
}

const random = (n) => crypto.getRandomValues(new Uint8Array(n));

/**
 * Seal message (the RFC 5322 bytes of the answer) for the organisation
 * whose reply key is replyKey ({kid, publicKey}: the envelope's reply
 * member, publicKey as its base64url or the 65 bytes). answer: {message
 * (the envelope's id, null for compose), action ('reply', 'replyAll',
 * 'forward', 'compose'), org}; from: the signed-in address; to: every
 * recipient of the answer (To and Cc). onProgress(fraction) is called after
 * each segment. Returns { id (the answer's id), bytes (the sealed answer
 * file) }. Throws TypeError for bad arguments (the kid not being its key's
 * among them); the caller keeps message, which is not changed.
 */
export async function sealAnswer({ message, replyKey, answer, from, to, segmentSize = 1048576, onProgress }) {
  const publicKey = checkInputs({ message, replyKey, answer, from, to, segmentSize });
  if ((await replyKeyId(publicKey)) !== replyKey.kid) invalid('replyKey.kid is not the kid of replyKey.publicKey');

  const key = random(32);
  try {
    const id = toBase64url(random(16));
    const prefix = random(7);
    const suite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    const recipientPublicKey = await suite.kem.deserializePublicKey(publicKey.slice().buffer);
    const sealed = await suite.seal({ recipientPublicKey, info: utf8.encode(ANSWER_INFO) }, key, utf8.encode(id));
    const header = headerJson({
      v: 1,
      id,
      created: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      keyAccess: {
        type: 'hpke',
        suite: REPLY_SUITE,
        kid: replyKey.kid,
        enc: toBase64url(new Uint8Array(sealed.enc)),
        wrappedKey: toBase64url(new Uint8Array(sealed.ct)),
      },
      method: {
        algorithm: 'AES-256-GCM',
        segmentSize,
        noncePrefix: toBase64url(prefix),
        keyCheck: toBase64url(await keyCheckOf(key)),
      },
      policy: { from, to: [...to], expires: null, security: 'high' },
      answer: { message: answer.message, action: answer.action, org: answer.org },
    });
    const headerBytes = utf8.encode(header); // ASCII: one byte a character
    const aad = new Uint8Array(await crypto.subtle.digest('SHA-256', headerBytes));
    const k = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);

    const count = Math.max(1, Math.ceil(message.length / segmentSize));
    const payloadLength = message.length + count * TAG_LEN;
    const parts = [utf8.encode(HEAD), headerBytes, utf8.encode(MIDDLE)];
    const tail = utf8.encode(TAIL);
    const before = parts.reduce((n, p) => n + p.length, 0);
    const LF = utf8.encode('\n');
    const out = new Uint8Array(before + Base64Writer.size(payloadLength, 64, LF, true) + tail.length);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    const b64 = new Base64Writer(out, at, 64, LF, true);
    for (let i = 0; i < count; i++) {
      const last = i === count - 1;
      const segment = message.subarray(i * segmentSize, Math.min((i + 1) * segmentSize, message.length));
      const ct = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv: nonceFor(prefix, i, last), additionalData: aad, tagLength: 128 },
        k,
        segment,
      );
      b64.push(new Uint8Array(ct));
      if (onProgress) onProgress((i + 1) / count);
    }
    at = b64.end();
    out.set(tail, at);
    if (at + tail.length !== out.length) throw new Error(`sealAnswer: wrote ${at + tail.length} of ${out.length} bytes`);
    return { id, bytes: out };
  } finally {
    key.fill(0);
  }
}
