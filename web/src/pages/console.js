// console.js - the script of keyd's /messages page, the console of an
// organisation's senders (their own messages) and administrators (all of
// the organisation's; the API decides which).
//
// The view follows the URL fragment, so links, reloads and back/forward
// work (hashchange):
//   #id=ID                            one message (console-detail.js)
//   #recipient=..&state=..&since=..&until=..&offset=N   the list, searched
//   (empty)                           the list, newest first
// GET /v1/session first: not signed in -> /signin?next=/messages; not a
// member of an organisation -> a note that the page is for senders and
// administrators, with a link to /account.
//
//   list    GET /v1/messages?recipient=&state=&since=&until=&limit=50&offset=
//           (since/until: the chosen days, UTC midnight; "until" includes
//           its day)

import { h, replace } from '../opener/dom.js';
import { field } from '../opener/ui.js';
import { call, requireSession } from './api.js';
import { detailView } from './console-detail.js';
import { errorBox, installHeader, loading, timeEl } from './shell.js';

const LIMIT = 50;
const STATES = ['active', 'locked', 'expired', 'recalled'];
const STATE_TEXT = { active: 'Active', locked: 'Locked', expired: 'Expired', recalled: 'Recalled' };
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const root = document.getElementById('sp-root');
let me = null; // the session
let gen = 0; // bumped by every view; late answers of older views are dropped
let lastList = ''; // the fragment of the last list shown, for "All messages"

/** A state as a coloured badge (text, not colour alone, carries it). */
function stateBadge(state) {
  return h('span', { class: `sp-state sp-state-${STATES.includes(state) ? state : 'other'}` }, STATE_TEXT[state] || String(state));
}

/** The fragment that shows the list as it was last searched. */
const listHash = () => lastList || '#';

/** The search from a fragment's parameters, cleaned. */
function searchOf(params) {
  const s = {
    recipient: (params.get('recipient') || '').slice(0, 254),
    state: STATES.includes(params.get('state')) ? params.get('state') : '',
    since: DAY.test(params.get('since') || '') ? params.get('since') : '',
    until: DAY.test(params.get('until') || '') ? params.get('until') : '',
    offset: Math.max(0, Math.floor(Number(params.get('offset')) || 0)),
  };
  return s;
}

/** The fragment for search s. */
function hashOf(s) {
  const p = new URLSearchParams();
  for (const k of ['recipient', 'state', 'since', 'until']) if (s[k]) p.set(k, s[k]);
  if (s.offset) p.set('offset', String(s.offset));
  const q = p.toString();
  return q ? `#${q}` : '#';
}

/** The day after YYYY-MM-DD, as RFC 3339 UTC midnight. */
function dayAfter(day) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The page's heading card, with the role's view of the list. */
function headingCard(title, lede, ...more) {
  return h(
    'section',
    { class: 'sp-card sp-section', 'aria-labelledby': 'sp-title' },
    h('h1', { id: 'sp-title', tabindex: '-1' }, title),
    lede ? h('p', { class: 'sp-lede' }, lede) : null,
    more,
  );
}

/** The search form, filled with s; submitting moves to its fragment. */
function searchForm(s) {
  const fRcpt = field({ id: 'sp-search-recipient', label: 'Recipient', value: s.recipient, maxlength: 254, help: 'Part of an address' });
  fRcpt.input.type = 'search';
  const fState = field({
    id: 'sp-search-state',
    label: 'State',
    type: 'select',
    options: [['', 'Any state'], ...STATES.map((x) => [x, STATE_TEXT[x]])],
    value: s.state,
  });
  const fSince = field({ id: 'sp-search-since', label: 'Sent from', value: s.since, help: 'This day on (UTC)' });
  fSince.input.type = 'date';
  const fUntil = field({ id: 'sp-search-until', label: 'Sent until', value: s.until, help: 'Up to and including this day' });
  fUntil.input.type = 'date';
  const form = h(
    'form',
    { class: 'sp-search', role: 'search', 'aria-label': 'Search messages', novalidate: true },
    h('div', { class: 'sp-search-fields' }, fRcpt.wrap, fState.wrap, fSince.wrap, fUntil.wrap),
    h(
      'div',
      { class: 'sp-actions' },
      h('button', { type: 'submit', class: 'sp-btn sp-btn-primary' }, 'Search'),
      h('button', { type: 'button', class: 'sp-btn sp-btn-quiet', on: { click: () => go('#') } }, 'Clear'),
    ),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const since = fSince.input.value;
    const until = fUntil.input.value;
    fUntil.setError(since && until && until < since ? 'Choose a day on or after "Sent from".' : null);
    if (since && until && until < since) return void fUntil.input.focus();
    go(
      hashOf({
        recipient: fRcpt.input.value.trim(),
        state: fState.input.value,
        since: DAY.test(since) ? since : '',
        until: DAY.test(until) ? until : '',
        offset: 0,
      }),
    );
  });
  return form;
}

/** Move to fragment hash (a history entry), or redraw when it is the current one. */
function go(hash) {
  if ((location.hash || '#') === hash) route();
  else location.hash = hash;
}

