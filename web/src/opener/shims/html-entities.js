// shims/html-entities.js - stands in for postal-mime's 45 KB table of HTML
// entities (build.mjs redirects postal-mime's import here).
//
// postal-mime uses the table only in htmlToText(), to derive a plain-text
// body from an HTML one. The opener shows that derived text only when an
// answer quotes an HTML-only message (compose.js, which has the browser
// decode the named entities this table leaves as written), so the common
// entities are enough; numeric ones are decoded by postal-mime itself.
const htmlEntities = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&apos;': "'",
  '&nbsp;': '\u00a0',
};
export default htmlEntities;
