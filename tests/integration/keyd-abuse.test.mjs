// keyd-abuse.test.mjs - the key server's abuse control, against the real
// sealpost-keyd over real sockets: failed sign-ins slow the next try down and
// never lock the owner out for a time (per account, per reset and per client
// address), concurrent guesses are judged one at a time, mail to one address
// is capped and a requester uses up only their own share, a client address
// that hammers the API is rate-limited, and slow clients hold up no one. The
// rest of the HTTP API is in keyd-api.test.mjs.
//
// Run: SEALPOST_KEYD=build/src/keyd/sealpost-keyd node --test tests/integration/keyd-abuse.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKeyd, admin, gatewayToken, outbox, latestMail, api, createMessage, raw, registerAndActivate, tokenOf, sql } from './keyd-helpers.mjs';

const PW = 'correct horse battery staple';
const PROBLEM = 'https://sealpost.org/problems/';

let kd; // one keyd for most tests: fast backoff so the tests need not wait long
let gw; // gateway token of org "clinic" (clinic.example)

before(async () => {
  // The per-address rate limit is raised here (every test comes from
  // 127.0.0.1); its own test below uses a keyd with a tight one.
  kd = await startKeyd({ config: { auth: { backoff_base_ms: 150, max_failures: 6, address_failures: 1000000, rate_per_second: 1000, rate_burst: 1000 } } });
  gw = gatewayToken(kd.dataDir, 'clinic', ['clinic.example']);
});

after(async () => {
  await kd?.stop();
});

const newMessage = (to, { token = gw, ...opts } = {}) => createMessage(kd.url, token, to, opts);
const signIn = (email, password = PW, extra = {}) => api(kd.url, 'POST', '/v1/sessions', { email, password, ...extra });

let n = 0;
const addr = (name) => `${name}.${++n}@example.com`;

async function resetPassword(email, answers, password) {
  const skip = outbox(kd.dataDir).map((x) => x.path);
  assert.equal((await api(kd.url, 'POST', '/v1/accounts/reset', { email })).status, 202);
  const token = tokenOf((await latestMail(kd.dataDir, email, { skip })).link);
  return api(kd.url, 'POST', '/v1/accounts/reset/confirm', { token, answers, password });
}

// Issue 13 item 6 (NIST SP 800-63B §5.2.2): failures slow the next try
// down, never lock the owner out for a time; after max_failures (6 here)
// only a reset (which the owner can always complete) or an admin unlock
// opens the account. Every answer says how long to wait and how many tries
// are left.
test('throttle, no lockout: backoff with the wait and the tries left, held after max_failures, the owner resets; unknown addresses alike', async () => {
  const f = addr('frank');
  const m = await newMessage([f]);
  await registerAndActivate(kd.url, kd.dataDir, m.id, f, PW);
  for (const who of [f, addr('nobody')]) {
    const seen = [];
    for (let i = 1; i <= 5; i++) {
      const r = await signIn(who, 'wrong password ' + i);
      seen.push(r.status);
      assert.equal(r.body.type, PROBLEM + 'invalid-credentials', `failure ${i} of ${who}: ${r.text}`);
      assert.equal(r.body.attempts_left, 6 - i);
      assert.equal(r.body.retry_after, Math.ceil((150 * 2 ** (i - 1)) / 1000));
      // Straight away again: backing off, and told for how long.
      const again = await signIn(who, 'wrong password again');
      assert.equal(again.status, 429, `after failure ${i}`);
      assert.equal(again.body.type, PROBLEM + 'too-many-requests');
      assert.ok(Number(again.headers.get('retry-after')) >= 1);
      assert.equal(again.body.retry_after, Number(again.headers.get('retry-after')));
      await sleep(150 * 2 ** (i - 1) + 50);
    }
    // Five failures lock nothing: the sixth is still judged, and it holds.
    assert.deepEqual(seen, [401, 401, 401, 401, 401], who);
    const sixth = await signIn(who, 'wrong password 6');
    assert.equal(sixth.status, 423, sixth.text);
    assert.equal(sixth.body.type, PROBLEM + 'account-locked');
    assert.equal(sixth.body.reset_required, true);
    assert.match(sixth.body.detail, /until the password is reset/);
    await sleep(5000); // no wait ends a hold: not even the right password opens it
    const held = await signIn(who, PW);
    assert.equal(held.status, 423);
    assert.equal(held.headers.get('retry-after'), null);
  }
  // The owner is never locked out of the reset: it completes, and clears the hold.
  const reset = await resetPassword(f, ['Riverside', 'Lisbon'], 'the owner is back in');
  assert.equal(reset.status, 200, reset.text);
  assert.equal((await signIn(f, 'the owner is back in')).status, 201);
  // Success clears the count: one failure later is only one failure.
  const one = await signIn(f, 'nope nope nope');
  assert.equal(one.status, 401);
  assert.equal(one.body.attempts_left, 5);
  // The administrator's unlock still works (the unknown address here).
  assert.equal(admin(kd.dataDir, 'account', 'unlock', `nobody.${n}@example.com`.toUpperCase()), `nobody.${n}@example.com can sign in again`);
  assert.equal((await signIn(`nobody.${n}@example.com`, 'still wrong')).status, 401);
});

