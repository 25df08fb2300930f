// console-detail.js - one message in keyd's console (/messages#id=ID):
// its facts, its recipients (registered or not, opens, the last client
// address and browser), and what its sender or an administrator may do.
//
//   detail   GET /v1/messages/{id}
//   lock     POST /v1/messages/{id}/lock { reason }   (again: a new reason)
//   unlock   POST /v1/messages/{id}/unlock
//   expiry   PATCH /v1/messages/{id} { expires: RFC 3339 UTC | null }
//   recall   DELETE /v1/messages/{id}/key { confirm: true }, after a
//            confirmation step: the key is destroyed for good
// Each change answers with the message as it now is, which is drawn
// again with a note saying what happened. A recalled message has no
// actions left.

import { h, replace } from '../opener/dom.js';
import { formatSize } from '../opener/format.js';
import { alertBox, checkbox, field, metaList } from '../opener/ui.js';
import { call } from './api.js';
import { actionForm, chars, errorBox, loading, section, successNote, timeEl, verdicts } from './shell.js';

const ACCOUNT = { unregistered: 'Not registered', pending: 'Activation pending', active: 'Active' };
const SECURITY = {
  high: 'High (password every time)',
  medium: 'Medium (remembered browsers may open it)',
  low: 'Low (no password)',
};

const path = (id, tail = '') => `/v1/messages/${encodeURIComponent(id)}${tail}`;

/** A change's answer: the message as it now is. */
async function change(method, id, tail, body) {
  const m = await call(method, path(id, tail), { body });
  if (!m || typeof m.id !== 'string' || typeof m.state !== 'string') throw new Error('the answer is not a message');
  return m;
}

/** "2026-05-01T14:30" in the reader's time zone for an RFC 3339 time. */
function localInput(value) {
  const d = value ? new Date(value) : null;
  if (!d || Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'your time zone';
  } catch {
    return 'your time zone';
  }
}

/**
 * Show message id in root. opts: current() (false once another view
 * replaced this one), back (the list's fragment), badge(state) (the state
 * badge).
 */
export async function detailView(root, id, opts) {
  const backLink = () => h('p', { class: 'sp-back-link' }, h('a', { href: opts.back }, '← All messages'));
  replace(root, h('section', { class: 'sp-card sp-section' }, backLink(), loading('Loading the message…')));
  let m;
  try {
    m = await call('GET', path(id));
  } catch (e) {
    if (!opts.current()) return;
    const h1 = h('h1', { id: 'sp-title', tabindex: '-1' }, e.problem === 'not-found' ? 'Message not found' : 'Message');
    const retry = h('button', { type: 'button', class: 'sp-btn', on: { click: () => detailView(root, id, opts) } }, 'Try again');
    replace(
      root,
      h(
        'section',
        { class: 'sp-card sp-section', 'aria-labelledby': 'sp-title' },
        backLink(),
        h1,
        e.problem === 'not-found'
          ? h('p', {}, 'There is no such message, or it is not one you may manage. Senders see the messages they sent; administrators those of their organisation.')
          : [errorBox(e), h('div', { class: 'sp-actions' }, retry)],
      ),
    );
    h1.focus();
    return;
  }
  if (opts.current()) draw(root, m, opts, null);
}

/** Draw message m, with a note about the change just made (or null). */
function draw(root, m, opts, note) {
  const redraw = (next, text) => {
    if (opts.current()) draw(root, next, opts, text);
  };
  const h1 = h('h1', { id: 'sp-title', tabindex: '-1' }, 'Secure message');
  const n = Array.isArray(m.recipients) ? m.recipients.length : 0;
  const top = h(
    'section',
    { class: 'sp-card sp-section', 'aria-labelledby': 'sp-title' },
    h('p', { class: 'sp-back-link' }, h('a', { href: opts.back }, '← All messages')),
    h1,
    h('p', { class: 'sp-lede' }, `From ${m.sender} to ${n === 1 ? '1 recipient' : `${n} recipients`}.`),
    note ? successNote(note) : null,
    h(
      'div',
      { class: 'sp-facts' },
      metaList([
        ['ID', h('code', { class: 'sp-id' }, m.id)],
        ['Sender', m.sender],
        ['Sent', timeEl(m.created)],
        ['Expires', timeEl(m.expires, 'Never')],
        ['State', opts.badge(m.state)],
        ['Security', SECURITY[m.security] || m.security],
        ['Lock reason', m.state === 'locked' ? m.reason || '' : null],
      ]),
    ),
  );
  const parts = [top, recipientsCard(m), answersCard(m)];
  if (m.state === 'recalled') {
    parts.push(
      section(
        'sp-recalled-title',
        'Recalled',
        h('p', {}, 'This message was recalled: its key is destroyed, so no one can open it any more. Nothing about it can be changed now.'),
      ),
    );
  } else {
    parts.push(lockCard(m, redraw), expiryCard(m, redraw), recallCard(m, redraw));
  }
  replace(root, parts);
  h1.focus();
}

