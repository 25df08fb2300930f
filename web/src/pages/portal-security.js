// portal-security.js - the last sections of /account: security questions,
// sessions, and deleting the account.
//
//   questions  PUT /v1/account/questions { password, questions: [{q, a}] } (2-5)
//   sessions   the list from GET /v1/account; "Sign out everywhere" ->
//              DELETE /v1/sessions -> /signin
//   delete     DELETE /v1/account { password } (an organisation's members
//              are refused with 403: its administrator removes them)

import { h, replace } from '../opener/dom.js';
import { alertBox, checkbox, field, infoBox } from '../opener/ui.js';
import { call } from './api.js';
import { showAt } from './portal-account.js';
import { actionForm, chars, section, timeEl, verdicts } from './shell.js';

const MIN_QUESTIONS = 2;
const MAX_QUESTIONS = 5;
// Offered as suggestions; any question of one's own is as good.
const SUGGESTIONS = [
  'What was the name of your first pet?',
  'In which town or city did your parents meet?',
  'What was the first concert you went to?',
  'What is the name of the street you grew up on?',
  'What was your childhood nickname?',
  'Which teacher did you like most at school?',
];

/** The current question texts as a list. */
function questionList(questions) {
  return questions.length
    ? h('ol', { class: 'sp-qlist', id: 'sp-current-questions' }, questions.map((q) => h('li', {}, q)))
    : h('p', { class: 'sp-none', id: 'sp-current-questions' }, 'No security questions are set.');
}

/** Security questions: the current texts, and a form that replaces them all. */
export function questionsSection(acct) {
  let current = questionList(acct.questions);
  const pairs = [];
  const list = h('div', { class: 'sp-questions' });
  const datalist = h('datalist', { id: 'sp-question-suggestions' }, SUGGESTIONS.map((q) => h('option', { value: q })));
  const addBtn = h('button', { type: 'button', class: 'sp-btn sp-btn-small' }, 'Add a question');
  const removeBtn = h('button', { type: 'button', class: 'sp-btn sp-btn-small sp-btn-quiet' }, 'Remove the last question');
  const sync = () => {
    addBtn.hidden = pairs.length >= MAX_QUESTIONS;
    removeBtn.hidden = pairs.length <= MIN_QUESTIONS;
  };
  const addPair = () => {
    const n = pairs.length + 1;
    const q = field({ id: `sp-q${n}`, label: `Question ${n}`, maxlength: 200, list: 'sp-question-suggestions' });
    const a = field({ id: `sp-a${n}`, label: `Answer ${n}`, maxlength: 200 });
    const wrap = h('div', { class: 'sp-question' }, q.wrap, a.wrap);
    pairs.push({ q, a, wrap });
    list.append(wrap);
    sync();
    return q;
  };
  addBtn.addEventListener('click', () => addPair().input.focus());
  removeBtn.addEventListener('click', () => {
    pairs.pop().wrap.remove();
    sync();
    pairs[pairs.length - 1].a.input.focus();
  });
  for (let i = 0; i < MIN_QUESTIONS; i++) addPair();
  const fPw = field({
    id: 'sp-questions-password',
    label: 'Current password',
    type: 'password',
    autocomplete: 'current-password',
    reveal: true,
    maxlength: 1024,
  });
  const { form } = actionForm({
    label: 'Replace your security questions',
    body: [
      h('h3', {}, 'Replace your questions'),
      h(
        'p',
        { class: 'sp-hint' },
        `Write ${MIN_QUESTIONS} to ${MAX_QUESTIONS} questions whose answers only you know; they replace all the current ones. ` +
          'Answers are not case-sensitive.',
      ),
      datalist,
      list,
      h('div', { class: 'sp-actions sp-actions-tight' }, addBtn, removeBtn),
      h('div', { class: 'sp-group' }, fPw.wrap),
    ],
    button: 'Save questions',
    busy: 'Saving your questions…',
    check: () => {
      const seen = new Set();
      const out = [];
      for (const p of pairs) {
        const q = p.q.input.value.trim();
        const a = p.a.input.value.trim();
        const key = q.toLowerCase();
        out.push([p.q, !q ? 'Write a question.' : chars(q) > 200 ? 'Use at most 200 characters.' : seen.has(key) ? 'Use a different question for each.' : null]);
        out.push([p.a, !a ? 'Answer this question.' : chars(a) > 200 ? 'Use at most 200 characters.' : null]);
        seen.add(key);
      }
      out.push([fPw, fPw.input.value ? null : 'Enter your current password.']);
      return verdicts(out);
    },
    run: async () => {
      const questions = pairs.map((p) => ({ q: p.q.input.value.trim(), a: p.a.input.value.trim() }));
      await call('PUT', '/v1/account/questions', { body: { password: fPw.input.value, questions } });
      const fresh = questionList(questions.map((x) => x.q));
      current.replaceWith(fresh);
      current = fresh;
      for (const p of pairs) p.q.input.value = p.a.input.value = '';
      fPw.input.value = '';
      return 'Your security questions are replaced.';
    },
    onError: (e) => {
      if (e.problem === 'invalid-credentials') return showAt({ ...e, field: 'password', detail: 'Wrong password.' }, { password: fPw });
      const m = /^questions\[(\d+)\]\.(q|a)$/.exec(e.field || '');
      const p = m && pairs[Number(m[1])];
      if (e.problem === 'invalid-request' && p) return showAt(e, { [e.field]: m[2] === 'q' ? p.q : p.a });
      return showAt(e, { password: fPw });
    },
  });
  return section(
    'sp-questions-title',
    'Security questions',
    h(
      'p',
      {},
      'If you forget your password, you choose a new one with a link sent to your email and the answers to these questions.',
    ),
    h('p', { class: 'sp-label' }, 'Your questions'),
    current,
    form,
  );
}

