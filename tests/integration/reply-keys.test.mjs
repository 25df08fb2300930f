// reply-keys.test.mjs - the organisation's reply keys (issue 16): made on
// the gateway (sealpost-milter --genkey), registered with keyd with the
// gateway token (PUT /v1/org/reply-keys/{kid}), listed and retired by
// `admin org reply-keys`, and handed to the sealer with each new message
// key (POST /v1/messages' reply_key) while the profile allows a reply.
//
//   SEALPOST_KEYD=... SEALPOST_MILTER=... node --test tests/integration/reply-keys.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { admin, adminRun, api, sql, startKeyd } from './keyd-helpers.mjs';
import { requireMilter, tokenFile } from './milter-helpers.mjs';

const PROBLEM = 'https://sealpost.org/problems/';
const SEALPOST = process.env.SEALPOST;

describe('reply keys: made on the gateway, registered with keyd, put on new envelopes', () => {
  let kd, tf, other, work;
  const milter = (...args) => spawnSync(requireMilter(), args, { encoding: 'utf8' });
  const genkey = (file, ...more) => milter('--genkey', file, '--keyserver', kd.url, '--token-file', tf.file, ...more);
  const printed = (out) => {
    const m = /^kid ([A-Za-z0-9_-]{22})\npublic_key ([A-Za-z0-9_-]{87})\n$/.exec(out);
    assert.ok(m, `stdout: ${out}`);
    return { kid: m[1], pk: m[2] };
  };
  const newMessage = (token, extra = {}) =>
    api(kd.url, 'POST', '/v1/messages', { from: 'dr@clinic.example', to: ['pat@example.com'], ...extra }, token);
  // keyd remembers an organisation's current key for [server] cache_ms
  // (1 s): a change made by `admin` (another process) shows after that.
  const afterCache = () => sleep(1200);

  before(async () => {
    kd = await startKeyd();
    tf = tokenFile(kd);
    other = tokenFile(kd, 'Bank', ['bank.example']);
    work = mkdtempSync(join(tmpdir(), 'sealpost-replykeys-'));
  });
  after(async () => {
    tf?.cleanup();
    other?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
    await kd?.stop();
  });

  test('before any key: a new message offers no reply', async () => {
    const r = await newMessage(tf.token);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.reply_key, null);
    assert.match(admin(kd.dataDir, 'org', 'reply-keys', 'Clinic'), /\(none: a gateway registers one/);
  });

  let first;
  test('--genkey with a key server: the new key is registered and current; the message key comes with it', async () => {
    const file = join(work, 'reply-1.key');
    const r = genkey(file);
    assert.equal(r.status, 0, r.stderr);
    first = printed(r.stdout);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(r.stderr, new RegExp(`reply key ${first.kid} registered at ${kd.url}; new envelopes carry it`));
    // The kid is the key's own: SHA-256 of the point, first 16 bytes.
    const point = Buffer.from(first.pk, 'base64url');
    assert.equal(point.length, 65);
    assert.equal(createHash('sha256').update(point).digest().subarray(0, 16).toString('base64url'), first.kid);

    const m = await newMessage(tf.token);
    assert.equal(m.status, 201, m.text);
    assert.deepEqual(m.body.reply_key, { kid: first.kid, public_key: first.pk });
    const list = admin(kd.dataDir, 'org', 'reply-keys', 'Clinic');
    assert.match(list, new RegExp(`^${first.kid} +\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z +never +current$`, 'm'));
    // Another organisation's messages never carry it.
    const b = await api(kd.url, 'POST', '/v1/messages', { from: 'x@bank.example', to: ['pat@example.com'] }, other.token);
    assert.equal(b.status, 201, b.text);
    assert.equal(b.body.reply_key, null);
    assert.doesNotMatch(admin(kd.dataDir, 'org', 'reply-keys', 'Bank'), new RegExp(first.kid));
  });

  test('registering again is harmless (200, nothing changes); the audit trail has one registration', async () => {
    const r = milter('--register-key', join(work, 'reply-1.key'), '--keyserver', kd.url, '--token-file', tf.file);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(printed(r.stdout), first);
    assert.match(r.stderr, /was registered already/);
    const put = await api(kd.url, 'PUT', `/v1/org/reply-keys/${first.kid}`, { public_key: first.pk }, tf.token);
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.current, true);
    assert.equal(put.body.retired, null);
    const audit = adminRun(kd.dataDir, 'audit', 'verify');
    assert.equal(audit.code, 0, audit.err);
    const rows = sql(kd.dataDir, `SELECT count(*) FROM audit WHERE event = 'reply_key.register' AND subject = '${first.kid}'`);
    assert.equal(rows.out.trim(), '1', 'registered once, however often asked');
  });

  test('a sealed envelope carries the key and what the profile allows in its authenticated header', () => {
    const src = join(work, 'msg.eml');
    writeFileSync(src, 'From: dr@clinic.example\r\nTo: pat@example.com\r\nSubject: results\r\n\r\nAll fine.\r\n');
    const seal = (...extra) => {
      const out = join(work, `env-${extra.length}.html`);
      const r = spawnSync(SEALPOST, ['seal', '--keyserver', kd.url, '--token-file', tf.file, ...extra, '-o', out, src], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const i = spawnSync(SEALPOST, ['inspect', '--json', out], { encoding: 'utf8' });
      assert.equal(i.status, 0, i.stderr);
      const text = spawnSync(SEALPOST, ['inspect', out], { encoding: 'utf8' }).stdout;
      return { header: JSON.parse(i.stdout).header, text };
    };
    const { header, text } = seal();
    assert.deepEqual(header.reply, {
      suite: 'DHKEM(P-256,HKDF-SHA256),HKDF-SHA256,AES-256-GCM',
      kid: first.kid,
      publicKey: first.pk,
      allow: { reply: true, replyAll: true, forward: false },
    });
    assert.match(text, new RegExp(`Answers: +reply, reply-all; sealed to the organisation's reply key ${first.kid}`));
    admin(kd.dataDir, 'profile', 'set', '--org', 'Clinic', '--name', 'quiet', '--reply', 'no', '--reply-all', 'no', '--forward', 'no');
    const quiet = seal('--profile', 'quiet');
    assert.equal(quiet.header.reply, undefined);
    assert.match(quiet.text, /Answers: +none offered/);
  });

  test('a profile that allows no reply, reply-all nor forward gets no reply key', async () => {
    admin(kd.dataDir, 'profile', 'set', '--org', 'Clinic', '--name', 'noreply', '--reply', 'no', '--reply-all', 'no', '--forward', 'no');
    admin(kd.dataDir, 'profile', 'set', '--org', 'Clinic', '--name', 'fwdonly', '--reply', 'no', '--reply-all', 'no', '--forward', 'yes');
    const none = await newMessage(tf.token, { profile: 'noreply' });
    assert.equal(none.status, 201, none.text);
    assert.equal(none.body.reply_key, null);
    assert.deepEqual([none.body.profile.reply, none.body.profile.reply_all, none.body.profile.forward], [false, false, false]);
    const fwd = await newMessage(tf.token, { profile: 'fwdonly' });
    assert.deepEqual(fwd.body.reply_key, { kid: first.kid, public_key: first.pk });
  });

  test('refused: no or a wrong token, a kid that is not the key\'s, a point off the curve, unknown members', async () => {
    const path = `/v1/org/reply-keys/${first.kid}`;
    let r = await api(kd.url, 'PUT', path, { public_key: first.pk });
    assert.equal(r.status, 401);
    r = await api(kd.url, 'PUT', path, { public_key: first.pk }, 'spg_' + 'x'.repeat(43));
    assert.equal(r.status, 401);
    // Another key's kid in the path.
    r = await api(kd.url, 'PUT', '/v1/org/reply-keys/AAAAAAAAAAAAAAAAAAAAAA', { public_key: first.pk }, tf.token);
    assert.equal(r.status, 422);
    assert.equal(r.body.field, 'kid');
    // The same point with one coordinate changed is not on P-256.
    const bad = Buffer.from(first.pk, 'base64url');
    bad[64] ^= 1;
    const badKid = createHash('sha256').update(bad).digest().subarray(0, 16).toString('base64url');
    r = await api(kd.url, 'PUT', `/v1/org/reply-keys/${badKid}`, { public_key: bad.toString('base64url') }, tf.token);
    assert.equal(r.status, 422);
    assert.equal(r.body.type, PROBLEM + 'invalid-request');
    assert.equal(r.body.field, 'public_key');
    r = await api(kd.url, 'PUT', path, { public_key: 'short' }, tf.token);
    assert.equal(r.status, 422);
    r = await api(kd.url, 'PUT', path, { public_key: first.pk, private_key: 'no' }, tf.token);
    assert.equal(r.status, 422);
    assert.equal(r.body.field, 'private_key');
    // Nothing was registered by any of these.
    assert.equal(admin(kd.dataDir, 'org', 'reply-keys', 'Clinic').trim().split('\n').length, 2);
  });

  test('rotation: a newer key becomes current; retiring it brings back the older; a retired key is never offered', async () => {
    const r = genkey(join(work, 'reply-2.key'));
    assert.equal(r.status, 0, r.stderr);
    const second = printed(r.stdout);
    await afterCache();
    assert.deepEqual((await newMessage(tf.token)).body.reply_key, { kid: second.kid, public_key: second.pk });
    let list = admin(kd.dataDir, 'org', 'reply-keys', 'Clinic');
    assert.match(list, new RegExp(`^${first.kid} .* live$`, 'm'));
    assert.match(list, new RegExp(`^${second.kid} .* current$`, 'm'));

    const out = admin(kd.dataDir, 'org', 'reply-keys', 'Clinic', '--retire', second.kid);
    assert.match(out, new RegExp(`retired reply key ${second.kid}`));
    assert.match(out, new RegExp(`new envelopes carry reply key ${first.kid}`));
    await afterCache();
    assert.deepEqual((await newMessage(tf.token)).body.reply_key, { kid: first.kid, public_key: first.pk });
    list = admin(kd.dataDir, 'org', 'reply-keys', 'Clinic');
    assert.match(list, new RegExp(`^${second.kid} .* retired \\d{4}-`, 'm'));
    // Registering a retired key again does not bring it back.
    const again = await api(kd.url, 'PUT', `/v1/org/reply-keys/${second.kid}`, { public_key: second.pk }, tf.token);
    assert.equal(again.status, 200);
    assert.equal(again.body.current, false);
    assert.match(again.body.retired, /^\d{4}-/);
    // Retiring twice, or a kid the organisation does not have: exit 2.
    const twice = adminRun(kd.dataDir, 'org', 'reply-keys', 'Clinic', '--retire', second.kid);
    assert.equal(twice.code, 2);
    assert.match(twice.err, /no live reply key/);
    assert.equal(adminRun(kd.dataDir, 'org', 'reply-keys', 'Bank', '--retire', first.kid).code, 2);

    const last = admin(kd.dataDir, 'org', 'reply-keys', 'Clinic', '--retire', first.kid);
    assert.match(last, /no live reply key left: new envelopes offer no reply/);
    await afterCache();
    assert.equal((await newMessage(tf.token)).body.reply_key, null);
  });

  test('--genkey without a key server only makes the key, and says how to register it', () => {
    const file = join(work, 'offline.key');
    const r = milter('--genkey', file);
    assert.equal(r.status, 0, r.stderr);
    printed(r.stdout);
    assert.match(r.stderr, new RegExp(`wrote the reply key ${file}`));
    assert.match(r.stderr, /register it with sealpost-milter -c CONFIG --register-key/);
    assert.match(readFileSync(file, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
  });

  test('keyd unreachable: the key file is kept and the exit status says it is not registered', () => {
    const file = join(work, 'unregistered-2.key');
    const r = milter('--genkey', file, '--keyserver', 'http://127.0.0.1:9', '--token-file', tf.file, '--timeout', '2');
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /is not registered: .*\n\(try again with: sealpost-milter -c CONFIG --register-key /);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // No token in anything printed.
    assert.ok(!r.stderr.includes(tf.token) && !r.stdout.includes(tf.token));
  });
});
