// keyserver.test.mjs - key-server envelopes end to end in Chromium, against
// the real sealpost-keyd: a message sealed by the CLI with --keyserver is
// opened from file://, the reader registers inside the envelope, activates
// the account from the mailed link (keyd's /activate page), signs in and
// reads the message; then remembered browsers (on keyd's /open page only,
// out of reach of other local files), security "low", several
// recipients, a forgotten password (keyd's /reset page), keyd's /open page,
// and an unreachable key server.
//
// keyd runs in development mode on a free loopback port with a scratch data
// directory; its mail lands in DIR/outbox. The only requests a page may
// make go to that keyd (checked for every page); everything else is
// aborted by the helpers. Screenshots land in build/e2e/ (ks-*.png).
//
// Run: SEALPOST=build/src/cli/sealpost [SEALPOST_KEYD=build/src/keyd/sealpost-keyd] node --test tests/e2e/

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  browserSuite, horizontalOverflow, keydAdmin, newPage, openFile, outboxFiles, parseMailFile, seal, sealKeyserver, shot,
  startKeyd,
  unlock, waitForMail,
} from './helpers.mjs';
import * as mail from './mail.mjs';
import { registerAndActivate } from '../integration/keyd-helpers.mjs';

const suite = browserSuite();
let keyd = null;
let tokenFile = null;

const BOB = 'bob@example.com';
const CAROL = 'carol@example.net';
const PASSWORD = 'Tr0ub4dor & three green apples';
const NEW_PASSWORD = 'seven purple kites over Lisbon';
const PHRASE = 'blue heron at dawn';
const OWN_QUESTION = 'Which lake did we swim in as children?';
const MOBILE = { width: 375, height: 740 };

