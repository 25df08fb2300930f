// view.js - everything the reader sees of one envelope: the outside
// (brand, sender, date, subject, security phrase), the way in (the password
// form, or the key-server flow of ksflow.js), decryption, and the message
// with its attached messages stacked on top.
//
// Used by the envelope itself (main.js) and by keyd's /open page, which
// parses an envelope file into an inert fragment and shows it in its own
// document.
// A context object says where we run:
//   ctx.place       'envelope' | 'page'
//   ctx.canConnect  (origin) => whether this document may fetch from origin
//   ctx.footerExtra optional node added to the footer (e.g. "Open another file")

import { h, replace, icon, ICONS } from './dom.js';
import { EnvelopeError, findBlocks, parseHeader, parseDisplay, checkExpiry, checkBrowser, checkReply, deriveKey, verifyKey, decodePayload, openPayload } from './envelope.js';
import { describeError } from './messages.js';
import { formatDate } from './format.js';
import { parseMessage, messageView } from './message.js';
import { brandBand, errorBox, metaList, nextFrame, progressBar, revealButton } from './ui.js';
import { keyServerPanel } from './ksflow.js';

/**
 * Read the envelope in doc (the page itself, or a parsed file). Returns
 * { env: { header, headerBytes, display, payloadEl } } or { error, display }.
 */
export function readEnvelope(doc) {
  let display = {};
  try {
    const blocks = findBlocks(doc);
    display = parseDisplay(blocks.displayText);
    const { bytes, header } = parseHeader(blocks.headerText);
    return { env: { header, headerBytes: bytes, display, payloadEl: blocks.payloadEl } };
  } catch (e) {
    return { error: e, display };
  }
}

/**
 * Decrypt the payload with key (32 bytes, not yet checked) and show the
 * message in app. hooks: status(text) for progress lines, progressSlot (an
 * element that may receive a progress bar), answers (optional: see
 * showMessage). Throws EnvelopeError ('wrong-key' when the key check fails,
 * 'tampered', 'truncated', 'malformed' for a reply key that is not its
 * kid's, ...).
 */
export async function openWithKey(app, env, key, hooks) {
  const { header } = env;
  await checkReply(header);
  await verifyKey(key, header);
  hooks.status('Decrypting…');
  await nextFrame();
  const payload = decodePayload(env.payloadEl.textContent);
  let progress = null;
  if (payload.length > header.method.segmentSize + 16) {
    progress = progressBar();
    hooks.progressSlot.replaceChildren(progress);
  }
  const bytes = await openPayload(key, env.headerBytes, header, payload, (done, total) => {
    if (progress) progress.set(total ? done / total : 1);
  });
  hooks.status('Preparing the message…');
  await nextFrame();
  const msg = await parseMessage(bytes);
  // Only now is the header (and its reply key) authenticated (§12.1).
  showMessage(app, msg, bytes, hooks.answers);
  await nextFrame();
  performance.mark('sealpost:rendered');
}

/** The outside of the envelope with its way in. */
function outside(app, env, ctx) {
  const { header, display } = env;
  const policy = header.policy;
  const senderName = display.sender;
  const from = policy.from;
  const sender = senderName && from ? `${senderName} <${from}>` : senderName || from || 'Unknown sender';
  const who = senderName || from || 'Someone';
  const keyserver = header.keyAccess.type === 'keyserver';

  const card = h('section', { class: 'sp-card sp-outside', 'aria-labelledby': 'sp-title' });
  const parts = [
    h('div', { class: 'sp-seal' }, icon(ICONS.lock)),
    h('h1', { id: 'sp-title' }, 'Secure message'),
    h('p', { class: 'sp-lede' }, `${who} sent you an encrypted message.`),
    metaList([
      ['From', sender],
      ['To', policy.to.join(', ')],
      ['Sent', formatDate(header.$.created)],
      ['Subject', display.subject],
    ]),
  ];
  if (display.phrase) {
    parts.push(
      h(
        'div',
        { class: 'sp-phrase' },
        h('p', { class: 'sp-phrase-label' }, 'Your security phrase'),
        h('p', { class: 'sp-phrase-text' }, display.phrase),
        h('p', { class: 'sp-phrase-help' }, 'If this is not the phrase you chose, do not enter your password.'),
      ),
    );
  }

  let problem = null;
  try {
    checkBrowser();
    checkExpiry(header);
  } catch (e) {
    problem = e;
  }

  let explain;
  if (problem) {
    parts.push(errorBox(problem, 'sp-error'));
  } else if (keyserver) {
    parts.push(keyServerPanel(app, env, ctx, openWithKey));
  } else {
    parts.push(passwordForm(app, env));
  }
  if (keyserver) {
    let host = header.keyAccess.url;
    try {
      host = new URL(host).host;
    } catch {
      // show the URL as written
    }
    explain =
      `The message is encrypted inside this file and is decrypted only on your device. ` +
      `Your address and password go only to the key server ${host}, which releases the key of this one message.`;
  } else {
    explain =
      'The message is encrypted inside this file and is decrypted only on your device; ' +
      'nothing you type here is sent anywhere.';
  }
  parts.push(h('p', { class: 'sp-explain' }, explain));
  return replace(card, parts);
}

