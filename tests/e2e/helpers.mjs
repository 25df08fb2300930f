// helpers.mjs - shared pieces of the browser tests: sealing with the real
// CLI, building the web opener, launching Debian's chromium through
// playwright-core, recording every request a page makes.
//
// Environment: SEALPOST = path of the sealpost binary (required for tests
// that seal); CHROMIUM = browser binary (default /usr/bin/chromium);
// SEALPOST_KEYD = path of sealpost-keyd (default: the one beside SEALPOST,
// build*/src/keyd/sealpost-keyd), for the key-server tests.

import { spawnSync } from 'node:child_process';
import { after, before } from 'node:test';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { admin, freePort, outbox, startKeyd as startKeydProcess } from '../integration/keyd-helpers.mjs';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const VECTORS = join(REPO, 'tests', 'vectors');
export const SHOTS = join(REPO, 'build', 'e2e');
export const SEALPOST = process.env.SEALPOST;
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const require = createRequire(join(REPO, 'web', 'package.json'));

/** Why the browser tests cannot run here, or null when they can. */
function missingPrerequisite() {
  if (!existsSync(CHROMIUM)) return `no browser at ${CHROMIUM} (apt-get install chromium)`;
  try {
    require.resolve('playwright-core');
  } catch {
    return 'web/node_modules is missing (cd web && npm ci)';
  }
  return null;
}

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** A scratch directory, removed by cleanup(). */
export function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-e2e-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---- the opener ----------------------------------------------------------------

/** Build web/ (with extra build.mjs flags) into a scratch directory;
 * returns { head, foot }. */
