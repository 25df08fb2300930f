// portal-account.js - the first sections of /account: who is signed in,
// the security phrase, the name and the password.
//
//   phrase     PATCH /v1/account { phrase }
//   name       PATCH /v1/account { name }
//   password   POST /v1/account/password { password, new_password }
//
// Each section is a card (shell.js section()) with its own form, errors
// next to the fields they concern, and a note when the change is made.

import { h } from '../opener/dom.js';
import { field, infoBox, metaList, newPasswordFields } from '../opener/ui.js';
import { call } from './api.js';
import { actionForm, chars, fieldOf, section, verdicts } from './shell.js';

const ROLE = { admin: 'administrator', sender: 'sender' };

/** The card at the top: name, email, organisation. */
export function overview(acct, s) {
  const card = h(
    'section',
    { class: 'sp-card sp-section', 'aria-labelledby': 'sp-title' },
    h('h1', { id: 'sp-title', tabindex: '-1' }, 'Your account'),
    h(
      'p',
      { class: 'sp-lede' },
      'The account you use to open secure messages, with every organisation that sends them through this service.',
    ),
    metaList([
      ['Name', acct.name],
      ['Email', acct.email],
      ['Member of', s.member ? `${s.member.org} (${ROLE[s.member.role] || s.member.role})` : null],
    ]),
  );
  // The first row is the name; the name section changes it.
  card.setName = (v) => {
    card.querySelector('.sp-meta dd').textContent = v;
  };
  return card;
}

/** Security phrase: what it is for, the current one, a new one. */
export function phraseSection(acct) {
  const current = h('p', { class: 'sp-phrase-text', id: 'sp-current-phrase' }, acct.phrase);
  const f = field({
    id: 'sp-new-phrase',
    label: 'New security phrase',
    maxlength: 100,
    help: 'Words you will recognise, such as "blue heron at dawn". Messages sealed from now on show it; earlier ones keep the old phrase.',
  });
  const { form } = actionForm({
    label: 'Change your security phrase',
    body: [f.wrap],
    button: 'Change phrase',
    busy: 'Saving…',
    check: () => {
      const v = f.input.value.trim();
      return verdicts([[f, !v ? 'Enter a phrase.' : chars(v) > 100 ? 'Use at most 100 characters.' : null]]);
    },
    run: async () => {
      const phrase = f.input.value.trim();
      await call('PATCH', '/v1/account', { body: { phrase } });
      current.textContent = phrase;
      f.input.value = '';
      return 'Your security phrase is changed.';
    },
    onError: (e) => showAt(e, { phrase: f }),
  });
  return section(
    'sp-phrase-title',
    'Security phrase',
    h(
      'div',
      { class: 'sp-phrase' },
      h('p', { class: 'sp-phrase-label' }, 'Your phrase'),
      current,
    ),
    infoBox(
      'Every secure message sent to you shows this phrase on its outside. If a message asking for your password does not show your phrase, ' +
        'it is not from us: no phrase, no password.',
    ),
    form,
  );
}

/** Name: the one senders and this page show. */
export function nameSection(acct, onChange) {
  const f = field({ id: 'sp-name', label: 'Name', value: acct.name, autocomplete: 'name', maxlength: 200 });
  const { form } = actionForm({
    label: 'Change your name',
    body: [f.wrap],
    button: 'Save name',
    busy: 'Saving…',
    check: () => {
      const v = f.input.value.trim();
      return verdicts([[f, !v ? 'Enter your name.' : chars(v) > 200 ? 'Use at most 200 characters.' : null]]);
    },
    run: async () => {
      const name = f.input.value.trim();
      await call('PATCH', '/v1/account', { body: { name } });
      f.input.value = name;
      onChange(name);
      return 'Your name is saved.';
    },
    onError: (e) => showAt(e, { name: f }),
  });
  return section('sp-name-title', 'Name', form);
}

/** Password: the current one, a new one twice. onChanged(): the other
 * sessions ended, so the session list changes. */
export function passwordSection(onChanged) {
  const fCur = field({
    id: 'sp-current-password',
    label: 'Current password',
    type: 'password',
    autocomplete: 'current-password',
    reveal: true,
    maxlength: 1024,
  });
  const newPw = newPasswordFields({ id: 'sp-new-password' });
  const { pw: fNew, pw2: fNew2 } = newPw;
  const { form } = actionForm({
    label: 'Change your password',
    body: [
      infoBox(
        'Changing your password signs out every other session and forgets every remembered browser. ' +
          'This browser stays signed in.',
      ),
      h('div', { class: 'sp-group' }, fCur.wrap, fNew.wrap, fNew2.wrap),
    ],
    button: 'Change password',
    busy: 'Changing your password…',
    check: () => verdicts([[fCur, fCur.input.value ? null : 'Enter your current password.'], ...newPw.problems()]),
    run: async () => {
      await call('POST', '/v1/account/password', {
        body: { password: fCur.input.value, new_password: fNew.input.value },
      });
      for (const f of [fCur, fNew, fNew2]) f.input.value = '';
      onChanged();
      return 'Your password is changed. Every other session and remembered browser is signed out.';
    },
    onError: (e) => {
      if (e.problem === 'invalid-credentials') return showAt({ ...e, field: 'password', detail: 'Wrong password.' }, { password: fCur });
      if (e.problem === 'weak-password') return showAt({ ...e, field: 'new_password' }, { new_password: fNew });
      return showAt(e, { password: fCur, new_password: fNew });
    },
  });
  return section('sp-password-title', 'Password', form);
}

/**
 * Show a problem next to the field it names (fields: API member name ->
 * field()); returns true when it did. Used as actionForm's onError.
 */
export function showAt(e, fields) {
  const f = fieldOf({ ...e, problem: e.problem === 'invalid-credentials' ? 'invalid-request' : e.problem }, fields);
  if (!f) return false;
  f.setError(e.detail || 'This is not accepted.');
  f.input.focus();
  return true;
}