/** Who the message went to, and what each of them did. */
function recipientsCard(m) {
  const rows = Array.isArray(m.recipients) ? m.recipients : [];
  const head = ['Address', 'Account', 'Opens', 'First opened', 'Last opened', 'Last client address', 'Last browser'];
  return section(
    'sp-recipients-title',
    'Recipients',
    h(
      'div',
      { class: 'sp-table-wrap' },
      h(
        'table',
        { class: 'sp-table sp-recipients' },
        h('caption', { class: 'sp-sr' }, 'Recipients and their opens'),
        h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          {},
          rows.map((r) =>
            h(
              'tr',
              {},
              h('td', { 'data-label': 'Address', class: 'sp-addr' }, r.email),
              h('td', { 'data-label': 'Account' }, ACCOUNT[r.account] || r.account),
              h('td', { 'data-label': 'Opens', class: 'sp-num' }, String(r.opens)),
              h('td', { 'data-label': 'First opened' }, timeEl(r.first_open, 'Not yet')),
              h('td', { 'data-label': 'Last opened' }, timeEl(r.last_open, 'Not yet')),
              h('td', { 'data-label': 'Last client address', class: 'sp-addr' }, r.last_ip || '—'),
              h('td', { 'data-label': 'Last browser', class: 'sp-agent' }, r.last_agent || '—'),
            ),
          ),
        ),
      ),
    ),
  );
}

const ANSWER = { reply: 'Reply', replyAll: 'Reply to all', forward: 'Forward' };

/** The recipients' secure answers: who, when, what, to how many, how
 * large. Their content went sealed to the organisation's mailboxes; the
 * key server never had it. */
function answersCard(m) {
  const rows = Array.isArray(m.answers) ? m.answers : [];
  const head = ['From', 'Answer', 'Recipients', 'Size', 'Delivered'];
  return section(
    'sp-answers-title',
    'Secure answers',
    rows.length === 0
      ? h('p', {}, 'No recipient has answered this message securely yet.')
      : h(
          'div',
          { class: 'sp-table-wrap' },
          h(
            'table',
            { class: 'sp-table sp-answers' },
            h('caption', { class: 'sp-sr' }, 'Secure answers to this message'),
            h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              rows.map((a) =>
                h(
                  'tr',
                  {},
                  h('td', { 'data-label': 'From', class: 'sp-addr' }, a.from),
                  h('td', { 'data-label': 'Answer' }, ANSWER[a.action] || a.action),
                  h('td', { 'data-label': 'Recipients', class: 'sp-num' }, String(a.recipients)),
                  h('td', { 'data-label': 'Size', class: 'sp-num' }, formatSize(a.size)),
                  h('td', { 'data-label': 'Delivered' }, timeEl(a.delivered, '—')),
                ),
              ),
            ),
          ),
        ),
  );
}

/** Lock with a reason, change the reason, or unlock. */
function lockCard(m, redraw) {
  const locked = m.state === 'locked';
  const fReason = field({
    id: 'sp-lock-reason',
    label: locked ? 'New reason' : 'Reason',
    maxlength: 200,
    help: 'Recipients see it when they try to open the message. At most 200 characters.',
  });
  const lock = actionForm({
    label: locked ? 'Change the lock reason' : 'Lock the message',
    body: [fReason.wrap],
    button: locked ? 'Change reason' : 'Lock message',
    cls: locked ? 'sp-btn' : 'sp-btn sp-btn-primary',
    busy: 'Locking…',
    check: () => {
      const v = fReason.input.value.trim();
      return verdicts([[fReason, !v ? 'Give a reason; recipients see it.' : chars(v) > 200 ? 'Use at most 200 characters.' : null]]);
    },
    run: async () => {
      const next = await change('POST', m.id, '/lock', { reason: fReason.input.value.trim() });
      redraw(next, locked ? 'The lock reason is changed.' : 'The message is locked. Its key is not released until you unlock it.');
      return null;
    },
    onError: (e) => {
      if (e.problem !== 'invalid-request' || e.field !== 'reason') return false;
      fReason.setError(e.detail || 'This reason is not accepted.');
      fReason.input.focus();
      return true;
    },
  });
  const unlock = locked
    ? actionForm({
        label: 'Unlock the message',
        body: [],
        button: 'Unlock message',
        busy: 'Unlocking…',
        run: async () => {
          redraw(await change('POST', m.id, '/unlock'), 'The message is unlocked. Its recipients can open it again.');
          return null;
        },
      }).form
    : null;
  return section(
    'sp-lock-title',
    locked ? 'Locked' : 'Lock',
    h(
      'p',
      {},
      locked
        ? 'The key of this message is not released while it is locked; its recipients see your reason instead.'
        : 'Locking stops the key from being released until you unlock it, for instance when a message went to the wrong person. Recipients see your reason.',
    ),
    unlock,
    lock.form,
  );
}