export function buildOpener(...flags) {
  const out = mkdtempSync(join(tmpdir(), 'sealpost-web-'));
  try {
    const r = spawnSync(process.execPath, [join(REPO, 'web', 'build.mjs'), ...flags, out], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`web/build.mjs failed:\n${r.stderr}`);
    return {
      head: readFileSync(join(out, 'opener-head.html'), 'utf8'),
      foot: readFileSync(join(out, 'opener-foot.html'), 'utf8'),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const HEADER_TAG = '<script type="application/json" id="sealpost-header">';

/** An envelope's text split into { head, blocks, foot } (§3 layout). */
export function splitEnvelope(html) {
  const start = html.indexOf(HEADER_TAG);
  const payloadAt = html.indexOf('id="sealpost-payload"');
  const end = html.indexOf('</script>\n', payloadAt) + '</script>\n'.length;
  if (start < 0 || payloadAt < 0 || end < payloadAt) throw new Error('not an envelope');
  return { head: html.slice(0, start), blocks: html.slice(start, end), foot: html.slice(end) };
}

/** An envelope's blocks in the page of another build of the opener (as a
 * password envelope: connect-src 'none'). */
export function rewrap(html, built) {
  return built.head.replace('@CONNECT_SRC@', "'none'") + splitEnvelope(html).blocks + built.foot;
}

/**
 * The committed test vectors (tests/vectors/*.html) are format test data
 * and may predate the embedded opener. Give such a vector's blocks the page
 * of an envelope the CLI writes now (the page is not part of the format,
 * §3), so the browser can open it; a vector that already carries the opener
 * is returned as it is.
 */
export function vectorInCurrentPage(vectorHtml, cliEnvelopeHtml) {
  const v = splitEnvelope(vectorHtml);
  if (/<script>/.test(v.foot)) return vectorHtml;
  const page = splitEnvelope(cliEnvelopeHtml);
  return page.head + v.blocks + page.foot;
}

// ---- sealing -----------------------------------------------------------------

/**
 * Seal message bytes with the CLI into dir; returns the envelope's path.
 * opts: password (default 'correct horse battery staple'), hint, args
 * (extra CLI arguments), name.
 */
export function seal(dir, message, opts = {}) {
  if (!SEALPOST) throw new Error('SEALPOST is not set');
  const name = opts.name || `m${Math.random().toString(36).slice(2, 10)}`;
  const msgFile = join(dir, `${name}.eml`);
  const pwFile = join(dir, `${name}.pw`);
  const out = join(dir, `${name}.html`);
  writeFileSync(msgFile, message);
  writeFileSync(pwFile, `${opts.password ?? 'correct horse battery staple'}\n`);
  const args = ['seal', '--password-file', pwFile, '--kdf-memory', '8', '--kdf-passes', '1'];
  if (opts.hint) args.push('--hint', opts.hint);
  args.push(...(opts.args || []), '-o', out, msgFile);
  const r = spawnSync(SEALPOST, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`sealpost seal failed (${r.status}): ${r.stderr}`);
  return out;
}

/** Rewrite an envelope file in place with f(text). */
export function edit(path, f, to = path) {
  writeFileSync(to, f(readFileSync(path, 'utf8')));
  return to;
}

// ---- the browser ---------------------------------------------------------------

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launch chromium (a fresh temporary profile each time). */
export async function launch() {
  const { chromium } = require('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

const LOCAL = /^(?:file|data|blob|about):/;

/**
 * A page in a new context that records requests and blocks any that is not
 * file:, data:, blob: or about:. Returns { context, page, requests (every
 * URL the page or its frames asked for, including loads the CSP then
 * refused), attempted (the non-local ones among them), remote (non-local
 * requests that got past the browser's own checks and would have reached
 * the network), errors (page errors) }. opts: viewport, colorScheme, route
 * (handler for remote requests instead of aborting them), passThrough.
 */
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({
    viewport: opts.viewport || { width: 1280, height: 800 },
    colorScheme: opts.colorScheme || 'light',
    acceptDownloads: true,
    locale: 'en-GB',
    timezoneId: 'Europe/Zurich',
    serviceWorkers: 'block',
  });
  const rec = { context, requests: [], attempted: [], remote: [], errors: [], console: [] };
  // opts.passThrough(url): requests the page may really make (a key
  // server under test); they are recorded but not intercepted, so the
  // browser's own CORS and CSP checks apply to them.
  await context.route(opts.passThrough ? (url) => !opts.passThrough(url.href) : '**/*', (route) => {
    const url = route.request().url();
    if (LOCAL.test(url)) return route.continue();
    rec.remote.push(url);
    if (opts.route) return opts.route(route);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('request', (r) => {
    rec.requests.push(r.url());
    if (!LOCAL.test(r.url())) rec.attempted.push(r.url());
  });
  page.on('pageerror', (e) => rec.errors.push(String(e)));
  page.on('console', (m) => rec.console.push(`${m.type()}: ${m.text()}`));
  rec.page = page;
  return rec;
}

/** Open an envelope file in page and wait for the opener to have run. */
export async function openFile(page, path) {
  await page.goto(pathToFileURL(path).href);
  await page.waitForSelector('.sp-outside h1#sp-title');
}

/** Open a key-server envelope and sign in inside it as email (an active
 * account) with password; wait for the message. */
export async function openSignedIn(page, path, email, password) {
  await openFile(page, path);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await page.waitForSelector('.sp-message', { timeout: 30000 });
}

/** Type the password, press Enter, wait for the message or an error. */
export async function unlock(page, password = 'correct horse battery staple') {
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Password', { exact: true }).press('Enter');
  await page.waitForSelector('.sp-message, .sp-error', { timeout: 60000 });
}

/** Save a screenshot under build/e2e/. */
export async function shot(page, name, fullPage = true) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** The page's horizontal overflow in CSS pixels (0 = none). */
export function horizontalOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/**
 * Set up a browser test file: fail at once if a prerequisite is missing (make
 * check installs them, and a suite that skipped would prove nothing), then one
 * Chromium and one scratch directory for the file's tests. Returns an object
 * whose `browser` and `tmp` are set before the first test.
 */
export function browserSuite() {
  const missing = missingPrerequisite() || (!SEALPOST && 'SEALPOST not set');
  if (missing) throw new Error(`the browser tests cannot run: ${missing}`);
  const suite = { browser: null, tmp: null };
  before(async () => {
    suite.browser = await launch();
    suite.tmp = scratch();
  });
  after(async () => {
    if (suite.browser) await suite.browser.close();
    if (suite.tmp) suite.tmp.cleanup();
  });
  return suite;
}

// ---- the key server ------------------------------------------------------------

// Started, driven and read as the integration suites do (one implementation:
// tests/integration/keyd-helpers.mjs), under the names this suite uses.
export { freePort };

/**
 * Start `sealpost-keyd --dev` (or, with opts.config, with those settings: see
 * keyd-helpers.mjs startKeyd) on a free loopback port with a fresh data
 * directory and wait for /healthz. Returns { url, dir, log(), stop() };
 * stop() ends keyd (and fails if it did not stop cleanly) and removes the
 * data directory.
 */
export async function startKeyd(opts = {}) {
  const k = await startKeydProcess(opts);
  return { url: k.url, dir: k.dataDir, log: k.log, stop: k.stop };
}

/** `sealpost-keyd admin --data DIR ...args`; returns stdout, trimmed. */
export const keydAdmin = admin;

/** The .eml files in DIR/outbox, oldest first. */
export function outboxFiles(dir) {
  return outbox(dir).map((m) => m.path);
}

let postalMime = null;
function loadPostalMime() {
  if (!postalMime) {
    const mod = require('postal-mime');
    postalMime = mod.default || mod;
  }
}

/** A mail file parsed by postal-mime ({ subject, text, html, attachments, ... }). */
export async function parseMailFile(path) {
  loadPostalMime();
  return postalMime.parse(readFileSync(path));
}

/**
 * Wait (up to timeoutMs) for a mail to `to` in keyd's outbox that is not in
 * `skip` (paths seen before) and whose text holds a link matching linkRe.
 * Returns { path, subject, text, link }.
 */
export async function waitForMail(dir, to, linkRe, { skip = [], timeoutMs = 10000 } = {}) {
  loadPostalMime();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const path of outboxFiles(dir).filter((p) => !skip.includes(p)).reverse()) {
      const mail = await postalMime.parse(readFileSync(path));
      if (!(mail.to || []).some((a) => (a.address || '').toLowerCase() === to.toLowerCase())) continue;
      const text = mail.text || '';
      const link = (text.match(linkRe) || [null])[0];
      if (link) return { path, subject: mail.subject, text, link };
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to} with a link like ${linkRe} in ${join(dir, 'outbox')}`);
    await sleep(100);
  }
}

/**
 * Seal message bytes for the key server with the CLI (`seal --keyserver URL
 * --token-file F --to ADDR...`); returns the envelope's path. opts: to
 * (addresses), security, expires, name, mail (the whole carrier mail
 * instead of the envelope file).
 */
export function sealKeyserver(dir, message, keyserver, tokenFile, opts = {}) {
  if (!SEALPOST) throw new Error('SEALPOST is not set');
  const name = opts.name || `k${Math.random().toString(36).slice(2, 10)}`;
  const msgFile = join(dir, `${name}.eml`);
  const out = join(dir, `${name}${opts.mail ? '-carrier.eml' : '.html'}`);
  writeFileSync(msgFile, message);
  const args = ['seal', '--keyserver', keyserver, '--token-file', tokenFile];
  if (opts.mail) args.push('--mail');
  for (const a of opts.to || []) args.push('--to', a);
  for (const a of opts.bcc || []) args.push('--bcc', a);
  if (opts.security) args.push('--security', opts.security);
  if (opts.expires) args.push('--expires', opts.expires);
  args.push('-o', out, msgFile);
  const r = spawnSync(SEALPOST, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sealpost seal --keyserver failed (${r.status}): ${r.stderr}`);
  return out;
}
