// cli.test.mjs - the sealpost command as a user runs it: seal, open and
// inspect through files and pipes, the carrier email, and every failure a
// user can meet, each with its exit status (DESIGN §8) and a message that
// says what went wrong. Needs SEALPOST=path/to/sealpost (make check sets it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const SEALPOST = process.env.SEALPOST;
assert.ok(SEALPOST && existsSync(SEALPOST), 'set SEALPOST to the built sealpost binary');
const here = dirname(fileURLToPath(import.meta.url));
const corpus = join(here, '..', '..', '..', 'shared', 'corpus', 'mime');

const dir = mkdtempSync(join(tmpdir(), 'sealpost-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = (name, content) => {
  const p = join(dir, name);
  if (content !== undefined) writeFileSync(p, content);
  return p;
};
const PW = file('pw.txt', 'Correct horse battery staple\n');
const FAST = ['--kdf-memory', '8', '--kdf-passes', '1'];

function run(args, input) {
  const r = spawnSync(SEALPOST, args, { input, maxBuffer: 256 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr.toString() };
}

const MSG = Buffer.from(
  'From: Dr. Ana Lima <ana@clinic.example>\r\n' +
    'To: patient@example.org\r\n' +
    'Subject: =?UTF-8?Q?R=C3=A9sultats_d=27analyse?=\r\n' +
    'Message-ID: <lab-42@clinic.example>\r\n' +
    '\r\n' +
    'Hémoglobine: 13.2 g/dL — all within range.\r\n',
);

test('--help and --version answer with exit 0', () => {
  for (const args of [['--help'], ['seal', '--help'], ['open', '--help'], ['inspect', '--help']]) {
    const r = run(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.out.toString(), /Usage|sealpost/);
  }
  assert.match(run(['--version']).out.toString(), /envelope format v1/);
});

test('seal to a file, open back byte-identical', () => {
  const env = file('a.html');
  const s = run(['seal', '--password-file', PW, ...FAST, '--hint', 'the usual', '-o', env, file('a.eml', MSG)]);
  assert.equal(s.code, 0, s.err);
  const html = readFileSync(env, 'utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  assert.ok(!html.includes('Hémoglobine'), 'plaintext must not appear in the envelope');
  const o = run(['open', '--password-file', PW, env]);
  assert.equal(o.code, 0, o.err);
  assert.deepEqual(o.out, MSG);
});

test('-o onto a device or a pipe writes into it; it never replaces it with a file', async () => {
  // (Before, `sealpost open -o /dev/null` run as root replaced /dev/null
  // with a regular file by its write-then-rename.)
  const env = file('fifo-src.html');
  assert.equal(run(['seal', '--password-file', PW, ...FAST, '-o', env, file('fifo.eml', MSG)]).code, 0);
  const fifo = join(dir, 'out.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const { createReadStream, statSync } = await import('node:fs');
  const { spawn } = await import('node:child_process');
  const got = [];
  const reader = new Promise((ok) => createReadStream(fifo).on('data', (d) => got.push(d)).on('end', ok));
  const child = spawn(SEALPOST, ['open', '--password-file', PW, '-o', fifo, env]);
  const code = await new Promise((ok) => child.on('close', ok));
  await reader;
  assert.equal(code, 0);
  assert.deepEqual(Buffer.concat(got), MSG);
  assert.ok(statSync(fifo).isFIFO(), 'still a FIFO');
});

test('pipes: seal from stdin to stdout, open from stdin', () => {
  const s = run(['seal', '--password-file', PW, ...FAST], MSG);
  assert.equal(s.code, 0, s.err);
  const o = run(['open', '--password-file', PW, '-'], s.out);
  assert.equal(o.code, 0, o.err);
  assert.deepEqual(o.out, MSG);
});

test('--mail writes a carrier email that keeps threading headers and opens', () => {
  const s = run(['seal', '--password-file', PW, ...FAST, '--hint', 'your birthday', '--mail'], MSG);
  assert.equal(s.code, 0, s.err);
  const mail = s.out.toString();
  const headers = mail.slice(0, mail.indexOf('\n\n'));
  assert.match(headers, /^Message-Id: <lab-42@clinic\.example>$/im);
  assert.match(headers, /^From: .*ana@clinic\.example/m);
  assert.match(headers, /^To: patient@example\.org$/m);
  assert.match(headers, /^X-Sealpost-Id: [A-Za-z0-9_-]{22}$/m);
  assert.match(mail, /filename=securemessage\.html/);
  assert.match(mail, /Password hint: your birthday/);
  assert.ok(!mail.includes('moglobine'));
  const o = run(['open', '--password-file', PW, file('carrier.eml', s.out)]);
  assert.equal(o.code, 0, o.err);
  assert.deepEqual(o.out, MSG);
});

test('--mail: the envelope travels as 7bit (ASCII, lines within 998 octets), never a second base64', () => {
  const s = run(['seal', '--password-file', PW, ...FAST, '--mail'], MSG);
  assert.equal(s.code, 0, s.err);
  const mail = s.out.toString('latin1');
  assert.match(mail, /filename=securemessage\.html\nContent-Transfer-Encoding: 7bit\n/);
  assert.doesNotMatch(mail, /Content-Transfer-Encoding: base64/);
  assert.ok(!/[^\x00-\x7f]/.test(mail), 'the carrier is ASCII (MSG is not)');
  assert.ok(mail.split('\n').every((l) => l.length <= 998));
});

test('a carrier from before revision 1.1 (base64 attachment, raw UTF-8 blocks) still opens', () => {
  const fixtures = join(here, '..', 'fixtures');
  const carrier = join(fixtures, 'legacy-1.0-carrier.eml');
  assert.match(readFileSync(carrier, 'latin1'), /Content-Transfer-Encoding: base64/);
  const pw = file('legacy.pw', 'correct horse battery staple\n');
  const o = run(['open', '--password-file', pw, carrier]);
  assert.equal(o.code, 0, o.err);
  assert.deepEqual(o.out, readFileSync(join(fixtures, 'legacy-1.0.eml')));
  const i = run(['inspect', '--json', carrier]);
  assert.equal(i.code, 0, i.err);
  assert.equal(JSON.parse(i.out.toString()).display.subject, '\u00dcbersicht');
});

test('inspect shows the header without a password, in text and JSON', () => {
  const env = file('i.html');
  assert.equal(run(['seal', '--password-file', PW, ...FAST, '--expires', '30d', '-o', env], MSG).code, 0);
  const t = run(['inspect', env]);
  assert.equal(t.code, 0, t.err);
  assert.match(t.out.toString(), /From:\s+ana@clinic\.example/);
  assert.match(t.out.toString(), /Résultats d'analyse/);
  const j = run(['inspect', '--json', env]);
  assert.equal(j.code, 0, j.err);
  const doc = JSON.parse(j.out.toString());
  assert.equal(doc.header.v, 1);
  assert.equal(doc.header.keyAccess.type, 'password');
  assert.equal(doc.header.keyAccess.m, 8192);
  assert.deepEqual(doc.header.policy.to, ['patient@example.org']);
  assert.ok(Date.parse(doc.header.policy.expires) > Date.now() + 29 * 86400e3);
  assert.equal(doc.payload.messageBytes, MSG.length);
});

test('inspect of a tampered envelope prints no control characters, forged lines or bidi overrides', () => {
  const env = file('t.html');
  assert.equal(run(['seal', '--password-file', PW, ...FAST, '--hint', 'the usual', '-o', env], MSG).code, 0);
  // Anyone can edit the file: the display block is not authenticated, and
  // inspect shows the header before any key checks it.
  const evil = 'Lab results\u001b]0;pwned\u0007\r\nMessage id:  FORGED\u202egnp.exe\u009b2J';
  let html = readFileSync(env, 'utf8');
  html = html.replace(
    /(<script type="application\/json" id="sealpost-display">)[^<]*(<\/script>)/,
    (_, a, b) => a + JSON.stringify({ sender: 'Dr. Evil', subject: evil, phrase: '\\ \u001b[31mred' }) + b,
  );
  html = html.replace('"hint":"the usual"', `"hint":${JSON.stringify(evil)}`);
  writeFileSync(env, html);
  const t = run(['inspect', env]);
  assert.equal(t.code, 0, t.err);
  const out = t.out.toString('utf8');
  // No C0 control other than the line ends, no DEL, no C1, no bidi control.
  assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  // The forged line is not a line: only inspect's own "Message id:" starts one.
  assert.equal(out.split('\n').filter((l) => l.startsWith('Message id:')).length, 1);
  assert.ok(!out.split('\n').some((l) => l.includes('FORGED') && l.startsWith('Message id:')));
  // What was there is still shown, escaped visibly.
  assert.match(out, /Subject: +Lab results\\x1b\]0;pwned\\x07\\r\\nMessage id: {2}FORGED\\u\{202e\}gnp\.exe\\u\{009b\}2J/);
  assert.match(out, /Hint: +Lab results\\x1b/);
  assert.match(out, /Phrase: +\\\\ \\x1b\[31mred/);
  // JSON output: ASCII only, and the values survive exactly.
  const j = run(['inspect', '--json', env]);
  assert.equal(j.code, 0, j.err);
  assert.doesNotMatch(j.out.toString('latin1'), /[^\n\x20-\x7e]/);
  const doc = JSON.parse(j.out.toString());
  assert.equal(doc.display.subject, evil);
});

test('scan prints the subject and file name of a hostile message escaped', () => {
  const msg = file(
    'evil\u001b[2J.eml',
    'From: a@clinic.example\r\nTo: b@example.org\r\n' +
      'Subject: =?UTF-8?Q?=5Bsecure=5D_hi=1B]0;pwned=07=0D=0Afake: deliver?=\r\n\r\nhello\r\n',
  );
  const r = run(['scan', msg]);
  assert.equal(r.code, 0, r.err);
  const out = r.out.toString('utf8');
  assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.match(out, /evil\\x1b\[2J\.eml: encrypt/);
  assert.match(out, /delivered subject: .*hi\\x1b\]0;pwned\\x07\\r\\nfake: deliver/);
  assert.ok(!out.split('\n').some((l) => l.startsWith('fake:')));
  // Why a part could not be read names the part as the message does.
  const un = file(
    'unscannable.eml',
    'From: a@clinic.example\r\nTo: b@example.org\r\nSubject: hi\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n' +
      '--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="=?UTF-8?Q?a=1B]0;pwn=07=0D=0Afake:_x.txt?="\r\n' +
      'Content-Transfer-Encoding: x-unheard-of\r\n\r\nQUJD\r\n--b--\r\n',
  );
  const u = run(['scan', un]);
  assert.equal(u.code, 0, u.err);
  const uout = u.out.toString('utf8');
  assert.match(uout, /rule unscannable/);
  assert.match(uout, /unscannable: /);
  assert.doesNotMatch(uout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.ok(!uout.split('\n').some((l) => l.startsWith('fake:')));
});

test('default Argon2id parameters are 64 MiB, 3 passes, 1 lane', () => {
  const s = run(['seal', '--password-file', PW], MSG);
  assert.equal(s.code, 0, s.err);
  const doc = JSON.parse(run(['inspect', '--json', '-'], s.out).out.toString());
  assert.deepEqual([doc.header.keyAccess.m, doc.header.keyAccess.t, doc.header.keyAccess.p], [65536, 3, 1]);
  assert.deepEqual(run(['open', '--password-file', PW, '-'], s.out).out, MSG);
});

test('an empty message seals and opens', () => {
  const s = run(['seal', '--password-file', PW, ...FAST], Buffer.alloc(0));
  assert.equal(s.code, 0, s.err);
  const o = run(['open', '--password-file', PW, '-'], s.out);
  assert.equal(o.code, 0, o.err);
  assert.equal(o.out.length, 0);
});

test('wrong password: exit 3, says so, and -o leaves no file', () => {
  const env = run(['seal', '--password-file', PW, ...FAST], MSG).out;
  const out = file('never.eml');
  const r = run(['open', '--password-file', file('bad.txt', 'Correct horse battery stapler\n'), '-o', out, '-'], env);
  assert.equal(r.code, 3);
  assert.match(r.err, /wrong password/);
  assert.ok(!existsSync(out));
  assert.ok(!readdirSync(dir).some((n) => n.startsWith('.never.eml')), 'temporary file left behind');
});

test('tampered, truncated and re-versioned envelopes are told apart', () => {
  const env = run(['seal', '--password-file', PW, ...FAST], MSG).out.toString();
  const start = env.indexOf('id="sealpost-payload">\n') + 23;
  const flip = env.slice(0, start + 5) + (env[start + 5] === 'A' ? 'B' : 'A') + env.slice(start + 6);
  let r = run(['open', '--password-file', PW, '-'], flip);
  assert.equal(r.code, 3);
  assert.match(r.err, /modified|damaged/);
  assert.equal(r.out.length, 0, 'no plaintext from a tampered envelope');

  r = run(['open', '--password-file', PW, '-'], env.slice(0, start + 40));
  assert.equal(r.code, 3);
  assert.match(r.err, /cut short|missing/);

  // Characters outside base64 are refused even after the padding.
  const close = env.indexOf('</script>', start);
  r = run(['open', '--password-file', PW, '-'], env.slice(0, close) + '-garbage\n' + env.slice(close));
  assert.equal(r.code, 3);
  assert.match(r.err, /not valid base64/);

  r = run(['open', '--password-file', PW, '-'], env.replace('{"v":1,', '{"v":2,'));
  assert.equal(r.code, 2);
  assert.match(r.err, /version 2.*update sealpost/);

  r = run(['open', '--password-file', PW, '-'], env.replace('"to":["patient@example.org"]', '"to":["mallory@example.org"]'));
  assert.equal(r.code, 3);
  assert.match(r.err, /modified|damaged/);
});

test('--key-file takes 32 raw bytes or their base64; anything else is refused', () => {
  const v = JSON.parse(readFileSync(join(here, '..', 'vectors', 'short.json'), 'utf8'));
  const key = Buffer.from(v.key, 'hex');
  const env = join(here, '..', 'vectors', 'short.html');
  const want = Buffer.from(v.plaintext, 'hex');
  for (const content of [key, key.toString('base64') + '\n']) {
    const r = run(['open', '--key-file', file('k.key', content), env]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out, want);
  }
  const r = run(['open', '--key-file', file('k.key', key.subarray(0, 31)), env]);
  assert.equal(r.code, 2);
  assert.match(r.err, /32-byte key/);
  const wrong = Buffer.from(key);
  wrong[0] ^= 1;
  assert.equal(run(['open', '--key-file', file('k.key', wrong), env]).code, 3);
});

test('not an envelope: exit 2 with a clear message', () => {
  let r = run(['open', '--password-file', PW, '-'], '<html><body>hello</body></html>');
  assert.equal(r.code, 2);
  assert.match(r.err, /not a sealpost envelope/);
  r = run(['open', '--password-file', PW, '-'], MSG);
  assert.equal(r.code, 2);
  assert.match(r.err, /carries no sealpost envelope/);
  r = run(['open', '--password-file', PW, join(dir, 'missing.html')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /cannot open/);
});

test('expired envelope is refused with its date', () => {
  const when = new Date(Date.now() + 2000).toISOString().replace(/\.\d+Z$/, 'Z');
  const env = run(['seal', '--password-file', PW, ...FAST, '--expires', when], MSG).out;
  spawnSync('sleep', ['2.5']);
  const r = run(['open', '--password-file', PW, '-'], env);
  assert.equal(r.code, 3);
  assert.match(r.err, /expired on \d{4}-\d\d-\d\dT/);
});

test('usage errors exit 1: no password file, bad options, short password', () => {
  assert.equal(run(['seal'], MSG).code, 1);
  assert.equal(run(['seal', '--password-file', PW, '--security', 'extreme'], MSG).code, 1);
  assert.equal(run(['seal', '--password-file', PW, '--expires', 'soon'], MSG).code, 1);
  assert.equal(run(['seal', '--password-file', PW, '--kdf-memory', '4'], MSG).code, 1);
  const r = run(['seal', '--password-file', file('short.txt', 'abc\n')], MSG);
  assert.equal(r.code, 1);
  assert.match(r.err, /at least 8 characters/);
  assert.equal(run(['open', PW]).code, 1);
  assert.equal(run(['frobnicate']).code, 1);
});

test('size limit: a message over --max-size is refused with exit 2 and no output file', () => {
  const out = file('big.html');
  const r = run(['seal', '--password-file', PW, ...FAST, '--max-size', '100', '-o', out, file('m.eml', MSG)]);
  assert.equal(r.code, 2);
  assert.match(r.err, /over the size limit of 100 bytes.*--max-size/);
  assert.ok(!existsSync(out));
  const p = run(['seal', '--password-file', PW, ...FAST, '--max-size', '100'], MSG);
  assert.equal(p.code, 2);
});

test('corpus samples round-trip through the CLI in both forms', () => {
  const samples = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (!/SOURCE\.txt|README/.test(e.name)) samples.push(join(d, e.name));
    }
  };
  walk(corpus);
  assert.ok(samples.length >= 200, `corpus at ${corpus}`);
  samples.sort();
  // Every 20th message, in both forms: the full corpus runs in the unit tests.
  for (const f of samples.filter((_, i) => i % 20 === 0)) {
    for (const form of [[], ['--mail']]) {
      const s = run(['seal', '--password-file', PW, ...FAST, ...form, f]);
      assert.equal(s.code, 0, `${f}: ${s.err}`);
      const o = run(['open', '--password-file', PW, '-'], s.out);
      assert.equal(o.code, 0, `${f}: ${o.err}`);
      assert.ok(o.out.equals(readFileSync(f)), `${f} ${form} differs`);
    }
  }
});