test('failures against an address before it had an account do not hold the account its owner activates', async () => {
  const p = addr('prehold');
  // Someone guesses at an address that has no account yet, up to the hold.
  for (let i = 1; i <= 6; i++) {
    await signIn(p, 'guess ' + i);
    await sleep(150 * 2 ** (i - 1) + 50);
  }
  assert.equal((await signIn(p, 'guess 7')).status, 423);
  // The owner registers and activates (link and password): signed in at once.
  const m = await newMessage([p]);
  await registerAndActivate(kd.url, kd.dataDir, m.id, p, PW);
  const s = await signIn(p, PW);
  assert.equal(s.status, 201, s.text);
});

test('a reset is throttled on its own: sign-in failures do not block it, wrong answers do', async () => {
  const o = addr('olga');
  const m = await newMessage([o]);
  await registerAndActivate(kd.url, kd.dataDir, m.id, o, PW);
  // Someone else holds the sign-in (6 failures).
  for (let i = 1; i <= 6; i++) {
    await signIn(o, 'guess ' + i);
    await sleep(150 * 2 ** (i - 1) + 50);
  }
  assert.equal((await signIn(o, PW)).status, 423);
  const skip = outbox(kd.dataDir).map((x) => x.path);
  await api(kd.url, 'POST', '/v1/accounts/reset', { email: o });
  const token = tokenOf((await latestMail(kd.dataDir, o, { skip })).link);
  const wrong = await api(kd.url, 'POST', '/v1/accounts/reset/confirm', { token, answers: ['x', 'y'], password: 'olga is back again' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.type, PROBLEM + 'invalid-answers');
  assert.equal(wrong.body.attempts_left, 5);
  const soon = await api(kd.url, 'POST', '/v1/accounts/reset/confirm', { token, answers: ['Riverside', 'Lisbon'], password: 'olga is back again' });
  assert.equal(soon.status, 429);
  await sleep(200);
  const good = await api(kd.url, 'POST', '/v1/accounts/reset/confirm', { token, answers: ['Riverside', 'Lisbon'], password: 'olga is back again' });
  assert.equal(good.status, 200, good.text);
  assert.equal((await signIn(o, 'olga is back again')).status, 201);
});

test('failures from one client address over many accounts slow that address down', async () => {
  const kd2 = await startKeyd({ config: { auth: { backoff_base_ms: 2000, address_failures: 3, rate_per_second: 1000, rate_burst: 1000 } } });
  try {
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await api(kd2.url, 'POST', '/v1/sessions', { email: `spray${i}@example.com`, password: 'Summer2026!' })).status);
    assert.deepEqual(statuses, [401, 401, 401]);
    // A fourth account, never tried before: this address must now wait.
    const r = await api(kd2.url, 'POST', '/v1/sessions', { email: 'spray3@example.com', password: 'Summer2026!' });
    assert.equal(r.status, 429, r.text);
    assert.equal(r.body.type, PROBLEM + 'too-many-requests');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
  } finally {
    await kd2.stop();
  }
});

// Issue 13 item 7: the throttle's decision and the attempt's record are one
// atomic step, so concurrent guesses cannot all pass the same check.
test('twenty concurrent wrong passwords: one is judged, the others wait (429), and the audit shows one failure', async () => {
  const kd3 = await startKeyd({ config: { auth: { rate_per_second: 1000, rate_burst: 1000 } } });
  try {
    const gw3 = gatewayToken(kd3.dataDir, 'clinic', ['clinic.example']);
    const victim = 'vera@example.com';
    const m = (await api(kd3.url, 'POST', '/v1/messages', { from: 'dr@clinic.example', to: [victim], security: 'high' }, gw3)).body;
    await registerAndActivate(kd3.url, kd3.dataDir, m.id, victim, PW);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      api(kd3.url, 'POST', '/v1/sessions', { email: victim, password: `parallel guess ${i}` })));
    const statuses = answers.map((a) => a.status);
    const judged = statuses.filter((s) => s === 401).length;
    assert.equal(judged, 1, `answers: ${statuses}`);
    for (const a of answers.filter((x) => x.status !== 401)) {
      assert.equal(a.status, 429, a.text);
      assert.ok(Number(a.headers.get('retry-after')) >= 1);
    }
    const fails = sql(kd3.dataDir, `SELECT count(*) FROM audit WHERE event = 'session.fail' AND subject = '${victim}'`).out.trim();
    assert.equal(fails, '1');
  } finally {
    await kd3.stop();
  }
});