/** The table of one page of messages. */
function messageTable(messages) {
  const head = ['Sent', 'Sender', 'Recipients', 'Opened', 'State', 'Expires', 'Lock reason'];
  return h(
    'div',
    { class: 'sp-table-wrap' },
    h(
      'table',
      { class: 'sp-table sp-messages' },
      h('caption', { class: 'sp-sr' }, 'Messages, newest first'),
      h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        messages.map((m) => {
          const link = h('a', { href: `#id=${encodeURIComponent(m.id)}`, class: 'sp-open-link', 'aria-label': `Message ${m.id}` }, timeEl(m.created));
          const row = h(
            'tr',
            { 'data-id': m.id },
            h('td', { 'data-label': 'Sent' }, link),
            h('td', { 'data-label': 'Sender', class: 'sp-addr' }, m.sender),
            h('td', { 'data-label': 'Recipients', class: 'sp-addr' }, recipientsText(m)),
            h('td', { 'data-label': 'Opened', class: 'sp-num' }, `${m.opened} of ${m.recipients}`),
            h('td', { 'data-label': 'State' }, stateBadge(m.state)),
            h('td', { 'data-label': 'Expires' }, timeEl(m.expires, 'Never')),
            h('td', { 'data-label': 'Lock reason', class: 'sp-reason' }, m.state === 'locked' ? m.reason || null : null),
          );
          // The whole row opens the message; the link is the keyboard's way.
          row.addEventListener('click', (ev) => {
            if (!ev.target.closest('a') && !window.getSelection().toString()) go(link.getAttribute('href'));
          });
          return row;
        }),
      ),
    ),
  );
}

/** The list view for fragment parameters params. */
async function listView(params) {
  const my = ++gen;
  const s = searchOf(params);
  lastList = hashOf(s);
  const results = h('div', { class: 'sp-results', 'aria-live': 'polite' }, loading('Loading messages…'));
  const admin = me.member.role === 'admin';
  const top = headingCard(
    'Messages',
    admin
      ? `Every secure message sent from ${me.member.org}. Open one to see who opened it, or to lock, re-date or recall it.`
      : 'The secure messages you sent. Open one to see who opened it, or to lock, re-date or recall it.',
    searchForm(s),
  );
  replace(root, top, h('section', { class: 'sp-card sp-section', 'aria-label': 'Results' }, results));
  let r;
  try {
    r = await call('GET', '/v1/messages', {
      query: {
        recipient: s.recipient,
        state: s.state,
        since: s.since ? `${s.since}T00:00:00Z` : '',
        until: s.until ? dayAfter(s.until) : '',
        limit: LIMIT,
        offset: s.offset,
      },
    });
  } catch (e) {
    if (my !== gen) return;
    if (e.problem === 'forbidden') return notMember();
    const retry = h('button', { type: 'button', class: 'sp-btn', on: { click: route } }, 'Try again');
    results.replaceChildren(errorBox(e), h('div', { class: 'sp-actions' }, retry));
    return;
  }
  if (my !== gen) return;
  const list = Array.isArray(r.messages) ? r.messages : [];
  const total = Number.isInteger(r.total) ? r.total : list.length;
  const filtered = s.recipient || s.state || s.since || s.until;
  if (!list.length) {
    replace(
      results,
      h('p', { class: 'sp-summary' }, total && s.offset ? 'No messages on this page.' : filtered ? 'No messages match this search.' : 'No messages yet.'),
      s.offset ? h('p', {}, h('a', { href: hashOf({ ...s, offset: 0 }) }, 'Back to the first page')) : null,
    );
    return;
  }
  const from = s.offset + 1;
  const to = s.offset + list.length;
  const pager = h(
    'nav',
    { class: 'sp-pager', 'aria-label': 'Pages' },
    s.offset > 0 ? h('a', { class: 'sp-btn sp-btn-small', href: hashOf({ ...s, offset: Math.max(0, s.offset - LIMIT) }), rel: 'prev' }, 'Previous') : null,
    to < total ? h('a', { class: 'sp-btn sp-btn-small', href: hashOf({ ...s, offset: s.offset + LIMIT }), rel: 'next' }, 'Next') : null,
  );
  replace(
    results,
    h('p', { class: 'sp-summary', id: 'sp-summary' }, `Showing ${from}–${to} of ${total}`),
    messageTable(list),
    pager.childElementCount ? pager : null,
  );
}

/** "pat@example.com, sam@example.net and 3 more" (the list names at most three). */
function recipientsText(m) {
  const to = Array.isArray(m.to) ? m.to.filter((a) => typeof a === 'string') : [];
  if (!to.length) return String(m.recipients);
  const more = m.recipients - to.length;
  return more > 0 ? `${to.join(', ')} and ${more} more` : to.join(', ');
}

/** For accounts that are not an organisation's sender or administrator. */
function notMember() {
  gen++;
  replace(
    root,
    headingCard(
      'This page is for senders and administrators',
      'Here an organisation\'s senders and administrators manage the secure messages they sent. Your account is not one of them.',
      h('p', {}, 'To change your security phrase, password or questions, go to ', h('a', { href: '/account' }, 'your account'), '.'),
    ),
  );
  root.querySelector('h1').focus();
}

/** Show the view the fragment names. */
function route() {
  const params = new URLSearchParams(location.hash.slice(1));
  const id = params.get('id');
  if (id) {
    const my = ++gen;
    detailView(root, id, { current: () => my === gen, back: listHash(), badge: stateBadge });
  } else {
    listView(params).then(() => {
      const h1 = root.querySelector('h1');
      if (h1 && document.activeElement === document.body) h1.focus();
    });
  }
}

async function start() {
  replace(root, loading('Loading…'));
  try {
    me = await requireSession();
  } catch (e) {
    const retry = h('button', { type: 'button', class: 'sp-btn', on: { click: start } }, 'Try again');
    replace(root, h('section', { class: 'sp-card' }, h('h1', {}, 'Messages'), errorBox(e), h('div', { class: 'sp-actions' }, retry)));
    return;
  }
  if (!me) return;
  installHeader(me, 'messages');
  if (!me.member) return notMember();
  window.addEventListener('hashchange', route);
  route();
}

if (root && root.dataset.page === 'messages') start();
