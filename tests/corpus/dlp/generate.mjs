#!/usr/bin/env node
// generate.mjs - writes the labelled DLP development corpus:
// messages/*.eml and labels.json ({file: {expect, category, why, hard, form}}).
// Deterministic (fixed seed): running it again rewrites identical files.
// Usage: node tests/corpus/dlp/generate.mjs   (SEALPOST_SHARED_DATA=dir
// to point at the shared data if it is not in ../shared/data).

import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as id from './gen/ids.mjs';
import { renderMessage, resetBoundaries } from './gen/mime.mjs';
import { loadData } from './gen/data.mjs';
import { msgDate } from './gen/text.mjs';
import { POSITIVE } from './gen/positives.mjs';
import { NEGATIVE } from './gen/negatives.mjs';

const SEED = 20250505;
const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'messages');

// How many messages of each category.
const PLAN = [
  ['clinical', 45, true], ['billing', 36, true], ['insurance', 30, true], ['hr', 36, true],
  ['banking', 35, true], ['legal', 24, true], ['flagged', 30, true],
  ['business', 50, false], ['newsletter', 25, false], ['health-newsletter', 24, false], ['fundraising', 15, false],
  ['hard-ssn', 24, false], ['hard-order', 15, false], ['hard-tracking', 15, false], ['hard-partno', 12, false],
  ['hard-phone-invoice', 15, false], ['hard-date', 12, false], ['hard-testcard', 14, false],
  ['hard-binary', 8, false], ['hard-flaglike', 8, false],
];

// Body forms, rotated through per category so each gets every form.
const FORMS = ['plain', 'html', 'plain-qp', 'alt', 'plain-b64', 'html-split', 'latin1-8bit', 'alt-qp',
  'utf16-b64', 'latin1-qp', 'html-b64', 'utf16le-b64'];