before(async () => {
  // A small max_failures, so that the throttle's hold is reached in a few tries.
  keyd = await startKeyd({ config: { auth: { max_failures: 4 } } });
  keydAdmin(keyd.dir, 'org', 'create', 'example', '--domain', 'example.org');
  const token = keydAdmin(keyd.dir, 'token', 'create', '--org', 'example');
  assert.match(token, /^spg_[A-Za-z0-9_-]+$/);
  // The browser suite's scratch directory may not exist yet (hooks of one
  // file are not ordered across helpers): the token lives in keyd's.
  tokenFile = join(keyd.dir, 'gateway.token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
});

after(async () => {
  if (keyd) await keyd.stop();
});

/** Seal mail.plainText() for the key server. */
const sealed = (opts = {}) => sealKeyserver(suite.tmp.dir, mail.plainText(), keyd.url, tokenFile, { to: [BOB], ...opts });

/**
 * A page that may talk to keyd (and nothing else). rec.calls lists
 * "METHOD /path" of every keyd request; done() asserts that nothing but
 * keyd was asked for, no script error and no CSP refusal happened, and
 * no cookie was set.
 */
async function page(opts = {}) {
  const rec = await newPage(suite.browser, { ...opts, passThrough: (u) => u.startsWith(`${keyd.url}/`) });
  rec.calls = [];
  rec.urls = [];
  rec.page.on('request', (r) => {
    if (r.url().startsWith(`${keyd.url}/`)) {
      rec.calls.push(`${r.method()} ${new URL(r.url()).pathname}`);
      rec.urls.push(r.url());
    }
  });
  rec.done = async ({ cookies = [] } = {}) => {
    assert.deepEqual(rec.attempted.filter((u) => !u.startsWith(`${keyd.url}/`)), [], 'only the key server was contacted');
    assert.deepEqual(rec.errors, [], 'page errors');
    assert.deepEqual(rec.console.filter((m) => /Content Security Policy|Refused to/i.test(m)), [], 'CSP refusals');
    assert.deepEqual((await rec.context.cookies()).map((c) => c.name), cookies, 'cookies');
    await rec.context.close();
  };
  return rec;
}

const text = (p, sel) => p.locator(sel).innerText();
const label = (p, name) => p.getByLabel(name, { exact: true });
const button = (p, name) => p.getByRole('button', { name, exact: true });

/** Type a password and press Open; wait for the message or a message. */
async function signIn(p, password) {
  await label(p, 'Password').fill(password);
  await button(p, 'Open').click();
  await p.waitForSelector('.sp-message, .sp-field-error:not([hidden]), .sp-error', { timeout: 30000 });
}

async function assertMessage(p) {
  await p.waitForSelector('.sp-message', { timeout: 30000 });
  assert.equal(await text(p, 'h1.sp-subject'), 'Your test results');
  assert.match(await text(p, '.sp-text'), /Kind regards,\nAlice/);
  assert.match(await text(p, '.sp-verified'), /Decrypted and verified/);
}

let activationLink = null;
let firstEnvelope = null;

test('register in the envelope, activate from the mail, sign in, read', async () => {
  firstEnvelope = sealed({ name: 'first' });
  const rec = await page();
  const p = rec.page;
  await openFile(p, firstEnvelope);
  assert.match(await text(p, '.sp-info'), new RegExp(`key server 127\\.0\\.0\\.1:${keyd.url.split(':')[2]}`));

  // Unregistered: the registration form, inside the envelope.
  await button(p, 'Register').waitFor();
  assert.equal(await label(p, 'Email').inputValue(), BOB);
  assert.equal(await label(p, 'Email').isEditable(), false, 'the address is fixed');
  for (const name of ['Name', 'Password', 'Confirm password', 'Security phrase', 'Security question 1', 'Answer 1', 'Security question 2', 'Answer 2'])
    assert.equal(await label(p, name).count(), 1, name);
  await shot(p, 'ks-register');
  await p.setViewportSize(MOBILE);
  assert.equal(await horizontalOverflow(p), 0, 'no horizontal scrolling (registration, 375 px)');
  await shot(p, 'ks-register-mobile');
  await p.setViewportSize({ width: 1280, height: 800 });

  // Checks in the page first: nothing is sent while a field is wrong.
  const before = rec.calls.length;
  await button(p, 'Register').click();
  assert.match(await text(p, '#sp-ks-name-error'), /Enter your name/);
  assert.equal(await p.evaluate(() => document.activeElement.id), 'sp-ks-name');
  await label(p, 'Name').fill('Bob Recipient');
  await label(p, 'Password').fill(PASSWORD);
  await label(p, 'Confirm password').fill('something else');
  await label(p, 'Security phrase').fill(PHRASE);
  await label(p, 'Answer 1').fill('Rex');
  await label(p, 'Security question 2').selectOption({ label: 'Write my own question…' });
  await label(p, 'Your question 2').fill(OWN_QUESTION);
  await label(p, 'Answer 2').fill('Lake Geneva');
  await button(p, 'Register').click();
  assert.match(await text(p, '#sp-ks-new-password2-error'), /do not match/);
  assert.equal(rec.calls.length, before, 'no request for a form the page refused');

  // The key server's password rules come back next to the field.
  await label(p, 'Password').fill(BOB);
  await label(p, 'Confirm password').fill(BOB);
  await button(p, 'Register').click();
  await p.locator('#sp-ks-new-password-error:not([hidden])').waitFor();
  assert.ok((await text(p, '#sp-ks-new-password-error')).length > 10, 'the weak-password detail is shown');
  assert.equal(await label(p, 'Password').getAttribute('aria-invalid'), 'true');
  await shot(p, 'ks-register-weak-password');

  const skip = outboxFiles(keyd.dir);
  await label(p, 'Password').fill(PASSWORD);
  await label(p, 'Confirm password').fill(PASSWORD);
  await button(p, 'Register').click();
  await p.getByText(/check your inbox/i).first().waitFor();
  assert.match(await text(p, '.sp-ks-inbox'), new RegExp(`sent an email to ${BOB.replace('.', '\\.')}`));
  await shot(p, 'ks-inbox');

  // "Continue" before activating: still pending, and it says so.
  await button(p, 'Continue').click();
  await p.getByText('Your account is not active yet').waitFor();

  // The activation mail links to keyd's /activate page with the token in the fragment.
  // The link also names the message (&m=), so the page wears its sender's brand.
  const m = await waitForMail(keyd.dir, BOB, /https?:\/\/\S+\/activate#token=spa_[A-Za-z0-9_-]+&m=[A-Za-z0-9_-]+/, { skip });
  activationLink = m.link;
  assert.ok(m.link.startsWith(`${keyd.url}/activate#token=`), m.link);
  const act = await rec.context.newPage();
  const resp = await act.goto(m.link);
  const csp = resp.headers()['content-security-policy'] || '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /connect-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  await act.locator('.sp-brand-name', { hasText: 'example' }).waitFor();
  // The link alone activates nothing: the password chosen at registration
  // is asked on the same page (issue 13, item 4), and a wrong one is refused.
  const actPw = label(act, 'The password you chose when you registered');
  assert.equal(await actPw.getAttribute('type'), 'password');
  assert.equal(await act.evaluate(() => document.activeElement.id), 'sp-activate-password');
  const callsBefore = rec.calls.length;
  await button(act, 'Activate account').click();
  assert.match(await text(act, '#sp-activate-password-error'), /Enter the password/);
  assert.equal(rec.calls.length, callsBefore, 'nothing sent without a password');
  await actPw.fill('a password someone else chose');
  await button(act, 'Activate account').click();
  await act.locator('#sp-activate-password-error:not([hidden])').waitFor();
  assert.match(await text(act, '#sp-activate-password-error'), /not the password chosen/);
  assert.equal(await actPw.getAttribute('aria-invalid'), 'true');
  await shot(act, 'ks-activate-wrong-password');
  await actPw.fill(PASSWORD);
  await button(act, 'Activate account').click();
  await act.getByText('Your account is active').waitFor();
  assert.match(await act.locator('main').innerText(), /Go back to your secure message and sign in/);
  assert.equal(new URL(act.url()).hash, '', 'the used token leaves the address bar');
  await shot(act, 'ks-activated');
  await act.close();

  // Back in the envelope: it noticed by itself (status polling).
  await label(p, 'Password').waitFor({ timeout: 15000 });
  assert.match(await text(p, '.sp-ks'), /Your account is active/);
  assert.equal(await label(p, 'Remember this browser').count(), 0, 'security high: no remembering');
  await shot(p, 'ks-signin');

  // A wrong password is refused next to the field.
  await signIn(p, 'not my password at all');
  assert.match(await text(p, '#sp-ks-password-error'), /Wrong password/);
  await shot(p, 'ks-wrong-password');

  // keyd backs off for a second after a failure.
  await p.waitForTimeout(2200);
  await signIn(p, PASSWORD);
  await assertMessage(p);
  await shot(p, 'ks-message');

  const id = JSON.parse(readFileSync(firstEnvelope, 'utf8').match(/id="sealpost-header">([^<]*)</)[1]).id;
  for (const call of ['GET /v1/messages/' + id + '/status', 'POST /v1/accounts', 'POST /v1/sessions', `POST /v1/messages/${id}/key`, 'DELETE /v1/sessions/current'])
    assert.ok(rec.calls.includes(call), `${call} in ${rec.calls.join(', ')}`);
  assert.ok(rec.calls.indexOf('DELETE /v1/sessions/current') > rec.calls.indexOf(`POST /v1/messages/${id}/key`), 'signed out after the key came');
  assert.ok(!rec.urls.some((u) => u.includes('Tr0ub4dor') || u.includes('sps_')), 'no secret in a URL');
  assert.equal(await p.evaluate(() => localStorage.length), 0, 'nothing remembered for a security-high message');
  await rec.done();
});

test('an activation link works once', async () => {
  const rec = await newPage(suite.browser, { passThrough: (u) => u.startsWith(`${keyd.url}/`) });
  await rec.page.goto(activationLink);
  await label(rec.page, 'The password you chose when you registered').fill(PASSWORD);
  await button(rec.page, 'Activate account').click();
  await rec.page.getByText('This activation link is not valid any more').waitFor();
  await shot(rec.page, 'ks-activate-used');
  assert.deepEqual(rec.errors, []);
  await rec.context.close();
});

test('someone else registered the address first: the owner registers and activates their own (issue 13, item 4)', async () => {
  const DORA = 'dora@example.com';
  const ATTACKER_PW = 'chosen by a co-recipient';
  const file = sealed({ name: 'dora', to: [DORA] });
  const id = envelopeId(file);
  const linkRe = /https?:\/\/\S+\/activate#token=spa_[A-Za-z0-9_-]+&m=[A-Za-z0-9_-]+/;
  // Someone holding the envelope registers Dora's address with their password.
  const skip0 = outboxFiles(keyd.dir);
  const r = await fetch(`${keyd.url}/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: DORA, name: 'Mallory', password: ATTACKER_PW, phrase: 'not hers', questions: [{ q: 'a?', a: 'b' }, { q: 'c?', a: 'd' }], message: id }),
  });
  assert.equal(r.status, 202);
  const theirs = await waitForMail(keyd.dir, DORA, linkRe, { skip: skip0 });

  // Dora opens the envelope: a registration is pending, and she can register.
  const rec = await page();
  const p = rec.page;
  await openFile(p, file);
  await p.getByText(`A registration for ${DORA} is waiting for activation`).waitFor();
  await shot(p, 'ks-pending-someone-else');
  await button(p, 'Register').click();
  await label(p, 'Name').fill('Dora Recipient');
  await label(p, 'Password').fill(PASSWORD);
  await label(p, 'Confirm password').fill(PASSWORD);
  await label(p, 'Security phrase').fill(PHRASE);
  await label(p, 'Answer 1').fill('Rex');
  await label(p, 'Answer 2').fill('Porto');
  const skip1 = outboxFiles(keyd.dir);
  await button(p, 'Register').click();
  await p.getByText(/check your inbox/i).first().waitFor();
  const mine = await waitForMail(keyd.dir, DORA, linkRe, { skip: skip1 });
  assert.notEqual(mine.link, theirs.link);

  // Both links are in her inbox. The other one does not take her password
  // (nor does it activate without one): she cannot be made to activate
  // someone else's password by clicking it.
  const act = await rec.context.newPage();
  await act.goto(theirs.link);
  await label(act, 'The password you chose when you registered').fill(PASSWORD);
  await button(act, 'Activate account').click();
  await act.locator('#sp-activate-password-error:not([hidden])').waitFor();
  // Her own link and her own password activate her registration.
  await act.goto('about:blank');
  await act.goto(mine.link);
  await label(act, 'The password you chose when you registered').fill(PASSWORD);
  await button(act, 'Activate account').click();
  await act.getByText('Your account is active').waitFor();
  await act.close();

  // Back in the envelope: signed in with her password, the message opens;
  // the other password is refused.
  await label(p, 'Password').waitFor({ timeout: 15000 });
  await signIn(p, PASSWORD);
  await assertMessage(p);
  const other = await fetch(`${keyd.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: DORA, password: ATTACKER_PW }),
  });
  assert.equal(other.status, 401);
  await rec.done();
});

