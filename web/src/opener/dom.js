// dom.js - build DOM nodes without ever parsing markup.
//
// Everything the opener shows is made with h(): element, attributes and
// children, where a string child becomes a text node. Nothing here touches
// innerHTML, outerHTML, insertAdjacentHTML or document.write, so text from
// the display block or the decrypted message can never become markup.

/**
 * Create an element. attrs: plain attributes (strings; true = empty, false or
 * null = omitted), except `on` (an object of event listeners). Children are
 * nodes, strings, or nested arrays of them; null and false are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === 'on') {
      for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else if (value !== false && value != null) {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

/** Append children (nodes, strings, arrays; null/false skipped) to el. */
export function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** Replace all children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** An inline SVG icon from a list of path data strings (decorative). */
export function icon(paths, cls) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'sp-icon' + (cls ? ' ' + cls : ''));
  for (const d of paths) {
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}

// Icon paths (24x24, stroked; see .sp-icon in opener.css).
export const ICONS = {
  lock: ['M6 11h12v9H6z', 'M8.5 11V8a3.5 3.5 0 0 1 7 0v3'],
  shield: ['M12 3l7 3v5c0 4.5-3 8-7 10-4-2-7-5.5-7-10V6z', 'M9 12l2 2 4-4'],
  alert: ['M12 3l9.5 17h-19z', 'M12 10v4', 'M12 17.2v.1'],
  clock: ['M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z', 'M12 7v5l3 2'],
  file: ['M7 3h7l4 4v14H7z', 'M14 3v4h4'],
  mail: ['M3 6h18v12H3z', 'M3 7l9 6 9-6'],
  calendar: ['M4 6h16v14H4z', 'M4 10h16', 'M8 3v5', 'M16 3v5'],
  download: ['M12 4v11', 'M7 10l5 5 5-5', 'M5 20h14'],
  print: ['M7 9V4h10v5', 'M5 9h14v7H5z', 'M7 14h10v6H7z'],
  image: ['M4 5h16v14H4z', 'M4 16l5-5 4 4 3-3 4 4', 'M15 9.5v.1'],
  back: ['M15 5l-7 7 7 7'],
  eye: ['M2 12s3.5-6 10-6 10 6 10 6-3.5 6-10 6S2 12 2 12z', 'M12 9.5a2.5 2.5 0 1 0 0 5a2.5 2.5 0 1 0 0-5z'],
};
