// api.js - the same-origin client of keyd's API for its signed-in pages
// (/signin, /forgot, /account, /messages).
//
// These pages hold their session in keyd's HttpOnly, SameSite=Strict
// cookie (`POST /v1/sessions` with `cookie: true`), never in script-readable
// storage. The cookie alone authenticates nothing but `GET /v1/session`:
// every other call it signs must carry the page's CSRF token in the
// `X-CSRF-Token` header. The token comes from the sign-in answer or from
// `GET /v1/session` on each page load and lives in this module's memory
// only (not in localStorage), so a page another site opens cannot read it.
//
// Calls go to the page's own origin (the CSP allows connect-src 'self'),
// with the cookie (credentials 'same-origin'), without a referrer and
// uncached, through apiFetch() of keyserver.js (the envelope's client, whose
// own calls stay cookie-free). Answers that are not 2xx throw a
// KeyServerError named after the problem type, e.g. 'unauthorized', 'csrf',
// 'invalid-request' (with `field`), 'network' or 'timeout' when no answer
// came.

import { KeyServerError, apiFetch, describeKeyServerError } from '../opener/keyserver.js';

export { KeyServerError };

// The CSRF token of the signed-in session; set by signIn() and session().
let csrf = null;

const str = (v) => (typeof v === 'string' ? v : undefined);

/**
 * One API call to this origin. opts: body (sent as JSON), query (object of
 * search parameters; empty values left out), csrf (false: do not send the
 * token; default true once there is one). Returns the parsed JSON object
 * (null for 204); throws KeyServerError.
 */
export function call(method, path, opts = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(opts.query || {})) if (v !== '' && v != null) url.searchParams.set(k, String(v));
  const headers = csrf && opts.csrf !== false ? { 'X-CSRF-Token': csrf } : {};
  return apiFetch(url.href, method, { body: opts.body, headers, credentials: 'same-origin' });
}

/** POST /v1/sessions with the cookie: signs this browser in. Returns
 * { expires, method, csrf }. */
export async function signIn(email, password) {
  csrf = null;
  const r = await call('POST', '/v1/sessions', { body: { email, password, cookie: true } });
  csrf = str(r.csrf) || null;
  return r;
}

/**
 * GET /v1/session: who is signed in -> { email, name, expires, method,
 * csrf, member: null | { org, role }, brand: null | { name, color, logo } }.
 * Keeps the CSRF token for the calls that follow. 401 when not signed in.
 */
export async function session() {
  const s = await call('GET', '/v1/session', { csrf: false });
  csrf = str(s.csrf) || null;
  return s;
}

/** DELETE /v1/sessions/current: sign this browser out (keyd clears the cookie). */
export async function signOut() {
  try {
    await call('DELETE', '/v1/sessions/current');
  } finally {
    csrf = null;
  }
}

/** The sign-in page's URL that comes back to path afterwards. */
export const signInUrl = (path = location.pathname + location.hash) => `/signin?next=${encodeURIComponent(path)}`;

/**
 * The session for a signed-in page: GET /v1/session, or (not signed in)
 * off to /signin?next=this page (with its fragment), resolving to null.
 * Other failures throw.
 */
export async function requireSession() {
  try {
    return await session();
  } catch (e) {
    if (e.status === 401) {
      location.replace(signInUrl());
      return null;
    }
    throw e;
  }
}

/** { title, text } for a failed call that the page does not handle more
 * specifically. */
export function describeProblem(e) {
  switch (e && e.problem) {
    case 'network':
      return {
        title: 'Cannot reach the server',
        text: 'Check your internet connection and try again. If it keeps failing, the service may be down: try again later.',
      };
    case 'timeout':
      return { title: 'The server did not answer in time', text: 'Try again in a moment.' };
    case 'unauthorized':
      return {
        title: 'You are signed out',
        text: 'Your session has ended (sessions last a few minutes for your safety). Sign in again to continue.',
      };
    case 'csrf':
      return { title: 'This page is out of date', text: 'Reload the page and try again.' };
    case 'forbidden':
      return { title: 'Not allowed', text: e.detail || 'Your account may not do this.' };
    case 'invalid-request':
      return { title: 'This was not accepted', text: e.detail || 'Check what you entered and try again.' };
    case 'not-found':
      return { title: 'Not found', text: 'What this page asked for does not exist any more. Reload the page.' };
    case 'message-recalled':
      return {
        title: 'The key of this message is gone',
        text: 'It was recalled, or removed some time after it expired: no one can open it, and it cannot be changed any more.',
      };
    default:
      return describeKeyServerError(e, location.origin);
  }
}
