// shims/babel-instance-trim.js - stands in for
// @babel/runtime-corejs3/core-js/instance/trim, which mimetext's browser
// build calls as trim(s).call(s) (build-common.mjs redirects the import
// here): the native String.prototype.trim instead of core-js-pure's copy.
export default function trim(it) {
  return it.trim;
}