test('mail carries nothing the requester typed, and at most 3 mails an hour go to one address (issue 13, item 14)', async () => {
  const v = addr('vera');
  const m = await newMessage([v]);
  const skip = outbox(kd.dataDir).map((x) => x.path);
  const injected = 'Vera. Your bank account is blocked: call +1 555 0100 or visit http://evil.example/login';
  const reg = (i) => api(kd.url, 'POST', '/v1/accounts', { email: v, name: injected, password: `${PW} ${i}`, phrase: 'p', questions: [{ q: 'a', a: 'b' }, { q: 'c', a: 'd' }], message: m.id });
  const first = await reg(0);
  assert.equal(first.status, 202);
  const mail = await latestMail(kd.dataDir, v, { skip });
  for (const part of [mail.text, mail.html]) {
    assert.doesNotMatch(part, /evil\.example|555 0100|bank account/, 'no text from the request in the mail');
  }
  assert.match(mail.text, /^Hello,$/m);

  // Twenty registrations in a row: the same answer each time, three mails.
  const answers = [first.text];
  for (let i = 1; i < 20; i++) answers.push((await reg(i)).text);
  assert.deepEqual(new Set(answers), new Set([first.text]), 'every request gets the same answer');
  await sleep(2500);
  const mails = outbox(kd.dataDir).filter((x) => !skip.includes(x.path) && x.raw.toString().includes(v));
  assert.equal(mails.length, 3, 'three mails, not twenty');
  const throttled = sql(kd.dataDir, `SELECT count(*) FROM audit WHERE event = 'mail.throttled' AND subject = '${v}'`).out.trim();
  assert.equal(throttled, '17', 'each dropped mail is audited');

  // Reset requests count against the same limit.
  const w = addr('walt');
  const mw = await newMessage([w]);
  await registerAndActivate(kd.url, kd.dataDir, mw.id, w, PW);
  const skipW = outbox(kd.dataDir).map((x) => x.path);
  for (let i = 0; i < 5; i++) assert.equal((await api(kd.url, 'POST', '/v1/accounts/reset', { email: w })).status, 202);
  await sleep(2500);
  assert.equal(outbox(kd.dataDir).filter((x) => !skipW.includes(x.path) && x.raw.toString().includes(w)).length, 2);
});

test('whoever keeps registering an address uses up their own share of its mail, not the owner\'s; at most 12 an hour in all', async () => {
  const from = async (localAddress, body) =>
    (await raw(kd.url, '/v1/accounts', { method: 'POST', localAddress, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;
  const x = addr('xena');
  const m = await newMessage([x]);
  const skip = outbox(kd.dataDir).map((f) => f.path);
  const reg = (ip, i) => from(ip, { email: x, name: 'X', password: `${PW} ${ip} ${i}`, phrase: 'p', questions: [{ q: 'a', a: 'b' }, { q: 'c', a: 'd' }], message: m.id });
  const queued = () => Number(sql(kd.dataDir, `SELECT count(*) FROM mail_outbox WHERE email = '${x}'`).out.trim());
  // Someone else registers the address again and again: three mails, then nothing.
  for (let i = 0; i < 6; i++) assert.equal(await reg('127.0.0.1', i), 202);
  assert.equal(queued(), 3);
  // The owner, elsewhere, still gets a link for the password they choose.
  assert.equal(await reg('127.0.0.2', 0), 202);
  assert.equal(queued(), 4, "the owner's registration is not throttled by someone else's");
  // Many requesters together: at most 4 x 3 = 12 mails an hour to one address.
  for (const ip of ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6']) for (let i = 0; i < 3; i++) assert.equal(await reg(ip, i), 202);
  assert.equal(queued(), 12);
  await sleep(2500);
  assert.equal(outbox(kd.dataDir).filter((f) => !skip.includes(f.path) && f.raw.toString().includes(x)).length, 12);
});

test('slow clients and password hashing do not hold up other requests', async () => {
  const m = await newMessage([addr('henry')]);
  // 50 connections that send half a request and then nothing.
  const slow = [];
  for (let i = 0; i < 50; i++) {
    const s = connect(kd.port, '127.0.0.1');
    s.on('error', () => {});
    s.write('POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"em');
    slow.push(s);
  }
  // And a burst of sign-ins, each an Argon2id hash.
  const logins = Array.from({ length: 12 }, (_, j) => signIn(`nobody.slow${j}@example.com`, 'a wrong password'));
  const t0 = Date.now();
  const st = await api(kd.url, 'GET', `/v1/messages/${m.id}/status?rcpt=henry.${n}@example.com`);
  const took = Date.now() - t0;
  assert.equal(st.status, 200);
  assert.ok(took < 1000, `status answered in ${took} ms while others were slow`);
  await Promise.all(logins);
  for (const s of slow) s.destroy();
});

test('a client address that hammers the sign-in is slowed down', async () => {
  const tight = await startKeyd({ config: { auth: { rate_per_second: 1, rate_burst: 3 } } });
  try {
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await api(tight.url, 'POST', '/v1/sessions', { email: `r${i}@example.com`, password: 'whatever it is' })).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    const r = await api(tight.url, 'POST', '/v1/accounts/activate', { token: 'spa_x' });
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    // Key release with a session and status calls are not limited per address.
    assert.equal((await api(tight.url, 'GET', '/v1/messages/x/status?rcpt=a@b.org')).status, 404);
  } finally {
    await tight.stop();
  }
});
