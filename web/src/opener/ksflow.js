// ksflow.js - the way into a key-server envelope (keyAccess.type
// "keyserver"): find the reader's address, ask the key server about the
// message and the reader's account, then register, wait for activation,
// sign in (password, a remembered browser, or nothing for security "low"),
// fetch the message key and hand it to the ordinary decryption path.
//
// API: docs/api/openapi.yaml (client in keyserver.js). The flow:
//   address    policy.to has one address: it; otherwise the reader types or
//              picks theirs ("Email"). policy.to names only the To and Cc
//              recipients: a Bcc reader is not in it, so any address may be
//              given ("Use another address" is always offered) and the key
//              server decides
//   status     GET /v1/messages/{id}/status?rcpt= -> state and account
//   locked / expired / recalled          -> a final explanation
//   account "unregistered"               -> registration -> "Check your inbox"
//   account "pending"                    -> "Check your inbox" (polls status),
//                                           or register (again): each
//                                           registration keeps its own link
//                                           and password, none replaces another
//   account "active"                     -> sign in -> key -> sign out -> open
// Sessions live only in memory and end (DELETE /v1/sessions/current) as soon
// as the key is here. A "remembered browser" (security "medium") exists only
// on the key server's own origin (its /open page): the device token is in an
// HttpOnly, SameSite=Strict cookie of keyd that no script reads, and
// localStorage of keyd's origin keeps only a non-secret note that it is
// there. An envelope opened from a file or a webmail never remembers: every
// local file shares its storage (issue 13 item 11).
// Nothing here uses markup: every node comes from h().

import { answerActions } from './compose.js';
import { h, icon, ICONS } from './dom.js';
import { EnvelopeError } from './envelope.js';
import { formatDate } from './format.js';
import { KeyServer, describeKeyServerError } from './keyserver.js';
import { alertBox, busySetter, checkbox, errorBox, field, infoBox, newPasswordFields, statusLine } from './ui.js';

const POLL_MS = 4000;
const POLL_FOR_MS = 30 * 60 * 1000; // then "Continue" is the way on
const OWN = '__own__';
const QUESTIONS = [
  'What was the name of your first pet?',
  'In which town or city did your parents meet?',
  'What was the first concert you went to?',
  'What is the name of the street you grew up on?',
  'What was the make of your first bicycle or car?',
  'What was your childhood nickname?',
  'Which teacher did you like most at school?',
  'What is the title of your favourite book?',
];
const MIN_QUESTIONS = 2;
const MAX_QUESTIONS = 5;

const sameAddress = (a, b) => a.toLowerCase() === b.toLowerCase();

/** localStorage, or null where the browser refuses it (some file:// setups). */
function storage() {
  try {
    const s = window.localStorage;
    s.getItem('sealpost');
    return s;
  } catch {
    return null;
  }
}

/** The final word on a message the key server will not release. */
function stateView(s) {
  let title;
  let text;
  let more;
  let ic = ICONS.alert;
  if (s.state === 'locked') {
    title = 'This message is locked';
    text = s.reason ? `This message was locked by the sender: ${s.reason}` : 'This message was locked by the sender.';
    more = 'Its key is not released while it is locked. Contact the sender if you need it.';
  } else if (s.state === 'expired') {
    title = 'This message has expired';
    text = s.expires ? `It expired on ${formatDate(s.expires)}.` : 'It has expired.';
    more = 'The key server no longer releases its key. Ask the sender to send it again if you still need it.';
    ic = ICONS.clock;
  } else {
    title = 'This message was recalled';
    text = 'The sender withdrew (recalled) it.';
    more = 'Its key has been destroyed, so no one can open it any more. Contact the sender if you need it.';
  }
  return h('div', { class: 'sp-form sp-ks-final' }, alertBox(title, text, { icon: ic, extra: h('p', {}, more) }));
}

/** A state from a refused key or status call (403/410), or null. */
function stateOfError(e) {
  switch (e && e.problem) {
    case 'message-locked':
      return { state: 'locked', reason: e.reason };
    case 'message-expired':
      return { state: 'expired', expires: e.expires };
    case 'message-recalled':
      return { state: 'recalled' };
    default:
      return null;
  }
}

const button = (text, onClick, cls = 'sp-btn') => h('button', { type: 'button', class: cls, on: { click: onClick } }, text);
const linkButton = (text, onClick) => button(text, onClick, 'sp-linkbtn');

