// shims/babel-define-property.js - stands in for
// @babel/runtime-corejs3/helpers/esm/defineProperty, which mimetext's
// browser build imports for its class fields (build-common.mjs redirects the
// import here). The original goes through core-js-pure's Object and Symbol
// polyfills (about 39 KB in the bundle with trim below); every browser the
// opener supports has both natively, and this is the helper's own logic on
// them.
export default function defineProperty(obj, key, value) {
  if (key in obj) Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
  else obj[key] = value;
  return obj;
}