/** The message id of an envelope file (sealpost inspect). */
function envelopeId(file) {
  const r = spawnSync(process.env.SEALPOST, ['inspect', '--json', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).header.id;
}

test('the sender locks, unlocks and recalls: the envelope tells the truth each time', async () => {
  // Alice, the sender, manages her message through the key server's API.
  const alicePw = 'alice keeps control of her mail';
  const pwFile = join(keyd.dir, 'alice.pw');
  writeFileSync(pwFile, `${alicePw}\n`, { mode: 0o600 });
  keydAdmin(keyd.dir, 'user', 'create', '--org', 'example', '--email', 'alice@example.org', '--role', 'sender',
    '--password-file', pwFile);
  const session = await (await fetch(`${keyd.url}/v1/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'alice@example.org', password: alicePw }),
  })).json();
  const manage = async (method, path, body) => {
    const r = await fetch(`${keyd.url}/v1/messages/${path}`, {
      method,
      headers: { authorization: `Bearer ${session.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    assert.equal(r.status, 200, `${method} ${path}: ${await r.text()}`);
  };
  const env = sealed();
  const id = envelopeId(env);

  await manage('POST', `${id}/lock`, { reason: 'sent before the results were checked' });
  let rec = await page();
  let p = rec.page;
  await openFile(p, env);
  await p.getByText('This message is locked').waitFor({ timeout: 30000 });
  assert.match(await text(p, '.sp-ks-final'), /locked by the sender: sent before the results were checked/);
  assert.equal(await label(p, 'Password').count(), 0, 'no password asked for a locked message');
  await shot(p, 'ks-message-locked');

  await manage('POST', `${id}/unlock`);
  await openFile(p, env);
  await label(p, 'Password').waitFor({ timeout: 30000 });
  await signIn(p, PASSWORD);
  await assertMessage(p);
  await rec.done();

  await manage('DELETE', `${id}/key`, { confirm: true });
  rec = await page();
  p = rec.page;
  await openFile(p, env);
  await p.getByText('This message was recalled').waitFor({ timeout: 30000 });
  assert.match(await text(p, '.sp-ks-final'), /withdrew/);
  await shot(p, 'ks-message-recalled');
  await rec.done();
});

test('the sender re-dates a message: once past, the envelope says when it expired', async () => {
  // The envelope itself has no expiry; the key server's is brought forward.
  const pwFile = join(keyd.dir, 'ops.pw');
  writeFileSync(pwFile, 'operations keeps the clinic running\n', { mode: 0o600 });
  keydAdmin(keyd.dir, 'user', 'create', '--org', 'example', '--email', 'ops@example.org', '--role', 'admin',
    '--password-file', pwFile);
  const session = await (await fetch(`${keyd.url}/v1/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'ops@example.org', password: 'operations keeps the clinic running' }),
  })).json();
  const env = sealed();
  const soon = new Date(Date.now() + 2000).toISOString().replace(/\.\d+Z$/, 'Z');
  const r = await fetch(`${keyd.url}/v1/messages/${envelopeId(env)}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ expires: soon }),
  });
  assert.equal(r.status, 200, await r.text());
  await new Promise((res) => setTimeout(res, 3500));
  const rec = await page();
  const p = rec.page;
  await openFile(p, env);
  await p.getByText('This message has expired').waitFor({ timeout: 30000 });
  assert.match(await text(p, '.sp-ks-final'), /It expired on \d{1,2} \w+ \d{4}/);
  assert.equal(await label(p, 'Password').count(), 0, 'no password asked for an expired message');
  await shot(p, 'ks-message-expired');
  await rec.done();
});

/** Device sessions made so far (the audit's session.create rows). */
const deviceSessions = () =>
  Number(spawnSync('sqlite3', [join(keyd.dir, 'keyd.db'),
    `SELECT count(*) FROM audit WHERE event = 'session.create' AND detail LIKE '%"method":"device"%'`], { encoding: 'utf8' }).stdout.trim());

/**
 * An unrelated local HTML file (say, a downloaded attachment) opened in the
 * same browser profile as the envelopes: everything it can read (local
 * storage, IndexedDB, cookies) and what its sign-in attempts with it got.
 */
async function strangerFile(context) {
  const path = join(suite.tmp.dir, 'holiday-photos.html');
  writeFileSync(path, `<!DOCTYPE html><meta charset="utf-8"><title>Holiday photos</title><script>
window.loot = (async () => {
  const out = { storage: {}, cookie: document.cookie, idb: [], attempts: [] };
  for (let i = 0; i < localStorage.length; i++) out.storage[localStorage.key(i)] = localStorage.getItem(localStorage.key(i));
  try { out.idb = (await indexedDB.databases()).map((d) => d.name); } catch (e) { out.idb = ['unreadable: ' + e]; }
  const tokens = JSON.stringify(out.storage).match(/spd_[A-Za-z0-9_-]+/g) || [];
  const bodies = [{ email: ${JSON.stringify(BOB)}, remembered: true }, ...tokens.map((t) => ({ email: ${JSON.stringify(BOB)}, device: t }))];
  for (const body of bodies) for (const credentials of ['include', 'omit']) {
    try {
      const r = await fetch(${JSON.stringify(keyd.url)} + '/v1/sessions', { method: 'POST', credentials,
        headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      out.attempts.push({ credentials, status: r.status, text: await r.text() });
    } catch (e) {
      out.attempts.push({ credentials, error: String(e) });
    }
  }
  return out;
})();
</script><p>Nothing to see here.</p>`);
  const p = await context.newPage();
  await p.goto(pathToFileURL(path).href);
  const loot = await p.evaluate(() => window.loot);
  await p.close();
  return loot;
}

/** What a stranger file must not get: no device token, no device session. */
function assertNothingStolen(loot, before) {
  assert.doesNotMatch(JSON.stringify(loot.storage), /spd_/, `device token readable by another local file: ${JSON.stringify(loot.storage)}`);
  assert.equal(loot.cookie, '', 'no cookie readable');
  assert.deepEqual(loot.idb, []);
  for (const a of loot.attempts) assert.notEqual(a.status, 201, `another local file signed in: ${JSON.stringify(a)}`);
  assert.equal(deviceSessions(), before, 'no device session was made for it');
}

// Issue 13 item 11: every file:// page shares one localStorage (and one
// IndexedDB) in Chromium, so an envelope can keep no secret there. A
// browser is remembered only on keyd's own /open page, in keyd's HttpOnly,
// SameSite=Strict cookie, which no other local file reads or gets sent.
test('"Remember this browser" lives on keyd\'s /open page: another local file can neither read it nor sign in with it', async () => {
  const env = sealed({ security: 'medium' });
  const rec = await page();
  const p = rec.page;
  await openFile(p, env);
  // Now that Bob has an account, the envelope carries his phrase.
  assert.match(await text(p, '.sp-phrase'), new RegExp(PHRASE));
  await label(p, 'Password').waitFor();
  // Whatever the envelope offers, the reader takes.
  const offered = await label(p, 'Remember this browser').count();
  if (offered) await label(p, 'Remember this browser').check();
  await shot(p, 'ks-signin-medium');
  await signIn(p, PASSWORD);
  await assertMessage(p);
  const made = deviceSessions();
  assertNothingStolen(await strangerFile(rec.context), made);
  assert.equal(offered, 0, 'an envelope opened from a file does not offer to remember the browser');
  // It says where a browser can be remembered.
  await openFile(p, env);
  await label(p, 'Password').waitFor();
  assert.equal(await text(p, '.sp-ks-remember-elsewhere'),
    `To open messages like this one without your password, open them at ${keyd.url}/open and choose “Remember this browser” there.`);

  // On keyd's own page it does: remembered there, it opens without the password.
  await p.goto(`${keyd.url}/open`);
  await p.setInputFiles('#sp-file', env);
  await label(p, 'Remember this browser').check();
  await signIn(p, PASSWORD);
  await assertMessage(p);
  assert.doesNotMatch(JSON.stringify(await p.evaluate(() => ({ ...localStorage }))), /spd_/, 'no token in keyd\'s storage either');
  await button(p, 'Open another file').click();
  await p.setInputFiles('#sp-file', env);
  await p.getByText('This browser is remembered for').waitFor();
  assert.equal(await label(p, 'Password').count(), 0);
  await shot(p, 'ks-remembered');
  await button(p, 'Open').click();
  await assertMessage(p);
  assert.equal(deviceSessions(), made + 1);
  // A security-high message still asks for the password.
  await button(p, 'Open another file').click();
  await p.setInputFiles('#sp-file', firstEnvelope);
  await label(p, 'Password').waitFor();
  assert.equal(await p.getByText('This browser is remembered for').count(), 0);

  // The remembered browser is still out of reach of any local file.
  assertNothingStolen(await strangerFile(rec.context), made + 1);
  const [cookie] = await rec.context.cookies();
  assert.equal(cookie.name, 'sp_device');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.path, '/v1/sessions');
  await rec.done({ cookies: ['sp_device'] });
});

