#!/usr/bin/env node
// build-pages.mjs - build the pages sealpost-keyd serves itself: the landing
// page, /activate and /reset (the links it mails), /open (open an
// envelope file in the page, with the opener's own modules), and the
// signed-in pages: /signin, /forgot, /account (the recipient portal) and
// /messages (the console of senders and administrators).
//
// Usage: node web/build-pages.mjs OUTDIR   (any cwd; OUTDIR relative to it)
//
// Writes OUTDIR/pages/: index.html, activate.html, reset.html, open.html,
// signin.html, forgot.html, account-portal.html, console.html,
// assets/pages.css (opener.css + opener-app.css + compose.css + pages.css),
// assets/account.js (activate, reset), assets/open.js (the opener bundle
// for /open), assets/portal.js
// (signin, forgot, account), assets/console.js (messages); and
// OUTDIR/keyd-pages.json, the table scripts/embed-keyd-web.py embeds:
//   [{ "path": URL path, "file": path under OUTDIR/pages,
//      "content_type": ..., "csp": policy for HTML pages or null }, ...]
//
// Every page loads its script and style sheet from /assets/ (same origin),
// so each CSP allows 'self' and nothing inline; connect-src 'self' only.
// The build fails if a page carries inline script or style.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WEB, OPENER_SRC, bundle, minifyCss } from './build-common.mjs';

function die(msg) {
  console.error(`web/build-pages.mjs: ${msg}`);
  process.exit(1);
}

const args = process.argv.slice(2);
if (args.length !== 1 || args[0].startsWith('-')) die('usage: node web/build-pages.mjs OUTDIR');
const outDir = resolve(args[0]);
const pagesDir = join(outDir, 'pages');
const src = join(WEB, 'src', 'pages');

// Directives every page shares: nothing by default, no <base>, no form
// posts, never framed by another site.
const COMMON = ["default-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"];
const policy = (...directives) => [COMMON[0], ...directives, ...COMMON.slice(1)].join('; ');

const CSP = {
  // Static text and a link: a style sheet, nothing else.
  landing: policy("style-src 'self'", 'img-src data:'),
  // The account pages call the API of their own origin.
  account: policy("script-src 'self'", "style-src 'self'", 'img-src data:', "connect-src 'self'"),
  // /open runs the envelope opener, so it needs what the envelope's own
  // policy grants (web/README.md, "Content-Security-Policy"): WebAssembly for
  // Argon2id, data:/blob: images, and what the sandboxed message frame
  // (srcdoc, which inherits this policy) may load after "Show remote
  // images". The key server it may reach is this one.
  open: policy(
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' https:",
    'img-src data: blob: https:',
    'font-src data: https:',
    "connect-src 'self'",
  ),
};

const HTML = 'text/html; charset=utf-8';
const PAGES = [
  { path: '/', file: 'index.html', csp: CSP.landing },
  { path: '/activate', file: 'activate.html', csp: CSP.account, script: '/assets/account.js' },
  { path: '/reset', file: 'reset.html', csp: CSP.account, script: '/assets/account.js' },
  { path: '/open', file: 'open.html', csp: CSP.open, script: '/assets/open.js' },
  // Signed in by keyd's session cookie; the same policy as the account pages.
  { path: '/signin', file: 'signin.html', csp: CSP.account, script: '/assets/portal.js' },
  { path: '/forgot', file: 'forgot.html', csp: CSP.account, script: '/assets/portal.js' },
  { path: '/account', file: 'account-portal.html', csp: CSP.account, script: '/assets/portal.js' },
  { path: '/messages', file: 'console.html', csp: CSP.account, script: '/assets/console.js' },
];

const assets = {
  'assets/pages.css': { type: 'text/css; charset=utf-8', text: await minifyCss(join(OPENER_SRC, 'opener.css'), join(OPENER_SRC, 'opener-app.css'), join(OPENER_SRC, 'compose.css'), join(src, 'pages.css')) },
  'assets/account.js': { type: 'text/javascript; charset=utf-8', text: await bundle(join(src, 'account.js')) },
  'assets/open.js': { type: 'text/javascript; charset=utf-8', text: await bundle(join(src, 'open.js')) },
  'assets/portal.js': { type: 'text/javascript; charset=utf-8', text: await bundle(join(src, 'portal.js')) },
  'assets/console.js': { type: 'text/javascript; charset=utf-8', text: await bundle(join(src, 'console.js')) },
};

const manifest = [];
mkdirSync(join(pagesDir, 'assets'), { recursive: true });
for (const p of PAGES) {
  const html = readFileSync(join(src, p.file), 'utf8');
  if (!html.startsWith('<!DOCTYPE html>\n')) die(`${p.file} does not start with <!DOCTYPE html>`);
  if (!html.slice(0, 1024).includes('<meta charset="utf-8">')) die(`${p.file} must declare utf-8 early`);
  // No inline script or style: the CSP would refuse it anyway.
  if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html)) die(`${p.file} has an inline <script>`);
  if (/<style|\sstyle=|\son[a-z]+=/i.test(html)) die(`${p.file} has inline style or an event handler attribute`);
  const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
  if (scripts.join() !== (p.script || '')) die(`${p.file} must load exactly ${p.script || 'no script'}`);
  if (!html.includes('<link rel="stylesheet" href="/assets/pages.css">')) die(`${p.file} must load /assets/pages.css`);
  writeFileSync(join(pagesDir, p.file), html);
  manifest.push({ path: p.path, file: p.file, content_type: HTML, csp: p.csp });
}
for (const [file, a] of Object.entries(assets)) {
  if (/[^\x00-\x7f]/.test(a.text)) die(`${file} is not ASCII`);
  writeFileSync(join(pagesDir, file), a.text + '\n');
  manifest.push({ path: `/${file}`, file, content_type: a.type, csp: null });
}
writeFileSync(join(outDir, 'keyd-pages.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(
  `web/build-pages.mjs: wrote ${manifest.length} assets to ${pagesDir} (` +
    Object.entries(assets)
      .map(([f, a]) => `${f} ${a.text.length} bytes`)
      .join(', ') +
    ')',
);