const MARK = /⟦([^⟧]*)⟧/g;
const strip = (s) => s.replace(MARK, '$1');
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// Identifiers split by markup or written with entities, as HTML mail does.
function splitValue(v, k) {
  const first = /^[^ \-/]+/.exec(v)[0];
  switch (k % 6) {
    case 0: return `<b>${first}</b>${v.slice(first.length)}`;
    case 1: return v.replace(/-/g, '&#45;').replace(/ /g, '&#32;').replace(/\//g, '&#x2F;');
    case 2: return v.split(/([ \-/])/).map((p) => (/^[ \-/]$/.test(p) ? p : `<span>${p}</span>`)).join('');
    case 3: return `&#x${v.charCodeAt(0).toString(16)};${v.slice(1)}`;
    case 4: return `<font color="#333333">${v.slice(0, 2)}</font>${v.slice(2)}`;
    default: return v;
  }
}

function toHtml(text, split, rich, title) {
  let k = 0;
  const conv = (s) => esc(s).replace(MARK, (_, v) => (split ? splitValue(v, k++) : v));
  const paras = text.split(/\n{2,}/).map((p) => {
    if (p.split('\n').every((l) => l.startsWith('>') || l === '')) {
      return `<blockquote style="border-left:2px solid #ccc;padding-left:8px">${conv(p.replace(/^> ?/gm, '')).replace(/\n/g, '<br>\n')}</blockquote>`;
    }
    return `<p>${conv(p).replace(/\n/g, '<br>\n')}</p>`;
  }).join('\n');
  const head = `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${esc(title)}</title>` +
    `<style>body{font-family:Arial,sans-serif;font-size:14px}</style></head>\n<body>\n`;
  if (!rich) return `${head}${paras}\n</body></html>\n`;
  return `${head}<table width="600" align="center" cellpadding="0" cellspacing="0"><tr><td style="background:#0a5;color:#fff;padding:12px">` +
    `<h1 style="margin:0">${esc(title)}</h1></td></tr>\n<tr><td style="padding:12px">${paras}</td></tr>\n` +
    `<tr><td style="font-size:11px;color:#777"><a href="https://example.org/unsubscribe">Unsubscribe</a> | <a href="https://example.org/privacy">Privacy</a></td></tr></table>\n</body></html>\n`;
}

const latin1Ok = (s) => [...s].every((c) => c.codePointAt(0) < 256);

// A PDF-named binary: random "compressed" stream bytes. With noise, ASCII
// digit runs that would look like a card or an SSN if read as text.
function makePdf(r, noise) {
  const bytes = Buffer.from(Array.from({ length: r.int(1500, 3000) }, () => r.int(0, 255)));
  const chunks = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 2400 /Filter /FlateDecode >>\nstream\n', 'latin1')];
  if (noise) {
    const third = Math.floor(bytes.length / 3);
    chunks.push(bytes.subarray(0, third), Buffer.from(id.genCard(r, 'visa')), bytes.subarray(third, 2 * third),
      Buffer.from(id.fmt324(id.genSsn(r))), bytes.subarray(2 * third));
  } else chunks.push(bytes);
  chunks.push(Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'));
  return Buffer.concat(chunks);
}

function bodyPart(msg, form, i) {
  const text = msg.text;
  const plainLatin1 = latin1Ok(strip(text));
  const leaf = (type, t, charset, cte) => ({ type, text: t, charset, cte });
  const html = (split) => toHtml(text, split, !!msg.htmlish, msg.subject);
  switch (form) {
    case 'plain': return leaf('text/plain', strip(text), 'utf-8', '8bit');
    case 'plain-qp': return leaf('text/plain', strip(text), 'utf-8', 'quoted-printable');
    case 'plain-b64': return leaf('text/plain', strip(text), 'utf-8', 'base64');
    case 'html': return leaf('text/html', html(false), 'utf-8', 'quoted-printable');
    case 'html-split': return leaf('text/html', html(true), 'utf-8', 'quoted-printable');
    case 'html-b64': return leaf('text/html', html(true), 'utf-8', 'base64');
    case 'alt': return { multipart: 'alternative', parts: [leaf('text/plain', strip(text), 'utf-8', '8bit'), leaf('text/html', html(true), 'utf-8', 'quoted-printable')] };
    case 'alt-qp': return { multipart: 'alternative', parts: [leaf('text/plain', strip(text), 'utf-8', 'quoted-printable'), leaf('text/html', html(i % 2 === 0), 'utf-8', 'base64')] };
    case 'latin1-8bit': return leaf('text/plain', strip(text), plainLatin1 ? 'iso-8859-1' : 'utf-8', '8bit');
    case 'latin1-qp': return leaf(i % 2 ? 'text/html' : 'text/plain', i % 2 ? html(true).replace('utf-8', 'iso-8859-1') : strip(text), plainLatin1 ? 'iso-8859-1' : 'utf-8', 'quoted-printable');
    case 'utf16-b64': return leaf('text/plain', strip(text), 'utf-16', 'base64');
    case 'utf16le-b64': return leaf('text/html', html(true).replace('utf-8', 'utf-16le'), 'utf-16le', 'base64');
    default: throw new Error(form);
  }
}

function attachmentPart(a, k) {
  if (a.bytes) return { type: a.type, bytes: a.bytes, cte: 'base64', filename: a.filename };
  return { type: a.type, text: strip(a.text), charset: 'utf-8', cte: ['7bit', 'base64', 'quoted-printable'][k % 3], filename: a.filename };
}

// Every text a scanner should read (subject, body, text attachments), marks removed.
function allText(msg) {
  return [msg.subject, strip(msg.text), ...(msg.attachments || []).filter((a) => a.text).map((a) => strip(a.text))].join('\n');
}

// Valid identifiers in text, by the validators of gen/ids.mjs: a negative
// must have none, or it would not be a fair negative.
function validIdentifiers(text) {
  const found = [];
  for (const m of text.matchAll(/(?<![\dA-Za-z])(\d{3})([- ])(\d{2})\2(\d{4})(?![\dA-Za-z])/g)) {
    if (id.ssnOk(m[0]) || id.itinOk(m[0])) found.push(`ssn/itin ${m[0]}`);
  }
  for (const m of text.matchAll(/(?<![\dA-Za-z-])\d{9,10}(?![\dA-Za-z-])/g)) {
    if (m[0].length === 9 && (id.ssnOk(m[0]) || id.itinOk(m[0]) || id.abaOk(m[0]))) found.push(`ssn/aba ${m[0]}`);
    if (m[0].length === 10 && id.npiOk(m[0])) found.push(`npi ${m[0]}`);
  }
  for (const m of text.matchAll(/\d+(?:[ -]\d+)*/g)) {
    const groups = m[0].split(/[ -]/);
    for (let s = 0; s < groups.length; s++) {
      let acc = '';
      for (let e = s; e < groups.length && acc.length <= 19; e++) {
        acc += groups[e];
        if (acc.length >= 12 && acc.length <= 19 && id.cardOk(acc)) found.push(`card ${acc}`);
      }
    }
  }
  for (const m of text.matchAll(/\b[0-9A-Z]{4}-?[0-9A-Z]{3}-?[0-9A-Z]{4}\b/g)) if (id.mbiOk(m[0])) found.push(`mbi ${m[0]}`);
  for (const m of text.matchAll(/\b[A-Z]{2}\d{7}\b/g)) if (id.deaOk(m[0])) found.push(`dea ${m[0]}`);
  return found;
}

function main() {
  const data = loadData();
  const r = id.makeRng(SEED);
  mkdirSync(OUT, { recursive: true });
  for (const f of readdirSync(OUT)) if (f.endsWith('.eml')) rmSync(join(OUT, f));
  resetBoundaries();
  const labels = {};
  const counts = {};
  let serial = 0, bytes = 0;
  for (const [category, n, positive] of PLAN) {
    const builder = (positive ? POSITIVE : NEGATIVE)[category];
    for (let i = 0; i < n; i++) {
      const ctx = { i, data, pdf: makePdf };
      let msg;
      for (let attempt = 0; ; attempt++) {
        msg = builder(r, ctx);
        const bad = positive ? [] : validIdentifiers(allText(msg));
        if (bad.length === 0) break;
        if (attempt > 50) throw new Error(`${category} ${i}: cannot avoid valid identifiers: ${bad}`);
      }
      const form = FORMS[(i + serial) % FORMS.length];
      msg.attachments = msg.attachments || [];
      // Some messages carry their content as an HTML or text attachment instead.
      let formName = form;
      if (msg.attachments.length === 0 && category !== 'flagged' && i % 9 === 4) {
        msg.attachments.push({ filename: 'note.html', type: 'text/html', text: toHtml(msg.text, true, false, msg.subject).replace(MARK, '$1') });
        msg.text = 'Please see the attached note.';
        formName += '+html-attachment';
      } else if (msg.attachments.length === 0 && category !== 'flagged' && i % 9 === 7) {
        msg.attachments.push({ filename: 'details.txt', type: 'text/plain', text: msg.text });
        msg.text = 'Details in the attached file.';
        formName += '+text-attachment';
      }
      let body = bodyPart(msg, form, i);
      if (msg.attachments.length) {
        body = { multipart: 'mixed', parts: [body, ...msg.attachments.map((a, k) => attachmentPart(a, i + k))] };
        formName += msg.attachments.map((a) => `+${a.filename.split('.').pop()}`).join('');
      }
      const d = msgDate(r, serial);
      const file = `${category}-${String(i + 1).padStart(3, '0')}.eml`;
      const raw = renderMessage({
        from: [msg.from.name, msg.from.email], to: msg.to.map((t) => [t.name, t.email]), subject: msg.subject,
        date: d.header, messageId: `corpus-${serial}@sealpost.test`, headers: msg.headers, body,
      });
      writeFileSync(join(OUT, file), raw);
      bytes += raw.length;
      labels[file] = { expect: positive ? 'encrypt' : 'deliver', category, why: msg.why, hard: category.startsWith('hard-') || !!msg.hard, form: formName };
      counts[category] = (counts[category] || 0) + 1;
      serial++;
    }
  }
  writeFileSync(join(HERE, 'labels.json'), JSON.stringify(labels, null, 1) + '\n');
  const pos = Object.values(labels).filter((l) => l.expect === 'encrypt').length;
  const hard = Object.values(labels).filter((l) => l.hard).length;
  console.log(`wrote ${serial} messages (${pos} encrypt, ${serial - pos} deliver, ${hard} hard negatives), ${(bytes / 1024).toFixed(0)} KiB`);
  for (const [c, k] of Object.entries(counts)) console.log(`  ${c.padEnd(20)} ${k}`);
}

main();
