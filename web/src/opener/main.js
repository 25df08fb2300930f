// main.js - the envelope opener: runs inside every sealpost HTML envelope,
// after the header, display and payload blocks (docs/envelope-format.md).
//
// Outside: the brand, sender, date, subject and security phrase from the
// (unauthenticated) display block and the header, shown with textContent
// only, and the password form. Opening: Argon2id (hash-wasm) -> key check ->
// AES-GCM segment by segment (WebCrypto) -> postal-mime -> message view.
// A password envelope makes no network request: the envelope's CSP has
// connect-src 'none' and nothing here fetches.

import { h, replace, icon, ICONS } from './dom.js';
import {
  EnvelopeError,
  findBlocks,
  parseHeader,
  parseDisplay,
  checkExpiry,
  checkBrowser,
  deriveKey,
  verifyKey,
  decodePayload,
  openPayload,
} from './envelope.js';
import { describeError } from './messages.js';
import { formatDate } from './format.js';
import { parseMessage, messageView } from './message.js';

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

/** Relative luminance of #rrggbb, for choosing text on the brand colour. */
function luminance(hex) {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const lin = c.map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
}

function brandBand(display) {
  const root = document.documentElement;
  if (display.brandColor) {
    // CSSOM, not a style attribute: allowed by the hash-only style-src.
    root.style.setProperty('--brand', display.brandColor);
    root.style.setProperty('--on-brand', luminance(display.brandColor) > 0.4 ? '#111418' : '#ffffff');
  }
  const name = display.brandName || 'Secure message';
  return h(
    'header',
    { class: 'sp-band' },
    h(
      'div',
      { class: 'sp-band-inner' },
      display.brandLogo ? h('img', { class: 'sp-logo', src: display.brandLogo, alt: '' }) : null,
      h('span', { class: 'sp-brand-name' }, name),
      h('span', { class: 'sp-badge' }, icon(ICONS.lock), 'Encrypted'),
    ),
  );
}

function metaList(rows) {
  return h(
    'dl',
    { class: 'sp-meta' },
    rows.filter(([, v]) => v).map(([k, v]) => h('div', { class: 'sp-row' }, h('dt', {}, k), h('dd', {}, v))),
  );
}

function errorBox(e, id) {
  const d = describeError(e);
  // What a support desk needs to know, out of the way of everyone else.
  const details =
    e && e.detail && e.kind !== 'wrong-key' && e.kind !== 'expired'
      ? h('details', { class: 'sp-details' }, h('summary', {}, 'Technical details'), h('p', {}, `${e.kind}: ${e.detail}`))
      : null;
  return h(
    'div',
    { class: 'sp-error', id, role: 'alert' },
    icon(e && e.kind === 'expired' ? ICONS.clock : ICONS.alert),
    h('div', {}, h('p', { class: 'sp-error-title' }, d.title), h('p', {}, d.text), details),
  );
}

function progressBar() {
  const fill = h('div', { class: 'sp-progress-fill' });
  const label = h('span', { class: 'sp-progress-label' }, 'Decrypting… 0%');
  const bar = h(
    'div',
    {
      class: 'sp-progress',
      role: 'progressbar',
      'aria-label': 'Decrypting the message',
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': '0',
    },
    fill,
  );
  const wrap = h('div', { class: 'sp-progress-wrap' }, bar, label);
  wrap.set = (fraction) => {
    const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    bar.setAttribute('aria-valuenow', String(pct));
    fill.style.transform = `scaleX(${pct / 100})`;
    label.textContent = `Decrypting… ${pct}%`;
  };
  return wrap;
}

