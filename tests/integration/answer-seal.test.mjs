// answer-seal.test.mjs - the opener's answer sealer (web/src/opener/
// answer-seal.js, issue 16) against a recipient written here from
// docs/envelope-format.md alone: the organisation's side, with a P-256 key
// pair made for the test, unwraps K with @hpke/core (RFC 9180, §5.2) and
// opens the payload with WebCrypto (key check §7.3, STREAM §8, base64 §9),
// then compares the bytes. Also: the file's layout (§3, §5.6), the header's
// members, order and escaping (§2.2), tampering, refused arguments, the
// answer's MIME message (answer-mime.js) as the gateway would read it, and
// the C side: `sealpost inspect` reads every answer's header, and, once the
// CLI has `open --reply-key`, opens the answers with a gateway's key.
//
//   SEALPOST=build/src/cli/sealpost node --test tests/integration/answer-seal.test.mjs
//   (SEALPOST_ANSWER_CLI=1 makes the `open --reply-key` check mandatory)

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(REPO, 'web', 'package.json'));
const { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } = await import(require.resolve('@hpke/core'));
const PostalMime = (await import(require.resolve('postal-mime'))).default;
const opener = (file) => import(pathToFileURL(join(REPO, 'web', 'src', 'opener', file)).href);
const { sealAnswer } = await opener('answer-seal.js');
const { buildAnswerMessage } = await opener('answer-mime.js');

const SEALPOST = process.env.SEALPOST;
const subtle = globalThis.crypto.subtle;
const suite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
const ascii = (s) => new TextEncoder().encode(s);
const b64url = (b) => Buffer.from(b).toString('base64url');
const SUITE = 'DHKEM(P-256,HKDF-SHA256),HKDF-SHA256,AES-256-GCM';
const ORIGINAL_ID = 'kJGSk5SVlpeYmZqbnJ2enw';
const HEADER_START = '<script type="application/json" id="sealpost-header">';
const PAYLOAD_START = '<script type="application/octet-stream" id="sealpost-payload">\n';

/** A message of n bytes that no two lengths share a prefix pattern of. */
const bytesOf = (n, seed = 1) => {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
};

/** The organisation's reply key pair: { keyPair, replyKey: {kid, publicKey} as in an envelope header }. */
async function organisation() {
  const keyPair = await suite.kem.generateKeyPair();
  const pk = new Uint8Array(await suite.kem.serializePublicKey(keyPair.publicKey));
  const kid = b64url(new Uint8Array(await subtle.digest('SHA-256', pk)).subarray(0, 16));
  return { keyPair, replyKey: { kid, publicKey: b64url(pk) } };
}

// ---- the recipient: the gateway's side, from the specification --------------------

/** The blocks of a sealed answer file, checking the layout of §3 and §5.6. */
function blocks(bytes) {
  assert.ok(bytes.every((b) => b < 0x80), 'the file is ASCII');
  const text = Buffer.from(bytes).toString('latin1');
  assert.ok(!text.includes('\r') && !text.includes('\0'), 'no CR or NUL');
  for (const line of text.split('\n')) assert.ok(line.length <= 998, `a line of ${line.length} octets`);
  assert.ok(text.startsWith('<!DOCTYPE html>\n'));
  assert.match(text.slice(0, 1024), /<meta charset="utf-8">/);
  assert.ok(!text.includes('sealpost-display'), 'no display block');
  const h0 = text.indexOf(HEADER_START) + HEADER_START.length;
  const h1 = text.indexOf('</script>', h0);
  const p0 = text.indexOf(PAYLOAD_START, h1) + PAYLOAD_START.length;
  const p1 = text.indexOf('</script>', p0);
  assert.ok(h0 > HEADER_START.length - 1 && h1 > h0 && p0 > h1 && p1 >= p0, 'header then payload block');
  assert.equal(text.split('<script').length, 3, 'exactly two script elements');
  assert.equal(text.slice(p1), '</script>\n</body>\n</html>\n');
  const lines = text.slice(p0, p1).split('\n');
  assert.equal(lines.pop(), '', 'every payload line ends with LF');
  lines.forEach((l, i) => assert.ok(i === lines.length - 1 ? l.length >= 4 && l.length <= 64 : l.length === 64, `payload line ${i}: ${l.length}`));
  return { headerText: text.slice(h0, h1), payload: new Uint8Array(Buffer.from(lines.join(''), 'base64')) };
}