function passwordForm(app, env) {
  const { header } = env;
  const hint = header.keyAccess.hint;
  const input = h('input', {
    id: 'sp-password',
    name: 'password',
    type: 'password',
    autocomplete: 'off',
    autocapitalize: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': hint ? 'sp-hint' : null,
  });
  const toggle = revealButton(input);
  const button = h('button', { type: 'submit', class: 'sp-btn sp-btn-primary' }, 'Open');
  const status = h('p', { class: 'sp-status', role: 'status', 'aria-live': 'polite' });
  const errorSlot = h('div', { class: 'sp-error-slot' });
  const progressSlot = h('div', { class: 'sp-progress-slot' });

  const form = h(
    'form',
    { class: 'sp-form', novalidate: true, 'aria-label': 'Open the message' },
    h('label', { for: 'sp-password', class: 'sp-label' }, 'Password'),
    h('div', { class: 'sp-field' }, input, toggle),
    hint ? h('p', { id: 'sp-hint', class: 'sp-hint' }, h('span', { class: 'sp-hint-label' }, 'Hint: '), hint) : null,
    errorSlot,
    h('div', { class: 'sp-actions' }, button, status),
    progressSlot,
  );

  const setBusy = (busy, text) => {
    input.disabled = busy;
    button.disabled = busy;
    toggle.disabled = busy;
    form.setAttribute('aria-busy', String(busy));
    status.textContent = text || '';
    status.classList.toggle('sp-busy', !!busy);
  };
  const showError = (e) => {
    const box = errorBox(e, 'sp-error');
    errorSlot.replaceChildren(box);
    input.setAttribute('aria-invalid', e.kind === 'wrong-key' ? 'true' : 'false');
    input.setAttribute('aria-describedby', ['sp-error', hint ? 'sp-hint' : ''].filter(Boolean).join(' '));
    return describeError(e);
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const password = input.value;
    if (!password) {
      input.focus();
      status.textContent = 'Enter the password first.';
      return;
    }
    errorSlot.replaceChildren();
    input.removeAttribute('aria-invalid');
    setBusy(true, 'Checking the password…');
    await nextFrame();
    let key = null;
    try {
      // User Timing marks (no data in them) let `make bench` measure the
      // opener with and without key derivation.
      performance.mark('sealpost:kdf-start');
      key = await deriveKey(password, header);
      performance.mark('sealpost:kdf-end');
      await openWithKey(app, env, key, { status: (t) => setBusy(true, t), progressSlot });
      input.value = '';
    } catch (e) {
      progressSlot.replaceChildren();
      const d = showError(e instanceof EnvelopeError ? e : { message: String((e && e.message) || e) });
      if (d.retry) {
        setBusy(false);
        input.focus();
        input.select();
      } else {
        // Nothing the reader types can help: the form gives way to the error.
        input.value = '';
        form.replaceChildren(errorSlot);
      }
    } finally {
      if (key) key.fill(0);
    }
  });
  return form;
}

/**
 * Replace the outside with the message; attached messages stack on it, and
 * so do the views answers() makes: answers ({ msg, raw, push(view, opener),
 * pop() }) gives the message's answer buttons (or null). A view on the
 * stack has focusTitle() and release(); pop() releases the top one, shows
 * the one below and focuses what opened it.
 */
function showMessage(app, msg, raw, answers) {
  const main = app.querySelector('.sp-main');
  app.classList.add('sp-wide');
  const stack = [];
  const show = (view) => {
    main.replaceChildren(view, footer(app.env, app.ctx));
    view.focusTitle();
    window.scrollTo(0, 0);
  };
  const push = (view, opener) => {
    stack.push({ view, opener });
    show(view);
  };
  const pop = () => {
    const top = stack.pop();
    top.view.release();
    show(stack[stack.length - 1].view);
    if (top.opener && top.opener.isConnected) top.opener.focus();
  };
  const open = (m, bytes, nested, opener) => {
    const view = messageView(m, {
      raw: bytes,
      nested,
      actions: nested || !answers ? null : answers({ msg: m, raw: bytes, push, pop }),
      onBack: pop,
      onView: async (att, button) => {
        try {
          const inner = new Uint8Array(att.content);
          open(await parseMessage(inner), inner, true, button);
        } catch {
          button.disabled = true;
        }
      },
    });
    push(view, opener);
  };
  document.title = `${msg.subject || 'Secure message'} – Secure message`;
  open(msg, raw, false);
}

function footer(env, ctx) {
  return h(
    'footer',
    { class: 'sp-footer' },
    ctx && ctx.footerExtra ? ctx.footerExtra() : null,
    h(
      'p',
      {},
      'Sender, subject and branding shown before opening come from the unencrypted part of the file ' +
        'and are confirmed only by the decrypted message.',
    ),
    h('p', {}, `Protected with sealpost · envelope format v1${env ? ` · message ${env.header.id}` : ''}`),
  );
}

/**
 * Show what readEnvelope() found in app (replacing its content): the
 * outside and its way in, or the reason the file cannot be opened.
 */
export function showEnvelope(app, found, ctx) {
  app.classList.add('sp-app');
  app.classList.remove('sp-wide');
  app.ctx = ctx;
  if (found.error) {
    const card = h(
      'section',
      { class: 'sp-card sp-outside', 'aria-labelledby': 'sp-title' },
      h('div', { class: 'sp-seal sp-seal-bad' }, icon(ICONS.alert)),
      h('h1', { id: 'sp-title' }, 'Secure message'),
      errorBox(found.error, 'sp-error'),
    );
    replace(app, brandBand(found.display), h('main', { class: 'sp-main' }, card, footer(null, ctx)));
    return;
  }
  const { env } = found;
  app.env = env;
  replace(app, brandBand(env.display), h('main', { class: 'sp-main' }, outside(app, env, ctx), footer(env, ctx)));
  const input = app.querySelector('#sp-password');
  if (input) input.focus();
}