test('security low: Open without a password', async () => {
  const env = sealed({ security: 'low' });
  const rec = await page();
  const p = rec.page;
  await openFile(p, env);
  await p.getByText('This message opens without a password for').waitFor();
  assert.equal(await label(p, 'Password').count(), 0);
  await shot(p, 'ks-low');
  await button(p, 'Open').click();
  await assertMessage(p);
  assert.ok(!rec.calls.includes('POST /v1/sessions'), 'no session for a low message');
  await rec.done();
});

test('several recipients: the reader gives the address', async () => {
  const env = sealed({ to: [BOB, CAROL] });
  const rec = await page();
  const p = rec.page;
  await openFile(p, env);
  await label(p, 'Email').waitFor();
  await shot(p, 'ks-choose-address');
  // An address the envelope does not name is taken (it may be a Bcc
  // recipient's); the key server alone decides, after sign-in. It does not
  // say whether such an address has an account: sign in, or register.
  await label(p, 'Email').fill('dave@example.org');
  await button(p, 'Continue').click();
  await label(p, 'Password').waitFor();
  assert.match(await text(p, '.sp-ks-who'), /dave@example\.org/);
  await button(p, 'No account yet? Register').click();
  await button(p, 'Register').waitFor();
  assert.equal(await label(p, 'Email').inputValue(), 'dave@example.org');
  await button(p, 'Use another address').first().click();
  await label(p, 'Email').fill('Carol@Example.NET');
  await button(p, 'Continue').click();
  await button(p, 'Register').waitFor();
  assert.equal(await label(p, 'Email').inputValue(), CAROL);
  await button(p, 'Use another address').first().click();
  await label(p, 'Email').fill(BOB);
  await button(p, 'Continue').click();
  await label(p, 'Password').waitFor();
  await signIn(p, PASSWORD);
  await assertMessage(p);
  await rec.done();
});

