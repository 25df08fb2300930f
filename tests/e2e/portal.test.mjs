// portal.test.mjs - keyd's signed-in pages end to end in Chromium, against
// the real sealpost-keyd: /signin (a cookie session), the console at
// /messages (an organisation's brand in the header; a sender sees and
// manages their own messages, an administrator the organisation's: search,
// pages, detail with per-recipient opens, lock, unlock, a new expiry,
// recall after a confirmation), the recipient portal at /account (phrase,
// name, password, security questions, sessions, sign-out everywhere,
// deletion), /forgot (the mailed link opens /reset with the new
// questions), the way back to a page after signing in, and CSRF from the
// browser's side.
//
// The session lives in keyd's cookie: every page checks that the only
// cookie is sp_session, HttpOnly and SameSite=Strict, that no script can
// read it, that nothing but keyd was asked for, and that no script error
// or CSP refusal happened. Screenshots land in build/e2e/ (portal-*.png).
//
// Run: SEALPOST=build/src/cli/sealpost [SEALPOST_KEYD=build/src/keyd/sealpost-keyd] node --test tests/e2e/portal.test.mjs

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  browserSuite, horizontalOverflow, keydAdmin, newPage, outboxFiles, sealKeyserver, shot, startKeyd, waitForMail,
} from './helpers.mjs';
import { png } from './mail.mjs';
import { api, registerAndActivate } from '../integration/keyd-helpers.mjs';

const suite = browserSuite();
let keyd = null;
let token = null;

const PW = 'a long enough passphrase 1';
const PAT = 'pat@example.com';
const PAT_PW = 'correct horse battery staple 9';
const PAT_NEW_PW = 'seven purple kites over Lisbon';
const AGENT = 'Mozilla/5.0 (sealpost portal test)';
const MOBILE = { width: 375, height: 740 };
const USERS = { ada: 'ada@example.org', bob: 'bob@example.org', carol: 'carol@example.org' };
const ids = {};

/** A message from `from` to `to`, sealed by the CLI for the key server; its id. */
function sealFrom(from, to, subject) {
  const msg = Buffer.from(
    [`From: ${from}`, `To: ${to.join(', ')}`, `Subject: ${subject}`, 'Date: Mon, 16 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', 'Hello.', ''].join('\r\n'),
  );
  const tokenFile = join(keyd.dir, 'gateway.token');
  const env = sealKeyserver(keyd.dir, msg, keyd.url, tokenFile, { to });
  return JSON.parse(readFileSync(env, 'utf8').match(/id="sealpost-header">([^<]*)</)[1]).id;
}

/** A bearer session made through the API (not the browser's). */
async function apiSession(email, password, extra = {}) {
  const r = await api(keyd.url, 'POST', '/v1/sessions', { email, password, ...extra });
  assert.equal(r.status, 201, `sign-in ${email}: ${r.text}`);
  return r.body;
}