/**
 * The key-server panel for env inside app. ctx.canConnect(origin) says
 * whether this document may reach the key server; openWithKey(app, env,
 * key, hooks) decrypts and shows the message (view.js). Returns the panel
 * element; the flow starts at once.
 */
export function keyServerPanel(app, env, ctx, openWithKey) {
  const { header } = env;
  const id = header.id;
  const ks = new KeyServer(header.keyAccess.url);
  const recipients = header.policy.to;
  const body = h('div', { class: 'sp-ks-body' });
  const panel = h(
    'div',
    { class: 'sp-ks' },
    infoBox(`This message is released by the key server ${ks.host} after you sign in.`),
    body,
  );

  let email = null;
  let status = null;
  let gen = 0; // bumped by every view; stale answers and timers check it

  const show = (view, focus) => {
    gen++;
    body.replaceChildren(view);
    if (focus) {
      const target =
        view.querySelector('[data-focus]') || view.querySelector('input:not([readonly]):not([type=checkbox]), select');
      if (target) target.focus();
    }
    return gen;
  };
  const security = () =>
    status && ['high', 'medium', 'low'].includes(status.security) ? status.security : header.policy.security;

  const errorFor = (e) => {
    const d = describeKeyServerError(e, ks.origin);
    return alertBox(d.title, d.text);
  };

  /** A line saying whose account this is, with a way to change it. */
  const whoLine = (lead) =>
    h(
      'p',
      { class: 'sp-ks-who' },
      `${lead} `,
      h('strong', {}, email),
      ' ',
      linkButton('Use another address', () => chooseAddress(true)),
    );

  /** "Remember this browser": only on a page of the key server's own origin,
   * where the browser keeps keyd's HttpOnly cookie; the note kept here per
   * address (its expiry) is no secret. */
  const rememberHere = () => ctx.place === 'page' && ks.origin === location.origin;
  const deviceKey = () => `sealpost.remembered ${email.toLowerCase()}`;
  const loadDevice = () => {
    const s = rememberHere() ? storage() : null;
    if (!s) return null;
    try {
      const d = JSON.parse(s.getItem(deviceKey()) || 'null');
      if (d && typeof d.expires === 'string' && Date.parse(d.expires) > Date.now()) return d;
    } catch {
      // unreadable: forget it below
    }
    s.removeItem(deviceKey());
    return null;
  };
  const saveDevice = (d) => {
    const s = rememberHere() ? storage() : null;
    if (s && d && typeof d.expires === 'string') s.setItem(deviceKey(), JSON.stringify({ expires: d.expires }));
  };
  const dropDevice = () => {
    const s = storage();
    if (s) s.removeItem(deviceKey());
  };

  // ---- where to start --------------------------------------------------------

  /** Device tokens that earlier envelopes kept in this (shared) storage
   * are void, keyd forgot them all: leave none for another page to find. */
  function dropOldDeviceTokens() {
    const s = storage();
    if (!s) return;
    const old = [];
    for (let i = 0; i < s.length; i++) if ((s.key(i) || '').startsWith('sealpost.device ')) old.push(s.key(i));
    for (const k of old) s.removeItem(k);
  }

  function start() {
    dropOldDeviceTokens();
    if (!ctx.canConnect(ks.origin)) {
      const text =
        ctx.place === 'page'
          ? `This page may only talk to its own key server, and this message belongs to ${ks.host}. ` +
            `Open the file itself in your browser, or at ${ks.origin}/open.`
          : `It is not allowed to reach ${ks.host}, the key server that holds its key. ` +
            'Open the securemessage.html attachment of the original email in your browser instead.';
      show(h('div', { class: 'sp-form' }, alertBox('This copy cannot contact the key server', text)));
      return;
    }
    if (recipients.length === 1) {
      email = recipients[0];
      check(true);
    } else {
      chooseAddress(true);
    }
  }

  function chooseAddress(focus) {
    const s = storage();
    const rememberKey = `sealpost.email ${ks.origin}`;
    let prefill = email || (s && s.getItem(rememberKey)) || '';
    const f = field({
      id: 'sp-ks-address',
      label: 'Email',
      type: 'email',
      autocomplete: 'email',
      value: prefill,
      list: recipients.length ? 'sp-ks-recipients' : null,
      help: 'The address this message was sent to you at (also if you received a blind copy, Bcc).',
    });
    const status0 = statusLine();
    const form = h(
      'form',
      { class: 'sp-form', novalidate: true, 'aria-label': 'Your email address' },
      recipients.length ? h('datalist', { id: 'sp-ks-recipients' }, recipients.map((r) => h('option', { value: r }))) : null,
      f.wrap,
      h('div', { class: 'sp-actions' }, h('button', { type: 'submit', class: 'sp-btn sp-btn-primary' }, 'Continue'), status0),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = f.input.value.trim();
      if (!/^[^\s@]+@[^\s@]+$/.test(v)) {
        f.setError('Enter your email address, for example name@example.org.');
        f.input.focus();
        return;
      }
      // Not checked against policy.to: a Bcc recipient is not named there.
      const listed = recipients.find((r) => sameAddress(r, v));
      email = listed || v;
      if (s) s.setItem(rememberKey, email);
      check(true);
    });
    show(form, focus);
  }

  // ---- status ----------------------------------------------------------------

  async function check(focus, opts = {}) {
    const my = show(h('div', { class: 'sp-form' }, h('p', { class: 'sp-status sp-busy', role: 'status' }, 'Contacting the key server…')));
    let s;
    try {
      s = await ks.status(id, email);
    } catch (e) {
      if (my !== gen) return;
      const st = stateOfError(e);
      if (st) return void show(stateView(st), focus);
      const view = h(
        'div',
        { class: 'sp-form' },
        errorFor(e),
        h(
          'div',
          { class: 'sp-actions' },
          h('button', { type: 'button', class: 'sp-btn sp-btn-primary', 'data-focus': '', on: { click: () => check(true) } }, 'Try again'),
          linkButton('Use another address', () => chooseAddress(true)),
        ),
      );
      show(view, focus);
      return;
    }
    if (my !== gen) return;
    route(s, focus, opts);
  }

  function route(s, focus, opts = {}) {
    status = s;
    if (s.state && s.state !== 'active') return void show(stateView(s), focus);
    const account = s.recipient && s.recipient.account;
    if (account === 'pending') return inbox('activation', focus, { ...opts, found: true });
    // Not named in the envelope (Bcc): keyd does not say if it has an account.
    if (account === 'unknown') return passwordSignIn(focus, { ...opts, offerRegister: true });
    if (account !== 'active') return register(focus, opts);
    // Security "low" still wants an active account, but no password; a
    // recipient the envelope does not name (Bcc) always signs in.
    if (security() === 'low' && recipients.some((r) => sameAddress(r, email))) return lowOpen(focus, opts);
    return signIn(focus, opts);
  }

  // ---- registration ----------------------------------------------------------

  function register(focus, opts = {}) {
    const fEmail = field({ id: 'sp-ks-email', label: 'Email', type: 'email', value: email, readonly: true });
    const fName = field({ id: 'sp-ks-name', label: 'Name', autocomplete: 'name', maxlength: 200 });
    const newPw = newPasswordFields({ id: 'sp-ks-new-password', label: 'Password', confirm: 'Confirm password' });
    const { pw: fPw, pw2: fPw2 } = newPw;
    const fPhrase = field({
      id: 'sp-ks-phrase',
      label: 'Security phrase',
      maxlength: 100,
      help: 'Every secure message for you shows this phrase before you sign in. If a message does not show it, do not enter your password there.',
    });

    const qs = [];
    const qList = h('div', { class: 'sp-questions' });
    const addBtn = button('Add another question', () => {
      addQuestion();
      qs[qs.length - 1].sel.input.focus();
    }, 'sp-btn sp-btn-small');
    function addQuestion() {
      const n = qs.length + 1;
      const sel = field({
        id: `sp-ks-q${n}`,
        label: `Security question ${n}`,
        type: 'select',
        options: [...QUESTIONS.map((q) => [q, q]), [OWN, 'Write my own question…']],
      });
      sel.input.value = QUESTIONS[(n - 1) % QUESTIONS.length];
      const own = field({ id: `sp-ks-q${n}-own`, label: `Your question ${n}`, maxlength: 200 });
      own.wrap.hidden = true;
      sel.input.addEventListener('change', () => {
        own.wrap.hidden = sel.input.value !== OWN;
        if (!own.wrap.hidden) own.input.focus();
      });
      const ans = field({ id: `sp-ks-a${n}`, label: `Answer ${n}`, maxlength: 200 });
      qs.push({ sel, own, ans });
      qList.append(h('div', { class: 'sp-question' }, sel.wrap, own.wrap, ans.wrap));
      addBtn.hidden = qs.length >= MAX_QUESTIONS;
    }
    for (let i = 0; i < MIN_QUESTIONS; i++) addQuestion();

    const errorSlot = h('div', { class: 'sp-error-slot' });
    const st = statusLine();
    const title = h('h2', { id: 'sp-ks-reg-title' }, 'Create your account');
    const form = h(
      'form',
      { class: 'sp-form sp-ks-register', novalidate: true, 'aria-labelledby': 'sp-ks-reg-title' },
      title,
      opts.notice ? infoBox(opts.notice, ICONS.mail) : null,
      h(
        'p',
        { class: 'sp-lede' },
        `To open secure messages sent to ${email}, create an account with the key server ${ks.host}. ` +
          'One account opens messages from every organisation that uses it.',
      ),
      fEmail.wrap,
      fName.wrap,
      fPw.wrap,
      fPw2.wrap,
      fPhrase.wrap,
      h(
        'fieldset',
        { class: 'sp-group' },
        h('legend', {}, 'Security questions'),
        h(
          'p',
          { class: 'sp-hint' },
          'If you forget your password, you choose a new one with a link sent to your email and the answers to these questions. ' +
            'Answers are not case-sensitive.',
        ),
        qList,
        addBtn,
      ),
      errorSlot,
      h('div', { class: 'sp-actions' }, h('button', { type: 'submit', class: 'sp-btn sp-btn-primary' }, 'Register'), st),
      h('p', {}, linkButton('Use another address', () => chooseAddress(true))),
    );
    const setBusy = busySetter(form, st);
    const questionOf = (q) => (q.sel.input.value === OWN ? q.own.input.value.trim() : q.sel.input.value);
    const fieldFor = (name) => {
      const m = /^questions\[(\d+)\]\.(q|a)$/.exec(name || '');
      if (m && qs[Number(m[1])]) {
        const q = qs[Number(m[1])];
        return m[2] === 'a' ? q.ans : q.sel.input.value === OWN ? q.own : q.sel;
      }
      return { name: fName, password: fPw, phrase: fPhrase }[name] || null;
    };

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      errorSlot.replaceChildren();
      const invalid = [];
      const verdict = (f, msg) => {
        f.setError(msg);
        if (msg) invalid.push(f.input);
      };
      const pw = fPw.input.value;
      verdict(fName, fName.input.value.trim() ? null : 'Enter your name.');
      for (const [f, msg] of newPw.problems()) verdict(f, msg);
      verdict(fPhrase, fPhrase.input.value.trim() ? null : 'Choose a phrase you will recognise, such as "blue heron at dawn".');
      const seen = new Set();
      for (const q of qs) {
        const text = questionOf(q);
        q.own.setError(null);
        q.sel.setError(null);
        if (q.sel.input.value === OWN && !text) verdict(q.own, 'Write your question.');
        else if (seen.has(text.toLowerCase())) verdict(q.sel.input.value === OWN ? q.own : q.sel, 'Choose a different question for each.');
        seen.add(text.toLowerCase());
        verdict(q.ans, q.ans.input.value.trim() ? null : 'Answer this question.');
      }
      if (invalid.length) {
        invalid[0].focus();
        return;
      }
      setBusy(true, 'Creating your account…');
      try {
        await ks.register({
          email,
          name: fName.input.value.trim(),
          password: pw,
          phrase: fPhrase.input.value.trim(),
          questions: qs.map((q) => ({ q: questionOf(q), a: q.ans.input.value.trim() })),
          message: id,
        });
      } catch (e) {
        setBusy(false);
        const st2 = stateOfError(e);
        if (st2) return void show(stateView(st2), true);
        const f = e.problem === 'weak-password' ? fPw : e.problem === 'invalid-request' ? fieldFor(e.field) : null;
        if (f) {
          f.setError(e.detail || 'This is not accepted; please change it.');
          f.input.focus();
        } else {
          errorSlot.replaceChildren(errorFor(e));
        }
        return;
      }
      fPw.input.value = '';
      fPw2.input.value = '';
      inbox('activation', true);
    });
    show(form, focus);
  }

  // ---- waiting for a mailed link ----------------------------------------------

  function inbox(kind, focus, opts = {}) {
    const reset = kind === 'reset';
    const title = h('h2', { id: 'sp-ks-inbox-title', tabindex: '-1', 'data-focus': '' }, 'Check your inbox');
    const st = statusLine();
    const errorSlot = h('div', { class: 'sp-error-slot' });
    const text = reset
      ? `If ${email} has an account, we have sent it a link to choose a new password. ` +
        'Open the link, answer your security questions and set the new password, then come back here and sign in.'
      : opts.found
        ? `A registration for ${email} is waiting for activation. If you registered, open the link we emailed you and enter ` +
          'the password you chose then; this page continues by itself. If you did not register, or do not remember that password, ' +
          'register now: the link we email you then works only with the password you choose now.'
        : `We have sent an email to ${email} with a link to activate your account. ` +
          'Open the link and enter the password you chose here to activate your account, then come back: this page continues by itself.';
    const again = reset
      ? linkButton('Send the link again', async () => {
          setBusy(true, 'Sending…');
          try {
            await ks.requestReset(email, id);
            setBusy(false, 'We have sent the link again.');
          } catch (e) {
            setBusy(false);
            errorSlot.replaceChildren(errorFor(e));
          }
        })
      : linkButton(opts.found ? 'Register' : 'Send the link again', () =>
          register(true, {
            notice:
              'Registering again sends a new activation link for the password you choose now. Links sent earlier keep working, each with the password chosen with it.',
          }),
        );
    const view = h(
      'section',
      { class: 'sp-form sp-ks-inbox', 'aria-labelledby': 'sp-ks-inbox-title' },
      h('div', { class: 'sp-inbox-icon' }, icon(ICONS.mail)),
      title,
      opts.notice ? h('p', { class: 'sp-ks-notice' }, opts.notice) : null,
      h('p', {}, text),
      h(
        'p',
        { class: 'sp-hint' },
        opts.found
          ? 'No email after a few minutes? Look in your spam folder, or register.'
          : 'No email after a few minutes? Look in your spam folder, or send the link again.',
      ),
      errorSlot,
      h(
        'div',
        { class: 'sp-actions' },
        button('Continue', () => (reset ? check(true) : recheck()), 'sp-btn sp-btn-primary'),
        again,
        st,
      ),
    );
    const setBusy = busySetter(view, st);
    const my = show(view, focus);
    if (!reset) {
      st.textContent = 'Waiting for you to activate your account…';
      const until = Date.now() + POLL_FOR_MS;
      const tick = async () => {
        if (my !== gen || !view.isConnected) return;
        if (Date.now() > until) {
          st.textContent = 'Press Continue once you have activated your account.';
          return;
        }
        try {
          const s = await ks.status(id, email);
          if (my !== gen) return;
          const account = s.recipient && s.recipient.account;
          if (account === 'unknown') return void (st.textContent = 'Press Continue once you have activated your account.');
          if ((s.state && s.state !== 'active') || account === 'active') {
            route(s, true, { notice: 'Your account is active. Sign in to open the message.' });
            return;
          }
        } catch {
          // offline for a moment: the next tick tries again
        }
        if (my === gen) setTimeout(tick, POLL_MS);
      };
      setTimeout(tick, POLL_MS);
    }

    async function recheck() {
      errorSlot.replaceChildren();
      setBusy(true, 'Checking…');
      let s;
      try {
        s = await ks.status(id, email);
      } catch (e) {
        setBusy(false);
        const st2 = stateOfError(e);
        if (st2) return void show(stateView(st2), true);
        errorSlot.replaceChildren(errorFor(e));
        return;
      }
      if (my !== gen) return;
      const account = s.recipient && s.recipient.account;
      if (account === 'pending' && (!s.state || s.state === 'active')) {
        setBusy(false, 'Your account is not active yet: open the link in the email first.');
        return;
      }
      route(s, true);
    }
  }

  // ---- signing in --------------------------------------------------------------

  function signIn(focus, opts = {}) {
    const device = security() === 'medium' ? loadDevice() : null;
    if (device && !opts.password) deviceSignIn(device, focus, opts);
    else passwordSignIn(focus, opts);
  }

  /** The common tail: key (and answer grant), sign out, decrypt. ui: {
   * setBusy, errorSlot, progressSlot, retry(e) for refused authentication }. */
  async function release(token, ui) {
    ui.setBusy(true, 'Getting the key…');
    let released = null; // { key, grant }
    try {
      try {
        released = await ks.messageKey(id, token, email);
      } finally {
        // The session has done its job (or failed): end it now.
        if (token) await ks.signOut(token).catch(() => {});
      }
    } catch (e) {
      ui.setBusy(false);
      const st = stateOfError(e);
      if (st) return void show(stateView(st), true);
      if (e.problem === 'password-required' || e.problem === 'unauthorized') return void ui.retry(e);
      ui.errorSlot.replaceChildren(errorFor(e));
      return;
    }
    try {
      const answers = answerActions({ env, ks, email, grant: released.grant });
      await openWithKey(app, env, released.key, { status: (t) => ui.setBusy(true, t), progressSlot: ui.progressSlot, answers });
    } catch (e) {
      ui.progressSlot.replaceChildren();
      // A key that fails the key check came from the server for this id:
      // the file's header was changed after sealing.
      const err =
        e instanceof EnvelopeError
          ? e.kind === 'wrong-key'
            ? new EnvelopeError('tampered', 'the key the key server released does not pass the key check')
            : e
          : { message: String((e && e.message) || e) };
      show(h('div', { class: 'sp-form' }, errorBox(err, 'sp-error')), true);
    } finally {
      if (released) released.key.fill(0);
    }
  }

  const registerLink = (opts) => (opts.offerRegister ? [' · ', linkButton('No account yet? Register', () => register(true))] : []);

  function passwordSignIn(focus, opts = {}) {
    const fPw = field({
      id: 'sp-ks-password',
      label: 'Password',
      type: 'password',
      autocomplete: 'current-password',
      reveal: true,
    });
    const canRemember = security() === 'medium' && rememberHere() && storage();
    const remember = canRemember
      ? checkbox(
          'sp-ks-remember',
          'Remember this browser',
          'Only on a device no one else uses: messages like this one then open here without your password for up to 90 days.',
        )
      : null;
    const errorSlot = h('div', { class: 'sp-error-slot' });
    const progressSlot = h('div', { class: 'sp-progress-slot' });
    const st = statusLine();
    const form = h(
      'form',
      { class: 'sp-form sp-ks-signin', novalidate: true, 'aria-label': 'Sign in to open the message' },
      opts.notice ? h('p', { class: 'sp-ks-notice', role: 'status' }, opts.notice) : null,
      whoLine('Sign in as'),
      fPw.wrap,
      remember ? remember.wrap : null,
      // Elsewhere (a file, a webmail) the browser cannot be remembered safely: say where it can.
      !remember && security() === 'medium' && !rememberHere()
        ? h(
            'p',
            { class: 'sp-hint sp-ks-remember-elsewhere' },
            `To open messages like this one without your password, open them at ${ks.origin}/open and choose “Remember this browser” there.`,
          )
        : null,
      errorSlot,
      h('div', { class: 'sp-actions' }, h('button', { type: 'submit', class: 'sp-btn sp-btn-primary' }, 'Open'), st),
      progressSlot,
      h('p', { class: 'sp-ks-links' }, linkButton('Forgot your password?', () => forgot()), ...registerLink(opts)),
    );
    const setBusy = busySetter(form, st);

    async function forgot() {
      errorSlot.replaceChildren();
      setBusy(true, 'Sending a link to choose a new password…');
      try {
        await ks.requestReset(email, id);
      } catch (e) {
        setBusy(false);
        errorSlot.replaceChildren(errorFor(e));
        return;
      }
      inbox('reset', true);
    }

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      errorSlot.replaceChildren();
      const notice = form.querySelector('.sp-ks-notice');
      if (notice) notice.remove();
      const password = fPw.input.value;
      if (!password) {
        fPw.setError('Enter your password.');
        fPw.input.focus();
        return;
      }
      fPw.setError(null);
      setBusy(true, 'Signing in…');
      let session;
      try {
        session = await ks.signIn(remember && remember.input.checked ? { email, password, remember: true } : { email, password });
      } catch (e) {
        setBusy(false);
        if (e.problem === 'invalid-credentials') {
          fPw.setError(
            'Wrong password. Check it and try again; passwords are case-sensitive.' +
              (e.attemptsLeft != null && e.attemptsLeft <= 10
                ? ` ${e.attemptsLeft === 1 ? '1 try is' : `${e.attemptsLeft} tries are`} left before you must reset your password.`
                : ''),
          );
          fPw.input.focus();
          fPw.input.select();
        } else if (e.problem === 'account-inactive') {
          inbox('activation', true, { notice: 'Your account is not active yet.' });
        } else {
          errorSlot.replaceChildren(errorFor(e));
        }
        return;
      }
      fPw.input.value = '';
      if (session.remembered) saveDevice(session.remembered);
      await release(session.token, {
        setBusy,
        errorSlot,
        progressSlot,
        retry: (e) =>
          passwordSignIn(true, {
            password: true,
            notice: e.problem === 'unauthorized' ? 'Your sign-in ended before the key arrived. Sign in again.' : undefined,
          }),
      });
    });
    show(form, focus);
  }

  function deviceSignIn(device, focus, opts = {}) {
    const errorSlot = h('div', { class: 'sp-error-slot' });
    const progressSlot = h('div', { class: 'sp-progress-slot' });
    const st = statusLine();
    const openBtn = h('button', { type: 'submit', class: 'sp-btn sp-btn-primary', 'data-focus': '' }, 'Open');
    const form = h(
      'form',
      { class: 'sp-form sp-ks-signin', novalidate: true, 'aria-label': 'Open the message' },
      opts.notice ? h('p', { class: 'sp-ks-notice', role: 'status' }, opts.notice) : null,
      whoLine('This browser is remembered for'),
      errorSlot,
      h('div', { class: 'sp-actions' }, openBtn, st),
      progressSlot,
      h(
        'p',
        { class: 'sp-ks-links' },
        linkButton('Sign in with your password instead', () => passwordSignIn(true, { password: true })),
        ' · ',
        linkButton('Forget this browser', forget),
      ),
    );
    const setBusy = busySetter(form, st);

    async function forget() {
      setBusy(true, 'Forgetting this browser…');
      try {
        const s = await ks.signIn({ email, remembered: true });
        await ks.signOut(s.token, true);
      } catch {
        // an unknown or expired remembered browser is forgotten already
      }
      dropDevice();
      passwordSignIn(true, { password: true, notice: 'This browser no longer remembers you.' });
    }

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      errorSlot.replaceChildren();
      setBusy(true, 'Signing in…');
      let session;
      try {
        session = await ks.signIn({ email, remembered: true });
      } catch (e) {
        setBusy(false);
        if (e.problem === 'invalid-credentials' || e.problem === 'unauthorized') {
          dropDevice();
          passwordSignIn(true, { password: true, notice: 'This browser is no longer remembered. Sign in with your password.' });
        } else {
          errorSlot.replaceChildren(errorFor(e));
        }
        return;
      }
      await release(session.token, {
        setBusy,
        errorSlot,
        progressSlot,
        retry: (e) =>
          passwordSignIn(true, {
            password: true,
            notice: e.problem === 'password-required' ? 'This message needs your password.' : 'Sign in with your password.',
          }),
      });
    });
    show(form, focus);
  }

  /** Security "low": the key comes for the address alone, on a click. */
  function lowOpen(focus, opts = {}) {
    const errorSlot = h('div', { class: 'sp-error-slot' });
    const progressSlot = h('div', { class: 'sp-progress-slot' });
    const st = statusLine();
    const form = h(
      'form',
      { class: 'sp-form', novalidate: true, 'aria-label': 'Open the message' },
      opts.notice ? h('p', { class: 'sp-ks-notice', role: 'status' }, opts.notice) : null,
      whoLine('This message opens without a password for'),
      errorSlot,
      h('div', { class: 'sp-actions' }, h('button', { type: 'submit', class: 'sp-btn sp-btn-primary', 'data-focus': '' }, 'Open'), st),
      progressSlot,
    );
    const setBusy = busySetter(form, st);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      errorSlot.replaceChildren();
      await release(null, {
        setBusy,
        errorSlot,
        progressSlot,
        // The server wants a signed-in account after all.
        retry: () => passwordSignIn(true, { password: true, notice: 'Sign in to open this message.' }),
      });
    });
    show(form, focus);
  }

  start();
  return panel;
}
