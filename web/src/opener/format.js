// format.js - turn sizes, dates, addresses and plain text into what a reader
// sees. Pure functions, except linkify(), which returns DOM nodes.

import { h } from './dom.js';

/** "1.4 MB", "812 KB", "37 bytes" (decimal units, as file managers show). */
export function formatSize(n) {
  if (n < 1000) return n === 1 ? '1 byte' : `${n} bytes`;
  const units = ['KB', 'MB', 'GB'];
  let v = n;
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (v >= 1000 && u < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** A date in the reader's locale and time zone, or the text as given if it
 * does not parse. */
export function formatDate(value) {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  try {
    return d.toLocaleString(undefined, { dateStyle: 'long', timeStyle: 'short' });
  } catch {
    return d.toString();
  }
}

/** One postal-mime address (or group) as "Name <addr>". */
export function formatAddress(a) {
  if (!a) return '';
  if (Array.isArray(a.group)) {
    return `${a.name || 'Group'}: ${a.group.map(formatAddress).join(', ')}`;
  }
  if (a.name && a.address) return `${a.name} <${a.address}>`;
  return a.name || a.address || '';
}

export function formatAddresses(list) {
  return (Array.isArray(list) ? list : list ? [list] : []).map(formatAddress).filter(Boolean).join(', ');
}

/**
 * A file name safe to offer for download: no path, no control characters,
 * not empty. The browser sanitises again; this keeps the UI honest.
 */
export function safeFilename(name, fallback) {
  let n = String(name || '')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[\\/:*?"<>|]+/g, '_')
    .replace(/^[\s.]+|[\s.]+$/g, '')
    .slice(0, 180);
  return n || fallback;
}

// http(s) and mailto links inside plain text. The trailing-punctuation rule
// keeps "see https://example.org." from swallowing the full stop.
const LINK_RE = /\b(?:https?:\/\/|mailto:)[^\s<>"'`\u00a0\u2000-\u200b\u3000]+/gi;

/** Whether href is a link the opener will make clickable (absolute
 * http:, https: or mailto:). Returns the normalised URL or null. */
export function safeHref(href) {
  let u;
  try {
    u = new URL(String(href).trim());
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'mailto:') return null;
  return u.href;
}

function trimLink(url) {
  // Drop trailing punctuation, and a closing bracket that has no opener
  // inside the link (common in "(see https://x/y)").
  for (;;) {
    const last = url.at(-1);
    if ('.,;:!?\'"'.includes(last)) url = url.slice(0, -1);
    else if (last === ')' && url.split('(').length < url.split(')').length) url = url.slice(0, -1);
    else if (last === ']' && url.split('[').length < url.split(']').length) url = url.slice(0, -1);
    else return url;
  }
}

/** Plain text as a list of text nodes and <a> elements for its links. */
export function linkify(text) {
  const out = [];
  let at = 0;
  for (const m of text.matchAll(LINK_RE)) {
    const raw = trimLink(m[0]);
    const href = safeHref(raw);
    if (!href || raw.length < 8) continue;
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, raw));
    at = m.index + raw.length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}
