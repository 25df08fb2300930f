// message.js - show a decrypted message: its header fields, its body (plain
// text with safe links, or sanitised HTML in a sandboxed frame), its
// attachments (each downloadable byte for byte; attached messages viewable
// the same way) and the actions Download original (.eml) and Print.

import PostalMime from 'postal-mime';
import { h, icon, ICONS } from './dom.js';
import { formatAddresses, formatDate, formatSize, linkify, safeFilename } from './format.js';
import { prepareHtml, styleFrame } from './htmlmail.js';

/** Parse message bytes. Attached messages (message/rfc822) stay attachments,
 * so they are listed and opened on request rather than merged into the body. */
export function parseMessage(bytes) {
  return PostalMime.parse(bytes, { forceRfc822Attachments: true, attachmentEncoding: 'arraybuffer' });
}

/** Offer bytes as a download named name (never opened in the browser). */
export function download(bytes, name, type = 'application/octet-stream') {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

const RASTER = /^image\/(?:png|jpeg|gif|webp|bmp|avif)$/i;
const byteLength = (c) => (c ? c.byteLength : 0);

function normCid(s) {
  let v = String(s).trim().replace(/^cid:/i, '').replace(/^<|>$/g, '');
  try {
    v = decodeURIComponent(v);
  } catch {
    // keep as written
  }
  return v.toLowerCase();
}

/** cid: URL -> blob: URL of the matching image part, made on first use;
 * `urls` maps each part used to its blob: URL. */
function cidResolver(attachments, urls) {
  const byId = new Map();
  for (const a of attachments) if (a.contentId && RASTER.test(a.mimeType || '')) byId.set(normCid(a.contentId), a);
  return (url) => {
    const a = byId.get(normCid(url));
    if (!a) return null;
    if (!urls.has(a)) urls.set(a, URL.createObjectURL(new Blob([a.content], { type: a.mimeType.toLowerCase() })));
    return urls.get(a);
  };
}

/** The sandboxed frame for an HTML body, with the remote-content notice.
 * signal: aborts the frame's window listeners when the view goes away. */
function htmlBody(html, cid, signal) {
  let prepared = prepareHtml(html, { cid });
  const frame = h('iframe', {
    class: 'sp-frame',
    title: 'Message content',
    sandbox: 'allow-same-origin allow-popups allow-popups-to-escape-sandbox',
    referrerpolicy: 'no-referrer',
  });
  const fit = () => {
    const doc = frame.contentDocument;
    if (!doc || !doc.documentElement) return;
    frame.style.height = '0px';
    const height = Math.max(doc.documentElement.scrollHeight, doc.body ? doc.body.scrollHeight : 0);
    frame.style.height = `${Math.max(height, 40)}px`;
  };
  frame.addEventListener('load', () => {
    styleFrame(frame, prepared.sheets);
    fit();
    const doc = frame.contentDocument;
    if (doc) for (const img of doc.images) img.addEventListener('load', fit);
    setTimeout(fit, 250);
  });
  let resizeTimer = 0;
  window.addEventListener(
    'resize',
    () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => frame.isConnected && fit(), 100);
    },
    { signal },
  );
  frame.srcdoc = prepared.srcdoc;

  let notice = null;
  if (prepared.blocked > 0) {
    const show = h(
      'button',
      {
        type: 'button',
        class: 'sp-btn sp-btn-small',
        on: {
          click: () => {
            prepared = prepareHtml(html, { cid, remote: true });
            frame.srcdoc = prepared.srcdoc;
            notice.replaceChildren(icon(ICONS.image), h('span', {}, 'Remote images are shown.'));
            notice.setAttribute('tabindex', '-1');
            notice.focus();
          },
        },
      },
      'Show remote images',
    );
    notice = h(
      'div',
      { class: 'sp-notice', role: 'status' },
      icon(ICONS.image),
      h('span', {}, 'Remote images are hidden to protect your privacy.'),
      show,
    );
  }
  return [notice, h('div', { class: 'sp-frame-wrap' }, frame)];
}

function textBody(text) {
  return h('div', { class: 'sp-text' }, linkify(text.replace(/\r\n?/g, '\n')));
}

function describeType(a) {
  const t = (a.mimeType || '').toLowerCase();
  if (t === 'message/rfc822') return 'Email message';
  if (t === 'text/calendar' || t === 'application/ics') return 'Calendar invitation';
  return t || 'File';
}

function attachmentName(a, i) {
  const t = (a.mimeType || '').toLowerCase();
  if (t === 'text/calendar' || t === 'application/ics') {
    const n = safeFilename(a.filename, 'invitation.ics');
    return /\.ics$/i.test(n) ? n : `${n}.ics`;
  }
  if (t === 'message/rfc822') {
    const n = safeFilename(a.filename, 'attached-message.eml');
    return /\.eml$/i.test(n) ? n : `${n}.eml`;
  }
  return safeFilename(a.filename, `attachment-${i + 1}`);
}

