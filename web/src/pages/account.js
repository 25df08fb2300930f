// account.js - the script of keyd's /activate and /reset pages, the two
// links keyd mails to recipients.
//
// The token arrives in the URL fragment (#token=spa_... or #token=spr_...),
// which browsers never send to a server, so it stays out of every log; this
// script reads it, sends it in a JSON body to the API of the same origin
// (the page's CSP allows connect-src 'self' only) and removes it from the
// address bar once it has been used. No cookies; all text via h().
//
//   /activate  "The password you chose when you registered" + button
//              "Activate account" -> POST /v1/accounts/activate { token,
//              password }: the link proves the mailbox, the password who
//              registered; only the two together activate
//   /reset     POST /v1/accounts/reset/questions -> the questions, "New
//              password", "Confirm new password" -> "Reset password" ->
//              POST /v1/accounts/reset/confirm

import { h, replace, icon, ICONS } from '../opener/dom.js';
import { KeyServer, describeKeyServerError } from '../opener/keyserver.js';
import { alertBox, brandBand, busySetter, field, newPasswordFields, statusLine } from '../opener/ui.js';

const ks = new KeyServer(location.origin);
const card = document.getElementById('sp-card');

/** The token of the given prefix from location.hash, or null. */
function tokenFromHash(prefix) {
  const t = new URLSearchParams(location.hash.slice(1)).get('token');
  return t && t.startsWith(prefix) && /^[A-Za-z0-9_-]+$/.test(t) ? t : null;
}

/** Drop the fragment (the used token) from the address bar and history. */
function forgetToken() {
  history.replaceState(null, '', location.pathname);
}

const errorFor = (e) => {
  const d = describeKeyServerError(e, location.origin);
  return alertBox(d.title, d.text);
};

/** Replace the card with a heading and content; focus the heading. */
function page(title, ...content) {
  const h1 = h('h1', { id: 'sp-title', tabindex: '-1' }, title);
  replace(card, h1, content);
  h1.focus();
}

function done(title, ...lines) {
  page(title, h('div', { class: 'sp-seal sp-seal-ok' }, icon(ICONS.shield)), lines.filter(Boolean).map((l) => h('p', {}, l)));
  card.insertBefore(card.querySelector('.sp-seal'), card.firstChild);
}

function incomplete(what) {
  page(
    card.querySelector('h1').textContent,
    alertBox(
      'This link is incomplete',
      `Open the link in the ${what} email again. If your email program split it over two lines, copy the whole link into the address bar.`,
    ),
  );
}

// ---- /activate -----------------------------------------------------------------

function activatePage() {
  const token = tokenFromHash('spa_');
  if (!token) return incomplete('activation');
  const st = statusLine();
  const errorSlot = h('div', { class: 'sp-error-slot' });
  const fPw = field({
    id: 'sp-activate-password',
    label: 'The password you chose when you registered',
    type: 'password',
    autocomplete: 'current-password',
    reveal: true,
    maxlength: 1024,
  });
  const btn = h('button', { type: 'submit', class: 'sp-btn sp-btn-primary' }, 'Activate account');
  const form = h(
    'form',
    { class: 'sp-form sp-form-plain', novalidate: true, 'aria-label': 'Activate your account' },
    h('p', {}, 'You registered an account to open secure messages. To finish, enter the password you chose when you registered.'),
    h(
      'p',
      { class: 'sp-hint' },
      'This link works only with that password. If you did not register, or do not know the password, ignore the link: ' +
        'nothing happens without it, and you can register yourself from the secure message.',
    ),
    fPw.wrap,
    errorSlot,
    h('div', { class: 'sp-actions' }, btn, st),
  );
  const setBusy = busySetter(form, st);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errorSlot.replaceChildren();
    fPw.setError(null);
    const password = fPw.input.value;
    if (!password) {
      fPw.setError('Enter the password you chose when you registered.');
      fPw.input.focus();
      return;
    }
    setBusy(true, 'Activating…');
    let r;
    try {
      r = await ks.activate(token, password);
    } catch (e) {
      setBusy(false);
      if (e.problem === 'invalid-credentials') {
        fPw.setError('This is not the password chosen when this address was registered. Try again.');
        fPw.input.select();
        fPw.input.focus();
      } else if (e.problem === 'token-invalid') {
        forgetToken();
        page(
          'Activate your account',
          alertBox(
            'This activation link is not valid any more',
            'It was used already, it is more than 24 hours old, or the address was activated with another link. If you activated your account already, go back to your ' +
              'secure message and sign in. Otherwise open the secure message again and register once more to get a new link.',
          ),
        );
      } else {
        errorSlot.replaceChildren(errorFor(e));
      }
      return;
    }
    fPw.input.value = '';
    forgetToken();
    done(
      'Account activated',
      'Your account is active. Go back to your secure message and sign in.',
      typeof r.email === 'string' ? `Account: ${r.email}` : null,
    );
  });
  replace(card, card.querySelector('h1'), form);
  fPw.input.focus();
}

// ---- /reset --------------------------------------------------------------------

