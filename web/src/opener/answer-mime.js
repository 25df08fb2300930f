// answer-mime.js - the answer a recipient writes, as an RFC 5322 message:
// who it goes to (reply, reply all, forward), its subject, its place in the
// thread (In-Reply-To, References), the quoted original, and the message
// itself, built with mimetext (its browser entry; see web/README.md for the
// modules the opener's build puts in place of its helpers).
//
// The message is assembled as a "byte string" (one character a byte):
// mimetext joins strings, and the original message (attached as
// message/rfc822) must travel byte for byte whatever its charset, so every
// part is handed over already encoded (text as UTF-8, files as base64) and
// the result is turned into bytes one character a byte. Header texts that
// mimetext encodes itself (the subject, display names) stay JavaScript
// strings: it writes them as UTF-8 encoded words.
//
// Pure: no DOM. Runs in browsers and in Node 18+.

import { createMimeMessage } from 'mimetext/browser';
import { addressParser } from 'postal-mime';
import { formatAddress, formatAddresses } from './format.js';
import { Base64Writer, toBase64url, utf8 } from './primitives.js';

/** Attachments (files and an attached original) may come to this many bytes in all. */
export const MAX_ATTACHMENTS = 50 * 1000 * 1000;
/** A longer subject would not fit one header line as an encoded word (998 octets). */
export const SUBJECT_MAX_BYTES = 700;
const CRLF = '\r\n';
const ADDRESS = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+$/;
const MESSAGE_ID = /^<[^<>\s]+@[^<>\s]+>$/;
const MAX_REFERENCES = 11;

/** A postal-mime address list (or one address) with its groups flattened;
 * entries without an address are kept only when withEmpty. */
function flatten(list, withEmpty = false) {
  const out = [];
  for (const a of Array.isArray(list) ? list : list ? [list] : []) {
    if (Array.isArray(a.group)) out.push(...flatten(a.group, withEmpty));
    else if (a.address || (withEmpty && a.name)) out.push({ name: a.name || '', address: a.address || '' });
  }
  return out;
}

/** Whether text is an address keyd and the gateway take: local@domain, no spaces or brackets. */
export const isAddress = (text) => ADDRESS.test(text);

/**
 * Addresses typed into a field ("Name <a@b>, c@d"), parsed with
 * postal-mime: { list: [{name, address}], bad: the first entry that is not
 * an address, or null }.
 */
export function parseAddresses(text) {
  const list = [];
  for (const a of flatten(addressParser(text || ''), true)) {
    if (!isAddress(a.address)) return { list, bad: a.address || a.name };
    list.push(a);
  }
  return { list, bad: null };
}

