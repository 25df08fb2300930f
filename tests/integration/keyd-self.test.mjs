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

import { admin, api, gatewayToken, registerAndActivate, startKeyd } from './keyd-helpers.mjs';

const PW = 'correct horse battery staple 9';
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
    await signIn('pat@example.com', PW, { remember: true });
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
    const remembered = (await signIn('pat@example.com', PW, { remember: true })).body.device?.token;
    assert.ok(remembered);
    assert.equal((await api(url, 'POST', '/v1/sessions', { email: 'pat@example.com', device: remembered })).status, 201,
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
    assert.equal((await api(url, 'POST', '/v1/sessions', { email: 'pat@example.com', device: remembered })).status, 401,
      'the remembered browser is forgotten');
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