function attachmentList(attachments, onView) {
  const items = attachments.map((a, i) => {
    const name = attachmentName(a, i);
    const type = (a.mimeType || '').toLowerCase();
    const isMessage = type === 'message/rfc822';
    const isCal = type === 'text/calendar' || type === 'application/ics';
    const actions = [];
    if (isMessage) {
      actions.push(
        h(
          'button',
          {
            type: 'button',
            class: 'sp-btn sp-btn-small',
            'aria-label': `View message ${name}`,
            on: { click: (ev) => onView(a, ev.currentTarget) },
          },
          icon(ICONS.mail),
          'View message',
        ),
      );
    }
    actions.push(
      h(
        'button',
        {
          type: 'button',
          class: 'sp-btn sp-btn-small sp-btn-quiet',
          'aria-label': `Download ${name}`,
          on: { click: () => download(a.content, name, isCal ? 'text/calendar' : 'application/octet-stream') },
        },
        icon(ICONS.download),
        isCal ? 'Download .ics' : 'Download',
      ),
    );
    return h(
      'li',
      { class: 'sp-att' },
      icon(isMessage ? ICONS.mail : isCal ? ICONS.calendar : ICONS.file, 'sp-att-icon'),
      h(
        'div',
        { class: 'sp-att-info' },
        h('span', { class: 'sp-att-name' }, name),
        h('span', { class: 'sp-att-meta' }, `${describeType(a)} · ${formatSize(byteLength(a.content))}`),
      ),
      h('div', { class: 'sp-att-actions' }, actions),
    );
  });
  const n = attachments.length;
  return h(
    'section',
    { class: 'sp-attachments', 'aria-labelledby': 'sp-att-title' },
    h('h2', { id: 'sp-att-title' }, n === 1 ? '1 attachment' : `${n} attachments`),
    h('ul', { class: 'sp-att-list' }, items),
  );
}

function headerRows(msg) {
  const rows = [
    ['From', formatAddresses(msg.from)],
    ['To', formatAddresses(msg.to)],
    ['Cc', formatAddresses(msg.cc)],
    ['Date', msg.date ? formatDate(msg.date) : ''],
  ].filter(([, v]) => v);
  return h(
    'dl',
    { class: 'sp-headers' },
    rows.map(([k, v]) => h('div', { class: 'sp-row' }, h('dt', {}, k), h('dd', {}, v))),
  );
}

/**
 * Build the view of one message. opts: raw (the message bytes), nested
 * (true for an attached message), onBack (for nested views), onView(att,
 * button) to open an attached message, actions (buttons put first in the
 * toolbar: Reply, ...). Returns the view element; call focusTitle() on it
 * after inserting it.
 */
export function messageView(msg, opts) {
  const urls = new Map();
  const cid = cidResolver(msg.attachments || [], urls);
  const life = new AbortController();
  let body;
  if (msg.html) {
    body = htmlBody(msg.html, cid, life.signal);
  } else if (msg.text) {
    body = textBody(msg.text);
  } else {
    body = h('p', { class: 'sp-empty' }, 'This message has no text.');
  }
  // Images shown in the body are not listed again as attachments.
  const listed = (msg.attachments || []).filter((a) => !(urls.has(a) && a.disposition !== 'attachment'));

  const subject = msg.subject && msg.subject.trim() ? msg.subject : '(no subject)';
  const title = h('h1', { class: 'sp-subject', tabindex: '-1' }, subject);
  const baseName = safeFilename(msg.subject, 'message').slice(0, 80);

  const toolbar = h(
    'div',
    { class: 'sp-toolbar', role: 'toolbar', 'aria-label': 'Message actions' },
    opts.actions,
    h(
      'button',
      { type: 'button', class: 'sp-btn sp-btn-quiet sp-btn-small', on: { click: () => download(opts.raw, `${baseName}.eml`) } },
      icon(ICONS.download),
      'Download original (.eml)',
    ),
    h(
      'button',
      { type: 'button', class: 'sp-btn sp-btn-quiet sp-btn-small', on: { click: () => window.print() } },
      icon(ICONS.print),
      'Print',
    ),
  );
  const back = opts.nested
    ? h('button', { type: 'button', class: 'sp-btn sp-btn-quiet sp-back', on: { click: opts.onBack } }, icon(ICONS.back), 'Back')
    : null;

  const status = opts.nested
    ? h('p', { class: 'sp-verified sp-verified-nested' }, icon(ICONS.mail), 'Attached message')
    : h(
        'p',
        { class: 'sp-verified' },
        icon(ICONS.shield),
        'Decrypted and verified: not changed since it was sealed.',
      );

  const card = h(
    'article',
    { class: 'sp-card sp-message', 'aria-labelledby': 'sp-msg-subject' },
    h('div', { class: 'sp-card-top' }, status, toolbar),
    title,
    headerRows(msg),
    h('div', { class: 'sp-body' }, body),
    listed.length ? attachmentList(listed, opts.onView) : null,
  );
  title.id = 'sp-msg-subject';
  const view = h('div', { class: 'sp-view' }, back, card);
  view.focusTitle = () => title.focus();
  view.release = () => {
    life.abort();
    for (const u of urls.values()) URL.revokeObjectURL(u);
  };
  return view;
}
