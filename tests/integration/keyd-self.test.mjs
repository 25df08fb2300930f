// keyd-self.test.mjs - a recipient manages their own account through the
// key server's API (issue 7, recipient portal): what the account holds
// (never the answers or a password), a new phrase (on envelopes sealed
// afterwards), a new password that ends every other session and
// remembered browser, sign-out everywhere, and deleting the account (the
// password required; organisation members refused).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { admin, api, gatewayToken, latestMail, outbox, registerAndActivate, startKeyd } from './keyd-helpers.mjs';

const PW = 'correct horse battery staple 9';
const PROBLEM = 'https://sealpost.org/problems/';

/** A call as keyd's own pages make it: Origin of keyd, and a Cookie header. */
async function fromOwnPage(url, method, path, body, { cookie, token, origin = url } = {}) {
  const headers = { 'content-type': 'application/json', origin };
  if (cookie) headers.cookie = cookie;
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(url + path, { method, headers, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, text, body: text ? JSON.parse(text) : null, headers: r.headers };
}

/** "Remember this browser" on keyd's /open page: the sp_device cookie
 * ("sp_device=spd_...") and the sign-in's answer. */
async function rememberBrowser(url, email, password) {
  const r = await fromOwnPage(url, 'POST', '/v1/sessions', { email, password, remember: true });
  assert.equal(r.status, 201, r.text);
  const set = r.headers.getSetCookie().find((c) => c.startsWith('sp_device='));
  assert.ok(set, `a remembered-browser cookie is set: ${r.headers.getSetCookie()}`);
  assert.match(set, /; HttpOnly/);
  assert.match(set, /; SameSite=Strict/);
  assert.match(set, /; Path=\/v1\/sessions/);
  return { cookie: set.split(';')[0], answer: r };
}

/** Sign in as a remembered browser: a session of method "device". */
const rememberedSignIn = (url, email, cookie) => fromOwnPage(url, 'POST', '/v1/sessions', { email, remembered: true }, { cookie });
const NEW_PW = 'seven purple kites over Lisbon';

describe("one's own account", () => {
  let keyd, url, token, dir, msg;

  const signIn = async (email, password, extra = {}) => {
    const r = await api(url, 'POST', '/v1/sessions', { email, password, ...extra });
    return r;
  };

  before(async () => {
    keyd = await startKeyd({ config: { auth: { backoff_base_ms: 0, rate_per_second: 0 } } });
    url = keyd.url;
    token = gatewayToken(keyd.dataDir, 'Clinic', ['clinic.example']);
    const m = await api(url, 'POST', '/v1/messages', { from: 'ada@clinic.example', to: ['pat@example.com'] }, token);
    msg = m.body.id;
    await registerAndActivate(url, keyd.dataDir, msg, 'pat@example.com', PW, { phrase: 'blue heron at dawn' });
    dir = mkdtempSync(join(tmpdir(), 'sealpost-self-'));
  });

  after(async () => {
    await keyd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the account as its owner sees it: no answers, no password, live sessions marked', async () => {
    const s1 = (await signIn('pat@example.com', PW)).body.token;
    await rememberBrowser(url, 'pat@example.com', PW);
    const r = await api(url, 'GET', '/v1/account', undefined, s1);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.email, 'pat@example.com');
    assert.equal(r.body.phrase, 'blue heron at dawn');
    assert.deepEqual(r.body.questions, ['First school?', 'Favourite city?']);
    assert.doesNotMatch(r.text, /Riverside|Lisbon|argon2|pw_hash/i);
    assert.equal(r.body.sessions.length, 2);
    assert.equal(r.body.sessions.filter((x) => x.current).length, 1);
    assert.equal(r.body.remembered_browsers, 1);
    assert.equal((await api(url, 'GET', '/v1/account')).status, 401);
  });

  // Issue 13 item 11: a remembered browser opens messages, nothing more;
  // its token never reaches a script, and only keyd's own pages use it.
  test('a remembered browser only opens messages: every account call answers 403 password-session-required', async () => {
    const { cookie, answer } = await rememberBrowser(url, 'pat@example.com', PW);
    assert.doesNotMatch(answer.text, /spd_/, 'no device token in the answer');
    assert.match(answer.body.remembered.expires, /^\d{4}-/);
    const dev = await rememberedSignIn(url, 'pat@example.com', cookie);
    assert.equal(dev.status, 201, dev.text);
    assert.equal(dev.body.method, 'device');
    const d = dev.body.token;
    const questions = [{ q: 'Pet?', a: 'Rex' }, { q: 'Town?', a: 'Oslo' }];
    const calls = [
      ['GET', '/v1/account', undefined],
      ['PATCH', '/v1/account', { phrase: 'the attacker chose this' }],
      ['PATCH', '/v1/account', { name: 'Mallory' }],
      ['POST', '/v1/account/password', { password: PW, new_password: 'an attacker password 1' }],
      ['PUT', '/v1/account/questions', { password: PW, questions }],
      ['DELETE', '/v1/sessions', undefined],
      ['DELETE', '/v1/account', { password: PW }],
    ];
    for (const [method, path, body] of calls) {
      const r = await api(url, method, path, body, d);
      assert.equal(r.status, 403, `${method} ${path} with a remembered browser's session: ${r.text}`);
      assert.equal(r.body.type, PROBLEM + 'password-session-required');
      assert.match(r.body.detail, /signed in with the password/);
    }
    // Nothing changed; a password session still may.
    const s = (await signIn('pat@example.com', PW)).body.token;
    const acc = await api(url, 'GET', '/v1/account', undefined, s);
    assert.equal(acc.status, 200);
    assert.equal(acc.body.phrase, 'blue heron at dawn');
    assert.notEqual(acc.body.name, 'Mallory');
    // The device session still opens messages (security medium).
    const med = await api(url, 'POST', '/v1/messages', { from: 'ada@clinic.example', to: ['pat@example.com'], security: 'medium' }, token);
    assert.equal((await api(url, 'POST', `/v1/messages/${med.body.id}/key`, {}, d)).status, 200);
  });

  test('remembering needs keyd\'s own page: not from a file (Origin null) or another site, and never a token in a body', async () => {
    for (const origin of ['null', 'https://evil.example']) {
      const r = await fromOwnPage(url, 'POST', '/v1/sessions', { email: 'pat@example.com', password: PW, remember: true }, { origin });
      assert.equal(r.status, 422, r.text);
      assert.equal(r.body.field, 'remember');
      assert.match(r.body.detail, /only on the key server's own pages/);
      assert.equal(r.headers.getSetCookie().length, 0);
    }
    const { cookie } = await rememberBrowser(url, 'pat@example.com', PW);
    // A page elsewhere that somehow holds the cookie value still cannot use it.
    const elsewhere = await fromOwnPage(url, 'POST', '/v1/sessions', { email: 'pat@example.com', remembered: true }, { cookie, origin: 'null' });
    assert.equal(elsewhere.status, 422);
    assert.equal(elsewhere.body.field, 'remembered');
    // The old way, a device token in the body, is refused.
    const old = await api(url, 'POST', '/v1/sessions', { email: 'pat@example.com', device: cookie.slice('sp_device='.length) });
    assert.equal(old.status, 422);
    assert.equal(old.body.field, 'device');
    // Forgetting the browser ends it and clears the cookie.
    const dev = await rememberedSignIn(url, 'pat@example.com', cookie);
    const bye = await fromOwnPage(url, 'DELETE', '/v1/sessions/current', { forget_device: true }, { cookie, token: dev.body.token });
    assert.equal(bye.status, 204, bye.text);
    assert.ok(bye.headers.getSetCookie().some((c) => /^sp_device=;.*Max-Age=0/.test(c)));
    assert.equal((await rememberedSignIn(url, 'pat@example.com', cookie)).status, 401);
  });

  test('a new phrase: envelopes sealed afterwards carry it', async () => {
    const s = (await signIn('pat@example.com', PW)).body.token;
    assert.equal((await api(url, 'PATCH', '/v1/account', {}, s)).status, 422);
    assert.equal((await api(url, 'PATCH', '/v1/account', { phrase: 'x'.repeat(101) }, s)).status, 422);
    assert.equal((await api(url, 'PATCH', '/v1/account', { email: 'eve@example.com' }, s)).status, 422);
    assert.equal((await api(url, 'PATCH', '/v1/account', { phrase: 'red kite over the moor' }, s)).status, 204);
    const m = await api(url, 'POST', '/v1/messages', { from: 'ada@clinic.example', to: ['pat@example.com'] }, token);
    assert.equal(m.body.phrases['pat@example.com'], 'red kite over the moor');
  });

  test('a new password needs the current one and ends every other session and browser', async () => {
    const keep = (await signIn('pat@example.com', PW)).body.token;
    const other = (await signIn('pat@example.com', PW)).body.token;
    const { cookie: remembered } = await rememberBrowser(url, 'pat@example.com', PW);
    assert.equal((await rememberedSignIn(url, 'pat@example.com', remembered)).status, 201,
      'the remembered browser works before');
    let r = await api(url, 'POST', '/v1/account/password', { password: 'wrong password here', new_password: NEW_PW }, keep);
    assert.equal(r.status, 401);
    assert.equal(r.body.type, 'https://sealpost.org/problems/invalid-credentials');
    r = await api(url, 'POST', '/v1/account/password', { password: PW, new_password: 'password' }, keep);
    assert.equal(r.status, 422);
    assert.equal(r.body.type, 'https://sealpost.org/problems/weak-password');
    r = await api(url, 'POST', '/v1/account/password', { password: PW, new_password: NEW_PW }, keep);
    assert.equal(r.status, 204, r.text);
    assert.equal((await api(url, 'GET', '/v1/account', undefined, keep)).status, 200, 'this session stays');
    assert.equal((await api(url, 'GET', '/v1/account', undefined, other)).status, 401, 'the others end');
    assert.equal((await signIn('pat@example.com', PW)).status, 401, 'the old password is gone');
    assert.equal((await signIn('pat@example.com', NEW_PW)).status, 201);
    assert.equal((await rememberedSignIn(url, 'pat@example.com', remembered)).status, 401,
      'the remembered browser is forgotten');
  });

  test('new security questions need the current password and serve the next reset', async () => {
    const s = (await signIn('pat@example.com', NEW_PW)).body.token;
    const questions = [
      { q: 'Name of my first cat?', a: '  Mr  Whiskers ' },
      { q: 'Street I grew up on?', a: 'Elm' },
      { q: 'Favourite teacher?', a: 'Mrs Ode' },
    ];
    let r = await api(url, 'PUT', '/v1/account/questions', { password: 'wrong password here', questions }, s);
    assert.equal(r.status, 401);
    r = await api(url, 'PUT', '/v1/account/questions', { password: NEW_PW, questions: questions.slice(0, 1) }, s);
    assert.equal(r.status, 422);
    assert.equal(r.body.field, 'questions');
    r = await api(url, 'PUT', '/v1/account/questions', { password: NEW_PW, questions: [questions[0], { q: 'Empty?', a: '   ' }] }, s);
    assert.equal(r.status, 422);
    assert.equal(r.body.field, 'questions[1].a');
    assert.equal((await api(url, 'PUT', '/v1/account/questions', { password: NEW_PW, questions })).status, 401);
    r = await api(url, 'PUT', '/v1/account/questions', { password: NEW_PW, questions }, s);
    assert.equal(r.status, 204, r.text);
    r = await api(url, 'GET', '/v1/account', undefined, s);
    assert.deepEqual(r.body.questions, questions.map((x) => x.q));
    assert.doesNotMatch(r.text, /Whiskers|Elm|Ode/);

    // The reset asks the new questions and accepts the new answers, typed
    // with other case and spacing.
    const skip = outbox(keyd.dataDir).map((m) => m.path);
    assert.equal((await api(url, 'POST', '/v1/accounts/reset', { email: 'pat@example.com' })).status, 202);
    const m = await latestMail(keyd.dataDir, 'pat@example.com', { skip });
    const tok = new URLSearchParams(new URL(m.link).hash.slice(1)).get('token');
    r = await api(url, 'POST', '/v1/accounts/reset/questions', { token: tok });
    assert.deepEqual(r.body.questions, questions.map((x) => x.q));
    r = await api(url, 'POST', '/v1/accounts/reset/confirm',
      { token: tok, answers: ['mr whiskers', 'ELM', 'mrs   ode'], password: NEW_PW + ' again' });
    assert.equal(r.status, 200, r.text);
    r = await api(url, 'POST', '/v1/account/password', { password: NEW_PW + ' again', new_password: NEW_PW },
      (await signIn('pat@example.com', NEW_PW + ' again')).body.token);
    assert.equal(r.status, 204, r.text);
  });

  test('sign out everywhere', async () => {
    const a = (await signIn('pat@example.com', NEW_PW)).body.token;
    const b = (await signIn('pat@example.com', NEW_PW)).body.token;
    assert.equal((await api(url, 'DELETE', '/v1/sessions', undefined, a)).status, 204);
    assert.equal((await api(url, 'GET', '/v1/account', undefined, a)).status, 401);
    assert.equal((await api(url, 'GET', '/v1/account', undefined, b)).status, 401);
  });

  test('deleting the account: the password is required; an organisation member cannot', async () => {
    const s = (await signIn('pat@example.com', NEW_PW)).body.token;
    assert.equal((await api(url, 'DELETE', '/v1/account', { password: 'not my password' }, s)).status, 401);
    assert.equal((await api(url, 'DELETE', '/v1/account', { password: NEW_PW }, s)).status, 204);
    assert.equal((await signIn('pat@example.com', NEW_PW)).status, 401);
    const st = await api(url, 'GET', `/v1/messages/${msg}/status?rcpt=pat%40example.com`);
    assert.equal(st.body.recipient.account, 'unregistered', 'the address can register anew');
    // A sender of the organisation is removed by its administrator instead.
    const pwFile = join(dir, 'pw');
    writeFileSync(pwFile, `${PW}\n`);
    admin(keyd.dataDir, 'user', 'create', '--org', 'Clinic', '--email', 'ada@clinic.example', '--role', 'sender',
      '--password-file', pwFile);
    const ada = (await signIn('ada@clinic.example', PW)).body.token;
    const r = await api(url, 'DELETE', '/v1/account', { password: PW }, ada);
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /administrator removes it/);
  });
});

