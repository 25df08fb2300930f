// shims/html-entities.js - stands in for postal-mime's 45 KB table of HTML
// entities (build.mjs redirects postal-mime's import here).
//
// postal-mime uses the table only in htmlToText(), to derive a plain-text
// body from an HTML one. The opener never shows that derived text (it shows
// the HTML body itself), so the common entities are enough; unknown named
// entities stay as written, numeric ones are decoded by postal-mime itself.
const htmlEntities = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&apos;': "'",
  '&nbsp;': '\u00a0',
};
export default htmlEntities;
