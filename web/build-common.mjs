// build-common.mjs - what web/build.mjs (the envelope opener) and
// web/build-pages.mjs (keyd's pages) bundle the same way: the esbuild
// settings for browser code, postal-mime's and mimetext's replaced modules,
// the style sheet minifier.

import { build, transform } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB = dirname(fileURLToPath(import.meta.url));
export const OPENER_SRC = join(WEB, 'src', 'opener');

// Three of postal-mime's modules are replaced (see the files for why):
// its 45 KB table of HTML entities, and its decoders for parts without a
// transfer encoding and for quoted-printable, which would change line ends.
const SHIMS = {
  './html-entities.js': 'html-entities.js',
  './pass-through-decoder.js': 'pass-through-decoder.js',
  './qp-decoder.js': 'canonical-qp-decoder.js',
};
const shimPostalMime = {
  name: 'shim-postal-mime',
  setup(b) {
    b.onResolve({ filter: /^\.\/(html-entities|pass-through-decoder|qp-decoder)\.js$/ }, (args) =>
      /[\\/]postal-mime[\\/]/.test(args.importer) ? { path: join(OPENER_SRC, 'shims', SHIMS[args.path]) } : undefined,
    );
  },
};

// mimetext's browser build (building an answer, compose.js) imports three
// helpers that would bring about 43 KB of polyfills and a base64 library
// every supported browser does without: their replacements (see the files).
// Its Node build would bring mime-types and all of mime-db: the opener
// imports 'mimetext/browser', which has none, and the build refuses either
// (an attachment's type is the File's own, answer-mime.js).
const MIMETEXT_SHIMS = {
  '@babel/runtime-corejs3/helpers/esm/defineProperty': 'babel-define-property.js',
  '@babel/runtime-corejs3/core-js/instance/trim': 'babel-instance-trim.js',
  'js-base64': 'js-base64.js',
};
const shimMimetext = {
  name: 'shim-mimetext',
  setup(b) {
    b.onResolve({ filter: /^(@babel\/runtime-corejs3\/|js-base64$)/ }, (args) => {
      if (!/[\\/]mimetext[\\/]/.test(args.importer)) return undefined;
      const file = MIMETEXT_SHIMS[args.path];
      if (!file) return { errors: [{ text: `mimetext imports ${args.path}, which has no shim in web/src/opener/shims/` }] };
      return { path: join(OPENER_SRC, 'shims', file) };
    });
    b.onResolve({ filter: /^(mime-types|mime-db|core-js-pure)(\/|$)/ }, (args) => ({
      errors: [{ text: `${args.path} must not be bundled (imported by ${args.importer}): import 'mimetext/browser'` }],
    }));
  },
};

// Lines of what goes into an envelope: at most this long, so the envelope
// travels as 7bit in a carrier mail (998 octets a line, RFC 5322) and no
// relay has a reason to re-wrap it (docs/envelope-format.md §3).
export const LINE_LIMIT = 500;
// esbuild's lineLimit ends a line at the first chance after it: leave room.
const ESBUILD_LINES = LINE_LIMIT - 100;

/** Replace modules by path (a map from a regular expression on the
 * resolved importer-relative path to a replacement file). */
const replaceModules = (stubs) => ({
  name: 'replace-modules',
  setup(b) {
    for (const [filter, file] of stubs) b.onResolve({ filter }, () => ({ path: file }));
  },
});

/** Bundle entry (a path) into one minified, ASCII-only IIFE with lines of
 * at most LINE_LIMIT; returns its text without the trailing newline.
 * stubs: [[RegExp, file]] modules to replace (an opener variant);
 * define: esbuild's replacements of global names. */
export async function bundle(entry, stubs = [], define = {}) {
  const out = await build({
    entryPoints: [entry],
    define,
    plugins: [shimPostalMime, shimMimetext, replaceModules(stubs)],
    lineLimit: ESBUILD_LINES,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    // Every engine here has WebCrypto, WebAssembly and CSP 'wasm-unsafe-eval'.
    target: ['chrome103', 'firefox102', 'safari16'],
    minify: true,
    charset: 'ascii',
    legalComments: 'eof', // keep the dependencies' /*! @license */ notices
    write: false,
    logLevel: 'warning',
  });
  return out.outputFiles[0].text.replace(/\n+$/, '');
}

/** Minify style sheet files (concatenated in order); returns the text. */
export async function minifyCss(...files) {
  const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
  // esbuild keeps the space after "--name:" (a custom property's value is a
  // token list); CSS ignores it, so drop it.
  return (await transform(text, { loader: 'css', minify: true, lineLimit: ESBUILD_LINES })).code
    .replace(/(--[\w-]+):\s+/g, '$1:')
    .replace(/\n+$/, '');
}