test('a Bcc recipient, not named in the envelope, signs in with their own address and reads', async () => {
  const QUINN = 'quinn.bcc@example.net';
  const env = sealed({ bcc: [QUINN] });
  assert.ok(!readFileSync(env, 'utf8').includes('quinn'), 'the envelope does not name the Bcc recipient');
  await registerAndActivate(keyd.url, keyd.dir, envelopeId(env), QUINN, PASSWORD);
  const rec = await page();
  const p = rec.page;
  await openFile(p, env);
  // The envelope names Bob only: it starts with him, and offers another address.
  await label(p, 'Password').waitFor();
  assert.match(await text(p, '.sp-ks-who'), /bob@example\.com/);
  await button(p, 'Use another address').first().click();
  await label(p, 'Email').fill(QUINN);
  await button(p, 'Continue').click();
  await label(p, 'Password').waitFor();
  assert.match(await text(p, '.sp-ks-who'), /quinn\.bcc@example\.net/);
  await shot(p, 'ks-bcc-signin');
  await signIn(p, PASSWORD);
  await assertMessage(p);
  assert.ok(rec.calls.includes('POST /v1/messages/' + envelopeId(env) + '/key'));
  await rec.done();
});

test('forgotten password: mailed link, keyd /reset page, questions, new password', async () => {
  const rec = await page();
  const p = rec.page;
  await openFile(p, firstEnvelope);
  await label(p, 'Password').waitFor();
  const skip = outboxFiles(keyd.dir);
  await button(p, 'Forgot your password?').click();
  await p.getByText(/check your inbox/i).first().waitFor();
  assert.match(await text(p, '.sp-ks-inbox'), /link to choose a new password/);

  // Asked for from the envelope: the link names the message, for its brand.
  const m = await waitForMail(keyd.dir, BOB, /https?:\/\/\S+\/reset#token=spr_[A-Za-z0-9_-]+&m=[A-Za-z0-9_-]+/, { skip });
  const rs = await rec.context.newPage();
  const resp = await rs.goto(m.link);
  await rs.locator('.sp-brand-name', { hasText: 'example' }).waitFor();
  assert.match(resp.headers()['content-security-policy'] || '', /connect-src 'self'/);
  // One answer field per question, labelled by the question itself.
  await label(rs, 'What was the name of your first pet?').fill('rex'); // answers ignore case
  await label(rs, OWN_QUESTION).fill('  Lake   Geneva ');
  await label(rs, 'New password').fill(NEW_PASSWORD);
  await label(rs, 'Confirm new password').fill(NEW_PASSWORD);
  await shot(rs, 'ks-reset-page');
  await button(rs, 'Reset password').click();
  await rs.getByText('Your password has been changed').waitFor();
  await rs.close();

  await button(p, 'Continue').click();
  await label(p, 'Password').waitFor();
  await signIn(p, PASSWORD);
  assert.match(await text(p, '#sp-ks-password-error'), /Wrong password/, 'the old password is gone');
  await p.waitForTimeout(2200);
  await signIn(p, NEW_PASSWORD);
  await assertMessage(p);
  await rec.done();
});

test("keyd's /open page: drop the envelope, or choose a password envelope", async () => {
  const rec = await page();
  const p = rec.page;
  const landing = await p.goto(`${keyd.url}/`);
  assert.match(landing.headers()['content-security-policy'] || '', /default-src 'none'/);
  await p.getByRole('link', { name: 'Open a secure message' }).click();
  await p.getByText('Drop securemessage.html here').waitFor();
  assert.match((await p.evaluate(() => location.pathname)), /^\/open$/);
  await shot(p, 'ks-open-page');

  // Drop the key-server envelope on the page.
  const html = readFileSync(firstEnvelope, 'utf8');
  const dt = await p.evaluateHandle((data) => {
    const t = new DataTransfer();
    t.items.add(new File([data], 'securemessage.html', { type: 'text/html' }));
    return t;
  }, html);
  await p.dispatchEvent('#sp-drop', 'drop', { dataTransfer: dt });
  await label(p, 'Password').waitFor();
  assert.match(await text(p, '.sp-outside'), /Alice Example <alice@example\.org>/);
  await signIn(p, NEW_PASSWORD);
  await assertMessage(p);
  await shot(p, 'ks-open-page-message');

  // A password envelope, chosen with the file input: decrypted in the page.
  await button(p, 'Open another file').click();
  const pwEnv = seal(suite.tmp.dir, mail.plainText(), { name: 'for-open-page' });
  await p.setInputFiles('#sp-file', pwEnv);
  await unlock(p);
  await assertMessage(p);

  // Not an envelope at all.
  await button(p, 'Open another file').click();
  const junk = join(suite.tmp.dir, 'notes.html');
  writeFileSync(junk, '<!DOCTYPE html><p>hello</p>');
  await p.setInputFiles('#sp-file', junk);
  await p.getByText('This is not a secure message').waitFor();
  assert.match(await text(p, '.sp-error'), new RegExp(basename(junk)));
  await rec.done();
});

test('wrong passwords: tries left, backoff, then only a reset opens the account', async () => {
  const rec = await page();
  const p = rec.page;
  await openFile(p, firstEnvelope);
  await label(p, 'Password').waitFor();
  const seen = new Set();
  let locked = null;
  for (let i = 0; i < 12 && !locked; i++) {
    await label(p, 'Password').fill(`wrong password ${i}`);
    const [resp] = await Promise.all([
      p.waitForResponse((r) => r.url() === `${keyd.url}/v1/sessions` && r.request().method() === 'POST'),
      button(p, 'Open').click(),
    ]);
    seen.add(resp.status());
    await p.waitForFunction(() => document.querySelector('form[aria-busy="false"]'));
    if (resp.status() === 401) {
      assert.match(await text(p, '#sp-ks-password-error'), /Wrong password.*\d tr(y is|ies are) left before you must reset your password/);
    } else if (resp.status() === 429) {
      const msg = await text(p, '.sp-error-slot');
      assert.match(msg, /Too many attempts/);
      const wait = Number((/Wait (\d+) seconds?/.exec(msg) || [])[1]);
      assert.ok(wait >= 1 && wait <= 60, msg);
      await p.waitForTimeout(wait * 1000 + 200);
    } else if (resp.status() === 423) {
      locked = await text(p, '.sp-error-slot');
    } else {
      assert.fail(`unexpected answer ${resp.status()}`);
    }
  }
  assert.ok(seen.has(401) && seen.has(429), `answers seen: ${[...seen]}`);
  assert.match(locked, /Your account is locked/);
  assert.match(locked, /blocked until the password is reset/);
  await shot(p, 'ks-locked');
  await rec.done();
});

test("the organisation's brand is on the envelope, the carrier mail and keyd's /open page", async () => {
  const svg = join(keyd.dir, 'logo.svg');
  writeFileSync(svg, "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 8 8' width='32' height='32' " +
    "onload='alert(1)'><circle cx='4' cy='4' r='4' fill='#f5c518'/></svg>");
  keydAdmin(keyd.dir, 'org', 'brand', 'example', '--display-name', 'Example Clinic', '--color', '#0b6e4f',
    '--logo', svg, '--notice', 'Questions? Call the clinic on 555 0100.');
  const env = sealed();
  const rec = await page();
  const p = rec.page;
  await openFile(p, env);
  await p.locator('.sp-brand-name').waitFor();
  assert.equal(await text(p, '.sp-brand-name'), 'Example Clinic');
  const band = await p.locator('.sp-band').evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.equal(band, 'rgb(11, 110, 79)');
  const logo = p.locator('img.sp-logo');
  assert.match(await logo.getAttribute('src'), /^data:image\/svg\+xml;base64,/);
  assert.ok(await logo.evaluate((img) => img.complete && img.naturalWidth > 0), 'the logo is drawn');
  await shot(p, 'ks-brand');

  // The carrier mail as a mail program shows its HTML part: the brand's
  // name on a band of its colour, and the organisation's notice.
  const carrier = await parseMailFile(sealed({ mail: true }));
  assert.ok(carrier.html, 'the carrier has an HTML part');
  assert.ok(carrier.attachments.some((a) => a.filename === 'securemessage.html'), 'with the envelope attached');
  assert.match(carrier.text, /through Example Clinic/);
  const m = await suite.browser.newContext({ javaScriptEnabled: false });
  const mp = await m.newPage();
  await mp.route('**/*', (route) => route.abort());
  await mp.setContent(carrier.html);
  const head = mp.getByText('Example Clinic', { exact: true }).first();
  assert.equal(await head.evaluate((e) => getComputedStyle(e.closest('div')).backgroundColor), 'rgb(11, 110, 79)');
  assert.equal(await mp.getByText('Questions? Call the clinic on 555 0100.').count(), 1);
  await shot(mp, 'ks-brand-carrier');
  await m.close();

  // keyd's /open page takes the look of the envelope opened in it.
  await p.goto(`${keyd.url}/open`);
  await p.locator('#sp-file').setInputFiles(env);
  await p.locator('.sp-brand-name', { hasText: 'Example Clinic' }).waitFor();
  assert.equal(await p.locator('.sp-band').evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(11, 110, 79)');
  await shot(p, 'ks-brand-open');
  await rec.done();
});

test('unreachable key server: the envelope says which one', async () => {
  const env = sealed();
  const origin = keyd.url;
  await keyd.stop();
  keyd = { stop: async () => {}, url: origin, dir: null };
  const rec = await newPage(suite.browser, { passThrough: (u) => u.startsWith(`${origin}/`) });
  const p = rec.page;
  await p.goto(pathToFileURL(env).href);
  await p.getByText(`Cannot reach the key server at ${origin}`).waitFor();
  assert.equal(await button(p, 'Try again').count(), 1);
  await shot(p, 'ks-unreachable');
  assert.deepEqual(rec.errors, []);
  await rec.context.close();
});
