// opener.test.mjs - the browser opener inside real envelopes, in Chromium.
//
// Every envelope here is sealed by the sealpost CLI and opened from file://
// (a few from routed http(s) origins) in Debian's chromium driven by
// playwright-core. No request may leave the page: the helpers record every
// request and abort anything that is not file:, data: or blob:.
//
// Run: SEALPOST=build/src/cli/sealpost node --test tests/e2e/
// Screenshots land in build/e2e/.

import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  SEALPOST, VECTORS, browserSuite, buildOpener, edit, horizontalOverflow, newPage, openFile, rewrap, seal,
  sha256, shot, splitEnvelope, unlock, vectorInCurrentPage,
} from './helpers.mjs';
import * as mail from './mail.mjs';

// One browser and one scratch directory for the file; missing prerequisites
// fail the suite (helpers.mjs).
const suite = browserSuite();

const MOBILE = { width: 375, height: 740 };
const PASSWORD = 'correct horse battery staple';

/** A new page; asserts at the end (via done()) that nothing went remote and
 * no script error happened. */
async function page(opts) {
  const rec = await newPage(suite.browser, opts);
  rec.done = async () => {
    assert.deepEqual(rec.attempted, [], 'the page tried to load something remote');
    assert.deepEqual(rec.remote, [], 'requests left the page');
    assert.deepEqual(rec.errors, [], 'page errors');
    await rec.context.close();
  };
  return rec;
}

async function download(page, click) {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), bytes: readFileSync(path) };
}

const text = (page, sel) => page.locator(sel).innerText();

test('plain text: the outside, keyboard-only opening, safe links', async () => {
  const env = seal(suite.tmp.dir, mail.plainText(), { hint: 'The usual, with spaces' });
  const { page: p, done } = await page();
  await openFile(p, env);

  // The outside: sender, date, subject, hint, labelled field, Open button.
  const card = await text(p, '.sp-outside');
  assert.match(card, /Alice Example <alice@example\.org>/);
  assert.match(card, /Your test results/);
  assert.match(card, /Sent\s+\d{1,2} \w+ 20\d\d/);
  assert.match(card, /Hint:\s*The usual, with spaces/);
  assert.equal(await p.getByRole('button', { name: 'Open', exact: true }).count(), 1);
  assert.equal(await p.getByLabel('Password', { exact: true }).getAttribute('type'), 'password');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'sp-password', 'the password field has focus');
  await shot(p, 'outside-desktop');

  // Keyboard alone: type, Enter.
  await p.keyboard.type(PASSWORD);
  await p.keyboard.press('Enter');
  await p.waitForSelector('.sp-message');
  assert.equal(await text(p, 'h1.sp-subject'), 'Your test results');
  const headers = await text(p, '.sp-headers');
  assert.match(headers, /From\s+Alice Example <alice@example\.org>/);
  assert.match(headers, /To\s+Bob Recipient <bob@example\.com>/);
  assert.match(headers, /Cc\s+Carol <carol@example\.net>/);
  assert.match(headers, /Date\s+16 November 2026/);
  assert.match(await text(p, '.sp-text'), /Kind regards,\nAlice/);

  const links = await p.$$eval('.sp-text a', (as) => as.map((a) => [a.getAttribute('href'), a.target, a.rel, a.textContent]));
  assert.deepEqual(links, [
    ['https://portal.example.org/results?id=42', '_blank', 'noopener noreferrer', 'https://portal.example.org/results?id=42'],
    ['mailto:care@example.org', '_blank', 'noopener noreferrer', 'mailto:care@example.org'],
  ]);
  // The heading of the message has focus; the next Tab reaches a control
  // with a visible focus ring.
  assert.equal(await p.evaluate(() => document.activeElement.className), 'sp-subject');
  await p.keyboard.press('Tab');
  const ring = await p.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(ring, 'none', 'focus is visible');
  await shot(p, 'message-text-desktop');

  const original = await download(p, () => p.getByRole('button', { name: 'Download original (.eml)' }).click());
  assert.equal(sha256(original.bytes), sha256(mail.plainText()), 'the .eml is the decrypted bytes exactly');
  assert.equal(original.name, 'Your test results.eml');
  assert.equal(await p.getByRole('button', { name: 'Print' }).count(), 1);
  await done();
});

