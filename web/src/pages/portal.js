// portal.js - the script of keyd's /signin, /forgot and /account pages
// (the card's data-page says which).
//
// /account is the recipient portal, for everyone with an account (an
// organisation's senders and administrators included, for their own
// account): GET /v1/session (not signed in: off to /signin?next=/account),
// GET /v1/account, then one card per concern (portal-account.js,
// portal-security.js). The session is keyd's HttpOnly cookie; the CSRF
// token every change sends stays in api.js's memory.

import { h, replace } from '../opener/dom.js';
import { call, requireSession } from './api.js';
import { nameSection, overview, passwordSection, phraseSection } from './portal-account.js';
import { deleteSection, questionsSection, sessionsSection } from './portal-security.js';
import { errorBox, installHeader, loading } from './shell.js';
import { forgotPage, signInPage } from './signin.js';

async function accountPage(root) {
  replace(root, loading('Loading your account…'));
  let s;
  let acct;
  try {
    s = await requireSession();
    if (!s) return;
    acct = await call('GET', '/v1/account');
  } catch (e) {
    const retry = h('button', { type: 'button', class: 'sp-btn', on: { click: () => accountPage(root) } }, 'Try again');
    replace(root, h('section', { class: 'sp-card' }, h('h1', {}, 'Your account'), errorBox(e), h('div', { class: 'sp-actions' }, retry)));
    return;
  }
  installHeader(s, 'account');
  const top = overview(acct, s);
  const sessions = sessionsSection(acct);
  // After a new password the other sessions are gone: redraw the list.
  const refreshSessions = async () => {
    try {
      sessions.update(await call('GET', '/v1/account'));
    } catch {
      // the list stays as it was; the change itself succeeded
    }
  };
  replace(
    root,
    top,
    phraseSection(acct),
    nameSection(acct, top.setName),
    passwordSection(refreshSessions),
    questionsSection(acct),
    sessions,
    deleteSection(s),
  );
  top.querySelector('h1').focus();
}

const root = document.getElementById('sp-root');
const page = root && root.dataset.page;
if (page === 'signin') signInPage(root);
else if (page === 'forgot') forgotPage(root);
else if (page === 'account') accountPage(root);