before(async () => {
  keyd = await startKeyd();
  keydAdmin(keyd.dir, 'org', 'create', 'example', '--domain', 'example.org');
  token = keydAdmin(keyd.dir, 'token', 'create', '--org', 'example');
  writeFileSync(join(keyd.dir, 'gateway.token'), `${token}\n`, { mode: 0o600 });
  const logo = join(keyd.dir, 'logo.png');
  writeFileSync(logo, png(24, 24, [245, 197, 24]));
  keydAdmin(keyd.dir, 'org', 'brand', 'example', '--display-name', 'Example Health', '--color', '#0b6e4f', '--logo', logo);
  const pwFile = join(keyd.dir, 'users.pw');
  writeFileSync(pwFile, `${PW}\n`, { mode: 0o600 });
  for (const [who, role] of [['ada', 'sender'], ['bob', 'sender'], ['carol', 'admin']])
    keydAdmin(keyd.dir, 'user', 'create', '--org', 'example', '--email', USERS[who], '--role', role, '--password-file', pwFile);
  ids.ada = sealFrom(USERS.ada, [PAT], 'Your test results');
  ids.ada2 = sealFrom(USERS.ada, [PAT], 'Your appointment');
  ids.bob = sealFrom(USERS.bob, ['sam@example.net', PAT], 'Invoice 42');
  // Pat registers (as from the envelope) and opens Ada's first message once.
  await registerAndActivate(keyd.url, keyd.dir, ids.ada2, PAT, PAT_PW, { name: 'Pat Doe', phrase: 'blue heron at dawn' });
  const s = await apiSession(PAT, PAT_PW);
  const k = await fetch(`${keyd.url}/v1/messages/${ids.ada}/key`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}`, 'user-agent': AGENT },
    body: '{}',
  });
  assert.equal(k.status, 200);
});

after(async () => {
  if (keyd) await keyd.stop();
});

/**
 * A page that may talk to keyd (and nothing else). done() asserts that
 * nothing else was asked for, no script error and no CSP refusal happened,
 * and that every cookie is keyd's session cookie, HttpOnly and
 * SameSite=Strict.
 */
async function page(opts = {}) {
  const rec = await newPage(suite.browser, { ...opts, passThrough: (u) => u.startsWith(`${keyd.url}/`) });
  rec.done = async () => {
    assert.deepEqual(rec.attempted.filter((u) => !u.startsWith(`${keyd.url}/`)), [], 'only the key server was contacted');
    assert.deepEqual(rec.errors, [], 'page errors');
    assert.deepEqual(rec.console.filter((m) => /Content Security Policy|Refused to/i.test(m)), [], 'CSP refusals');
    await assertCookies(rec.context);
    await rec.context.close();
  };
  return rec;
}

async function assertCookies(context) {
  for (const c of await context.cookies()) {
    assert.equal(c.name, 'sp_session', `unexpected cookie ${c.name}`);
    assert.equal(c.httpOnly, true, 'the session cookie is HttpOnly');
    assert.equal(c.sameSite, 'Strict', 'the session cookie is SameSite=Strict');
    assert.equal(c.path, '/');
  }
}

const label = (p, name) => p.getByLabel(name, { exact: true });
const button = (p, name) => p.getByRole('button', { name, exact: true });
const region = (p, name) => p.getByRole('region', { name, exact: true });
const text = (p, sel) => p.locator(sel).innerText();

/** Open `path`, expect the sign-in form there, sign in, wait for `landing`. */
async function signIn(p, email, password, landing, path = '/signin') {
  const resp = await p.goto(`${keyd.url}${path}`);
  const csp = resp.headers()['content-security-policy'] || '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /connect-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  await label(p, 'Email').fill(email);
  await label(p, 'Password').fill(password);
  await button(p, 'Sign in').click();
  await p.waitForURL(`${keyd.url}${landing}`);
}

/** The message as its sender sees it through the API. */
async function detail(id, who = 'ada') {
  const s = await apiSession(USERS[who], PW);
  const r = await api(keyd.url, 'GET', `/v1/messages/${id}`, undefined, s.token);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

test('a sender signs in, sees the brand and their message, locks, unlocks, re-dates and recalls it', async () => {
  const rec = await page();
  const p = rec.page;
  await p.goto(`${keyd.url}/signin`);
  await label(p, 'Email').waitFor();
  assert.equal(await p.getByRole('link', { name: 'Forgot your password?' }).getAttribute('href'), '/forgot');
  await shot(p, 'portal-signin');

  // Checks in the page first, then the server's answer next to the field.
  await button(p, 'Sign in').click();
  assert.match(await text(p, '#sp-email-error'), /Enter your email address/);
  await label(p, 'Email').fill(USERS.ada);
  await label(p, 'Password').fill(PW);
  await button(p, 'Sign in').click();
  await p.waitForURL(`${keyd.url}/messages`);

  const cookies = await rec.context.cookies();
  assert.equal(cookies.length, 1, 'one cookie: the session');
  assert.equal(await p.evaluate(() => document.cookie), '', 'no script can read the session cookie');

  // The organisation's brand in the header band, with the navigation.
  await p.locator('#sp-summary').waitFor();
  assert.equal(await text(p, '.sp-brand-name'), 'Example Health');
  assert.equal(await p.locator('.sp-band').evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(11, 110, 79)');
  const logo = p.locator('img.sp-logo');
  assert.match(await logo.getAttribute('src'), /^data:image\/png;base64,/);
  assert.ok(await logo.evaluate((img) => img.complete && img.naturalWidth > 0), 'the logo is drawn');
  assert.equal(await p.getByRole('link', { name: 'Messages' }).getAttribute('aria-current'), 'page');
  assert.equal(await p.getByRole('link', { name: 'My account' }).getAttribute('href'), '/account');

  // Only Ada's own messages (sealed in the same second: no order to check).
  assert.equal(await text(p, '#sp-summary'), 'Showing 1–2 of 2');
  const rows = p.locator('table.sp-messages tbody tr');
  assert.equal(await rows.count(), 2);
  assert.deepEqual((await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.id))).sort(), [ids.ada2, ids.ada].sort());
  const row = p.locator(`tr[data-id="${ids.ada}"]`);
  assert.match(await row.innerText(), /ada@example\.org/);
  assert.match(await row.locator('td[data-label="Recipients"]').innerText(), new RegExp(PAT.replace('.', '\\.')));
  assert.match(await row.innerText(), /1 of 1/);
  assert.match(await row.innerText(), /Active/);
  await shot(p, 'portal-console-list');

  // 375 px: no horizontal scrolling; the table becomes one card per message.
  await p.setViewportSize(MOBILE);
  assert.equal(await horizontalOverflow(p), 0, 'no horizontal scrolling (console list, 375 px)');
  await shot(p, 'portal-console-mobile');
  await p.setViewportSize({ width: 1280, height: 800 });

  // The detail: facts and the recipient's open (address, browser).
  await row.getByRole('link').click();
  await p.getByRole('heading', { name: 'Secure message', level: 1 }).waitFor();
  assert.equal(new URL(p.url()).hash, `#id=${ids.ada}`);
  const facts = await text(p, '.sp-facts');
  assert.match(facts, new RegExp(ids.ada));
  assert.match(facts, /Active/);
  assert.match(facts, /High \(password every time\)/);
  const rcpt = await text(p, 'table.sp-recipients tbody');
  assert.match(rcpt, /pat@example\.com/);
  assert.match(rcpt, /Active/);
  assert.match(rcpt, /127\.0\.0\.1/);
  assert.match(rcpt, /sealpost portal test/);
  await shot(p, 'portal-console-detail');
  await p.setViewportSize(MOBILE);
  assert.equal(await horizontalOverflow(p), 0, 'no horizontal scrolling (console detail, 375 px)');
  await shot(p, 'portal-console-detail-mobile');
  await p.setViewportSize({ width: 1280, height: 800 });

  // Back and forward follow the fragment.
  await p.goBack();
  await p.locator('#sp-summary').waitFor();
  await p.goForward();
  await p.getByRole('heading', { name: 'Secure message', level: 1 }).waitFor();

  // Lock: a reason is required; then recipients are refused with it.
  await button(p, 'Lock message').click();
  assert.match(await text(p, '#sp-lock-reason-error'), /Give a reason/);
  await label(p, 'Reason').fill('sent to the wrong Pat');
  await button(p, 'Lock message').click();
  await p.getByText('The message is locked.').waitFor();
  assert.match(await text(p, '.sp-facts'), /Locked/);
  assert.match(await text(p, '.sp-facts'), /sent to the wrong Pat/);
  const st = await api(keyd.url, 'GET', `/v1/messages/${ids.ada}/status?rcpt=pat%40example.com`);
  assert.equal(st.body.state, 'locked');
  assert.equal(st.body.reason, 'sent to the wrong Pat');

  await button(p, 'Unlock message').click();
  await p.getByText('The message is unlocked.').waitFor();
  assert.match(await text(p, '.sp-facts .sp-state'), /Active/);
  assert.equal((await detail(ids.ada)).state, 'active');

  // A new expiry, typed in the browser's time zone (Europe/Zurich, UTC+1 in March).
  assert.match(await text(p, '#sp-expiry-title + p'), /It does not expire/);
  assert.equal(await label(p, 'No expiry').isChecked(), true);
  await label(p, 'No expiry').uncheck();
  await label(p, 'New expiry').fill('2031-03-04T05:06');
  await button(p, 'Change expiry').click();
  await p.getByText('The expiry is changed.').waitFor();
  assert.equal((await detail(ids.ada)).expires, '2031-03-04T04:06:00Z');
  // ... and none.
  await label(p, 'No expiry').check();
  assert.equal(await label(p, 'New expiry').isDisabled(), true);
  await button(p, 'Change expiry').click();
  await p.getByText('The message no longer expires.').waitFor();
  assert.equal((await detail(ids.ada)).expires, null);

  // Recall: a confirmation step first.
  await button(p, 'Recall message…').click();
  const go = button(p, 'Recall for good');
  await go.waitFor();
  assert.equal(await go.isDisabled(), true, 'nothing is destroyed before the box is ticked');
  assert.match(await text(p, '#sp-recall-confirm'), /cannot be undone/);
  await button(p, 'Cancel').click();
  assert.equal(await p.locator('#sp-recall-confirm').isHidden(), true);
  await button(p, 'Recall message…').click();
  await label(p, 'I understand that this cannot be undone').check();
  await shot(p, 'portal-recall-confirm');
  await go.click();
  await p.getByText('The message is recalled. Its key is destroyed.').waitFor();
  assert.match(await text(p, '.sp-facts .sp-state'), /Recalled/);
  for (const gone of ['Lock message', 'Change expiry', 'Recall message…'])
    assert.equal(await button(p, gone).count(), 0, `no "${gone}" after a recall`);
  const st2 = await api(keyd.url, 'GET', `/v1/messages/${ids.ada}/status?rcpt=pat%40example.com`);
  assert.equal(st2.body.state, 'recalled');

  // CSRF from the browser's side: the cookie alone signs nothing.
  const forged = await p.evaluate(async () => {
    const r = await fetch('/v1/account', {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Mallory' }),
      credentials: 'same-origin',
    });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(forged.status, 403);
  assert.equal(forged.body.type, 'https://sealpost.org/problems/csrf');
  const wrong = await p.evaluate(async () => {
    const r = await fetch('/v1/messages', { headers: { 'X-CSRF-Token': 'spc_' + 'A'.repeat(43) }, credentials: 'same-origin' });
    return r.status;
  });
  assert.equal(wrong, 403, 'a wrong CSRF token is refused too');

  // Sign out from the header: back at /signin, the session is over.
  await button(p, 'Sign out').click();
  await p.waitForURL(`${keyd.url}/signin?bye=here`);
  await p.getByText('You are signed out.').waitFor();
  assert.deepEqual(await rec.context.cookies(), [], 'the cookie is cleared');
  assert.equal(await p.evaluate(async () => (await fetch('/v1/session', { credentials: 'same-origin' })).status), 401);
  await rec.done();
});

test('an administrator sees every message of the organisation; a sender only their own', async () => {
  let rec = await page();
  let p = rec.page;
  await signIn(p, USERS.carol, PW, '/messages');
  await p.locator('#sp-summary').waitFor();
  assert.equal(await text(p, '#sp-summary'), 'Showing 1–3 of 3');
  const senders = await p.locator('table.sp-messages tbody td[data-label="Sender"]').allInnerTexts();
  assert.deepEqual([...new Set(senders)].sort(), [USERS.ada, USERS.bob]);
  assert.match(await text(p, 'main .sp-lede'), /Every secure message sent from example/);

  // Search: by recipient, by state.
  await label(p, 'Recipient').fill('SAM@');
  await button(p, 'Search').click();
  await p.waitForFunction(() => document.querySelector('#sp-summary')?.textContent === 'Showing 1–1 of 1');
  assert.equal(await p.locator('table.sp-messages tbody tr').getAttribute('data-id'), ids.bob);
  assert.match(new URL(p.url()).hash, /recipient=SAM%40/);
  await button(p, 'Clear').click();
  await p.waitForFunction(() => document.querySelector('#sp-summary')?.textContent === 'Showing 1–3 of 3');
  await label(p, 'State').selectOption('recalled');
  await button(p, 'Search').click();
  await p.waitForFunction(() => document.querySelector('#sp-summary')?.textContent === 'Showing 1–1 of 1');
  assert.equal(await p.locator('table.sp-messages tbody tr').getAttribute('data-id'), ids.ada);
  // Dates: sent from tomorrow finds nothing; up to today everything.
  const day = (d) => new Date(Date.now() + d * 86400e3).toISOString().slice(0, 10);
  await p.goto(`${keyd.url}/messages#since=${day(1)}`);
  await p.getByText('No messages match this search.').waitFor();
  await label(p, 'Sent from').fill('');
  await label(p, 'Sent until').fill(day(0));
  await button(p, 'Search').click();
  await p.waitForFunction(() => document.querySelector('#sp-summary')?.textContent === 'Showing 1–3 of 3');

  // The administrator opens Bob's message.
  await p.goto(`${keyd.url}/messages#id=${ids.bob}`);
  await p.getByRole('heading', { name: 'Secure message', level: 1 }).waitFor();
  const sam = p.locator('table.sp-recipients tbody tr', { hasText: 'sam@example.net' });
  assert.match(await sam.innerText(), /Not registered/);
  assert.match(await sam.innerText(), /Not yet/);
  await rec.done();

  // Bob sees his own message only, and not Ada's even by its address. A
  // link to his message comes back to it after signing in.
  rec = await page();
  p = rec.page;
  await p.goto(`${keyd.url}/messages#id=${ids.bob}`);
  await p.waitForURL(`${keyd.url}/signin?next=${encodeURIComponent(`/messages#id=${ids.bob}`)}`);
  await label(p, 'Email').fill(USERS.bob);
  await label(p, 'Password').fill(PW);
  await button(p, 'Sign in').click();
  await p.waitForURL(`${keyd.url}/messages#id=${ids.bob}`);
  await p.getByRole('heading', { name: 'Secure message', level: 1 }).waitFor();
  await p.getByRole('link', { name: '← All messages' }).click();
  await p.locator('#sp-summary').waitFor();
  assert.equal(await text(p, '#sp-summary'), 'Showing 1–1 of 1');
  assert.equal(await p.locator('table.sp-messages tbody tr').getAttribute('data-id'), ids.bob);
  assert.match(await text(p, 'main .sp-lede'), /The secure messages you sent/);
  await p.goto(`${keyd.url}/messages#id=${ids.ada2}`);
  await p.getByRole('heading', { name: 'Message not found' }).waitFor();
  await p.getByRole('link', { name: '← All messages' }).click();
  await p.locator('#sp-summary').waitFor();

  // A member's account is removed by the administrator, not on /account.
  await p.getByRole('link', { name: 'My account' }).click();
  await p.waitForURL(`${keyd.url}/account`);
  const del = region(p, 'Delete account');
  await label(del, 'Password').fill(PW);
  await label(del, 'I understand that my account is deleted for good').check();
  await button(del, 'Delete account').click();
  await del.getByText('Your account cannot be deleted here').waitFor();
  assert.match(await del.locator('.sp-error').innerText(), /administrator removes it/);
  await rec.done();
});

test('pages of 50: Next and Previous, and the fragment keeps the page', async () => {
  for (let i = 0; i < 50; i++) {
    const r = await api(keyd.url, 'POST', '/v1/messages', { from: USERS.bob, to: [`r${i}@example.com`] }, token);
    assert.equal(r.status, 201, r.text);
  }
  const rec = await page();
  const p = rec.page;
  await signIn(p, USERS.carol, PW, '/messages');
  await p.locator('#sp-summary').waitFor();
  assert.equal(await text(p, '#sp-summary'), 'Showing 1–50 of 53');
  assert.equal(await p.locator('table.sp-messages tbody tr').count(), 50);
  assert.equal(await p.getByRole('link', { name: 'Previous' }).count(), 0);
  await p.getByRole('link', { name: 'Next' }).click();
  await p.waitForFunction(() => document.querySelector('#sp-summary')?.textContent === 'Showing 51–53 of 53');
  assert.equal(new URL(p.url()).hash, '#offset=50');
  assert.equal(await p.getByRole('link', { name: 'Next' }).count(), 0);
  await p.getByRole('link', { name: 'Previous' }).click();
  await p.waitForFunction(() => document.querySelector('#sp-summary')?.textContent === 'Showing 1–50 of 53');
  await p.goBack();
  await p.waitForFunction(() => document.querySelector('#sp-summary')?.textContent === 'Showing 51–53 of 53');
  await p.setViewportSize(MOBILE);
  assert.equal(await horizontalOverflow(p), 0, 'no horizontal scrolling (a full page, 375 px)');
  await p.emulateMedia({ colorScheme: 'dark' });
  await p.locator('#sp-summary').scrollIntoViewIfNeeded();
  await shot(p, 'portal-console-dark-mobile', false);
  await rec.done();
});

test('a recipient manages their account at /account', async () => {
  const rec = await page();
  const p = rec.page;
  // Not signed in: /account sends to /signin and comes back.
  await p.goto(`${keyd.url}/account`);
  await p.waitForURL(`${keyd.url}/signin?next=%2Faccount`);
  await label(p, 'Email').fill(PAT);
  await label(p, 'Password').fill(PAT_PW);
  await button(p, 'Sign in').click();
  await p.waitForURL(`${keyd.url}/account`);
  await p.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
  const top = await text(p, 'main .sp-meta');
  assert.match(top, /Pat Doe/);
  assert.match(top, /pat@example\.com/);
  assert.equal(await text(p, '.sp-brand-name'), 'sealpost', 'no organisation brand for a recipient');
  assert.equal(await p.getByRole('link', { name: 'Messages' }).count(), 0, 'no console link for a recipient');
  assert.match(await text(p, '#sp-phrase-title + .sp-phrase'), /blue heron at dawn/);
  assert.match(
    await region(p, 'Security phrase').innerText(),
    /If a message asking for your password does not show your phrase, it is not from us: no phrase, no password\./,
  );
  assert.deepEqual(await p.locator('#sp-current-questions li').allInnerTexts(), ['First school?', 'Favourite city?']);
  await shot(p, 'portal-account');
  await p.setViewportSize(MOBILE);
  assert.equal(await horizontalOverflow(p), 0, 'no horizontal scrolling (account, 375 px)');
  await shot(p, 'portal-account-mobile');
  await p.setViewportSize({ width: 1280, height: 800 });

  // The phrase: envelopes sealed from now on carry the new one.
  await label(p, 'New security phrase').fill('red kite over the moor');
  await button(p, 'Change phrase').click();
  await p.getByText('Your security phrase is changed.').waitFor();
  assert.equal(await text(p, '#sp-current-phrase'), 'red kite over the moor');
  const m = await api(keyd.url, 'POST', '/v1/messages', { from: USERS.ada, to: [PAT] }, token);
  assert.equal(m.body.phrases[PAT], 'red kite over the moor');

  // The name.
  await p.getByRole('textbox', { name: 'Name', exact: true }).fill('Pat Q. Doe');
  await button(p, 'Save name').click();
  await p.getByText('Your name is saved.').waitFor();
  assert.match(await text(p, 'main .sp-meta'), /Pat Q\. Doe/);

  // The security questions: 2..5, the password required.
  const qs = region(p, 'Security questions');
  await button(qs, 'Add a question').click();
  const mine = [['Which lake did we swim in?', 'Geneva'], ['First concert?', 'Bowie'], ['Grandmother\'s village?', 'Ruvo']];
  for (const [i, [q, a]] of mine.entries()) {
    await label(qs, `Question ${i + 1}`).fill(q);
    await label(qs, `Answer ${i + 1}`).fill(a);
  }
  await button(qs, 'Save questions').click();
  assert.match(await text(p, '#sp-questions-password-error'), /Enter your current password/);
  await label(qs, 'Current password').fill(PAT_PW);
  await button(qs, 'Save questions').click();
  await p.getByText('Your security questions are replaced.').waitFor();
  assert.deepEqual(await p.locator('#sp-current-questions li').allInnerTexts(), mine.map(([q]) => q));

  // The password: the current one, the new one twice.
  const pwr = region(p, 'Password');
  await label(pwr, 'Current password').fill(PAT_PW);
  await label(pwr, 'New password').fill(PAT_NEW_PW);
  await label(pwr, 'Confirm new password').fill('something else entirely');
  await button(pwr, 'Change password').click();
  assert.match(await text(p, '#sp-new-password2-error'), /do not match/);
  await label(pwr, 'Confirm new password').fill(PAT_NEW_PW);
  await button(pwr, 'Change password').click();
  await p.getByText('Your password is changed.').waitFor();

  // Sessions: this browser, another session and a remembered browser (through
  // the API, as keyd's /open page asks for it: from keyd's own origin).
  const remembered = await fetch(`${keyd.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: keyd.url },
    body: JSON.stringify({ email: PAT, password: PAT_NEW_PW, remember: true }),
  });
  assert.equal(remembered.status, 201);
  const other = await remembered.json();
  await p.reload();
  const sessions = region(p, 'Sessions');
  await sessions.locator('.sp-session').first().waitFor();
  assert.equal(await sessions.locator('.sp-session').count(), 2);
  assert.equal(await sessions.getByText('This browser', { exact: true }).count(), 1);
  assert.match(await text(p, '#sp-remembered'), /^1 browser is remembered/);

  // The console is not for recipients.
  await p.goto(`${keyd.url}/messages`);
  await p.getByRole('heading', { name: 'This page is for senders and administrators' }).waitFor();
  await p.getByRole('link', { name: 'your account' }).click();
  await p.waitForURL(`${keyd.url}/account`);

  // Sign out everywhere: the other session ends too.
  await button(p, 'Sign out everywhere').click();
  await p.waitForURL(`${keyd.url}/signin?bye=everywhere`);
  assert.equal((await api(keyd.url, 'GET', '/v1/account', undefined, other.token)).status, 401);

  // The old password no longer signs in; the new one does.
  await label(p, 'Email').fill(PAT);
  await label(p, 'Password').fill(PAT_PW);
  await button(p, 'Sign in').click();
  await p.getByText('Wrong email or password.').waitFor();
  await sleep(1200); // keyd's backoff after a failed sign-in
  await label(p, 'Password').fill(PAT_NEW_PW);
  await button(p, 'Sign in').click();
  await p.waitForURL(`${keyd.url}/account`);
  await rec.done();
});

test('forgot password: the same answer for every address; the mailed link opens /reset with the questions', async () => {
  const rec = await page();
  const p = rec.page;
  await p.goto(`${keyd.url}/signin`);
  await p.getByRole('link', { name: 'Forgot your password?' }).click();
  await p.waitForURL(`${keyd.url}/forgot`);
  const skip = outboxFiles(keyd.dir);
  await label(p, 'Email').fill('nobody@example.com');
  await button(p, 'Send link').click();
  await p.getByText('If an account exists for that address, we mailed a link').waitFor();
  await p.goto(`${keyd.url}/forgot`);
  await label(p, 'Email').fill(PAT);
  await button(p, 'Send link').click();
  await p.getByText('If an account exists for that address, we mailed a link').waitFor();
  await shot(p, 'portal-forgot-sent');
  const mail = await waitForMail(keyd.dir, PAT, /https?:\/\/\S+\/reset#token=spr_[A-Za-z0-9_-]+/, { skip });
  assert.ok(mail.link.startsWith(`${keyd.url}/reset#token=`), mail.link);
  assert.equal(outboxFiles(keyd.dir).filter((f) => !skip.includes(f)).length, 1, 'no mail for an unknown address');
  await p.goto(mail.link);
  await label(p, 'Which lake did we swim in?').waitFor();
  assert.equal(await label(p, "Grandmother's village?").count(), 1);
  await rec.done();
});

test('?next= goes only to the console or the account page', async () => {
  const rec = await page();
  const p = rec.page;
  await signIn(p, USERS.ada, PW, '/messages', `/signin?next=${encodeURIComponent('//evil.example/x')}`);
  await p.locator('#sp-summary').waitFor();
  await rec.done();
});

test('a recipient deletes their account', async () => {
  const rec = await page();
  const p = rec.page;
  await signIn(p, PAT, PAT_NEW_PW, '/messages', '/signin?next=/messages');
  await p.getByRole('heading', { name: 'This page is for senders and administrators' }).waitFor();
  await p.goto(`${keyd.url}/account`);
  const del = region(p, 'Delete account');
  await label(del, 'Password').fill(PAT_NEW_PW);
  await button(del, 'Delete account').click();
  assert.match(await text(p, '#sp-delete-confirm-error'), /Tick this box/);
  await label(del, 'I understand that my account is deleted for good').check();
  await button(del, 'Delete account').click();
  await p.waitForURL(`${keyd.url}/signin?bye=deleted`);
  await p.getByText('Your account was deleted.').waitFor();
  assert.equal((await api(keyd.url, 'POST', '/v1/sessions', { email: PAT, password: PAT_NEW_PW })).status, 401);
  const st = await api(keyd.url, 'GET', `/v1/messages/${ids.ada2}/status?rcpt=pat%40example.com`);
  assert.equal(st.body.recipient.account, 'unregistered');
  await rec.done();
});