/** An address as the reader edits it: "Name <addr>" (the name quoted when it must be), or addr. */
export function addressText(a) {
  if (!a.name) return a.address;
  const name = /[(),.:;<>@[\]\\"]/.test(a.name) ? `"${a.name.replace(/(["\\])/g, '\\$1')}"` : a.name;
  return `${name} <${a.address}>`;
}

/**
 * Who an answer goes to. msg: the original as postal-mime parsed it; me:
 * the signed-in address. reply: the original's Reply-To, else its From;
 * replyAll: those and the original's To in To, its Cc in Cc, without me and
 * without repeats; forward and compose: nobody yet. Returns { to, cc } as
 * lists of { name, address }.
 */
export function answerRecipients(msg, action, me) {
  const author = flatten(msg.replyTo && msg.replyTo.length ? msg.replyTo : msg.from);
  if (action === 'reply') {
    const seen = new Set();
    return { to: author.filter((a) => !seen.has(a.address.toLowerCase()) && seen.add(a.address.toLowerCase())), cc: [] };
  }
  if (action !== 'replyAll') return { to: [], cc: [] };
  const seen = new Set([String(me).toLowerCase()]);
  const take = (list) => list.filter((a) => !seen.has(a.address.toLowerCase()) && seen.add(a.address.toLowerCase()));
  const to = take([...author, ...flatten(msg.to)]);
  return { to, cc: take(flatten(msg.cc)) };
}

/** "Re: " or "Fwd: " before the original's subject, never twice. */
export function answerSubject(subject, action) {
  const s = String(subject || '').trim();
  if (action === 'reply' || action === 'replyAll') return /^re\s*:/i.test(s) ? s : `Re: ${s}`;
  if (action === 'forward') return /^fwd?\s*:/i.test(s) ? s : `Fwd: ${s}`;
  return s;
}

/**
 * In-Reply-To and References of an answer (RFC 5322 §3.6.4): the original's
 * References (or In-Reply-To) and its Message-ID, the first and the last
 * ten kept. A forward is no reply: References only. { inReplyTo (or null),
 * references: [ids] }; both empty when the original has no Message-ID.
 */
export function threadOf(msg, action) {
  const id = String(msg.messageId || '').trim();
  if (!MESSAGE_ID.test(id) || action === 'compose') return { inReplyTo: null, references: [] };
  const ids = (text) => (String(text || '').match(/<[^<>\s]+>/g) || []).filter((r) => MESSAGE_ID.test(r) && r !== id);
  let refs = [...(msg.references ? ids(msg.references) : ids(msg.inReplyTo)), id];
  if (refs.length > MAX_REFERENCES) refs = [refs[0], ...refs.slice(-(MAX_REFERENCES - 1))];
  return { inReplyTo: action === 'forward' ? null : id, references: refs.filter((r) => /^[\x21-\x7e]+$/.test(r)) };
}

/**
 * The original's text to put under the answer: for a reply "On WHEN, NAME
 * wrote:" and its lines behind "> "; for a forward the usual block of its
 * header fields and its text. when: the original's date as the reader's
 * locale writes it.
 */
export function quotedOriginal(msg, action, when) {
  const text = String(msg.text || '').replace(/\r\n?/g, '\n').replace(/\s+$/, '');
  if (action === 'forward') {
    return [
      '---------- Forwarded message ----------',
      `From: ${formatAddress(msg.from)}`,
      when ? `Date: ${when}` : null,
      `Subject: ${msg.subject || ''}`,
      `To: ${formatAddresses(msg.to)}`,
      msg.cc && msg.cc.length ? `Cc: ${formatAddresses(msg.cc)}` : null,
      '',
      text,
    ]
      .filter((l) => l !== null)
      .join('\n');
  }
  const who = (msg.from && (msg.from.name || msg.from.address)) || 'the sender';
  const quoted = text.split('\n').map((l) => (l.startsWith('>') ? `>${l}` : l ? `> ${l}` : '>'));
  return [when ? `On ${when}, ${who} wrote:` : `${who} wrote:`, ...quoted].join('\n');
}

// ---- building the message -----------------------------------------------------

/** Bytes as a byte string (one character a byte): for short texts only. */
function byteString(bytes) {
  const parts = [];
  for (let i = 0; i < bytes.length; i += 8192) parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 8192)));
  return parts.join('');
}

const CRLF_BYTES = utf8.encode(CRLF);

/** A file name for a Content-Type / Content-Disposition parameter: no
 * quotes, backslashes or controls; non-ASCII as an RFC 2047 encoded word. */
function paramName(name, fallback) {
  const n = String(name || '').replace(/[\u0000-\u001f\u007f"\\]/g, '').trim().slice(0, 100) || fallback;
  return /^[\x20-\x7e]*$/.test(n) ? n : `=?UTF-8?B?${btoa(byteString(utf8.encode(n)))}?=`;
}

/** The file's own type (File.type) when it is a well-formed media type. */
const mediaType = (t) =>
  /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i.test(t || '') ? t.toLowerCase() : 'application/octet-stream';

/** The lightest transfer encoding that carries bytes unchanged (RFC 2045 §2.7-2.9). */
function encodingOf(bytes) {
  let line = 0;
  let high = false;
  let nul = false;
  let long = false;
  for (const b of bytes) {
    if (b === 10) line = 0;
    else if (++line > 998) long = true;
    high ||= b > 127;
    nul ||= b === 0;
  }
  return long || nul ? 'binary' : high ? '8bit' : '7bit';
}

/** Whether bytes hold the ASCII text. */
function holds(bytes, text) {
  const t = utf8.encode(text);
  for (let i = bytes.indexOf(t[0]); i >= 0 && i + t.length <= bytes.length; i = bytes.indexOf(t[0], i + 1))
    if (t.every((c, j) => bytes[i + j] === c)) return true;
  return false;
}

const randomToken = (n) => toBase64url(crypto.getRandomValues(new Uint8Array(n))).replace(/[-_]/g, 'x');

/**
 * The answer as RFC 5322 bytes. from: the signed-in address; to, cc: lists
 * of { name, address }; subject (at most SUBJECT_MAX_BYTES as UTF-8); text
 * (the whole body, quote included; any line ends); inReplyTo (or null);
 * references ([ids]); files: [{ name, type, bytes }]; original: { bytes,
 * name } to attach as message/rfc822, or null; date and messageId to fix
 * them (tests). Throws RangeError for a subject that is too long.
 *
 * mimetext writes the whole message but the contents of the parts (the
 * text, the files, the attached original): in their place it gets a random
 * token, and the result is written out with each token replaced by the
 * part's bytes, coded straight into the output (base64 lines, or as they
 * are). So the message exists once, as bytes, beside the files: a 50 MB
 * attachment never becomes a 70 MB string, nor a second buffer.
 */
export function buildAnswerMessage(a) {
  if (utf8.encode(a.subject).length > SUBJECT_MAX_BYTES) throw new RangeError('the subject is too long');
  const m = createMimeMessage();
  const body = utf8.encode(String(a.text || '').replace(/\r\n?|\n/g, CRLF));
  const original = a.original ? a.original.bytes : new Uint8Array(0);
  // Random boundaries (mimetext's come from Math.random) that no part holds.
  do {
    m.boundaries = { mixed: `sp-${randomToken(18)}`, alt: `sp-${randomToken(18)}`, related: `sp-${randomToken(18)}` };
  } while (Object.values(m.boundaries).some((b) => holds(body, b) || holds(original, b)));
  // token -> { size, write(out, at) }: what goes in the token's place
  const slots = new Map();
  const slot = (size, write) => {
    const token = `sp-part-${randomToken(18)}`;
    slots.set(token, { size, write });
    return token;
  };
  const asIs = (bytes) => slot(bytes.length, (out, at) => out.set(bytes, at));
  const asBase64 = (bytes) =>
    slot(Base64Writer.size(bytes.length, 76, CRLF_BYTES, false), (out, at) => {
      const w = new Base64Writer(out, at, 76, CRLF_BYTES, false);
      w.push(bytes);
      w.end();
    });

  const box = (x) => ({ addr: byteString(utf8.encode(x.address)), name: x.name || '' });
  m.setSender({ addr: byteString(utf8.encode(a.from)) });
  m.setTo(a.to.map(box));
  if (a.cc && a.cc.length) m.setCc(a.cc.map(box));
  m.setSubject(a.subject);
  if (a.date) m.setHeader('Date', a.date);
  const domain = String(a.from).split('@').pop() || 'sealpost.invalid';
  m.setHeader('Message-ID', byteString(utf8.encode(a.messageId || `<${randomToken(18)}@${domain}>`)));
  if (a.inReplyTo) m.setHeader('In-Reply-To', a.inReplyTo);
  if (a.references && a.references.length) m.setHeader('References', a.references.join(`${CRLF} `));
  const plain = encodingOf(body) === '7bit';
  const data = plain ? asIs(body) : asBase64(body);
  m.addMessage({ contentType: 'text/plain', charset: 'UTF-8', encoding: plain ? '7bit' : 'base64', data });
  for (const f of a.files || []) {
    const filename = paramName(f.name, 'attachment');
    m.addAttachment({ filename, contentType: mediaType(f.type), encoding: 'base64', data: asBase64(f.bytes) });
  }
  if (a.original) {
    const filename = paramName(a.original.name, 'message.eml');
    m.addAttachment({ filename, contentType: 'message/rfc822', encoding: encodingOf(original), data: asIs(original) });
  }

  const raw = m.asRaw();
  // Split at the tokens; one typed into a header by chance stays text.
  const pieces = raw.split(/(sp-part-[A-Za-z0-9]{24})/).map((p, i) => (i % 2 && slots.has(p) ? slots.get(p) : p));
  if (pieces.filter((p) => typeof p !== 'string').length !== slots.size) {
    throw new Error('buildAnswerMessage: a part went missing');
  }
  const out = new Uint8Array(pieces.reduce((n, p) => n + (typeof p === 'string' ? p.length : p.size), 0));
  let at = 0;
  for (const p of pieces) {
    if (typeof p !== 'string') {
      p.write(out, at);
      at += p.size;
      continue;
    }
    for (let j = 0; j < p.length; j++) {
      const c = p.charCodeAt(j);
      if (c > 255) throw new Error('buildAnswerMessage: a header was not encoded');
      out[at++] = c;
    }
  }
  return out;
}