/**
 * Open a sealed answer as the organisation: unwrap K with HPKE, check the
 * key check, open every segment. Returns { header, message, segments };
 * throws when anything fails to authenticate.
 */
async function openAnswer(bytes, keyPair) {
  const { headerText, payload } = blocks(bytes);
  const header = JSON.parse(headerText);
  const ka = header.keyAccess;
  const K = new Uint8Array(
    await suite.open(
      { recipientKey: keyPair, enc: new Uint8Array(Buffer.from(ka.enc, 'base64url')).buffer, info: ascii('sealpost answer v1') },
      new Uint8Array(Buffer.from(ka.wrappedKey, 'base64url')).buffer,
      ascii(header.id),
    ),
  );
  assert.equal(K.length, 32);
  const ikm = await subtle.importKey('raw', K, 'HKDF', false, ['deriveBits']);
  const check = await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: ascii('sealpost v1 key check') }, ikm, 128);
  assert.equal(b64url(new Uint8Array(check)), header.method.keyCheck, 'key check');
  const aad = new Uint8Array(await subtle.digest('SHA-256', ascii(headerText)));
  const key = await subtle.importKey('raw', K, 'AES-GCM', false, ['decrypt']);
  const S = header.method.segmentSize;
  const prefix = Buffer.from(header.method.noncePrefix, 'base64url');
  assert.equal(prefix.length, 7);
  const n = Math.ceil(payload.length / (S + 16));
  const parts = [];
  for (let i = 0; i < n; i++) {
    const nonce = new Uint8Array(12);
    nonce.set(prefix);
    new DataView(nonce.buffer).setUint32(7, i);
    nonce[11] = i === n - 1 ? 1 : 0;
    const chunk = payload.subarray(i * (S + 16), Math.min((i + 1) * (S + 16), payload.length));
    parts.push(new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, key, chunk)));
  }
  return { header, headerText, message: Buffer.concat(parts), segments: n };
}

const answer = (action = 'reply', message = ORIGINAL_ID) => ({ message, action, org: 'Clinic' });

