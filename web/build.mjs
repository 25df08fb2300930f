#!/usr/bin/env node
// build.mjs - bundle the envelope opener into the two fragments that
// libsealpost wraps around an envelope's data blocks.
//
// Usage: node web/build.mjs [--compact] [--variant all|password|keyserver|keyserver-reply] OUTDIR
//        (any cwd; OUTDIR relative to it)
//
// Writes exactly two files:
//   OUTDIR/opener-head.html  "<!DOCTYPE html>" through <body> and the visible
//       outside, ending where the data blocks begin. It carries the CSP meta
//       element with the sha256 of the inline <style> and <script> and the
//       literal placeholder @CONNECT_SRC@ (the writer substitutes 'none' for
//       password envelopes, the key server's origin otherwise). No <script.
//   OUTDIR/opener-foot.html  what follows the payload block's "</script>\n":
//       the inline <script> (the bundled, minified opener) and the closing
//       "</body>\n</html>\n".
// The build fails if the script could end its element early or open an HTML
// comment (`</script`, `<!--`), or the head contains a script element.
//
// --compact: the inline script is a small loader (src/opener/loader.js)
// carrying the bundle deflate-compressed and base64-coded, which it inflates
// and runs as a blob: script; the CSP adds 'strict-dynamic' so that script may
// run. About 60 KB smaller; needs DecompressionStream (2023+ browsers).

import { transform } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { LINE_LIMIT, OPENER_SRC as src, bundle, minifyCss } from './build-common.mjs';

function die(msg) {
  console.error(`web/build.mjs: ${msg}`);
  process.exit(1);
}

const USAGE = 'usage: node web/build.mjs [--compact] [--variant all|password|keyserver|keyserver-reply] OUTDIR';
const args = process.argv.slice(2);
let compact = false;
let variant = 'all';
while (args.length > 1 && args[0].startsWith('-')) {
  const a = args.shift();
  if (a === '--compact') compact = true;
  else if (a === '--variant') variant = args.shift();
  else die(USAGE);
}
if (args.length !== 1 || args[0].startsWith('-')) die(USAGE);
const STUBS = {
  all: [],
  keyserver: [
    [/^hash-wasm$/, join(src, 'variants', 'no-argon2.js')],
    [/^\.\/compose\.js$/, join(src, 'variants', 'no-answers.js')],
  ],
  'keyserver-reply': [[/^hash-wasm$/, join(src, 'variants', 'no-argon2.js')]],
  password: [[/^\.\/ksflow\.js$/, join(src, 'variants', 'no-keyserver.js')]],
};
if (!STUBS[variant]) die(`unknown --variant ${variant}: ${USAGE}`);
const outDir = resolve(args[0]);

const sha256 = (text) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

// ---- script ----------------------------------------------------------------

// The outside's style is inline (it must draw before any script runs); the
// rest travels in the script, compressed with it, which adds it as a
// <style> element allowed by its hash.
// compose.css styles answering (compose.js), which only envelopes that offer
// answers carry (keyserver-reply; all).
const answers = variant === 'all' || variant === 'keyserver-reply';
const appCss = await minifyCss(join(src, 'opener-app.css'), ...(answers ? [join(src, 'compose.css')] : []));
let script = await bundle(join(src, 'main.js'), STUBS[variant], { __SP_APP_CSS__: JSON.stringify(appCss) });

// esbuild writes "<\/script" for "</script" inside strings; make sure of it,
// and turn "<!--" (which esbuild leaves alone) into "\x3C!--", which means
// the same inside a string or regular expression literal and cannot occur
// in code anywhere else (esbuild spaces out "< !--" in expressions).
script = script.replace(/<!--/g, '\\x3C!--');

// Check the escaped bundle still parses.
await transform(script, { loader: 'js', minify: false }).catch((e) => die(`escaped bundle does not parse: ${e.message}`));

if (compact) {
  const packed = deflateRawSync(Buffer.from(script, 'utf8'), { level: 9 }).toString('base64');
  const loader = (await transform(readFileSync(join(src, 'loader.js'), 'utf8'), { loader: 'js', minify: true, target: 'es2020' })).code;
  if (loader.split("'__PAYLOAD__'").length + loader.split('"__PAYLOAD__"').length !== 3) die('loader.js must hold one __PAYLOAD__ string');
  const lines = packed.replace(new RegExp(`.{1,${LINE_LIMIT}}`, 'g'), '$&\n');
  script = loader.replace(/(["'])__PAYLOAD__\1/, () => `\`\n${lines}\``).replace(/\n+$/, '');
}
if (/<\/script/i.test(script)) die('the script contains "</script"');
if (/<!--/.test(script)) die('the script contains "<!--"');

// ---- style -----------------------------------------------------------------

const css = await minifyCss(join(src, 'opener.css'));
for (const sheet of [css, appCss]) if (/<\/style|<!--|<script/i.test(sheet)) die('a stylesheet contains markup');

// ---- CSP and fragments -------------------------------------------------------

// Why each directive: see web/README.md ("Content-Security-Policy").
const csp = [
  "default-src 'none'",
  `script-src ${sha256(script)}${compact ? " 'strict-dynamic'" : ''} 'wasm-unsafe-eval'`,
  `style-src ${sha256(css)} ${sha256(appCss)} https:`,
  'img-src data: blob: https:',
  'font-src data: https:',
  'connect-src @CONNECT_SRC@',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const template = readFileSync(join(src, 'head.html'), 'utf8');
if (!template.includes('@CSP@') || !template.includes('@STYLE@')) die('head.html lacks @CSP@ or @STYLE@');
const head = template.replace('@CSP@', () => csp).replace('@STYLE@', () => css);
const foot = `<script>${script}</script>\n</body>\n</html>\n`;

if (!head.startsWith('<!DOCTYPE html>\n')) die('the head does not start with <!DOCTYPE html>');
if (/<script/i.test(head)) die('the head contains a script element');
if (head.split('@CONNECT_SRC@').length !== 2) die('the head must contain @CONNECT_SRC@ exactly once');
if (/sealpost-(header|display|payload)/.test(head)) die('the head uses an id reserved for the data blocks');
if (/[^\x00-\x7f]/.test(head + foot)) die('the fragments must be ASCII');
// What goes into envelopes (the compact build) must fit 7bit MIME; esbuild
// cannot break every line of the plain bundle (a long array literal).
const cspLine = csp.length + 70; // the CSP meta element is one line
const long = compact && (head + foot).split('\n').find((l) => l.length > Math.max(LINE_LIMIT, cspLine));
if (long) die(`a line of ${long.length} characters (at most ${LINE_LIMIT}): ${long.slice(0, 80)}...`);
// The head's first 1024 bytes must declare the charset (docs/envelope-format.md §3).
if (!head.slice(0, 1024).includes('<meta charset="utf-8">')) die('the head must declare utf-8 early');

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'opener-head.html'), head);
writeFileSync(join(outDir, 'opener-foot.html'), foot);

const kb = (n) => `${n} bytes`;
console.log(
  `web/build.mjs${compact ? ' --compact' : ''} --variant ${variant}: wrote ${join(outDir, 'opener-head.html')} (${kb(head.length)}) and opener-foot.html (${kb(foot.length)}), ` +
    `together ${kb(head.length + foot.length)}`,
);