test('non-ASCII subject and body', async () => {
  const env = seal(suite.tmp.dir, mail.nonAscii());
  const { page: p, done } = await page();
  await openFile(p, env);
  assert.ok((await text(p, '.sp-outside')).includes(mail.NON_ASCII_SUBJECT));
  await unlock(p);
  assert.equal(await text(p, 'h1.sp-subject'), mail.NON_ASCII_SUBJECT);
  const body = await text(p, '.sp-text');
  assert.ok(body.includes(mail.NON_ASCII_BODY), body);
  assert.equal(await p.$eval('.sp-text a', (a) => a.href), 'https://example.org/%C3%A4?x=1');
  assert.equal(await p.title(), `${mail.NON_ASCII_SUBJECT} – Secure message`);
  await done();
});

test('non-ASCII password', async () => {
  const pw = 'Grüße, Ωmega – sesame 123';
  const env = seal(suite.tmp.dir, mail.plainText(), { password: pw });
  const { page: p, done } = await page();
  await openFile(p, env);
  await unlock(p, pw);
  assert.equal(await text(p, 'h1.sp-subject'), 'Your test results');
  await done();
});

test('HTML with inline cid images, styles, desktop and 375 px, light and dark', async () => {
  const env = seal(suite.tmp.dir, mail.htmlWithCid());
  for (const [name, viewport, colorScheme] of [
    ['desktop', undefined, 'light'],
    ['mobile', MOBILE, 'light'],
    ['mobile-dark', MOBILE, 'dark'],
  ]) {
    const { page: p, done } = await page({ viewport, colorScheme });
    await openFile(p, env);
    if (name !== 'desktop') {
      assert.equal(await horizontalOverflow(p), 0, `no horizontal scrolling (${name}, outside)`);
      await shot(p, `outside-${name}`);
    }
    await unlock(p);
    const frame = p.frameLocator('iframe.sp-frame');
    await frame.locator('img[alt="Example Clinic logo"]').waitFor();
    const f = p.frames().find((x) => x !== p.mainFrame());
    await f.waitForFunction(() => [...document.images].every((i) => i.complete));
    const img = await f.$eval('img[alt="Example Clinic logo"]', (i) => [i.src.slice(0, 5), i.naturalWidth]);
    assert.deepEqual(img, ['blob:', 120], 'the cid: image shows from a blob: URL');
    const css = await f.evaluate(() => ({
      h2: getComputedStyle(document.querySelector('h2')).color,
      box: getComputedStyle(document.querySelector('.box')).fontSize,
      badge: getComputedStyle(document.getElementById('badge')).backgroundImage,
      cell: getComputedStyle(document.querySelector('td')).backgroundColor,
    }));
    assert.equal(css.h2, 'rgb(31, 78, 121)', 'the message style sheet applies');
    assert.equal(css.box, '15px', 'style attributes apply');
    assert.match(css.badge, /^url\("blob:/, 'cid: in CSS becomes a blob: URL');
    assert.equal(css.cell, 'rgb(255, 238, 238)');
    const a = await f.$eval('a', (x) => [x.href, x.target, x.rel]);
    assert.deepEqual(a, ['https://clinic.example.org/appointments', '_blank', 'noopener noreferrer']);
    assert.equal(await p.locator('.sp-notice').count(), 0, 'nothing remote, no notice');
    // The inline images are part of the body, not listed as attachments.
    assert.equal(await p.locator('.sp-attachments').count(), 0);
    // The frame is as tall as its content (no inner vertical scrolling).
    const fit = await f.evaluate(() => document.documentElement.scrollHeight <= innerHeight + 1);
    assert.ok(fit, 'the frame fits its content');
    assert.equal(await horizontalOverflow(p), 0, `no horizontal scrolling (${name})`);
    await shot(p, `message-html-${name}`);
    if (name === 'desktop') {
      await p.emulateMedia({ media: 'print' });
      assert.equal(await p.locator('.sp-toolbar').isVisible(), false, 'print shows the message, not the controls');
      await shot(p, 'message-html-print');
      await p.emulateMedia({ media: 'screen' });
    }
    await done();
  }
});

test('attachments download byte for byte; attached message and calendar', async () => {
  const { msg, pdf, notes, minutes, inner } = mail.withAttachments();
  const env = seal(suite.tmp.dir, msg);
  const { page: p, done } = await page();
  await openFile(p, env);
  await unlock(p);
  const items = await p.$$eval('.sp-att', (li) => li.map((x) => x.querySelector('.sp-att-name').textContent + ' | ' + x.querySelector('.sp-att-meta').textContent));
  assert.deepEqual(items, [
    'report.pdf | application/pdf · 154 KB',
    'Résumé Ω.txt | text/plain · 28 bytes',
    `minutes.txt | text/plain · ${minutes.length} bytes`,
    'invite.ics | Calendar invitation · 221 bytes',
    `forwarded.eml | Email message · ${inner.length} bytes`,
  ]);
  await shot(p, 'message-attachments-desktop');
  await p.setViewportSize(MOBILE);
  assert.equal(await horizontalOverflow(p), 0);
  await shot(p, 'message-attachments-mobile');
  await p.setViewportSize({ width: 1280, height: 800 });

  const got = await download(p, () => p.getByRole('button', { name: 'Download report.pdf' }).click());
  assert.equal(got.name, 'report.pdf');
  assert.equal(sha256(got.bytes), sha256(pdf));
  const n = await download(p, () => p.getByRole('button', { name: 'Download Résumé Ω.txt' }).click());
  assert.equal(n.name, 'Résumé Ω.txt');
  assert.equal(sha256(n.bytes), sha256(notes));
  const ics = await download(p, () => p.getByRole('button', { name: 'Download invite.ics' }).click());
  assert.equal(ics.name, 'invite.ics');
  assert.match(ics.bytes.toString('utf8'), /^BEGIN:VCALENDAR\r?\n[\s\S]*SUMMARY:Check-up/);
  const qp = await download(p, () => p.getByRole('button', { name: 'Download minutes.txt' }).click());
  assert.equal(qp.name, 'minutes.txt');
  assert.equal(sha256(qp.bytes), sha256(minutes), 'quoted-printable decodes to CRLF lines, exactly');
  const fwd = await download(p, () => p.getByRole('button', { name: 'Download forwarded.eml' }).click());
  assert.equal(sha256(fwd.bytes), sha256(inner));

  // The attached message opens in the same viewer, sanitised the same way.
  await p.getByRole('button', { name: 'View message forwarded.eml' }).click();
  await p.waitForSelector('.sp-verified-nested');
  assert.equal(await text(p, 'h1.sp-subject'), 'Lab report (forwarded)');
  assert.match(await text(p, '.sp-headers'), /From\s+Dr\. Dave <dave@example\.org>/);
  const f = p.frames().find((x) => x !== p.mainFrame());
  await f.waitForSelector('b');
  assert.equal(await f.$eval('body', (b) => b.textContent.trim()), 'The inner message body.');
  const innerTxt = await download(p, () => p.getByRole('button', { name: 'Download inner.txt' }).click());
  assert.equal(innerTxt.bytes.toString(), 'inner attachment bytes');
  await shot(p, 'message-nested-desktop');
  await p.getByRole('button', { name: 'Back' }).click();
  assert.equal(await text(p, 'h1.sp-subject'), 'Documents for you');
  assert.equal(await p.evaluate(() => document.activeElement.textContent), 'View message', 'focus returns to the button');
  assert.equal(await p.evaluate(() => window.__pwned), undefined);
  await done();
});

test('a 20 MB message: progress bar, then the attachment intact', async () => {
  const { msg, data } = mail.large(20 * 1000 * 1000);
  assert.ok(msg.length > 19.9e6 && msg.length < 20.1e6, `message is ${msg.length} bytes`);
  const env = seal(suite.tmp.dir, msg);
  const { page: p, done } = await page();
  await openFile(p, env);
  // Record every progress value the page shows (observer from the test side).
  await p.evaluate(() => {
    window.__progress = [];
    new MutationObserver((ms) => {
      for (const m of ms) {
        const bar = m.type === 'attributes' ? m.target : m.target.querySelector && m.target.querySelector('[role=progressbar]');
        if (bar && bar.getAttribute('role') === 'progressbar') window.__progress.push(Number(bar.getAttribute('aria-valuenow')));
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
  });
  const t0 = Date.now();
  await unlock(p);
  const ms = Date.now() - t0;
  const seen = await p.evaluate(() => window.__progress);
  assert.ok(seen.some((v) => v > 0 && v < 100), `intermediate progress seen: ${seen.join(',')}`);
  assert.equal(seen.at(-1), 100);
  assert.equal(await text(p, 'h1.sp-subject'), 'Scans (large)');
  const got = await download(p, () => p.getByRole('button', { name: 'Download scans.bin' }).click());
  assert.equal(got.bytes.length, data.length);
  assert.equal(sha256(got.bytes), sha256(data));
  console.log(`# 20 MB message opened in ${ms} ms`);
  await done();
});

test('wrong password, then the right one', async () => {
  const env = seal(suite.tmp.dir, mail.plainText());
  const { page: p, done } = await page();
  await openFile(p, env);
  await unlock(p, 'not the password');
  assert.match(await text(p, '.sp-error'), /Wrong password/);
  const input = p.getByLabel('Password', { exact: true });
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'sp-password', 'focus back in the field');
  await shot(p, 'error-wrong-password');
  await p.setViewportSize(MOBILE);
  assert.equal(await horizontalOverflow(p), 0);
  await shot(p, 'error-wrong-password-mobile');
  await p.setViewportSize({ width: 1280, height: 800 });
  await unlock(p, PASSWORD);
  assert.equal(await text(p, 'h1.sp-subject'), 'Your test results');
  await done();
});

/** The payload text of an envelope, as bytes; and a writer for new ones. */
const payloadRe = /(id="sealpost-payload">\n)([^<]*)(<\/script>)/;
const payloadOf = (html) => Buffer.from(payloadRe.exec(html)[2].replace(/\s+/g, ''), 'base64');
const withPayload = (html, bytes) =>
  html.replace(payloadRe, (m, a, b, c) => a + bytes.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n') + c);

test('tampered payload', async () => {
  const env = seal(suite.tmp.dir, mail.plainText());
  const bad = edit(env, (html) => {
    const bytes = payloadOf(html);
    bytes[10] ^= 0x01;
    return withPayload(html, bytes);
  }, join(suite.tmp.dir, 'tampered.html'));
  const { page: p, done } = await page();
  await openFile(p, bad);
  await unlock(p);
  assert.match(await text(p, '.sp-error'), /This message has been altered/);
  assert.equal(await p.getByLabel('Password', { exact: true }).count(), 0, 'retrying cannot help: no form');
  await shot(p, 'error-tampered');
  await done();
});

test('truncated payload (last segment cut off)', async () => {
  const big = Buffer.concat([mail.plainText(), Buffer.alloc(1200 * 1024, 'x')]);
  const env = seal(suite.tmp.dir, big);
  const cut = edit(env, (html) => withPayload(html, payloadOf(html).subarray(0, 1048576 + 16)), join(suite.tmp.dir, 'cut.html'));
  const { page: p, done } = await page();
  await openFile(p, cut);
  await unlock(p);
  assert.match(await text(p, '.sp-error'), /This message is incomplete/);
  await shot(p, 'error-truncated');
  await done();
});

test('unsupported version', async () => {
  const env = seal(suite.tmp.dir, mail.plainText());
  const v2 = edit(env, (html) => html.replace('{"v":1,', '{"v":2,'), join(suite.tmp.dir, 'v2.html'));
  const { page: p, done } = await page();
  await openFile(p, v2);
  assert.match(await text(p, '.sp-error'), /format this page cannot open/);
  assert.equal(await p.getByLabel('Password', { exact: true }).count(), 0);
  for (const [from, to] of [['"AES-256-GCM"', '"AES-256-SIV"'], ['"kdf":"argon2id"', '"kdf":"scrypt"']]) {
    const other = edit(env, (html) => html.replace(from, to), join(suite.tmp.dir, 'other.html'));
    await openFile(p, other);
    assert.match(await text(p, '.sp-error'), /format this page cannot open/, to);
  }
  await shot(p, 'error-version');
  await done();
});

test('expired envelope is refused with its date', async () => {
  const env = seal(suite.tmp.dir, mail.plainText(), { args: ['--expires', '2h'] });
  const { page: p, done } = await page();
  await p.clock.install({ time: new Date(Date.now() + 3 * 3600 * 1000) });
  await openFile(p, env);
  const err = await text(p, '.sp-error');
  assert.match(err, /This message has expired/);
  assert.match(err, /could be opened until \d{1,2} \w+ 20\d\d/);
  assert.equal(await p.getByLabel('Password', { exact: true }).count(), 0);
  await shot(p, 'error-expired');
  await done();
});

test('http: without WebCrypto says so; https: opens', async () => {
  const env = readFileSync(seal(suite.tmp.dir, mail.plainText()));
  const served = [];
  const rec = await newPage(suite.browser, {
    route: (route) => {
      served.push(route.request().url());
      const u = new URL(route.request().url());
      if (u.hostname === 'envelope.test' && u.pathname === '/securemessage.html')
        return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: env });
      return route.abort('blockedbyclient');
    },
  });
  const p = rec.page;
  await p.goto('http://envelope.test/securemessage.html');
  await p.waitForSelector('.sp-error');
  assert.match(await text(p, '.sp-error'), /Your browser cannot open this message here/);
  await shot(p, 'error-insecure-context');
  await p.goto('https://envelope.test/securemessage.html');
  await unlock(p);
  assert.equal(await text(p, 'h1.sp-subject'), 'Your test results');
  assert.deepEqual(served, ['http://envelope.test/securemessage.html', 'https://envelope.test/securemessage.html']);
  assert.deepEqual(rec.errors, []);
  await rec.context.close();
});

test('branding, logo and security phrase from the display block, shown as text', async () => {
  const env = seal(suite.tmp.dir, mail.plainText());
  const logo = `data:image/png;base64,${mail.LOGO.toString('base64')}`;
  const display = JSON.stringify({
    brand: { name: 'Example Clinic', color: '#0b6e4f', logo },
    sender: 'Alice <b>Example</b>',
    subject: 'Your test results',
    phrase: 'green heron',
  }).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
  const branded = edit(env, (html) => html.replace(/(id="sealpost-display">)[^<]*/, `$1${display}`), join(suite.tmp.dir, 'brand.html'));
  const { page: p, done } = await page();
  await openFile(p, branded);
  assert.equal(await text(p, '.sp-brand-name'), 'Example Clinic');
  assert.equal(await p.$eval('.sp-logo', (i) => [i.src === i.getAttribute('src'), i.naturalWidth].join()), 'true,120');
  assert.equal(await p.$eval('.sp-band', (b) => getComputedStyle(b).backgroundColor), 'rgb(11, 110, 79)');
  assert.match(await text(p, '.sp-phrase'), /green heron/);
  assert.match(await text(p, '.sp-outside'), /Alice <b>Example<\/b> <alice@example\.org>/, 'markup shown as text');
  assert.equal(await p.locator('.sp-outside b').count(), 0);
  await shot(p, 'outside-branded-desktop');
  await p.setViewportSize(MOBILE);
  assert.equal(await horizontalOverflow(p), 0);
  await shot(p, 'outside-branded-mobile');

  // Logos that are not image data: not shown.
  for (const bad of ['https://evil.test/logo.png', 'javascript:alert(1)', 'data:text/html;base64,PGgxPng8L2gxPg==']) {
    const d = JSON.stringify({ brand: { name: 'X', color: 'red;background:url(https://evil.test/c)', logo: bad } });
    const f = edit(env, (html) => html.replace(/(id="sealpost-display">)[^<]*/, `$1${d}`), join(suite.tmp.dir, 'badlogo.html'));
    await openFile(p, f);
    assert.equal(await p.locator('.sp-logo').count(), 0, bad);
  }
  // An SVG logo is drawn as an image: even one edited to carry a script and
  // an external image runs nothing and fetches nothing (page() checks both).
  let dialogs = 0;
  p.on('dialog', (dlg) => {
    dialogs++;
    dlg.dismiss();
  });
  const evil = Buffer.from("<svg xmlns='http://www.w3.org/2000/svg' width='8' height='8' onload='alert(1)'>" +
    "<script>alert(2)</script><image href='https://evil.test/t.png' width='8' height='8'/>" +
    "<rect width='8' height='8' fill='red'/></svg>").toString('base64');
  const d = JSON.stringify({ brand: { name: 'X', logo: `data:image/svg+xml;base64,${evil}` } });
  const f = edit(env, (html) => html.replace(/(id="sealpost-display">)[^<]*/, `$1${d}`), join(suite.tmp.dir, 'svglogo.html'));
  await openFile(p, f);
  assert.equal(await p.locator('.sp-logo').count(), 1);
  await p.waitForTimeout(300);
  assert.equal(dialogs, 0, 'no script ran from the SVG logo');
  await done();
});

test('the CLI writes the opener built from web/ now', () => {
  // Fails when web/ changed and the C build (which embeds it) was not rerun:
  // every other test here would be testing the old opener.
  const env = splitEnvelope(readFileSync(seal(suite.tmp.dir, mail.plainText()), 'utf8'));
  const same = (b) => env.head === b.head.replace('@CONNECT_SRC@', "'none'") && env.foot === b.foot;
  assert.ok(same(buildOpener('--compact', '--variant', 'password')), 'the envelope page differs from web/: run make build');
  assert.match(env.head, /connect-src 'none';/, 'a password envelope may connect nowhere');
});

test('compact build: same opener, inflated from a compressed loader; each opener an envelope carries under 100 KB', async () => {
  // What envelopes carry: one variant per kind (src/lib/opener.c). The
  // "all" build (every variant's code) is not put in envelopes.
  for (const v of ['password', 'keyserver', 'keyserver-reply']) {
    const b = buildOpener('--compact', '--variant', v);
    const n = b.head.length + b.foot.length;
    console.log(`# compact ${v} head+foot: ${n} bytes`);
    assert.ok(n < 100 * 1024, `compact ${v} head+foot is ${n} bytes`);
  }
  const compact = buildOpener('--compact');
  console.log(`# compact all: ${compact.head.length + compact.foot.length} bytes; plain: ${Object.values(buildOpener()).join('').length} bytes`);
  assert.match(compact.head, /script-src 'sha256-[^']+' 'strict-dynamic' 'wasm-unsafe-eval';/);
  const { msg, pdf } = mail.withAttachments();
  const env = edit(seal(suite.tmp.dir, msg), (html) => rewrap(html, compact), join(suite.tmp.dir, 'compact.html'));
  const { page: p, done } = await page();
  await openFile(p, env);
  await unlock(p);
  assert.equal(await text(p, 'h1.sp-subject'), 'Documents for you');
  const got = await download(p, () => p.getByRole('button', { name: 'Download report.pdf' }).click());
  assert.equal(sha256(got.bytes), sha256(pdf));
  await done();

  // A browser without DecompressionStream gets the page's own advice at once.
  const old = await page();
  await old.page.addInitScript(() => {
    delete window.DecompressionStream;
  });
  await old.page.goto(pathToFileURL(env).href);
  await old.page.waitForSelector('html.sp-noload');
  assert.match(await old.page.locator('.sp-fallback-late').innerText(), /open it in a current web browser/);
  assert.equal(await old.page.locator('.sp-fallback-late').evaluate((e) => getComputedStyle(e).opacity), '1');
  await old.done();
});

test('committed vectors: password.html opens, key-server envelopes show their outside', async () => {
  const v = JSON.parse(readFileSync(join(VECTORS, 'password.json'), 'utf8'));
  const page0 = readFileSync(seal(suite.tmp.dir, mail.plainText()), 'utf8');
  // Key-server envelopes get the key-server opener, as libsealpost writes them.
  const ksPage = rewrap(page0, buildOpener('--compact', '--variant', 'keyserver'));
  const vector = (name, page = page0) => {
    const f = join(suite.tmp.dir, `vector-${name}.html`);
    writeFileSync(f, vectorInCurrentPage(readFileSync(join(VECTORS, `${name}.html`), 'utf8'), page));
    return f;
  };
  const { page: p, done } = await page();
  await openFile(p, vector('password'));
  const outside = await text(p, '.sp-outside');
  assert.match(outside, /Alice Example <alice@example\.org>/);
  assert.match(outside, /15 January 2026/);
  assert.match(outside, /green heron/);
  assert.match(outside, /Hint:\s*Your date of birth <DD\.MM\.YYYY> & initials/);
  await unlock(p, v.password.text);
  assert.equal(await text(p, 'h1.sp-subject'), 'Test');
  assert.match(await text(p, '.sp-text'), /Hello, Bob!/);
  const eml = await download(p, () => p.getByRole('button', { name: 'Download original (.eml)' }).click());
  assert.equal(eml.bytes.toString('hex'), v.plaintext);

  for (const name of ['short', 'non-ascii', 'non-ascii-utf8', 'long-lines', 'multi-segment', 'empty']) {
    await openFile(p, vector(name, ksPage));
    assert.match(await text(p, '.sp-info'), /key server keys\.example\.org/, name);
    // Escaped (non-ascii) or raw UTF-8 (non-ascii-utf8), the same outside;
    // a logo string broken over lines (long-lines) is drawn.
    if (name.startsWith('non-ascii')) assert.match(await text(p, 'body'), /Bäckerei Müller & Söhne/, name);
    if (name === 'long-lines') assert.equal(await p.locator('.sp-logo').count(), 1);
    assert.equal(await p.getByLabel('Password', { exact: true }).count(), 0, name);
  }
  await shot(p, 'outside-keyserver');
  await done();
});

test('a carrier a relay re-encoded: the attachment saved from it opens', async () => {
  // The carrier attaches the envelope as 7bit. A relay may re-encode the part
  // as base64 (with the canonical CRLF line ends of text); a mail program
  // then saves the decoded file with CRLF. The authenticated header and the
  // opener's hashed script must survive that.
  const { msg, pdf } = mail.withAttachments();
  const carrier = readFileSync(seal(suite.tmp.dir, msg, { args: ['--mail'] }), 'latin1');
  const at = carrier.search(/Content-Disposition: attachment; filename=securemessage\.html/);
  const b = /boundary="([^"]+)"/.exec(carrier)[1];
  const partStart = carrier.lastIndexOf(`--${b}\n`, at);
  const bodyStart = carrier.indexOf('\n\n', at) + 2;
  const partEnd = carrier.indexOf(`\n--${b}--`, bodyStart);
  const head = carrier.slice(partStart, bodyStart);
  assert.match(head, /Content-Transfer-Encoding: 7bit/, 'the envelope travels as 7bit');
  const envelope = carrier.slice(bodyStart, partEnd);
  assert.ok(envelope.split('\n').every((l) => l.length <= 998) && !/[^\x00-\x7f]/.test(envelope));
  const crlf = envelope.replace(/\n/g, '\r\n');
  const b64 = Buffer.from(crlf, 'latin1').toString('base64').replace(/.{76}/g, '$&\n');
  const relayed = carrier.slice(0, partStart) + head.replace('7bit', 'base64') + b64 + carrier.slice(partEnd);
  const relayedFile = join(suite.tmp.dir, 'relayed.eml');
  writeFileSync(relayedFile, relayed, 'latin1');
  // What the mail program saves: the decoded part, CRLF line ends.
  const saved = join(suite.tmp.dir, 'saved-securemessage.html');
  writeFileSync(saved, Buffer.from(b64.replace(/\n/g, ''), 'base64'));
  assert.ok(readFileSync(saved, 'latin1').includes('\r\n<script type="application/json" id="sealpost-display">'));
  const { page: p, done } = await page();
  await openFile(p, saved);
  await unlock(p);
  assert.equal(await text(p, 'h1.sp-subject'), 'Documents for you');
  const got = await download(p, () => p.getByRole('button', { name: 'Download report.pdf' }).click());
  assert.equal(sha256(got.bytes), sha256(pdf));
  await done();
  // And the CLI opens the relayed carrier itself, byte for byte.
  const pw = join(suite.tmp.dir, 'relay.pw');
  writeFileSync(pw, 'correct horse battery staple\n');
  const r = spawnSync(SEALPOST, ['open', '--password-file', pw, relayedFile], { maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(sha256(r.stdout), sha256(Buffer.from(msg)));
});

test('two header blocks are refused', async () => {
  const env = seal(suite.tmp.dir, mail.plainText());
  const two = edit(env, (html) => {
    const m = /<script type="application\/json" id="sealpost-header">[^<]*<\/script>\n/.exec(html);
    return html.replace(m[0], m[0] + m[0]);
  }, join(suite.tmp.dir, 'two.html'));
  const { page: p, done } = await page();
  await openFile(p, two);
  assert.match(await text(p, '.sp-error'), /This file is damaged/);
  await done();
});

test('the file URL is the only thing loaded', async () => {
  const env = seal(suite.tmp.dir, mail.htmlWithCid());
  const rec = await newPage(suite.browser);
  await openFile(rec.page, env);
  await unlock(rec.page);
  const urls = rec.requests.filter((u) => !u.startsWith('blob:') && !u.startsWith('data:'));
  assert.deepEqual(urls, [pathToFileURL(env).href]);
  await rec.context.close();
});