describe('sealed answers open for the organisation, and only as sealed', () => {
  let org;
  before(async () => {
    org = await organisation();
  });

  for (const [what, length, segmentSize] of [
    ['an empty message', 0, undefined],
    ['one byte', 1, undefined],
    ['exactly one segment (1 MiB)', 1048576, undefined],
    ['exactly one small segment', 64, 64],
    ['three segments, the last short', 150, 64],
    ['an exact multiple: two segments, no empty third', 128, 64],
    ['eleven segments of 1000 bytes', 10007, 1000],
    ['5 MB in 1 MiB segments', 5 * 1000 * 1000, undefined],
  ]) {
    test(`${what}: the recipient opens the same bytes`, async () => {
      const message = bytesOf(length, length + 1);
      const progress = [];
      const sealed = await sealAnswer({
        message,
        replyKey: org.replyKey,
        answer: answer(),
        from: 'pat@example.com',
        to: ['dr@clinic.example'],
        ...(segmentSize ? { segmentSize } : {}),
        onProgress: (f) => progress.push(f),
      });
      const opened = await openAnswer(sealed.bytes, org.keyPair);
      assert.ok(Buffer.from(message).equals(opened.message), 'the same bytes');
      const S = segmentSize || 1048576;
      const n = Math.max(1, Math.ceil(length / S));
      assert.equal(opened.segments, n);
      assert.equal(opened.header.method.segmentSize, S);
      assert.equal(opened.header.id, sealed.id);
      assert.equal(progress.length, n, 'one progress call a segment');
      assert.ok(progress.every((f, i) => i === 0 || f > progress[i - 1]), 'progress only grows');
      assert.equal(progress.at(-1), 1);
    });
  }

  test('the header: members in order, as specified, fresh values every time', async () => {
    const message = ascii('From: pat@example.com\r\n\r\nThanks.\r\n');
    const t0 = Date.now();
    const a = await sealAnswer({ message, replyKey: org.replyKey, answer: answer('replyAll'), from: 'pat@example.com', to: ['dr@clinic.example', 'nurse@clinic.example'] });
    const { header } = await openAnswer(a.bytes, org.keyPair);
    assert.deepEqual(Object.keys(header), ['v', 'id', 'created', 'keyAccess', 'method', 'policy', 'answer']);
    assert.equal(header.v, 1);
    assert.match(header.id, /^[A-Za-z0-9_-]{22}$/);
    assert.match(header.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(header.created) - t0) < 5000, 'created is now, in UTC');
    assert.deepEqual(Object.keys(header.keyAccess), ['type', 'suite', 'kid', 'enc', 'wrappedKey']);
    assert.equal(header.keyAccess.type, 'hpke');
    assert.equal(header.keyAccess.suite, SUITE);
    assert.equal(header.keyAccess.kid, org.replyKey.kid);
    assert.equal(Buffer.from(header.keyAccess.enc, 'base64url').length, 65);
    assert.equal(Buffer.from(header.keyAccess.enc, 'base64url')[0], 4, 'enc is an uncompressed point');
    assert.equal(Buffer.from(header.keyAccess.wrappedKey, 'base64url').length, 48);
    assert.deepEqual(Object.keys(header.method), ['algorithm', 'segmentSize', 'noncePrefix', 'keyCheck']);
    assert.equal(header.method.algorithm, 'AES-256-GCM');
    assert.deepEqual(header.policy, { from: 'pat@example.com', to: ['dr@clinic.example', 'nurse@clinic.example'], expires: null, security: 'high' });
    assert.deepEqual(Object.keys(header.policy), ['from', 'to', 'expires', 'security']);
    assert.deepEqual(header.answer, { message: ORIGINAL_ID, action: 'replyAll', org: 'Clinic' });
    assert.deepEqual(Object.keys(header.answer), ['message', 'action', 'org']);

    const b = await openAnswer((await sealAnswer({ message, replyKey: org.replyKey, answer: answer(), from: 'pat@example.com', to: ['dr@clinic.example'] })).bytes, org.keyPair);
    for (const [name, v] of [['id', (h) => h.id], ['enc', (h) => h.keyAccess.enc], ['wrappedKey', (h) => h.keyAccess.wrappedKey],
      ['noncePrefix', (h) => h.method.noncePrefix], ['keyCheck', (h) => h.method.keyCheck]])
      assert.notEqual(v(b.header), v(header), `a fresh ${name}`);

    const compose = await sealAnswer({ message, replyKey: org.replyKey, answer: answer('compose', null), from: 'pat@example.com', to: ['dr@clinic.example'] });
    assert.deepEqual((await openAnswer(compose.bytes, org.keyPair)).header.answer, { message: null, action: 'compose', org: 'Clinic' });
  });

  test('JSON for HTML (§2.2): ASCII, <>& and other characters escaped as the reference writes them, long lines broken', async () => {
    const to = Array.from({ length: 60 }, (_, i) => `recipient-number-${i}@a-long-domain-name.example`);
    const from = 'élodie.müller+<tag>&co@exemple.fr';
    const sealed = await sealAnswer({ message: ascii('x'), replyKey: org.replyKey, answer: { ...answer(), org: 'Clinic & Co <main> 😀' }, from, to });
    const { header, headerText } = await openAnswer(sealed.bytes, org.keyPair);
    assert.ok(!/[<>&]/.test(headerText), 'no raw < > &');
    assert.ok(headerText.includes('"from":"\\u00E9lodie.m\\u00FCller+\\u003ctag\\u003e\\u0026co@exemple.fr"'), headerText.slice(0, 400));
    assert.ok(headerText.includes('\\uD83D\\uDE00'), 'a surrogate pair beyond U+FFFF');
    assert.equal(header.policy.from, from);
    assert.equal(header.answer.org, 'Clinic & Co <main> 😀');
    assert.deepEqual(header.policy.to, to);
    const lines = headerText.split('\n');
    assert.ok(lines.length > 3, 'the header is broken into lines');
    for (const l of lines.slice(0, -1)) {
      assert.ok(l.length >= 600 && l.length <= 800, `a header line of ${l.length} octets`);
      assert.ok(l.endsWith(','), 'broken after a comma');
    }
  });

  test('tampering: one payload byte, the header, the wrapped key or another key: nothing opens', async () => {
    const message = bytesOf(3000, 7);
    const sealed = await sealAnswer({ message, replyKey: org.replyKey, answer: answer(), from: 'pat@example.com', to: ['dr@clinic.example'], segmentSize: 1024 });
    const text = Buffer.from(sealed.bytes).toString('latin1');
    const edit = (f) => new Uint8Array(Buffer.from(f(text), 'latin1'));
    assert.ok(Buffer.from(message).equals((await openAnswer(sealed.bytes, org.keyPair)).message), 'the untouched file opens');

    // One payload byte: change a base64 character in the middle of the payload.
    const p0 = text.indexOf(PAYLOAD_START) + PAYLOAD_START.length + 100;
    const flipped = edit((t) => t.slice(0, p0) + (t[p0] === 'A' ? 'B' : 'A') + t.slice(p0 + 1));
    await assert.rejects(openAnswer(flipped, org.keyPair), /operation-specific|decrypt|OperationError/i);
    // The header: "security":"high" -> "security":"HIGH" (still valid JSON; the AAD changes).
    await assert.rejects(openAnswer(edit((t) => t.replace('"security":"high"', '"security":"HIGH"')), org.keyPair), /OperationError|operation/i);
    // The id is the HPKE AAD: another id does not unwrap K.
    const { header } = await openAnswer(sealed.bytes, org.keyPair);
    const otherId = b64url(bytesOf(16, 99));
    await assert.rejects(openAnswer(edit((t) => t.replace(`"id":"${header.id}"`, `"id":"${otherId}"`)), org.keyPair), /open|decrypt|operation/i);
    // The wrapped key.
    const wk = header.keyAccess.wrappedKey;
    const wk2 = (wk[5] === 'A' ? 'B' : 'A');
    await assert.rejects(openAnswer(edit((t) => t.replace(wk, wk.slice(0, 5) + wk2 + wk.slice(6))), org.keyPair), /open|decrypt|operation/i);
    // Another organisation's key.
    const other = await organisation();
    await assert.rejects(openAnswer(sealed.bytes, other.keyPair), /open|decrypt|operation/i);
  });

  test('refused: a kid that is not the key\'s, a point off the curve, a bad action, message id or segment size', async () => {
    const base = { message: ascii('x'), replyKey: org.replyKey, answer: answer(), from: 'pat@example.com', to: ['dr@clinic.example'] };
    const other = await organisation();
    await assert.rejects(sealAnswer({ ...base, replyKey: { kid: other.replyKey.kid, publicKey: org.replyKey.publicKey } }), /kid/);
    const bad = Buffer.from(org.replyKey.publicKey, 'base64url');
    bad[64] ^= 1;
    const badKid = b64url(new Uint8Array(await subtle.digest('SHA-256', bad)).subarray(0, 16));
    await assert.rejects(sealAnswer({ ...base, replyKey: { kid: badKid, publicKey: b64url(bad) } }));
    await assert.rejects(sealAnswer({ ...base, replyKey: { kid: org.replyKey.kid, publicKey: org.replyKey.publicKey.slice(1) } }), /publicKey/);
    await assert.rejects(sealAnswer({ ...base, answer: answer('replyToAll') }), /action/);
    await assert.rejects(sealAnswer({ ...base, answer: answer('compose') }), /null for compose/);
    await assert.rejects(sealAnswer({ ...base, answer: answer('reply', null) }), /answer.message/);
    await assert.rejects(sealAnswer({ ...base, answer: answer('reply', 'not-an-id') }), /answer.message/);
    await assert.rejects(sealAnswer({ ...base, segmentSize: 63 }), /segmentSize/);
    await assert.rejects(sealAnswer({ ...base, message: 'text' }), /Uint8Array/);
    await assert.rejects(sealAnswer({ ...base, to: ['a@b', '\ud800@x'] }), /to must be/);
  });
});

