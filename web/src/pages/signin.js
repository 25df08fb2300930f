// signin.js - keyd's /signin and /forgot pages.
//
//   /signin   "Email", "Password" -> "Sign in" -> POST /v1/sessions with
//             cookie: true (keyd sets its HttpOnly session cookie) -> the
//             page named by ?next= (/messages or /account only, with
//             a fragment), else the
//             console for members of an organisation and the account page
//             for everyone else. Already signed in: straight there.
//             ?bye=here|everywhere|deleted says why one is here.
//   /forgot   "Email" -> "Send link" -> POST /v1/accounts/reset -> the same
//             answer whether or not the address has an account; the mailed
//             link opens /reset.

import { h, replace, icon, ICONS } from '../opener/dom.js';
import { alertBox, busySetter, field, infoBox, statusLine } from '../opener/ui.js';
import { call, session, signIn } from './api.js';
import { errorBox, fieldOf, successNote } from './shell.js';

// ?next= may name only these pages (with a fragment such as #id=...), never
// another site or path: the sign-in form is no open redirect.
const NEXT = /^\/(?:messages|account)(?:#[A-Za-z0-9=&%._~-]*)?$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** Where to go after signing in: ?next= when it is one of our pages. */
function nextPath() {
  const n = new URLSearchParams(location.search).get('next');
  return n && NEXT.test(n) ? n : null;
}

/** The destination for a signed-in session s. */
const destination = (s) => nextPath() || (s && s.member ? '/messages' : '/account');

const BYE = {
  here: 'You are signed out.',
  everywhere: 'You are signed out on every device and browser.',
  deleted: 'Your account was deleted.',
};

function checkEmail(f) {
  const v = f.input.value.trim();
  const msg = !v ? 'Enter your email address.' : !EMAIL.test(v) ? 'Enter an email address like name@example.org.' : null;
  f.setError(msg);
  return msg ? null : v;
}

/** The /signin page in card. */
export async function signInPage(card) {
  const title = card.querySelector('h1');
  const bye = BYE[new URLSearchParams(location.search).get('bye')] || null;
  if (!bye) {
    // Signed in already (another tab, a reload): no form needed.
    replace(card, title, h('p', { class: 'sp-status sp-busy', role: 'status' }, 'One moment…'));
    try {
      const s = await session();
      location.replace(destination(s));
      return;
    } catch {
      // not signed in (401), or the server is unreachable: the form says more
    }
  }
  const fEmail = field({ id: 'sp-email', label: 'Email', type: 'email', autocomplete: 'username', maxlength: 254 });
  const fPw = field({
    id: 'sp-password',
    label: 'Password',
    type: 'password',
    autocomplete: 'current-password',
    reveal: true,
    maxlength: 1024,
  });
  const st = statusLine();
  const errorSlot = h('div', { class: 'sp-error-slot' });
  const form = h(
    'form',
    { class: 'sp-form sp-form-plain', novalidate: true, 'aria-labelledby': 'sp-title' },
    bye ? successNote(bye) : null,
    h('p', { class: 'sp-lede' }, 'Sign in to manage your account or, for senders and administrators, your secure messages.'),
    fEmail.wrap,
    fPw.wrap,
    errorSlot,
    h('div', { class: 'sp-actions' }, h('button', { type: 'submit', class: 'sp-btn sp-btn-primary' }, 'Sign in'), st),
    h('p', { class: 'sp-ks-links' }, h('a', { href: '/forgot' }, 'Forgot your password?')),
  );
  const setBusy = busySetter(form, st);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errorSlot.replaceChildren();
    const email = checkEmail(fEmail);
    const pw = fPw.input.value;
    fPw.setError(email && !pw ? 'Enter your password.' : null);
    if (!email) return void fEmail.input.focus();
    if (!pw) return void fPw.input.focus();
    setBusy(true, 'Signing in…');
    try {
      await signIn(email, pw);
    } catch (e) {
      setBusy(false);
      const f = fieldOf(e, { email: fEmail, password: fPw });
      if (e.problem === 'invalid-credentials') {
        fPw.setError('Wrong email or password. Check both and try again.');
        fPw.input.select();
        fPw.input.focus();
      } else if (e.problem === 'account-inactive') {
        errorSlot.replaceChildren(
          alertBox('Your account is not activated yet', 'Follow the link in the activation email we sent you, then sign in.'),
        );
      } else if (f) {
        f.setError(e.detail || 'This is not accepted.');
        f.input.focus();
      } else {
        errorSlot.replaceChildren(errorBox(e));
      }
      return;
    }
    setBusy(true, 'Signed in. Opening…');
    let s = null;
    if (!nextPath()) {
      try {
        s = await session();
      } catch {
        // signed in all the same: the account page is everyone's
      }
    }
    location.assign(destination(s));
  });
  replace(card, title, form);
  fEmail.input.focus();
}

/** The /forgot page in card. */
export function forgotPage(card) {
  const title = card.querySelector('h1');
  const fEmail = field({ id: 'sp-email', label: 'Email', type: 'email', autocomplete: 'username', maxlength: 254 });
  const st = statusLine();
  const errorSlot = h('div', { class: 'sp-error-slot' });
  const form = h(
    'form',
    { class: 'sp-form sp-form-plain', novalidate: true, 'aria-labelledby': 'sp-title' },
    h(
      'p',
      { class: 'sp-lede' },
      'Enter the email address of your account. We will mail you a link to choose a new password; ' +
        'you will also answer your security questions.',
    ),
    fEmail.wrap,
    errorSlot,
    h('div', { class: 'sp-actions' }, h('button', { type: 'submit', class: 'sp-btn sp-btn-primary' }, 'Send link'), st),
    h('p', { class: 'sp-ks-links' }, h('a', { href: '/signin' }, 'Back to sign in')),
  );
  const setBusy = busySetter(form, st);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errorSlot.replaceChildren();
    const email = checkEmail(fEmail);
    if (!email) return void fEmail.input.focus();
    setBusy(true, 'Sending…');
    try {
      await call('POST', '/v1/accounts/reset', { body: { email }, csrf: false });
    } catch (e) {
      setBusy(false);
      const f = fieldOf(e, { email: fEmail });
      if (f) {
        f.setError(e.detail || 'This address is not accepted.');
        f.input.focus();
      } else {
        errorSlot.replaceChildren(errorBox(e));
      }
      return;
    }
    const h1 = h('h1', { id: 'sp-title', tabindex: '-1' }, 'Check your inbox');
    replace(
      card,
      h('div', { class: 'sp-inbox-icon' }, icon(ICONS.mail)),
      h1,
      h('p', { class: 'sp-lede' }, 'If an account exists for that address, we mailed a link to choose a new password.'),
      infoBox('The link is valid for one hour. If no mail arrives within a few minutes, check your spam folder or try again.', ICONS.clock),
      h('p', { class: 'sp-ks-links' }, h('a', { href: '/signin' }, 'Back to sign in')),
    );
    h1.focus();
  });
  replace(card, title, form);
  fEmail.input.focus();
}