async function resetPage() {
  const token = tokenFromHash('spr_');
  if (!token) return incomplete('password reset');
  const loading = h('p', { class: 'sp-status sp-busy', role: 'status' }, 'Loading your security questions…');
  replace(card, card.querySelector('h1'), loading);
  const invalid = () => {
    forgetToken();
    page(
      'Choose a new password',
      alertBox(
        'This reset link is not valid any more',
        'It was used already, or it is more than an hour old. Ask for a new one with "Forgot your password?" in your secure message.',
      ),
    );
  };
  let info;
  try {
    info = await ks.resetQuestions(token);
  } catch (e) {
    if (e.problem === 'token-invalid') return invalid();
    replace(
      card,
      card.querySelector('h1'),
      errorFor(e),
      h('div', { class: 'sp-actions' }, h('button', { type: 'button', class: 'sp-btn', on: { click: resetPage } }, 'Try again')),
    );
    return;
  }
  const questions = Array.isArray(info.questions) ? info.questions.filter((q) => typeof q === 'string') : [];
  const answers = questions.map((q, i) => field({ id: `sp-answer-${i + 1}`, label: q, maxlength: 200 }));
  const newPw = newPasswordFields({ id: 'sp-new-password' });
  const { pw: fPw, pw2: fPw2 } = newPw;
  const st = statusLine();
  const errorSlot = h('div', { class: 'sp-error-slot' });
  const form = h(
    'form',
    { class: 'sp-form sp-form-plain', novalidate: true, 'aria-label': 'Choose a new password' },
    h('p', {}, `Choose a new password for ${typeof info.email === 'string' ? info.email : 'your account'}. First answer your security questions (not case-sensitive).`),
    answers.length ? h('fieldset', { class: 'sp-group' }, h('legend', {}, 'Security questions'), answers.map((a) => a.wrap)) : null,
    h('div', { class: 'sp-group' }, fPw.wrap, fPw2.wrap),
    errorSlot,
    h('div', { class: 'sp-actions' }, h('button', { type: 'submit', class: 'sp-btn sp-btn-primary' }, 'Reset password'), st),
  );
  const setBusy = busySetter(form, st);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errorSlot.replaceChildren();
    const bad = [];
    const verdict = (f, msg) => {
      f.setError(msg);
      if (msg) bad.push(f.input);
    };
    for (const a of answers) verdict(a, a.input.value.trim() ? null : 'Answer this question.');
    const pw = fPw.input.value;
    for (const [f, msg] of newPw.problems()) verdict(f, msg);
    if (bad.length) return void bad[0].focus();
    setBusy(true, 'Changing your password…');
    try {
      await ks.resetConfirm(token, answers.map((a) => a.input.value.trim()), pw);
    } catch (e) {
      setBusy(false);
      if (e.problem === 'token-invalid') return invalid();
      if (e.problem === 'weak-password') {
        fPw.setError(e.detail || 'Choose a longer or less common password.');
        fPw.input.focus();
      } else if (e.problem === 'invalid-answers') {
        errorSlot.replaceChildren(
          alertBox(
            'Some answers are wrong',
            'Check your answers and try again; they are not case-sensitive. After too many wrong attempts the account is locked for a while.',
          ),
        );
        if (answers[0]) answers[0].input.focus();
      } else if (e.problem === 'invalid-request' && /^answers\[(\d+)\]$/.test(e.field || '') && answers[Number(/\d+/.exec(e.field)[0])]) {
        const a = answers[Number(/\d+/.exec(e.field)[0])];
        a.setError(e.detail || 'This answer is not accepted.');
        a.input.focus();
      } else if (e.problem === 'invalid-request' && e.field === 'password') {
        fPw.setError(e.detail || 'This password is not accepted.');
        fPw.input.focus();
      } else {
        errorSlot.replaceChildren(errorFor(e));
      }
      return;
    }
    forgetToken();
    done(
      'Password changed',
      'Your password has been changed. Go back to your secure message and sign in with your new password.',
      'For your safety, every session and every remembered browser of your account has been signed out.',
    );
  });
  replace(card, card.querySelector('h1'), form);
  (answers[0] ? answers[0].input : fPw.input).focus();
}

/**
 * The link of a mail sent about a message carries its id (#token=...&m=ID):
 * the band then shows the brand of the organisation that sent it, as its
 * envelope and mail did. Read before the fragment is dropped; without it,
 * or if the brand cannot be had, the plain band stays.
 */
async function showBrand(id) {
  if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) return;
  let b;
  try {
    b = await ks.call('GET', `/v1/messages/${id}/brand`);
  } catch {
    return;
  }
  const band = document.querySelector('header.sp-band');
  if (!band || !b || typeof b.name !== 'string') return;
  band.replaceWith(
    brandBand(
      {
        brandName: b.name,
        brandColor: typeof b.color === 'string' && /^#[0-9a-fA-F]{6}$/.test(b.color) ? b.color : undefined,
        brandLogo: typeof b.logo === 'string' && /^data:image\/(png|jpeg|svg\+xml);base64,/.test(b.logo) ? b.logo : undefined,
      },
      'Secure messages',
    ),
  );
}

showBrand(new URLSearchParams(location.hash.slice(1)).get('m'));
if (card && card.dataset.page === 'activate') activatePage();
else if (card && card.dataset.page === 'reset') resetPage();