describe('the answer as the gateway reads it: an RFC 5322 message built with mimetext', () => {
  test('headers, text, files and the attached original survive sealing byte for byte', async () => {
    const org = await organisation();
    const original = ascii('From: Alice <alice@clinic.example>\r\nTo: pat@example.com\r\nSubject: Results\r\nMessage-ID: <m1@clinic.example>\r\n\r\nAll fine.\r\n');
    const pdf = bytesOf(100000, 3);
    const message = buildAnswerMessage({
      from: 'pat@example.com',
      to: [{ name: 'Dr Alice Müller', address: 'alice@clinic.example' }],
      cc: [{ name: '', address: 'nurse@clinic.example' }],
      subject: 'Re: Results – merci',
      text: 'Thank you!\nÀ bientôt\n',
      inReplyTo: '<m1@clinic.example>',
      references: ['<m0@clinic.example>', '<m1@clinic.example>'],
      files: [{ name: 'scan é.pdf', type: 'application/pdf', bytes: pdf }, { name: 'notes.txt', type: '', bytes: ascii('one\ntwo') }],
      original: { bytes: original, name: 'Results.eml' },
    });
    const sealed = await sealAnswer({ message, replyKey: org.replyKey, answer: answer(), from: 'pat@example.com', to: ['alice@clinic.example', 'nurse@clinic.example'] });
    const opened = await openAnswer(sealed.bytes, org.keyPair);
    assert.ok(Buffer.from(message).equals(opened.message));
    const lines = opened.message.toString('latin1').split('\r\n');
    assert.ok(lines.every((l) => l.length <= 998), 'RFC 5322 line lengths');
    assert.ok(!/[^\r]\n/.test(opened.message.toString('latin1')), 'CRLF line ends');
    const mail = await PostalMime.parse(opened.message, { forceRfc822Attachments: true });
    assert.deepEqual(mail.from, { address: 'pat@example.com', name: '' });
    assert.deepEqual(mail.to, [{ address: 'alice@clinic.example', name: 'Dr Alice Müller' }]);
    assert.deepEqual(mail.cc, [{ address: 'nurse@clinic.example', name: '' }]);
    assert.equal(mail.subject, 'Re: Results – merci');
    assert.equal(mail.inReplyTo, '<m1@clinic.example>');
    assert.equal(mail.references.replace(/\s+/g, ' '), '<m0@clinic.example> <m1@clinic.example>');
    assert.match(mail.messageId, /^<[A-Za-z0-9]{24}@example\.com>$/);
    assert.equal(mail.text, 'Thank you!\r\nÀ bientôt\r\n');
    assert.deepEqual(mail.attachments.map((a) => [a.filename, a.mimeType]), [
      ['scan é.pdf', 'application/pdf'],
      ['notes.txt', 'application/octet-stream'],
      ['Results.eml', 'message/rfc822'],
    ]);
    assert.ok(Buffer.from(mail.attachments[0].content).equals(Buffer.from(pdf)), 'the file, byte for byte');
    // postal-mime (unshimmed in Node) re-joins a 7bit part's lines with LF:
    // the part is checked in the raw message instead, byte for byte, from
    // its header to the delimiter (whose CRLF belongs to the boundary).
    assert.match(Buffer.from(mail.attachments[2].content).toString(), /^From: Alice <alice@clinic\.example>\n[^]*All fine\.\n/);
    const at = opened.message.indexOf(Buffer.from(original));
    assert.ok(at > 0, 'the original, byte for byte, in the answer');
    assert.match(opened.message.subarray(0, at).toString('latin1'), /Content-Type: message\/rfc822; name="Results\.eml"\r\nContent-Transfer-Encoding: 7bit\r\n[^]*\r\n\r\n$/);
    assert.match(opened.message.subarray(at + original.length).toString('latin1'), /^\r\n--sp-[A-Za-z0-9]{24}--$/);
  });
});

