// ui.js - the building blocks every view of the opener and of keyd's pages
// shares: the brand band, fact lists, error and notice boxes, the progress
// bar, labelled form fields with their own error line, password fields with
// a Show button, and a busy state for forms. All DOM is built with h().

import { h, icon, ICONS } from './dom.js';
import { describeError } from './messages.js';

/** Resolve after the browser has painted (lets a status line show before
 * a long synchronous step). */
export const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

/** Relative luminance of #rrggbb, for choosing text on the brand colour. */
function luminance(hex) {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const lin = c.map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
}

/** The coloured band at the top: logo, brand name, "Encrypted" badge.
 * display: { brandName, brandColor (#rrggbb), brandLogo (data: URL) }. */
export function brandBand(display, badge = 'Encrypted') {
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
      badge ? h('span', { class: 'sp-badge' }, icon(ICONS.lock), badge) : null,
    ),
  );
}

/** A definition list of [label, value] rows; rows without a value are left out. */
export function metaList(rows) {
  return h(
    'dl',
    { class: 'sp-meta' },
    rows.filter(([, v]) => v).map(([k, v]) => h('div', { class: 'sp-row' }, h('dt', {}, k), h('dd', {}, v))),
  );
}

/** A red box with a title and an explanation (and optional extra nodes). */
export function alertBox(title, text, opts = {}) {
  return h(
    'div',
    { class: 'sp-error', id: opts.id || null, role: 'alert' },
    icon(opts.icon || ICONS.alert),
    h('div', {}, h('p', { class: 'sp-error-title' }, title), text ? h('p', {}, text) : null, opts.extra || null),
  );
}

/** The box for an envelope error (see messages.js), with technical details
 * folded away for a support desk. */
export function errorBox(e, id) {
  const d = describeError(e);
  const details =
    e && e.detail && e.kind !== 'wrong-key' && e.kind !== 'expired'
      ? h('details', { class: 'sp-details' }, h('summary', {}, 'Technical details'), h('p', {}, `${e.kind}: ${e.detail}`))
      : null;
  return alertBox(d.title, d.text, { id, icon: e && e.kind === 'expired' ? ICONS.clock : ICONS.alert, extra: details });
}

/** A neutral note with an icon. */
export function infoBox(text, ic = ICONS.shield, cls = 'sp-info') {
  return h('div', { class: cls, role: 'note' }, icon(ic), h('p', {}, text));
}

/** A progress bar labelled "Decrypting… N%" (or label, and name for
 * assistive technology); call .set(fraction) or .set(fraction, label, name)
 * to move it or give it a new step. */
export function progressBar(label = 'Decrypting…', name = 'Decrypting the message') {
  const fill = h('div', { class: 'sp-progress-fill' });
  const text = h('span', { class: 'sp-progress-label' }, `${label} 0%`);
  const bar = h(
    'div',
    {
      class: 'sp-progress',
      role: 'progressbar',
      'aria-label': name,
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': '0',
    },
    fill,
  );
  const wrap = h('div', { class: 'sp-progress-wrap' }, bar, text);
  wrap.set = (fraction, newLabel, newName) => {
    if (newLabel) label = newLabel;
    if (newName) bar.setAttribute('aria-label', newName);
    const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    bar.setAttribute('aria-valuenow', String(pct));
    fill.style.transform = `scaleX(${pct / 100})`;
    text.textContent = `${label} ${pct}%`;
  };
  return wrap;
}

/** A "Show"/"Hide" button for the password input it controls. */
export function revealButton(input) {
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'sp-reveal',
      'aria-controls': input.id,
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
  return toggle;
}

/**
 * A labelled form field: { wrap, input, setError(text|null) }. opts: id,
 * label, type (text, email, password, select), value, options (for a
 * select: [value, text] pairs), autocomplete, readonly, maxlength, help
 * (text under the field), reveal (a Show button for passwords).
 * setError shows text under the field and marks the input invalid.
 */
