// cli-scan.test.mjs - `sealpost scan` as an operator runs it: what the
// policy engine decides for messages it cannot read whole (rule
// "unscannable") and for sensitive values in headers.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SEALPOST = process.env.SEALPOST;
const dir = mkdtempSync(join(tmpdir(), 'sealpost-scan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const crlf = (s) => s.replace(/\r?\n/g, '\r\n');
const HDR = 'From: Dr Who <dr@clinic.example>\nTo: pat@example.com\nSubject: Results\n';
const SSN = 'Your Social Security number 536-22-8714 is on file.';

function scan(name, text) {
  if (!SEALPOST) throw new Error('set SEALPOST to the built sealpost binary');
  const f = join(dir, name);
  writeFileSync(f, crlf(text));
  const r = spawnSync(SEALPOST, ['scan', '--json', f], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const t = spawnSync(SEALPOST, ['scan', f], { encoding: 'utf8' });
  return { ...JSON.parse(r.stdout), text: t.stdout };
}

test('HTML nested deeper than the extractor reads: encrypt, rule unscannable', () => {
  const html = `<html><body>${'<div>'.repeat(300)}${SSN}${'</div>'.repeat(300)}</body></html>`;
  const r = scan('deep.eml', `${HDR}MIME-Version: 1.0\nContent-Type: text/html\n\n${html}\n`);
  assert.equal(r.verdict, 'encrypt');
  assert.equal(r.rule, 'unscannable');
  assert.match(r.unscannable, /^body: HTML nested deeper than 256 elements/);
  assert.match(r.text, /^.*deep\.eml: encrypt \(profile standard\), rule unscannable/);
  assert.match(r.text, /unscannable: body: HTML nested deeper/);
});

test('multipart without a boundary, or an unknown transfer encoding: rule unscannable', () => {
  const nb = scan('nobound.eml', `${HDR}MIME-Version: 1.0\nContent-Type: multipart/mixed\n\n${SSN}\n`);
  assert.equal(nb.verdict, 'encrypt');
  assert.equal(nb.rule, 'unscannable');
  assert.equal(nb.unscannable, 'multipart/mixed without a boundary');
  const cte = scan('cte.eml', `${HDR}MIME-Version: 1.0\nContent-Type: text/plain\n` +
    'Content-Transfer-Encoding: x-rot13\n\nLbhe FFA vf 536-22-8714\n');
  assert.equal(cte.rule, 'unscannable');
  assert.match(cte.unscannable, /unknown transfer encoding "x-rot13"/);
});

test('unusual but readable mail is not unscannable (unknown charset, deep but readable HTML)', () => {
  const cs = scan('charset.eml', `${HDR}MIME-Version: 1.0\nContent-Type: text/plain; charset=x-unheard-of\n\nLunch on Friday?\n`);
  assert.equal(cs.verdict, 'deliver');
  assert.equal(cs.unscannable, null);
  const html = `${'<div>'.repeat(100)}Lunch on Friday?${'</div>'.repeat(100)}`;
  const ok = scan('html.eml', `${HDR}MIME-Version: 1.0\nContent-Type: text/html\n\n${html}\n`);
  assert.equal(ok.verdict, 'deliver');
  assert.equal(ok.unscannable, null);
});

test('an SSN in X-Patient, in an encoded display name or an attached message header: encrypt', () => {
  const x = scan('xpatient.eml', `${HDR}X-Patient: Jane Roe, SSN 536-22-8714\n\nSee the record.\n`);
  assert.equal(x.verdict, 'encrypt');
  assert.equal(x.rule, 'identity');
  assert.deepEqual(x.hits.map((h) => [h.detector, h.where]), [['ssn', 'header X-Patient']]);
  const to = scan('display.eml', 'From: dr@clinic.example\nTo: =?utf-8?q?Jane_Roe_SSN_536-22-8714?= <jane@example.com>\n' +
    'Subject: Hello\n\nSee you.\n');
  assert.equal(to.verdict, 'encrypt');
  assert.deepEqual(to.hits.map((h) => [h.detector, h.where]), [['ssn', 'header To']]);
  const fwd = scan('fwd.eml', `${HDR}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n` +
    '--b\nContent-Type: text/plain\n\nForwarded.\n--b\nContent-Type: message/rfc822\n\n' +
    'From: x@example.org\nX-Case: 536-22-8714 (Social Security)\nSubject: x\n\nhi\n--b--\n');
  assert.equal(fwd.verdict, 'encrypt');
  assert.equal(fwd.hits[0].where, 'attached message header X-Case');
});

test('trace and authentication headers are not scanned', () => {
  const r = scan('trace.eml', 'Received: from h (536-22-8714.example.net [192.0.2.1]) by mx\n' +
    'DKIM-Signature: v=1; b=536-22-8714\nMessage-ID: <536-22-8714@clinic.example>\n' +
    `${HDR}\nLunch on Friday?\n`);
  assert.equal(r.verdict, 'deliver');
  assert.deepEqual(r.hits, []);
});
