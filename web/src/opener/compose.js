// compose.js - answering a message opened from a key-server envelope: the
// Reply, Reply all and Forward buttons (what the envelope's authenticated
// header allows, once the key server has granted an answer), the form to
// write it (To, Cc, Subject, the text, the original quoted or attached,
// files), and sending it: built as an email (answer-mime.js), sealed on
// this device to the organisation's reply key (answer-seal.js), uploaded to
// the key server (answer-upload.js), which relays it unopened.
//
// A draft lives as long as the page: leaving the form keeps it, a failed
// upload leaves it filled, and "Try again" sends the same sealed bytes (the
// same answer id), so the key server recognises an answer that did reach
// it and does not deliver it twice. Any change seals it afresh.
// Only the key-server flow (ksflow.js) imports this module, so password
// envelopes do not carry it. Nothing here uses markup: every node is h().

import { h, icon, ICONS } from './dom.js';
import { formatDate, formatSize, safeFilename } from './format.js';
import { describeKeyServerError, formatWait } from './keyserver.js';
import { alertBox, busySetter, field, nextFrame, progressBar, statusLine } from './ui.js';
import { sealAnswer } from './answer-seal.js';
import { uploadAnswer } from './answer-upload.js';
import {
  MAX_ATTACHMENTS, SUBJECT_MAX_BYTES, addressText, answerRecipients, answerSubject, buildAnswerMessage,
  parseAddresses, quotedOriginal, threadOf,
} from './answer-mime.js';

const LABELS = { reply: 'Reply', replyAll: 'Reply all', forward: 'Forward' };
const NOUN = { reply: 'reply', replyAll: 'reply', forward: 'forwarded message' };
const ANSWER_ICONS = {
  reply: ['M10 7L5 12l5 5', 'M5 12h9a5 5 0 0 1 5 5v1'],
  replyAll: ['M12 7l-5 5 5 5', 'M7 7l-5 5 5 5', 'M7 12h8a5 5 0 0 1 5 5v1'],
  forward: ['M14 7l5 5-5 5', 'M19 12h-9a5 5 0 0 0-5 5v1'],
};
const CLIP = ['M16.5 7.5l-7.8 7.8a2 2 0 0 0 2.8 2.8l8-8a4 4 0 0 0-5.7-5.7l-8 8a6 6 0 0 0 8.5 8.5l7-7'];
const utf8Length = (s) => new TextEncoder().encode(s).length;
const button = (text, onClick, cls) => h('button', { type: 'button', class: cls, on: { click: onClick } }, text);

/**
 * The answer buttons for a message opened from env, or null when it offers
 * none: no (known) reply member in its header, nothing allowed, or no reply
 * grant from the key server (an older keyd, or security "low" without a
 * sign-in). ctx: { env, ks (KeyServer), email (the signed-in address),
 * grant ({ token, expires }) }. Returns ({ msg, raw, push, pop }) => buttons
 * (see view.js showMessage).
 */
export function answerActions(ctx) {
  const reply = ctx.env.header.$.reply;
  if (!reply || !ctx.grant) return null;
  const actions = Object.keys(LABELS).filter((a) => reply.allow[a]);
  if (!actions.length) return null;
  const session = { ...ctx, drafts: new Map() };
  return (stack) =>
    h(
      'span',
      { class: 'sp-answer-actions', role: 'group', 'aria-label': 'Answer' },
      actions.map((action) =>
        h(
          'button',
          {
            type: 'button',
            class: `sp-btn sp-btn-small${action === actions[0] ? ' sp-btn-primary' : ''}`,
            on: {
              click: (ev) => {
                let view = session.drafts.get(action);
                if (!view) {
                  view = composeView(action, session, stack);
                  session.drafts.set(action, view);
                }
                stack.push(view, ev.currentTarget);
              },
            },
          },
          icon(ANSWER_ICONS[action]),
          LABELS[action],
        ),
      ),
    );
}

const BLOCKS = /^(ADDRESS|ARTICLE|ASIDE|BLOCKQUOTE|DD|DIV|DL|DT|FOOTER|H[1-6]|HEADER|HR|LI|OL|P|PRE|SECTION|TABLE|TR|UL)$/;

/** The text of an HTML body, for a quote: parsed into an inert document
 * (no script runs, nothing loads), blocks on lines of their own. */