const METHOD = { password: 'Signed in with the password', device: 'Remembered browser' };

/** Sessions: the live ones, the remembered browsers, "Sign out everywhere".
 * Returns the card; card.update(acct) redraws the list. */
export function sessionsSection(acct) {
  const body = h('div', {});
  const draw = (a) => {
    const sessions = Array.isArray(a.sessions) ? a.sessions : [];
    const n = Number.isInteger(a.remembered_browsers) ? a.remembered_browsers : 0;
    replace(
      body,
      h(
        'ul',
        { class: 'sp-sessions', 'aria-label': 'Sessions' },
        sessions.map((s) =>
          h(
            'li',
            { class: 'sp-session' },
            h(
              'p',
              { class: 'sp-session-what' },
              METHOD[s.method] || s.method,
              s.current ? h('span', { class: 'sp-tag' }, 'This browser') : null,
            ),
            h('p', { class: 'sp-session-when' }, 'Started ', timeEl(s.created), ' · ends ', timeEl(s.expires)),
          ),
        ),
      ),
      h(
        'p',
        { id: 'sp-remembered' },
        n === 0
          ? 'No browser is remembered.'
          : n === 1
            ? '1 browser is remembered ("Remember this browser" when opening a message).'
            : `${n} browsers are remembered ("Remember this browser" when opening a message).`,
      ),
    );
  };
  draw(acct);
  const { form } = actionForm({
    label: 'Sign out everywhere',
    body: [
      h(
        'p',
        { class: 'sp-hint' },
        'Ends every session, this one included, and forgets every remembered browser. Use it if you signed in on a computer that is not yours.',
      ),
    ],
    button: 'Sign out everywhere',
    cls: 'sp-btn',
    busy: 'Signing out everywhere…',
    run: async () => {
      await call('DELETE', '/v1/sessions');
      location.assign('/signin?bye=everywhere');
      return null;
    },
  });
  const card = section('sp-sessions-title', 'Sessions', body, form);
  card.update = draw;
  return card;
}

/** Delete the account: the password and an explicit confirmation. */
export function deleteSection(s) {
  const fPw = field({
    id: 'sp-delete-password',
    label: 'Password',
    type: 'password',
    autocomplete: 'current-password',
    reveal: true,
    maxlength: 1024,
  });
  const sure = checkbox(
    'sp-delete-confirm',
    'I understand that my account is deleted for good',
    'Your name, security phrase, questions, sessions and remembered browsers are removed. ' +
      'To open a secure message after that, you register again.',
  );
  const sureError = h('p', { id: 'sp-delete-confirm-error', class: 'sp-field-error', hidden: true });
  sure.wrap.lastChild.append(sureError);
  const { form } = actionForm({
    label: 'Delete your account',
    body: [
      s.member
        ? infoBox(`Your account belongs to ${s.member.org}: its administrator removes it.`)
        : null,
      fPw.wrap,
      sure.wrap,
    ],
    button: 'Delete account',
    cls: 'sp-btn sp-btn-danger',
    busy: 'Deleting your account…',
    check: () => {
      sureError.hidden = sure.input.checked;
      sureError.textContent = sure.input.checked ? '' : 'Tick this box to confirm.';
      if (!verdicts([[fPw, fPw.input.value ? null : 'Enter your password.']])) return false;
      if (!sure.input.checked) sure.input.focus();
      return sure.input.checked;
    },
    run: async () => {
      await call('DELETE', '/v1/account', { body: { password: fPw.input.value } });
      location.assign('/signin?bye=deleted');
      return null;
    },
    onError: (e) => {
      if (e.problem === 'invalid-credentials') return showAt({ ...e, field: 'password', detail: 'Wrong password.' }, { password: fPw });
      if (e.status === 403 && e.problem === 'forbidden') {
        form.querySelector('.sp-error-slot').replaceChildren(
          alertBox('Your account cannot be deleted here', e.detail || 'Your organisation manages this account.'),
        );
        return true;
      }
      return false;
    },
  });
  return section('sp-delete-title', 'Delete account', form);
}