/** A new expiry, or none. */
function expiryCard(m, redraw) {
  const fWhen = field({
    id: 'sp-expiry',
    label: 'New expiry',
    help: `Date and time in ${timeZone()}.`,
  });
  fWhen.input.type = 'datetime-local';
  fWhen.input.value = localInput(m.expires);
  const never = checkbox('sp-expiry-never', 'No expiry', 'The message can be opened until it is recalled.');
  never.input.checked = !m.expires;
  const sync = () => {
    fWhen.input.disabled = never.input.checked;
    if (never.input.checked) fWhen.setError(null);
  };
  never.input.addEventListener('change', sync);
  sync();
  const form = actionForm({
    label: 'Change the expiry',
    body: [fWhen.wrap, never.wrap],
    button: 'Change expiry',
    cls: 'sp-btn',
    busy: 'Saving the expiry…',
    check: () => {
      if (never.input.checked) return true;
      const t = new Date(fWhen.input.value);
      const v = fWhen.input.value;
      return verdicts([
        [fWhen, !v || Number.isNaN(t.getTime()) ? 'Choose a date and time, or tick "No expiry".' : t.getTime() <= Date.now() ? 'Choose a time in the future.' : null],
      ]);
    },
    run: async () => {
      const expires = never.input.checked ? null : new Date(fWhen.input.value).toISOString().replace(/\.\d+Z$/, 'Z');
      const next = await change('PATCH', m.id, '', { expires });
      redraw(next, expires ? 'The expiry is changed.' : 'The message no longer expires.');
      return null;
    },
    onError: (e) => {
      if (e.problem !== 'invalid-request' || e.field !== 'expires') return false;
      fWhen.setError(e.detail || 'This time is not accepted.');
      fWhen.input.focus();
      return true;
    },
  }).form;
  return section(
    'sp-expiry-title',
    'Expiry',
    h('p', {}, m.expires ? ['It expires on ', timeEl(m.expires), '. After that its key is no longer released.'] : 'It does not expire.'),
    form,
  );
}

/** Recall: a danger button, then a confirmation step. */
function recallCard(m, redraw) {
  const start = h('button', { type: 'button', class: 'sp-btn sp-btn-danger-quiet', 'aria-expanded': 'false', 'aria-controls': 'sp-recall-confirm' }, 'Recall message…');
  const sure = checkbox('sp-recall-sure', 'I understand that this cannot be undone');
  const confirm = actionForm({
    label: 'Confirm the recall',
    body: [
      alertBox(
        'Recall this message for good?',
        'Its key is destroyed at once. No one can open the message after that: not its recipients, not you, not an administrator. ' +
          'This cannot be undone.',
      ),
      sure.wrap,
    ],
    button: 'Recall for good',
    cls: 'sp-btn sp-btn-danger',
    busy: 'Recalling…',
    check: () => sure.input.checked,
    run: async () => {
      redraw(await change('DELETE', m.id, '/key', { confirm: true }), 'The message is recalled. Its key is destroyed.');
      return null;
    },
  });
  const go = confirm.button;
  go.disabled = true;
  sure.input.addEventListener('change', () => {
    go.disabled = !sure.input.checked;
  });
  const cancel = h('button', { type: 'button', class: 'sp-btn sp-btn-quiet' }, 'Cancel');
  go.after(cancel);
  const panel = h('div', { class: 'sp-confirm', id: 'sp-recall-confirm', hidden: true }, confirm.form);
  start.addEventListener('click', () => {
    panel.hidden = false;
    start.hidden = true;
    start.setAttribute('aria-expanded', 'true');
    sure.input.focus();
  });
  cancel.addEventListener('click', () => {
    panel.hidden = true;
    start.hidden = false;
    start.setAttribute('aria-expanded', 'false');
    sure.input.checked = false;
    go.disabled = true;
    start.focus();
  });
  return section(
    'sp-recall-title',
    'Recall',
    h(
      'p',
      {},
      'Recalling destroys the key of this message, so that no one can ever open it again. Use it for a message that must not be read.',
    ),
    h('div', { class: 'sp-actions' }, start),
    panel,
  );
}