function htmlText(html) {
  let out = '';
  const walk = (node) => {
    for (const n of node.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) out += n.data.replace(/\s+/g, ' ');
      else if (n.nodeType !== Node.ELEMENT_NODE || /^(SCRIPT|STYLE|TEMPLATE|TITLE|NOSCRIPT)$/.test(n.tagName)) continue;
      else if (n.tagName === 'BR') out += '\n';
      else {
        const block = BLOCKS.test(n.tagName);
        out += block ? `\n${n.tagName === 'LI' ? '* ' : ''}` : '';
        walk(n);
        out += block ? '\n' : '';
      }
    }
  };
  walk(new DOMParser().parseFromString(html, 'text/html').body);
  return out.replace(/[ \t]*\n[ \t]*/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
}

/**
 * msg with its text as a reader sees it, for a quote. An HTML-only message
 * has none: it is made from the HTML. Where postal-mime derived one (an
 * HTML part inside a multipart), its short table of entities
 * (shims/html-entities.js) left named ones as written: the browser decodes
 * them, each "&name;" parsed on its own.
 */
function readable(msg) {
  if (!msg.html) return msg;
  if (!msg.text) return { ...msg, text: htmlText(msg.html) };
  const parser = new DOMParser();
  const decode = (m) => parser.parseFromString(m, 'text/html').body.textContent;
  return { ...msg, text: msg.text.replace(/&[A-Za-z][A-Za-z0-9]{1,31};/g, decode) };
}

/** A text area with its label and error line, as ui.js field() makes inputs. */
function textArea(id, label, help) {
  const describedBy = help ? `${id}-help` : null;
  const input = h('textarea', { id, name: id, rows: '10', class: 'sp-textarea', 'aria-describedby': describedBy });
  const wrap = h(
    'div',
    { class: 'sp-fieldset' },
    h('label', { for: id, class: 'sp-label' }, label),
    input,
    help ? h('p', { id: `${id}-help`, class: 'sp-hint' }, help) : null,
  );
  return { wrap, input };
}

/** The way the original travels: quoted below the text or attached. */
function originalChoice(action, quote) {
  const radio = (value, text, checked) =>
    h(
      'div',
      { class: 'sp-check' },
      h('input', { type: 'radio', id: `sp-c-orig-${value}`, name: 'sp-c-original', value, checked }),
      h('label', { for: `sp-c-orig-${value}` }, text),
    );
  const attach = action === 'forward';
  const group = h(
    'fieldset',
    { class: 'sp-group sp-c-original' },
    h('legend', {}, 'The original message'),
    radio('quote', 'Quote its text below mine', !attach),
    radio('attach', 'Attach it whole, with its attachments', attach),
  );
  const preview = h(
    'details',
    { class: 'sp-details', hidden: attach },
    h('summary', {}, 'Show the text that is quoted'),
    h('pre', { class: 'sp-quote' }, quote),
  );
  group.append(preview);
  group.value = () => group.querySelector('input:checked').value;
  group.addEventListener('change', () => (preview.hidden = group.value() !== 'quote'));
  return group;
}

/**
 * The form for one answer (action) to the message stack.msg. Returns the
 * view (with focusTitle and release, for view.js's stack).
 */