describe('the opener takes the reply key only as §5.5 allows (envelope.js)', () => {
  const vector = JSON.parse(readFileSync(join(REPO, 'tests', 'vectors', 'reply.json'), 'utf8'));
  const edit = (f) => {
    const h = JSON.parse(vector.header);
    f(h);
    return JSON.stringify(h);
  };

  test('the vector\'s reply member: key, kid and allowed answers; the kid is checked against the key', async () => {
    const { parseHeader, checkReply } = await opener('envelope.js');
    const { header } = parseHeader(vector.header);
    const member = JSON.parse(vector.header).reply;
    assert.equal(header.$.reply.kid, member.kid);
    assert.equal(b64url(header.$.reply.publicKey), member.publicKey);
    assert.deepEqual(header.$.reply.allow, { reply: true, replyAll: true, forward: false });
    await checkReply(header);
    // Another key's kid: refused as malformed before anything is decrypted.
    const other = await organisation();
    const wrong = parseHeader(edit((h) => (h.reply.kid = other.replyKey.kid))).header;
    await assert.rejects(checkReply(wrong), (e) => e.kind === 'malformed' && /reply\.kid/.test(e.detail));
  });

  test('refused or ignored: a password envelope with reply, a bad point or allow; a later suite offers nothing', async () => {
    const { parseHeader } = await opener('envelope.js');
    const malformed = (text, re) => assert.throws(() => parseHeader(text), (e) => e.kind === 'malformed' && re.test(e.detail));
    malformed(edit((h) => (h.keyAccess = { type: 'password', kdf: 'argon2id', m: 8192, t: 1, p: 1, salt: 'c2VhbHBvc3QtdjEtc2FsdA' })), /only for key-server/);
    malformed(edit((h) => delete h.reply.allow.forward), /reply\.allow\.forward/);
    malformed(edit((h) => (h.reply.allow.reply = 'yes')), /reply\.allow\.reply/);
    malformed(edit((h) => (h.reply.publicKey = `A${h.reply.publicKey.slice(1)}`)), /uncompressed point/);
    malformed(edit((h) => (h.reply.publicKey = h.reply.publicKey.slice(2))), /reply\.publicKey/);
    assert.equal(parseHeader(edit((h) => (h.reply = { suite: 'HPKE-v2', anything: 1 }))).header.$.reply, null);
    assert.equal(parseHeader(edit((h) => delete h.reply)).header.$.reply, null);
  });
});

