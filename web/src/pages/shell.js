// shell.js - what the signed-in pages (/account, /messages) and the
// sign-in pages share: the header band (the organisation's brand for its
// members) with the navigation and "Sign out", section cards, success
// notes, error boxes that know the API's problems, and date formatting.
// All DOM is built with h().

import { h, icon, ICONS } from '../opener/dom.js';
import { alertBox, brandBand, busySetter, chars, statusLine } from '../opener/ui.js';
import { describeProblem, signInUrl, signOut } from './api.js';

const COLOR = /^#[0-9a-fA-F]{6}$/;
const LOGO = /^data:image\/(?:png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=]+$/;

/**
 * Replace the page's header band with one for session s: the
 * organisation's brand (name, colour, logo) for its members, "sealpost"
 * otherwise; links to the console (members) and the account, and "Sign
 * out". current: 'account' or 'messages' (marked aria-current).
 */
export function installHeader(s, current) {
  const b = s && s.brand;
  const band = brandBand(
    {
      brandName: (b && typeof b.name === 'string' && b.name) || 'sealpost',
      brandColor: b && COLOR.test(b.color || '') ? b.color : null,
      brandLogo: b && LOGO.test(b.logo || '') ? b.logo : null,
    },
    null,
  );
  band.classList.add('sp-band-nav');
  const link = (href, text, page) =>
    h('a', { href, class: 'sp-nav-link', 'aria-current': current === page ? 'page' : null }, text);
  const out = h('button', { type: 'button', class: 'sp-nav-link sp-nav-button' }, 'Sign out');
  out.addEventListener('click', () => signOutNow(out));
  band.firstChild.append(
    h(
      'nav',
      { class: 'sp-nav', 'aria-label': 'Your account' },
      s && s.member ? link('/messages', 'Messages', 'messages') : null,
      link('/account', 'My account', 'account'),
      out,
    ),
  );
  document.querySelector('header.sp-band').replaceWith(band);
}

/** "Sign out": end the session and go to /signin (there even if the
 * session had ended already). */
async function signOutNow(btn) {
  btn.disabled = true;
  btn.textContent = 'Signing out…';
  try {
    await signOut();
  } catch (e) {
    if (e.problem !== 'unauthorized') {
      btn.disabled = false;
      btn.textContent = 'Sign out';
      pageAlert(errorBox(e));
      return;
    }
  }
  location.assign('/signin?bye=here');
}

/** Show node at the top of the page's main area (one at a time). */
export function pageAlert(node) {
  const main = document.querySelector('main');
  const old = main.querySelector(':scope > .sp-page-alert');
  const slot = h('div', { class: 'sp-page-alert' }, node);
  if (old) old.replaceWith(slot);
  else main.prepend(slot);
  slot.scrollIntoView({ block: 'nearest' });
}

/** The box for a failed call; a session that ended gets a "Sign in again"
 * link back to this page. */
export function errorBox(e) {
  const d = describeProblem(e);
  const extra =
    e && e.problem === 'unauthorized'
      ? h('p', {}, h('a', { href: signInUrl() }, 'Sign in again'))
      : null;
  return alertBox(d.title, d.text, { extra });
}

/** A green note that something worked (a live region). */
export function successNote(text) {
  return h('div', { class: 'sp-success', role: 'status' }, icon(ICONS.shield), h('p', {}, text));
}

/** A card with a heading (h2, id for aria-labelledby) and content. */
export function section(id, title, ...content) {
  return h(
    'section',
    { class: 'sp-card sp-section', 'aria-labelledby': id },
    h('h2', { id, tabindex: '-1' }, title),
    content,
  );
}

/** A page-level loading line. */
export const loading = (text) => h('p', { class: 'sp-status sp-busy', role: 'status' }, text);

/** A date-time in the reader's locale ("12 Mar 2026, 14:05"), '' for null. */
export function formatWhen(value) {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  try {
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  } catch {
    return d.toISOString();
  }
}

/** A <time> element for an RFC 3339 value (or text when there is none). */
export function timeEl(value, none = '—') {
  return value ? h('time', { datetime: value }, formatWhen(value)) : h('span', { class: 'sp-none' }, none);
}

/** The first field among fields (name -> field()) that a 422 problem names. */
export function fieldOf(e, fields) {
  return e && (e.problem === 'invalid-request' || e.problem === 'weak-password') && e.field ? fields[e.field] || null : null;
}

// chars(s) (ui.js): the number of Unicode characters, as the API counts them.
export { chars };

/**
 * Set each field's error (pairs of [field(), message or null]) and focus
 * the first field in error. Returns true when there is none.
 */
export function verdicts(pairs) {
  let first = null;
  for (const [f, msg] of pairs) {
    f.setError(msg);
    if (msg && !first) first = f;
  }
  if (first) first.input.focus();
  return !first;
}

/**
 * A form that does one thing: its fields, an error slot, the submit button
 * with a status line, and a slot for the success note. opts: label
 * (aria-label), body (nodes above the button), button (its text), cls
 * (its class), busy (status text while working), check() (false: do not
 * send; it shows why), run() (async; resolves to the success text or null,
 * throws a KeyServerError), onError(e) (true when it showed the error
 * itself, e.g. next to a field). Returns { form, button, note }.
 */
export function actionForm(opts) {
  const st = statusLine();
  const errorSlot = h('div', { class: 'sp-error-slot' });
  const note = h('div', { class: 'sp-note-slot' });
  const button = h('button', { type: 'submit', class: opts.cls || 'sp-btn sp-btn-primary' }, opts.button);
  const form = h(
    'form',
    { class: 'sp-form sp-form-plain', novalidate: true, 'aria-label': opts.label },
    opts.body,
    errorSlot,
    h('div', { class: 'sp-actions' }, button, st),
    note,
  );
  const setBusy = busySetter(form, st);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errorSlot.replaceChildren();
    note.replaceChildren();
    if (opts.check && !opts.check()) return;
    setBusy(true, opts.busy);
    let done;
    try {
      done = await opts.run();
    } catch (e) {
      setBusy(false);
      if (!(opts.onError && opts.onError(e))) errorSlot.replaceChildren(errorBox(e));
      return;
    }
    setBusy(false);
    if (done) note.replaceChildren(successNote(done));
  });
  return { form, button, note };
}