function composeView(action, session, stack) {
  const { env, ks, email } = session;
  const { header } = env;
  const { msg, raw } = stack;
  const rcpt = answerRecipients(msg, action, email);
  const quote = quotedOriginal(readable(msg), action, msg.date ? formatDate(msg.date) : '');
  const thread = threadOf(msg, action);
  const draft = { files: [], sealed: null };

  const title = h('h1', { id: `sp-c-title-${action}`, class: 'sp-subject', tabindex: '-1' }, LABELS[action]);
  const fFrom = field({ id: 'sp-c-from', label: 'From', value: email, readonly: true });
  // Text fields, not type=email: the browser would rewrite "Name <addr>" lists.
  const addressField = (id, label, list, help) => {
    const f = field({ id, label, value: list.map(addressText).join(', '), help });
    Object.assign(f.input, { inputMode: 'email', autocapitalize: 'off', spellcheck: false });
    return f;
  };
  const fTo = addressField('sp-c-to', 'To', rcpt.to, 'Several addresses: separate them with commas.');
  const fCc = addressField('sp-c-cc', 'Cc', rcpt.cc);
  const subject0 = answerSubject(msg.subject, action);
  const fSubject = field({ id: 'sp-c-subject', label: 'Subject', value: subject0, maxlength: 250 });
  const text = textArea('sp-c-text', 'Message');
  const original = originalChoice(action, quote);

  // The file input stays focusable (and labelled) under the label that looks like a button.
  const fileInput = h('input', {
    type: 'file',
    id: 'sp-c-files',
    multiple: true,
    class: 'sp-file-input',
    'aria-describedby': 'sp-c-files-total sp-c-files-error',
  });
  const fileList = h('ul', { class: 'sp-att-list sp-c-files' });
  const total = h('p', { id: 'sp-c-files-total', class: 'sp-hint' });
  const filesError = h('p', { id: 'sp-c-files-error', class: 'sp-field-error', role: 'alert', hidden: true });
  const errorSlot = h('div', { class: 'sp-error-slot' });
  const progressSlot = h('div', { class: 'sp-progress-slot' });
  const st = statusLine();
  const sendBtn = h('button', { type: 'submit', class: 'sp-btn sp-btn-primary' }, 'Send securely');
  const back = h(
    'button',
    { type: 'button', class: 'sp-btn sp-btn-quiet sp-back', on: { click: () => stack.pop() } },
    icon(ICONS.back),
    'Back to the message',
  );
  const form = h(
    'form',
    { class: 'sp-compose-form', novalidate: true, 'aria-labelledby': title.id },
    h(
      'p',
      { class: 'sp-lede' },
      `Your ${NOUN[action]} is encrypted on this device before it is sent. Only ${header.keyAccess.org} can open it, ` +
        'and delivers it to the recipients.',
    ),
    fFrom.wrap,
    fTo.wrap,
    fCc.wrap,
    fSubject.wrap,
    text.wrap,
    original,
    h(
      'div',
      { class: 'sp-fieldset' },
      fileInput,
      h('label', { for: 'sp-c-files', class: 'sp-btn sp-btn-small sp-file-label' }, icon(CLIP), 'Attach files'),
      total,
      filesError,
      fileList,
    ),
    errorSlot,
    h('div', { class: 'sp-actions' }, sendBtn, st),
    progressSlot,
  );
  const card = h('section', { class: 'sp-card sp-compose', 'aria-labelledby': title.id }, title, form);
  const view = h('div', { class: 'sp-view' }, back, card);
  const setBusy = busySetter(form, st);
  const first = action === 'forward' ? fTo.input : text.input;
  let heading = title;
  view.focusTitle = () => (card.contains(form) ? first : heading).focus();
  view.release = () => {}; // the draft outlives the view until it is sent

  // ---- the draft ----------------------------------------------------------------

  const originalSize = () => (original.value() === 'attach' ? raw.length : 0);
  const attachedSize = () => draft.files.reduce((n, f) => n + f.size, 0) + originalSize();
  const changed = () => {
    draft.sealed = null;
    showTotal();
  };
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);

  function showTotal() {
    const n = draft.files.length;
    const size = attachedSize();
    const what = [];
    if (n) what.push(n === 1 ? '1 file' : `${n} files`);
    if (originalSize()) what.push('the original message');
    total.textContent = what.length
      ? `Attached: ${what.join(' and ')}, ${formatSize(size)} (up to ${formatSize(MAX_ATTACHMENTS)} in all).`
      : `You can attach files of up to ${formatSize(MAX_ATTACHMENTS)} in all.`;
    const over = size > MAX_ATTACHMENTS;
    filesError.hidden = !over;
    // "50 MB, more than the 50 MB" would puzzle: one decimal when rounding hides the excess.
    const shown = formatSize(size) === formatSize(MAX_ATTACHMENTS) ? `${(size / 1e6).toFixed(1)} MB` : formatSize(size);
    filesError.textContent = over
      ? `The attachments come to ${shown}, more than the ${formatSize(MAX_ATTACHMENTS)} you can send. Remove some files` +
        (originalSize() ? ', or quote the original instead of attaching it.' : '.')
      : '';
    if (over) fileInput.setAttribute('aria-invalid', 'true');
    else fileInput.removeAttribute('aria-invalid');
  }

  function listFiles() {
    fileList.replaceChildren(
      ...draft.files.map((f, i) =>
        h(
          'li',
          { class: 'sp-att' },
          icon(ICONS.file, 'sp-att-icon'),
          h(
            'div',
            { class: 'sp-att-info' },
            h('span', { class: 'sp-att-name' }, f.name),
            h('span', { class: 'sp-att-meta' }, formatSize(f.size)),
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'sp-btn sp-btn-small sp-btn-quiet',
              'aria-label': `Remove ${f.name}`,
              on: {
                click: () => {
                  draft.files.splice(i, 1);
                  listFiles();
                  changed();
                  fileInput.focus();
                },
              },
            },
            'Remove',
          ),
        ),
      ),
    );
  }

  fileInput.addEventListener('change', () => {
    draft.files.push(...fileInput.files);
    fileInput.value = '';
    listFiles();
    changed();
  });
  showTotal();

  // ---- sending -------------------------------------------------------------------

  /** The fields checked, as { to, cc } (lists of {name, address}), or null
   * after marking the first field that is wrong. */
  function check() {
    const problems = [];
    const addresses = (f, required) => {
      const { list, bad } = parseAddresses(f.input.value);
      const why = bad
        ? `“${bad}” is not an email address. Write addresses like name@example.org, separated by commas.`
        : required && !list.length
          ? 'Enter at least one address to send to.'
          : null;
      f.setError(why);
      if (why) problems.push(f.input);
      return list;
    };
    const to = addresses(fTo, true);
    const cc = addresses(fCc, false);
    const subject = fSubject.input.value.trim();
    const subjectWhy = !subject
      ? 'Enter a subject.'
      : utf8Length(subject) > SUBJECT_MAX_BYTES
        ? 'The subject is too long: shorten it.'
        : null;
    fSubject.setError(subjectWhy);
    if (subjectWhy) problems.push(fSubject.input);
    showTotal();
    if (attachedSize() > MAX_ATTACHMENTS) problems.push(fileInput);
    if (problems.length) {
      problems[0].focus();
      return null;
    }
    return { to, cc, subject };
  }

  async function seal(fields) {
    const files = [];
    for (const f of draft.files) {
      files.push({ name: f.name, type: f.type, bytes: new Uint8Array(await f.arrayBuffer()) });
    }
    const attach = original.value() === 'attach';
    const typed = text.input.value.replace(/\s+$/, '');
    const message = buildAnswerMessage({
      from: email,
      to: fields.to,
      cc: fields.cc,
      subject: fields.subject,
      text: attach ? typed : `${typed}${typed ? '\n\n' : ''}${quote}\n`,
      inReplyTo: thread.inReplyTo,
      references: thread.references,
      files,
      original: attach ? { bytes: raw, name: `${safeFilename(msg.subject, 'message').slice(0, 80)}.eml` } : null,
    });
    files.length = 0; // let the file contents go before the sealed copy is made
    const progress = progressBar('Encrypting…', 'Encrypting your message');
    progressSlot.replaceChildren(progress);
    const sealed = await sealAnswer({
      message,
      replyKey: header.$.reply,
      answer: { message: header.id, action, org: header.keyAccess.org },
      from: email,
      to: [...fields.to, ...fields.cc].map((a) => a.address),
      onProgress: (f) => progress.set(f),
    });
    message.fill(0);
    // Kept as a Blob: the browser holds it outside the page's memory, and
    // an upload reads it from there (sending the bytes themselves makes the
    // page copy them all at once, slowly).
    const body = new Blob([sealed.bytes], { type: 'application/vnd.sealpost.answer' });
    return { id: sealed.id, body, progress, recipients: fields.to.length + fields.cc.length };
  }

  async function send() {
    errorSlot.replaceChildren();
    if (!draft.sealed) {
      const fields = check();
      if (!fields) return;
      setBusy(true, 'Encrypting your message…');
      await nextFrame();
      try {
        draft.sealed = await seal(fields);
      } catch (e) {
        setBusy(false);
        progressSlot.replaceChildren();
        const why = String((e && e.message) || e);
        const details = h('details', { class: 'sp-details' }, h('summary', {}, 'Technical details'), h('p', {}, why));
        problem('Your message could not be prepared', 'Something went wrong on this device. Try again.', true, details);
        return;
      }
    }
    const { sealed } = draft;
    if (session.grant.expires.getTime() <= Date.now()) return void signInAgain();
    setBusy(true, 'Sending…');
    if (!progressSlot.contains(sealed.progress)) progressSlot.replaceChildren(sealed.progress);
    sealed.progress.set(0, 'Sending…', 'Sending your message');
    let answer;
    try {
      answer = await uploadAnswer({
        base: ks.base,
        message: header.id,
        grant: session.grant.token,
        body: sealed.body,
        onProgress: (f) => sealed.progress.set(f),
      });
    } catch (e) {
      setBusy(false);
      progressSlot.replaceChildren();
      refused(e);
      return;
    }
    session.drafts.delete(action);
    sent(answer.recipients);
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    send();
  });
  // Enter in a one-line field must not send a message half written (the
  // browser's implicit submission); only the button sends.
  form.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && ev.target instanceof HTMLInputElement) ev.preventDefault();
  });

  /** An error above the Send button; retry adds "Try again" (the same bytes). */
  function problem(title, textLine, retry, extra) {
    const again = retry ? button('Try again', () => send(), 'sp-btn sp-btn-small') : null;
    const actions = again ? h('div', { class: 'sp-actions' }, again) : null;
    errorSlot.replaceChildren(alertBox(title, textLine, { extra: [extra, actions] }));
    (again || errorSlot.querySelector('input') || sendBtn).focus();
  }

  function refused(e) {
    const status = e.status;
    if (e.problem === 'unauthorized' || status === 401) return void signInAgain();
    // keyd's details are written for the reader ("a reply goes to the message's sender only").
    const detail = e.detail ? `${e.detail[0].toUpperCase()}${e.detail.slice(1).replace(/\.$/, '')}.` : '';
    if (status === 403) return void problem('This message cannot be sent', detail || 'The organisation does not accept it.', false);
    if (status === 413) {
      return void problem(
        'Your message is too large',
        'The organisation does not accept a message this large. Remove some attachments, ' +
          'or quote the original instead of attaching it, and send it again.',
        false,
      );
    }
    if (status === 422) {
      const why = `${detail || 'It was refused.'} Change it and send it again.`;
      return void problem('The organisation cannot accept this message', why, false);
    }
    if (status === 503 || e.problem === 'unavailable') {
      return void problem(
        'The organisation cannot take your message right now',
        `Your message is kept on this page. Try again in ${formatWait(e.retryAfter)}.`,
        true,
      );
    }
    const d = describeKeyServerError(e, ks.origin);
    problem(d.title, `${d.text} Your message is kept on this page.`, true);
  }

  /** The grant ran out: sign in again (a new grant), then send the same bytes. */
  function signInAgain() {
    const pw = field({
      id: 'sp-c-password',
      label: 'Password',
      type: 'password',
      autocomplete: 'current-password',
      reveal: true,
    });
    const go = h('button', { type: 'button', class: 'sp-btn sp-btn-small sp-btn-primary' }, 'Sign in and send');
    const again = h('div', { class: 'sp-c-signin' }, pw.wrap, h('div', { class: 'sp-actions' }, go));
    const renew = async () => {
      if (!pw.input.value) return void (pw.setError('Enter your password.'), pw.input.focus());
      pw.setError(null);
      setBusy(true, 'Signing in…');
      try {
        const s = await ks.signIn({ email, password: pw.input.value });
        try {
          const r = await ks.messageKey(header.id, s.token, email);
          r.key.fill(0);
          if (!r.grant) throw Object.assign(new Error('no grant'), { problem: 'forbidden', status: 403 });
          session.grant = r.grant;
        } finally {
          await ks.signOut(s.token).catch(() => {});
        }
      } catch (e) {
        setBusy(false);
        if (e.problem === 'invalid-credentials') {
          pw.setError('Wrong password. Check it and try again; passwords are case-sensitive.');
          return void pw.input.focus();
        }
        if (e.status === 403) {
          const why = 'The sender or the organisation has closed it for answers.';
          return void problem('You can no longer answer this message', why, false);
        }
        return void refused(e);
      }
      send();
    };
    go.addEventListener('click', renew);
    pw.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        renew();
      }
    });
    setBusy(false);
    progressSlot.replaceChildren();
    problem(
      'Sign in again to send',
      'For your safety, permission to answer lasts a short time after you open the message, and it has run out. ' +
        `Your message is kept: enter the password of ${email} and it is sent.`,
      false,
      again,
    );
    pw.input.focus();
  }

  function sent(n) {
    heading = h('h1', { class: 'sp-subject', tabindex: '-1' }, `Sent securely to ${n === 1 ? '1 recipient' : `${n} recipients`}`);
    const org = header.keyAccess.org;
    const done = `Your ${NOUN[action]} was encrypted on this device and handed to ${org}, which delivers it.`;
    card.replaceChildren(
      h('div', { class: 'sp-seal sp-seal-ok' }, icon(ICONS.shield)),
      heading,
      h('p', { class: 'sp-lede', role: 'status' }, done),
      h('div', { class: 'sp-actions' }, button('Back to the message', () => stack.pop(), 'sp-btn')),
    );
    back.hidden = true;
    heading.focus();
  }

  return view;
}
