// hostile.test.mjs - a decrypted message is hostile input too (the sender
// holds the key). Seal HTML that tries every way we know to run script,
// navigate, submit, or load something remote, open it in Chromium and
// assert: nothing ran (the payloads set window.top.__pwned), the frame holds
// none of the dangerous markup, and no request left the page until the
// reader asked for remote images - and even then only https: images and
// style sheets.
//
// Run: SEALPOST=build/src/cli/sealpost node --test tests/e2e/

import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  browserSuite, buildOpener, edit, newPage, openFile, rewrap, seal, shot, unlock,
} from './helpers.mjs';
import { b64lines, png } from './mail.mjs';

// One browser and one scratch directory for the file; missing prerequisites
// fail the suite (helpers.mjs).
const suite = browserSuite();

const PWN = (how) => `top.__pwned=(top.__pwned||[]).concat('${how}')`;
const E = 'https://evil.test';

const HOSTILE = `<!DOCTYPE html>
<html><head>
<meta http-equiv="refresh" content="0;url=${E}/refresh">
<meta http-equiv="Content-Security-Policy" content="script-src * 'unsafe-inline'">
<base href="${E}/base/">
<link rel="stylesheet" href="${E}/sheet.css">
<link rel="prefetch" href="${E}/prefetch">
<link rel="icon" href="${E}/favicon.ico">
<style>
@import url("${E}/import.css");
body { background-image: url("${E}/css-bg.png"); }
.esc { background: \\75 rl(${E}/css-escaped.png); }
.set { background-image: image-set("${E}/image-set.png" 1x); }
@font-face { font-family: evil; src: url(${E}/font.woff2); }
.f { font-family: evil; }
.x::after { content: "</style><img src=x onerror=${PWN('style-breakout')}>"; }
</style>
<script>${PWN('head-script')}</script>
</head>
<body onload="${PWN('body-onload')}">
<h1 class="f esc set x">Hostile message</h1>
<script>${PWN('script')}</script>
<script src="${E}/script.js"></script>
<img src="x" onerror="${PWN('onerror')}" alt="onerror">
<img src="${E}/remote.png" alt="remote">
<img src="http://evil.test/http-remote.png" alt="http remote">
<img srcset="${E}/srcset.png 1x, ${E}/srcset2.png 2x" alt="srcset">
<img src="relative.png" alt="relative via base">
<img src="//evil.test/protocol-relative.png" alt="protocol relative">
<img src="data:image/svg+xml;base64,${Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg"><script>${PWN('svg-data')}</script></svg>`).toString('base64')}" alt="svg data">
<a id="js" href="javascript:${PWN('js-url')}">javascript link</a>
<a id="jsent" href="jav&#x09;ascript:${PWN('js-entity')}">entity link</a>
<a id="data" href="data:text/html,<script>${PWN('data-url')}</script>">data link</a>
<a id="ok" href="https://example.org/ok" target="_top">normal link</a>
<a id="ping" href="https://example.org/p" ping="${E}/ping">ping link</a>
<form action="${E}/form" method="post"><input name="q" value="x"><input type="image" src="${E}/input.png"><button type="submit" formaction="${E}/formaction">Send</button></form>
<iframe src="${E}/frame"></iframe>
<iframe srcdoc="<script>${PWN('srcdoc')}</script>"></iframe>
<svg><script>${PWN('svg-script')}</script><image href="${E}/svg-image.png"/><a xlink:href="javascript:${PWN('svg-link')}"><text>t</text></a></svg>
<svg onload="${PWN('svg-onload')}"></svg>
<object data="${E}/object"></object>
<embed src="${E}/embed">
<video poster="${E}/poster.png" src="${E}/video.mp4" autoplay></video>
<audio src="${E}/audio.mp3" autoplay></audio>
<picture><source srcset="${E}/picture.png"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="picture"></picture>
<table background="${E}/table-bg.png"><tr><td background="${E}/td-bg.png">cell</td></tr></table>
<div style="background:url('${E}/inline-style.png')">inline style</div>
<div style="background:url(&quot;${E}/inline-entity.png&quot;)">inline entity</div>
<div style="width: expression(${PWN('expression')})">expression</div>
<details open ontoggle="${PWN('ontoggle')}"><summary>details</summary></details>
<meta http-equiv="refresh" content="0;url=javascript:${PWN('refresh-js')}">
<noscript><p title="</noscript><img src=x onerror=${PWN('noscript')}>"></p></noscript>
<template><img src=x onerror="${PWN('template')}"></template>
<embed type="image/svg+xml" src="data:image/svg+xml,<svg onload='${PWN('embed-svg')}'/>">
<marquee onstart="${PWN('marquee')}">m</marquee>
<input autofocus onfocus="${PWN('onfocus')}">
<!-- last: leaves everything after it inside <math> -->
<math><mtext><table><mglyph><style><img src=x onerror="${PWN('mxss')}">
</body></html>`;

function hostileMessage() {
  const b = 'hostile-boundary';
  return Buffer.from(
    [
      'From: Mallory <mallory@example.org>',
      'To: Bob <bob@example.com>',
      'Subject: Hostile HTML',
      'Date: Mon, 16 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      `Content-Type: multipart/related; boundary="${b}"`,
      '',
      `--${b}`,
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      b64lines(Buffer.from(HOSTILE)),
      `--${b}`,
      'Content-Type: image/svg+xml',
      'Content-ID: <svg@evil>',
      '',
      `<svg xmlns="http://www.w3.org/2000/svg" onload="${PWN('cid-svg')}"/>`,
      `--${b}--`,
      '',
    ].join('\r\n'),
  );
}

// What may load after "Show remote images": https: images and style sheets
// named in the message. Never scripts, frames, objects, media, forms, pings,
// prefetches, refreshes, @import, or anything via <base>.
const ALLOWED_AFTER_CLICK = new Set([
  `${E}/remote.png`, `${E}/http-remote.png`, `${E}/srcset.png`, `${E}/srcset2.png`, `${E}/css-bg.png`,
  `${E}/css-escaped.png`, `${E}/image-set.png`, `${E}/font.woff2`, `${E}/sheet.css`, `${E}/table-bg.png`,
  `${E}/td-bg.png`, `${E}/inline-style.png`, `${E}/inline-entity.png`, `${E}/protocol-relative.png`,
]);
const MUST_LOAD_AFTER_CLICK = [
  `${E}/remote.png`, `${E}/http-remote.png`, `${E}/sheet.css`, `${E}/inline-style.png`, `${E}/inline-entity.png`,
  `${E}/css-bg.png`, `${E}/table-bg.png`, `${E}/td-bg.png`, `${E}/srcset.png`,
];

async function assertInert(p, f, remote = false) {
  assert.equal(await p.evaluate(() => window.__pwned), undefined, 'no payload ran in the page');
  assert.equal(await f.evaluate(() => window.__pwned), undefined, 'no payload ran in the frame');
  const bad = await f.evaluate((remote) => {
    const out = [];
    for (const el of document.querySelectorAll('*')) {
      const tag = el.localName;
      // After the click, the opener itself links the message's https: style sheets.
      if (remote && tag === 'link' && el.rel === 'stylesheet' && el.href.startsWith('https:') && el.parentNode === document.head) continue;
      if (['script', 'iframe', 'frame', 'object', 'embed', 'form', 'input', 'button', 'base', 'link', 'video', 'audio', 'source', 'svg', 'math', 'noscript', 'template', 'style'].includes(tag))
        out.push(`<${tag}>`);
      if (tag === 'meta' && el.httpEquiv.toLowerCase() !== 'content-security-policy' && el.getAttribute('name') !== 'referrer' && !el.hasAttribute('charset'))
        out.push(`<meta ${el.outerHTML}>`);
      for (const a of el.attributes) {
        if (/^on/i.test(a.name)) out.push(`${tag}[${a.name}]`);
        if (/^\s*(?:javascript|data|vbscript):/i.test(a.value) && !(tag === 'img' && a.name === 'src' && /^data:image\/gif/.test(a.value)))
          out.push(`${tag}[${a.name}=${a.value.slice(0, 30)}]`);
      }
      if (tag === 'a' && el.hasAttribute('href') && !(el.target === '_blank' && el.rel === 'noopener noreferrer'))
        out.push(`a without target/rel: ${el.getAttribute('href')}`);
    }
    return out;
  }, remote);
  assert.deepEqual(bad, [], 'dangerous markup left in the frame');
}

for (const build of ['embedded', 'compact']) test(`hostile HTML (${build} opener): nothing runs, nothing loads, until remote images are asked for`, async () => {
  // The CLI's envelope as written, and its blocks in the --compact build's page.
  let env = seal(suite.tmp.dir, hostileMessage());
  if (build === 'compact') env = edit(env, (html) => rewrap(html, buildOpener('--compact')), join(suite.tmp.dir, 'hostile-compact.html'));
  const served = [];
  const pixel = png(1, 1, [255, 0, 0]);
  const rec = await newPage(suite.browser, {
    route: (route) => {
      const url = route.request().url();
      served.push(url);
      if (url.startsWith(`${E}/`) && /\.png$/.test(url)) return route.fulfill({ status: 200, contentType: 'image/png', body: pixel });
      if (url === `${E}/sheet.css`) return route.fulfill({ status: 200, contentType: 'text/css', body: `h1{color:rgb(1, 2, 3)} body{background:url(${E}/css-bg.png)}` });
      return route.abort('blockedbyclient');
    },
  });
  const p = rec.page;
  const dialogs = [];
  p.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss();
  });
  const popups = [];
  p.on('popup', (w) => popups.push(w));

  await openFile(p, env);
  await unlock(p);
  await p.waitForSelector('iframe.sp-frame');
  const f = p.frames().find((x) => x !== p.mainFrame());
  await f.waitForSelector('h1');
  await p.waitForTimeout(500); // let anything that would fire, fire

  await assertInert(p, f);
  assert.deepEqual(rec.attempted, [], 'the page did not even try to load anything remote before the click');
  assert.deepEqual(rec.remote, [], 'no request left the page before the click');
  assert.deepEqual(served, []);
  assert.equal(p.url().startsWith('file:'), true, 'the page was not navigated');
  assert.equal(f.url(), 'about:srcdoc', 'the frame was not navigated');

  // The frame's sandbox: no scripts, forms or top navigation.
  const sandbox = await p.$eval('iframe.sp-frame', (i) => i.getAttribute('sandbox'));
  assert.deepEqual(sandbox.split(/\s+/).sort(), ['allow-popups', 'allow-popups-to-escape-sandbox', 'allow-same-origin']);

  // Links: javascript:/data: hrefs removed, others open a new tab.
  const links = await f.$$eval('a', (as) => as.map((a) => [a.id, a.getAttribute('href'), a.target, a.rel, a.hasAttribute('ping')]));
  assert.deepEqual(links, [
    ['js', null, '', '', false],
    ['jsent', null, '', '', false],
    ['data', null, '', '', false],
    ['ok', 'https://example.org/ok', '_blank', 'noopener noreferrer', false],
    ['ping', 'https://example.org/p', '_blank', 'noopener noreferrer', false],
  ]);
  await f.click('#js');
  await f.click('#data');
  await p.waitForTimeout(200);
  assert.equal(popups.length, 0, 'links without href open nothing');

  // Styles survive, minus every remote url().
  const h1 = await f.$eval('h1', (x) => [getComputedStyle(x).backgroundImage, getComputedStyle(document.body).backgroundImage]);
  assert.deepEqual(h1, ['none', 'none']);

  // Defence in depth: even markup the sanitiser let through could not load
  // anything, because the frame's own CSP allows only data: and blob:.
  await f.evaluate((E) => {
    const img = document.createElement('img');
    img.src = `${E}/csp-backstop.png`;
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = `${E}/csp-backstop.css`;
    document.body.append(img, link);
    document.body.style.backgroundImage = `url(${E}/csp-backstop-cssom.png)`;
  }, E);
  await p.waitForTimeout(300);
  assert.deepEqual(rec.remote, [], 'the frame CSP blocks remote loads');
  assert.equal(rec.attempted.length, 3, 'the three loads were tried (and refused by the CSP)');

  if (build === 'embedded') await shot(p, 'hostile-before-click');
  const notice = p.getByRole('status').filter({ hasText: 'Remote images are hidden' });
  assert.equal(await notice.count(), 1);

  // The reader asks for remote content.
  await p.getByRole('button', { name: 'Show remote images' }).click();
  await p.waitForFunction(() => {
    const d = document.querySelector('iframe.sp-frame').contentDocument;
    return d && d.querySelector('img[alt=remote]') && d.querySelector('img[alt=remote]').complete;
  });
  await p.waitForTimeout(500);
  const f2 = p.frames().find((x) => x !== p.mainFrame());
  await assertInert(p, f2, true);
  const unexpected = rec.remote.filter((u) => !ALLOWED_AFTER_CLICK.has(u));
  assert.deepEqual(unexpected, [], 'only images and style sheets load after the click');
  for (const u of MUST_LOAD_AFTER_CLICK) assert.ok(rec.remote.includes(u), `${u} loads after the click`);
  assert.equal(await f2.$eval('img[alt=remote]', (i) => i.naturalWidth), 1);
  assert.equal(await f2.$eval('h1', (x) => getComputedStyle(x).color), 'rgb(1, 2, 3)', 'the remote style sheet applies');
  assert.ok(!rec.remote.some((u) => u.startsWith('http:')), 'nothing over plain http');

  // A normal link opens a new tab, without access back to the envelope.
  const [popup] = await Promise.all([p.waitForEvent('popup'), f2.click('#ok')]);
  assert.equal(await popup.evaluate(() => window.opener), null);
  await popup.close();

  assert.deepEqual(dialogs, []);
  assert.equal(await p.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(rec.errors, []);
  if (build === 'embedded') await shot(p, 'hostile-after-click');
  await rec.context.close();
});

test('hostile plain text: markup and javascript: stay text', async () => {
  const msg = Buffer.from(
    [
      'From: Mallory <mallory@example.org>',
      'To: Bob <bob@example.com>',
      `Subject: <img src=x onerror="${PWN('subject')}">`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      `<script>${PWN('text-script')}</script>`,
      `<img src="${E}/text.png" onerror="${PWN('text-img')}">`,
      `javascript:${PWN('text-js')}`,
      `https://ok.example/"><img src=x onerror=${PWN('text-link')}>`,
      '',
    ].join('\r\n'),
  );
  const env = seal(suite.tmp.dir, msg);
  const rec = await newPage(suite.browser);
  const p = rec.page;
  await openFile(p, env);
  assert.equal(await p.locator('.sp-outside img').count(), 0);
  await unlock(p);
  assert.equal(await p.locator('.sp-message img, .sp-message script').count(), 0);
  assert.match(await p.locator('h1.sp-subject').innerText(), /^<img src=x onerror=/);
  const hrefs = await p.$$eval('.sp-text a', (as) => as.map((a) => a.getAttribute('href')));
  // URLs in text become links (to themselves), nothing else does.
  assert.deepEqual(hrefs, ['https://evil.test/text.png', 'https://ok.example/']);
  await p.waitForTimeout(200);
  assert.equal(await p.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(rec.remote, []);
  assert.deepEqual(rec.errors, []);
  await rec.context.close();
});