// keyd's own pages keep the session in a cookie, not in script: HttpOnly,
// SameSite=Strict, and every call it signs must carry the page's CSRF
// token, so another site can neither read the session nor use it.
describe('cookie sessions of the portal pages', () => {
  let keyd, url, token, msg, dir;

  /** The session cookie "sp_session=..." from a Set-Cookie header, and its attributes. */
  const cookieOf = (r) => {
    const sc = r.headers.get('set-cookie') || '';
    const [pair, ...attrs] = sc.split(';').map((x) => x.trim());
    return { pair, attrs: attrs.map((a) => a.toLowerCase()) };
  };
  const call = async (method, path, { cookie, csrf, body } = {}) => {
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (cookie) headers.cookie = cookie;
    if (csrf) headers['x-csrf-token'] = csrf;
    const r = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null, text, headers: r.headers };
  };
  const signIn = async (email, password) => {
    const r = await call('POST', '/v1/sessions', { body: { email, password, cookie: true } });
    assert.equal(r.status, 201, r.text);
    return { cookie: cookieOf(r).pair, csrf: r.body.csrf, r };
  };

  before(async () => {
    keyd = await startKeyd({ config: { auth: { backoff_base_ms: 0, rate_per_second: 0 } } });
    url = keyd.url;
    token = gatewayToken(keyd.dataDir, 'Clinic', ['clinic.example']);
    dir = mkdtempSync(join(tmpdir(), 'sealpost-cookie-'));
    const logo = join(dir, 'logo.svg');
    writeFileSync(logo, '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#0b6e4f"/></svg>');
    admin(keyd.dataDir, 'org', 'brand', 'Clinic', '--display-name', 'Clinic Health', '--color', '#0b6e4f', '--logo', logo);
    const pwFile = join(dir, 'pw');
    writeFileSync(pwFile, `${PW}\n`);
    admin(keyd.dataDir, 'user', 'create', '--org', 'Clinic', '--email', 'ada@clinic.example', '--role', 'sender',
      '--password-file', pwFile);
    msg = (await api(url, 'POST', '/v1/messages', { from: 'ada@clinic.example', to: ['pat@example.com'] }, token)).body.id;
    await registerAndActivate(url, keyd.dataDir, msg, 'pat@example.com', PW);
  });

  after(async () => {
    await keyd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('sign-in sets an HttpOnly, SameSite=Strict cookie and answers a CSRF token, never the session token', async () => {
    const { cookie, csrf, r } = await signIn('pat@example.com', PW);
    assert.match(cookie, /^sp_session=sps_[A-Za-z0-9_-]{43}$/);
    const { attrs } = cookieOf(r);
    for (const a of ['httponly', 'samesite=strict', 'path=/']) assert.ok(attrs.includes(a), `${a} in ${attrs}`);
    assert.ok(attrs.some((a) => /^max-age=[1-9]\d*$/.test(a)), 'a lifetime');
    assert.ok(!attrs.includes('secure'), 'no Secure flag on a plain-http development server');
    assert.equal(r.body.token, undefined);
    assert.match(csrf, /^spc_[A-Za-z0-9_-]{43}$/);
    assert.ok(!r.text.includes(cookie.slice('sp_session='.length)), 'the session token is only in the cookie');
  });

  test('GET /v1/session tells the page who is signed in and its CSRF token', async () => {
    const pat = await signIn('pat@example.com', PW);
    let r = await call('GET', '/v1/session', { cookie: pat.cookie });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.email, 'pat@example.com');
    assert.equal(r.body.csrf, pat.csrf);
    assert.equal(r.body.member, null);
    assert.equal(r.body.brand, null);
    const ada = await signIn('ada@clinic.example', PW);
    r = await call('GET', '/v1/session', { cookie: ada.cookie });
    assert.deepEqual(r.body.member, { org: 'Clinic', role: 'sender' });
    assert.equal(r.body.brand.name, 'Clinic Health');
    assert.equal(r.body.brand.color, '#0b6e4f');
    assert.match(r.body.brand.logo, /^data:image\/svg\+xml;base64,/);
    assert.notEqual(ada.csrf, pat.csrf, 'a CSRF token per session');
    // A bearer session has no CSRF token; no session is 401.
    const bearer = (await api(url, 'POST', '/v1/sessions', { email: 'pat@example.com', password: PW })).body.token;
    r = await api(url, 'GET', '/v1/session', undefined, bearer);
    assert.equal(r.status, 200);
    assert.equal(r.body.csrf, null);
    assert.equal((await call('GET', '/v1/session')).status, 401);
    assert.equal((await call('GET', '/v1/session', { cookie: 'sp_session=sps_' + 'A'.repeat(43) })).status, 401);
  });

  test('a call signed by the cookie alone is refused: the CSRF token must come with it', async () => {
    const pat = await signIn('pat@example.com', PW);
    const ada = await signIn('ada@clinic.example', PW);
    for (const csrf of [undefined, 'spc_' + 'A'.repeat(43), ada.csrf, pat.csrf.slice(0, -1)]) {
      const r = await call('PATCH', '/v1/account', { cookie: pat.cookie, csrf, body: { name: 'Mallory' } });
      assert.equal(r.status, 403, `csrf ${csrf}`);
      assert.equal(r.body.type, 'https://sealpost.org/problems/csrf');
      assert.equal((await call('GET', '/v1/account', { cookie: pat.cookie, csrf })).status, 403);
    }
    assert.equal((await call('GET', '/v1/account', { cookie: pat.cookie, csrf: pat.csrf })).body.name, 'Test Recipient',
      'nothing was changed');
    assert.equal((await call('PATCH', '/v1/account', { cookie: pat.cookie, csrf: pat.csrf, body: { name: 'Pat' } })).status, 204);
    assert.equal((await call('GET', '/v1/account', { cookie: pat.cookie, csrf: pat.csrf })).body.name, 'Pat');
    // The management API, the same way.
    assert.equal((await call('GET', '/v1/messages', { cookie: ada.cookie })).status, 403);
    const list = await call('GET', '/v1/messages', { cookie: ada.cookie, csrf: ada.csrf });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.messages.map((m) => m.id), [msg]);
    // Key release never takes the cookie: it is the envelope's, by bearer token.
    const k = await call('POST', `/v1/messages/${msg}/key`, { cookie: pat.cookie, csrf: pat.csrf, body: { rcpt: 'pat@example.com' } });
    assert.equal(k.status, 401);
    // Cross-origin pages may not send the CSRF header at all.
    const pre = await fetch(url + '/v1/account', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'x-csrf-token' },
    });
    assert.doesNotMatch(pre.headers.get('access-control-allow-headers') || '', /csrf/i);
  });

  test('sign-out ends the session and clears the cookie', async () => {
    const pat = await signIn('pat@example.com', PW);
    assert.equal((await call('DELETE', '/v1/sessions/current', { cookie: pat.cookie })).status, 403, 'not without CSRF');
    const r = await call('DELETE', '/v1/sessions/current', { cookie: pat.cookie, csrf: pat.csrf });
    assert.equal(r.status, 204);
    const { pair, attrs } = cookieOf(r);
    assert.equal(pair, 'sp_session=');
    assert.ok(attrs.includes('max-age=0'));
    assert.equal((await call('GET', '/v1/session', { cookie: pat.cookie })).status, 401);
    // Sign out everywhere clears it too.
    const again = await signIn('pat@example.com', PW);
    const all = await call('DELETE', '/v1/sessions', { cookie: again.cookie, csrf: again.csrf });
    assert.equal(all.status, 204);
    assert.equal(cookieOf(all).pair, 'sp_session=');
  });
});