/** The outside of the envelope and, for password envelopes, the form. */
function outside(app, env) {
  const { header, display } = env;
  const policy = header.policy;
  const senderName = display.sender;
  const from = policy.from;
  const sender = senderName && from ? `${senderName} <${from}>` : senderName || from || 'Unknown sender';
  const who = senderName || from || 'Someone';

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

  const problem = (() => {
    try {
      checkBrowser();
      checkExpiry(header);
      return null;
    } catch (e) {
      return e;
    }
  })();

  if (problem) {
    parts.push(errorBox(problem, 'sp-error'));
  } else if (header.keyAccess.type === 'keyserver') {
    let host = header.keyAccess.url;
    try {
      host = new URL(host).host;
    } catch {
      // show the URL as written
    }
    parts.push(
      h(
        'div',
        { class: 'sp-info', role: 'note' },
        icon(ICONS.shield),
        h(
          'p',
          {},
          `This message is released by the key server ${host} after you sign in. ` +
            'Signing in from this file is not available yet: open the message with the sealpost app, ' +
            'or ask the sender for a password-protected copy.',
        ),
      ),
    );
  } else {
    parts.push(passwordForm(app, env));
  }
  parts.push(
    h(
      'p',
      { class: 'sp-explain' },
      'The message is encrypted inside this file and is decrypted only on your device; ' +
        'nothing you type here is sent anywhere.',
    ),
  );
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
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'sp-reveal',
      'aria-controls': 'sp-password',
      'aria-label': 'Show password',
      on: {
        click: () => {
          const show = input.type === 'password';
          input.type = show ? 'text' : 'password';
          toggle.setAttribute('aria-label', show ? 'Hide password' : 'Show password');
          toggle.lastChild.textContent = show ? 'Hide' : 'Show';
        },
      },
    },
    icon(ICONS.eye),
    h('span', {}, 'Show'),
  );
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
      await verifyKey(key, header);
      setBusy(true, 'Decrypting…');
      await nextFrame();
      const payload = decodePayload(env.payloadEl.textContent);
      let progress = null;
      if (payload.length > header.method.segmentSize + 16) {
        progress = progressBar();
        progressSlot.replaceChildren(progress);
      }
      const bytes = await openPayload(key, env.headerBytes, header, payload, (done, total) => {
        if (progress) progress.set(total ? done / total : 1);
      });
      setBusy(true, 'Preparing the message…');
      await nextFrame();
      const msg = await parseMessage(bytes);
      input.value = '';
      showMessage(app, msg, bytes);
      await nextFrame();
      performance.mark('sealpost:rendered');
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

/** Replace the outside with the message; attached messages stack on it. */
function showMessage(app, msg, raw) {
  const main = app.querySelector('.sp-main');
  app.classList.add('sp-wide');
  const stack = [];
  const show = (view) => {
    main.replaceChildren(view, footer(app.env));
    view.focusTitle();
    window.scrollTo(0, 0);
  };
  const open = (m, bytes, nested, opener) => {
    const view = messageView(m, {
      raw: bytes,
      nested,
      onBack: () => {
        const top = stack.pop();
        top.view.release();
        show(stack[stack.length - 1].view);
        if (top.opener) top.opener.focus();
      },
      onView: async (att, button) => {
        try {
          const inner = new Uint8Array(att.content);
          open(await parseMessage(inner), inner, true, button);
        } catch {
          button.disabled = true;
        }
      },
    });
    stack.push({ view, opener });
    show(view);
  };
  document.title = `${msg.subject || 'Secure message'} – Secure message`;
  open(msg, raw, false);
}

function footer(env) {
  return h(
    'footer',
    { class: 'sp-footer' },
    h(
      'p',
      {},
      'Sender, subject and branding shown before opening come from the unencrypted part of the file ' +
        'and are confirmed only by the decrypted message.',
    ),
    h('p', {}, `Protected with sealpost · envelope format v1${env ? ` · message ${env.header.id}` : ''}`),
  );
}

function boot() {
  const app = document.getElementById('sealpost-outside') || document.body.appendChild(h('div', { id: 'sealpost-outside' }));
  app.classList.add('sp-app');
  let env;
  let display = {};
  try {
    const blocks = findBlocks(document);
    display = parseDisplay(blocks.displayText);
    const { bytes, header } = parseHeader(blocks.headerText);
    env = { header, headerBytes: bytes, display, payloadEl: blocks.payloadEl };
  } catch (e) {
    const card = h(
      'section',
      { class: 'sp-card sp-outside', 'aria-labelledby': 'sp-title' },
      h('div', { class: 'sp-seal sp-seal-bad' }, icon(ICONS.alert)),
      h('h1', { id: 'sp-title' }, 'Secure message'),
      errorBox(e, 'sp-error'),
    );
    replace(app, brandBand(display), h('main', { class: 'sp-main' }, card, footer(null)));
    return;
  }
  app.env = env;
  replace(app, brandBand(display), h('main', { class: 'sp-main' }, outside(app, env), footer(env)));
  const input = document.getElementById('sp-password');
  if (input) input.focus();
}

boot();
