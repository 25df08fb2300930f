// hpke.test.mjs - the C HPKE (src/lib/hpke.c, through tests/unit/hpke_tool)
// against @hpke/core, the library the envelope uses to seal a reply, both
// ways: the browser's library seals to a key the C side made, and the C
// side seals to a key the library made. Any difference in the KEM, the key
// schedule or the AEAD makes one direction fail.
//
//   SEALPOST=build/src/cli/sealpost node --test tests/integration/hpke.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { requireMilter } from './milter-helpers.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const SEALPOST = process.env.SEALPOST;
assert.ok(SEALPOST, 'set SEALPOST to the built sealpost binary');
const TOOL = resolve(dirname(SEALPOST), '..', '..', 'tests', 'unit', 'hpke_tool');
const require = createRequire(join(REPO, 'web', 'package.json'));
const { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } = await import(
  require.resolve('@hpke/core'));

const suite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (h) => new Uint8Array(Buffer.from(h, 'hex'));
const enc = (s) => new TextEncoder().encode(s);

function tool(...args) {
  const r = spawnSync(TOOL, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout.trim().split('\n'), err: r.stderr };
}

describe('HPKE: the C implementation and @hpke/core agree', () => {
  let work;
  before(() => {
    assert.ok(existsSync(TOOL), `${TOOL} not built (ninja -C build)`);
    work = mkdtempSync(join(tmpdir(), 'sealpost-hpke-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('@hpke/core seals to a key made in C; C opens it', async () => {
    const keyFile = join(work, 'reply.key');
    const g = tool('genkey', keyFile);
    assert.equal(g.status, 0, g.err);
    const pk = await suite.kem.deserializePublicKey(unhex(g.out[0]).buffer);
    const info = enc('sealpost reply v1');
    for (const size of [0, 1, 32, 4096]) {
      const pt = new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff);
      const aad = enc(`message ${size}`);
      const sender = await suite.createSenderContext({ recipientPublicKey: pk, info });
      const ct = new Uint8Array(await sender.seal(pt, aad));
      const o = tool('open', keyFile, hex(sender.enc), hex(info), hex(aad), hex(ct));
      assert.equal(o.status, 0, o.err);
      assert.equal(o.out[0], hex(pt));
      // One bit changed, or another AAD: the C side refuses.
      ct[0] ^= 1;
      const bad = tool('open', keyFile, hex(sender.enc), hex(info), hex(aad), hex(ct));
      assert.equal(bad.status, 2);
      assert.match(bad.err, /does not authenticate/);
      ct[0] ^= 1;
      assert.equal(tool('open', keyFile, hex(sender.enc), hex(info), hex(enc('other')), hex(ct)).status, 2);
    }
  });

  test('C seals to a key made by @hpke/core; @hpke/core opens it', async () => {
    const kp = await suite.kem.generateKeyPair();
    const pk = new Uint8Array(await suite.kem.serializePublicKey(kp.publicKey));
    const info = enc('sealpost reply v1');
    for (const size of [0, 17, 20000]) { // hex on the command line: under 128 KiB an argument
      const pt = new Uint8Array(size).map((_, i) => (i * 13 + 1) & 0xff);
      const aad = enc(`aad ${size}`);
      const s = tool('seal', hex(pk), hex(info), hex(aad), hex(pt));
      assert.equal(s.status, 0, s.err);
      const recipient = await suite.createRecipientContext({ recipientKey: kp, enc: unhex(s.out[0]).buffer, info });
      const opened = new Uint8Array(await recipient.open(unhex(s.out[1]).buffer, aad));
      assert.equal(hex(opened), hex(pt));
    }
  });

  test('sealpost-milter --genkey: a new 0600 key file, its kid and public key; never over a file', async () => {
    const milter = requireMilter();
    const keyFile = join(work, 'gateway-reply.key');
    const r = spawnSync(milter, ['--genkey', keyFile], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const m = /^kid ([A-Za-z0-9_-]{22})\npublic_key ([A-Za-z0-9_-]{87})\n$/.exec(r.stdout);
    assert.ok(m, `stdout: ${r.stdout}`);
    assert.match(r.stderr, new RegExp(`wrote the reply key ${keyFile}; it stays on the gateway`));
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const pem = readFileSync(keyFile, 'utf8');
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
    // The printed key is the file's: what the browser's library seals to it,
    // the C side opens with the file.
    const pk = await suite.kem.deserializePublicKey(new Uint8Array(Buffer.from(m[2], 'base64url')).buffer);
    const sender = await suite.createSenderContext({ recipientPublicKey: pk });
    const ct = new Uint8Array(await sender.seal(enc('reply body key')));
    const o = tool('open', keyFile, hex(sender.enc), '', '', hex(ct));
    assert.equal(o.status, 0, o.err);
    assert.equal(o.out[0], hex(enc('reply body key')));
    // A second run on the same path leaves the key alone.
    const again = spawnSync(milter, ['--genkey', keyFile], { encoding: 'utf8' });
    assert.equal(again.status, 2);
    assert.match(again.stderr, /never overwritten/);
    assert.equal(readFileSync(keyFile, 'utf8'), pem);
  });

  test('the C side refuses a public key that is not a P-256 point', () => {
    const kp = tool('genkey', join(work, 'k2.key'));
    const bad = unhex(kp.out[0]);
    bad[33] ^= 1;
    const r = tool('seal', hex(bad), '', '', '00');
    assert.equal(r.status, 2);
    assert.match(r.err, /not a point of P-256/);
  });
});