export function field(opts) {
  const { id } = opts;
  const helpId = opts.help ? `${id}-help` : null;
  const errId = `${id}-error`;
  const attrs = {
    id,
    name: opts.name || id,
    autocomplete: opts.autocomplete || 'off',
    readonly: !!opts.readonly,
    maxlength: opts.maxlength || null,
    'aria-describedby': helpId,
  };
  let input;
  if (opts.type === 'select') {
    input = h(
      'select',
      attrs,
      opts.options.map(([value, text]) => h('option', { value }, text)),
    );
  } else {
    input = h('input', {
      ...attrs,
      type: opts.type || 'text',
      autocapitalize: opts.type === 'password' || opts.type === 'email' ? 'off' : null,
      spellcheck: opts.type === 'password' || opts.type === 'email' ? 'false' : null,
      list: opts.list || null,
    });
  }
  if (opts.value != null) input.value = opts.value;
  const error = h('p', { id: errId, class: 'sp-field-error', hidden: true });
  const wrap = h(
    'div',
    { class: 'sp-fieldset' },
    h('label', { for: id, class: 'sp-label' }, opts.label),
    h('div', { class: 'sp-field' }, input, opts.reveal ? revealButton(input) : null),
    opts.help ? h('p', { id: helpId, class: 'sp-hint' }, opts.help) : null,
    error,
  );
  const setError = (text) => {
    error.textContent = text || '';
    error.hidden = !text;
    if (text) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    input.setAttribute('aria-describedby', [helpId, text ? errId : null].filter(Boolean).join(' '));
    if (!input.getAttribute('aria-describedby')) input.removeAttribute('aria-describedby');
  };
  return { wrap, input, setError };
}

/** A checkbox with its label after it: { wrap, input }. */
/** Length in characters (code points), as keyd counts them. */
export const chars = (s) => [...s].length;

/**
 * A new password and its confirmation (ids `ID` and `ID2`), with the
 * checks every form that sets a password makes before sending: 8 to 256
 * characters, both the same. problems() gives [field, message or null]
 * for each of the two.
 */
export function newPasswordFields({ id, label = 'New password', confirm = 'Confirm new password' }) {
  const pw = field({
    id,
    label,
    type: 'password',
    autocomplete: 'new-password',
    reveal: true,
    maxlength: 256,
    help: 'At least 8 characters. A few unrelated words are easy to remember and hard to guess.',
  });
  const pw2 = field({ id: `${id}2`, label: confirm, type: 'password', autocomplete: 'new-password', maxlength: 256 });
  const problems = () => {
    const v = pw.input.value;
    const n = chars(v);
    return [
      [pw, n < 8 ? 'Use at least 8 characters.' : n > 256 ? 'Use at most 256 characters.' : null],
      [pw2, v && pw2.input.value !== v ? 'The passwords do not match.' : null],
    ];
  };
  return { pw, pw2, problems };
}

export function checkbox(id, label, help) {
  const input = h('input', { id, name: id, type: 'checkbox', 'aria-describedby': help ? `${id}-help` : null });
  const wrap = h(
    'div',
    { class: 'sp-check' },
    input,
    h('div', {}, h('label', { for: id }, label), help ? h('p', { id: `${id}-help`, class: 'sp-hint' }, help) : null),
  );
  return { wrap, input };
}

/**
 * Make a form's controls busy or not: disables every input, select and
 * button inside it and shows text in its status line (a spinner while
 * busy). Returns a setter (busy, text).
 */
export function busySetter(form, status) {
  return (busy, text) => {
    for (const el of form.querySelectorAll('input, select, button')) {
      if (busy) {
        if (!el.disabled) el.dataset.spBusy = '1';
        el.disabled = true;
      } else if (el.dataset.spBusy) {
        delete el.dataset.spBusy;
        el.disabled = false;
      }
    }
    form.setAttribute('aria-busy', String(busy));
    status.textContent = text || '';
    status.classList.toggle('sp-busy', !!busy);
  };
}

/** A status line (live region) for a form. */
export const statusLine = () => h('p', { class: 'sp-status', role: 'status', 'aria-live': 'polite' });