// ---- the C side -------------------------------------------------------------------

const cliHelp = SEALPOST ? spawnSync(SEALPOST, ['open', '--help'], { encoding: 'utf8' }).stdout || '' : '';
const MILTER = SEALPOST ? resolve(dirname(SEALPOST), '..', 'milter', 'sealpost-milter') : null;

describe('the C side reads what the browser seals', () => {
  let work;
  before(() => {
    assert.ok(SEALPOST && existsSync(SEALPOST), 'set SEALPOST to the built sealpost binary');
    work = mkdtempSync(join(tmpdir(), 'sealpost-answer-'));
  });
  after(() => work && rmSync(work, { recursive: true, force: true }));

  test('sealpost inspect --json: the header and the payload of every sealed answer', async () => {
    const org = await organisation();
    for (const [length, segmentSize] of [[0, 64], [150, 64], [70000, 1024]]) {
      const sealed = await sealAnswer({ message: bytesOf(length), replyKey: org.replyKey, answer: answer('forward'), from: 'élodie@example.com', to: ['x@y.example'], segmentSize });
      const file = join(work, `inspect-${length}.html`);
      writeFileSync(file, sealed.bytes);
      const r = spawnSync(SEALPOST, ['inspect', '--json', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.header.id, sealed.id);
      assert.equal(out.header.keyAccess.type, 'hpke');
      assert.equal(out.header.policy.from, 'élodie@example.com');
      assert.deepEqual(out.header.answer, { message: ORIGINAL_ID, action: 'forward', org: 'Clinic' });
      assert.equal(out.payload.messageBytes, length);
      assert.equal(out.payload.segments, Math.max(1, Math.ceil(length / segmentSize)));
    }
  });

  // `sealpost open --reply-key KEYFILE` is the C side's way to open an answer
  // with the gateway's key (issue 16); until the CLI has it this check is
  // left out, unless SEALPOST_ANSWER_CLI=1 asks for it.
  const hasReplyKey = cliHelp.includes('--reply-key');
  if (hasReplyKey || process.env.SEALPOST_ANSWER_CLI === '1') {
    test('sealpost open --reply-key: the gateway\'s key opens the browser\'s answers; a changed byte is refused', async () => {
      assert.ok(hasReplyKey, `${SEALPOST} open --help does not mention --reply-key (SEALPOST_ANSWER_CLI=1 asks for it)`);
      assert.ok(existsSync(MILTER), `sealpost-milter not found at ${MILTER}`);
      const keyFile = join(work, 'gateway.key');
      const g = spawnSync(MILTER, ['--genkey', keyFile], { encoding: 'utf8' });
      assert.equal(g.status, 0, g.stderr);
      const [, kid, publicKey] = /^kid (\S+)\npublic_key (\S+)\n$/.exec(g.stdout) || [];
      assert.ok(kid, g.stdout);
      for (const [length, segmentSize] of [[0, 64], [1, 64], [5000, 64], [2 * 1048576 + 3, 1048576]]) {
        const message = bytesOf(length, 5);
        const sealed = await sealAnswer({ message, replyKey: { kid, publicKey }, answer: answer(), from: 'pat@example.com', to: ['dr@clinic.example'], segmentSize });
        const file = join(work, `answer-${length}.html`);
        const out = join(work, `answer-${length}.eml`);
        writeFileSync(file, sealed.bytes);
        const r = spawnSync(SEALPOST, ['open', '--reply-key', keyFile, '-o', out, file], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.ok(readFileSync(out).equals(Buffer.from(message)), `${length} bytes opened by the C side`);
      }
      const sealed = await sealAnswer({ message: bytesOf(4000), replyKey: { kid, publicKey }, answer: answer(), from: 'pat@example.com', to: ['dr@clinic.example'], segmentSize: 1024 });
      const text = Buffer.from(sealed.bytes).toString('latin1');
      const at = text.indexOf(PAYLOAD_START) + PAYLOAD_START.length + 200;
      const file = join(work, 'tampered.html');
      writeFileSync(file, Buffer.from(text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1), 'latin1'));
      const r = spawnSync(SEALPOST, ['open', '--reply-key', keyFile, '-o', join(work, 'tampered.eml'), file], { encoding: 'utf8' });
      assert.equal(r.status, 3, r.stderr);
      assert.ok(!existsSync(join(work, 'tampered.eml')), 'no output for a tampered answer');
    });
  }
});
