// shims/js-base64.js - stands in for js-base64 in mimetext's browser build
// (build-common.mjs redirects the import here). mimetext calls only
// Base64.encode (a header's UTF-8 text as base64, for encoded words) and
// Base64.encodeURI; TextEncoder and btoa do both in a few lines where the
// library takes 3.8 KB.
function encode(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 8192) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  return btoa(bin);
}

const encodeURI = (text) => encode(text).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

export const Base64 = { encode, encodeURI };