// A console left open while its user works stays signed in: a cookie
// session used in the second half of its life gets a whole one again. A
// bearer session (the envelope's) never does.
describe('cookie sessions are renewed while in use', () => {
  let keyd, url;
  before(async () => {
    keyd = await startKeyd({ config: { auth: { backoff_base_ms: 0, rate_per_second: 0, session_seconds: 30 } } });
    url = keyd.url;
    const token = gatewayToken(keyd.dataDir, 'Clinic', ['clinic.example']);
    const id = (await api(url, 'POST', '/v1/messages', { from: 'ada@clinic.example', to: ['pat@example.com'] }, token)).body.id;
    await registerAndActivate(url, keyd.dataDir, id, 'pat@example.com', PW);
  });
  after(async () => {
    await keyd?.stop();
  });

  test('used after half its life, a cookie session lasts a whole session_seconds again', async () => {
    const cookieSignIn = async () => {
      const r = await fetch(`${url}/v1/sessions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'pat@example.com', password: PW, cookie: true }),
      });
      return { ...(await r.json()), cookie: r.headers.get('set-cookie').split(';')[0] };
    };
    const signedIn = await cookieSignIn();
    const { cookie } = signedIn;
    const other = await cookieSignIn();
    const bearer = (await api(url, 'POST', '/v1/sessions', { email: 'pat@example.com', password: PW })).body.token;
    const get = (path, headers) => fetch(url + path, { headers });
    // Early on: nothing to renew.
    let a = await get('/v1/account', { cookie, 'x-csrf-token': signedIn.csrf });
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('set-cookie'), null);
    await new Promise((res) => setTimeout(res, 16000));
    a = await get('/v1/account', { cookie, 'x-csrf-token': signedIn.csrf });
    assert.equal(a.status, 200);
    assert.match(a.headers.get('set-cookie') || '', /^sp_session=sps_[^;]+; .*Max-Age=30\b/);
    const s = await (await get('/v1/session', { cookie })).json();
    const gained = (Date.parse(s.expires) - Date.parse(signedIn.expires)) / 1000;
    assert.ok(gained >= 15, `the session was extended by ${gained} s`);
    const b = await api(url, 'GET', '/v1/session', undefined, bearer);
    assert.ok(Date.parse(b.body.expires) <= Date.parse(signedIn.expires) + 1000, 'the bearer session was not');
    assert.equal(b.headers.get('set-cookie'), null);
    // Signing out in the second half clears the cookie, and only that: no
    // renewal goes out with it.
    const out = await fetch(`${url}/v1/sessions/current`, {
      method: 'DELETE', headers: { cookie: other.cookie, 'x-csrf-token': other.csrf },
    });
    assert.equal(out.status, 204);
    // (a token, should one be there, is not printed)
    assert.deepEqual(out.headers.getSetCookie().map((c) => c.split(';')[0].replace(/=.+$/, '=(token)')), ['sp_session=']);
  });
});
