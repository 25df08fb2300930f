// open.js - the script of keyd's /open page: open a securemessage.html file
// right here. The reader drops the file on the page or chooses it; it is
// read locally (never uploaded), parsed into an inert <template> fragment
// (none of its scripts run, nothing of it loads) and shown with the very
// modules the envelope runs (../opener/view.js): password envelopes with
// their password, key-server envelopes of this key server through its
// account flow. The page's CSP allows connect-src 'self' only, so an
// envelope of another key server is told to open elsewhere.
//
// Why not an iframe: a srcdoc or blob: frame inherits this page's CSP,
// which does not allow the envelope's inline script; running the opener
// code in the page itself needs no exception.

import { h, replace, icon, ICONS } from '../opener/dom.js';
import { readEnvelope, showEnvelope } from '../opener/view.js';
import { alertBox, brandBand } from '../opener/ui.js';
import { formatSize } from '../opener/format.js';

const MAX_BYTES = 1024 * 1024 * 1024;
const app = document.getElementById('sp-page');
let choosing = true;

function resetLook() {
  const root = document.documentElement.style;
  root.removeProperty('--brand');
  root.removeProperty('--on-brand');
  app.classList.remove('sp-wide');
  delete app.env;
  document.title = 'Open a secure message – sealpost';
}

/** The card with the drop zone and the file chooser. */
function chooser(problem) {
  choosing = true;
  resetLook();
  const input = h('input', {
    id: 'sp-file',
    type: 'file',
    class: 'sp-file-input',
    accept: '.html,.htm,text/html',
    'aria-describedby': 'sp-drop-help',
    on: { change: () => input.files[0] && openFile(input.files[0]) },
  });
  const zone = h(
    'div',
    { class: 'sp-drop', id: 'sp-drop' },
    icon(ICONS.file, 'sp-drop-icon'),
    h('p', { class: 'sp-drop-title' }, 'Drop securemessage.html here'),
    h('p', { class: 'sp-drop-or' }, 'or'),
    input,
    h('label', { for: 'sp-file', class: 'sp-btn sp-btn-primary' }, 'Choose file'),
  );
  for (const type of ['dragenter', 'dragover']) zone.addEventListener(type, () => zone.classList.add('sp-drop-active'));
  for (const type of ['dragleave', 'drop']) zone.addEventListener(type, () => zone.classList.remove('sp-drop-active'));
  const card = h(
    'section',
    { class: 'sp-card sp-outside', 'aria-labelledby': 'sp-title' },
    h('div', { class: 'sp-seal' }, icon(ICONS.lock)),
    h('h1', { id: 'sp-title' }, 'Open a secure message'),
    h(
      'p',
      { class: 'sp-lede', id: 'sp-drop-help' },
      'Choose the securemessage.html file attached to the secure email, or drop it here. ' +
        'It is decrypted in this browser: the file is not uploaded.',
    ),
    problem || null,
    zone,
    h(
      'p',
      { class: 'sp-explain' },
      'You can also open the file itself in your browser: it contains everything needed to open the message.',
    ),
  );
  replace(
    app,
    brandBand({ brandName: 'sealpost' }, 'Secure messages'),
    h('main', { class: 'sp-main' }, card),
  );
}

async function openFile(file) {
  if (!choosing) return;
  if (file.size > MAX_BYTES) {
    chooser(alertBox('This file is too large', `${file.name} is ${formatSize(file.size)}; a secure message here can be at most ${formatSize(MAX_BYTES)}.`));
    return;
  }
  let text;
  try {
    text = await file.text();
  } catch {
    chooser(alertBox('This file could not be read', `The browser could not read ${file.name}. Save it again and retry.`));
    return;
  }
  // Parsed as the content of a <template>: an inert fragment, never
  // connected to a document, so none of its scripts run, nothing loads and
  // its <style> never becomes a style sheet (a DOMParser document would
  // make one, and the page's CSP would report refusing it).
  const tpl = document.createElement('template');
  tpl.innerHTML = text;
  const found = readEnvelope(tpl.content);
  if (found.error && found.error.kind === 'not-envelope') {
    chooser(
      alertBox(
        'This is not a secure message',
        `${file.name} is not a sealpost envelope. Choose the securemessage.html file attached to the secure email.`,
      ),
    );
    return;
  }
  choosing = false;
  resetLook();
  showEnvelope(app, found, {
    place: 'page',
    canConnect: (origin) => origin === location.origin,
    footerExtra: () => h('p', {}, h('button', { type: 'button', class: 'sp-linkbtn', on: { click: () => chooser() } }, 'Open another file')),
  });
}

// A file dropped anywhere on the page while the chooser shows is opened;
// elsewhere (and always) the browser must not navigate to the dropped file.
document.addEventListener('dragover', (ev) => ev.preventDefault());
document.addEventListener('drop', (ev) => {
  ev.preventDefault();
  const file = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
  if (file && choosing) openFile(file);
});

chooser();
