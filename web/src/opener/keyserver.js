// keyserver.js - the client side of sealpost-keyd's API v1 (docs/api/openapi.yaml)
// as the envelope and keyd's own pages use it.
//
// Every call is a CORS fetch without credentials (no cookies; the envelope
// runs from file:// or a webmail sandbox), without a referrer, and not
// cached. Bearer tokens travel only in the Authorization header. Answers
// that are not 2xx become a KeyServerError named after the problem type
// (RFC 9457 `https://sealpost.org/problems/NAME`), carrying the members the
// views need (detail, field, reason, expires, retryAfter, attemptsLeft,
// resetRequired); a request that
// never got an answer is a KeyServerError named 'network' (or 'timeout').

const PROBLEM = /^https:\/\/sealpost\.org\/problems\/([a-z0-9-]+)$/;
const TIMEOUT_MS = 30000;

export class KeyServerError extends Error {
  /** name: the problem NAME, 'network', 'timeout', 'bad-answer' or
   * 'http-STATUS'; info: { status, title, detail, field, reason, expires,
   * retryAfter (seconds) }. */
  constructor(name, info = {}) {
    super(`${name}${info.detail ? `: ${info.detail}` : ''}`);
    this.problem = name;
    Object.assign(this, info);
  }
}

/** Seconds from a problem's retry_after member or the Retry-After header
 * (headerOf(name) reads a response header). */
function retryAfterOf(problem, headerOf) {
  if (Number.isFinite(problem.retry_after) && problem.retry_after >= 0) return Math.ceil(problem.retry_after);
  const header = headerOf('Retry-After');
  if (header && /^\d+$/.test(header.trim())) return Number(header.trim());
  if (header) {
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - Date.now()) / 1000));
  }
  return null;
}

const str = (v) => (typeof v === 'string' ? v : undefined);

/**
 * One JSON call: fetch url with method, opts.body (sent as JSON),
 * opts.headers (added), opts.credentials ('omit' for the envelope, whose
 * credentials travel only in headers; 'same-origin' for keyd's own pages
 * and their cookie) and opts.origin (named in network errors). Uncached,
 * no referrer, no redirects, 30 s at most. Returns the parsed JSON object
 * (null for 204); throws KeyServerError.
 */
export async function apiFetch(url, method, opts = {}) {
  const headers = { Accept: 'application/json, application/problem+json', ...opts.headers };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  let res;
  let text;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      mode: 'cors',
      credentials: opts.credentials || 'omit',
      cache: 'no-store',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
      signal: ctl.signal,
    });
    text = await res.text();
  } catch {
    throw new KeyServerError(ctl.signal.aborted ? 'timeout' : 'network', opts.origin ? { origin: opts.origin } : {});
  } finally {
    clearTimeout(timer);
  }
  if (res.ok && res.status === 204) return null;
  return answerOf(res.status, text, (name) => res.headers.get(name));
}

/**
 * A 2xx answer's JSON object, or the KeyServerError for any other (RFC 9457
 * problem details as the API writes them). text: the body; header(name):
 * a response header. Used for fetch and for XMLHttpRequest (uploads).
 */
export function answerOf(status, text, header) {
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (status >= 200 && status < 300) {
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw new KeyServerError('bad-answer', { status, detail: 'the answer is not a JSON object' });
    return data;
  }
  const p = typeof data === 'object' && data !== null ? data : {};
  const m = PROBLEM.exec(str(p.type) || '');
  throw new KeyServerError(m ? m[1] : `http-${status}`, {
    status,
    title: str(p.title),
    detail: str(p.detail),
    field: str(p.field),
    reason: str(p.reason),
    expires: str(p.expires),
    retryAfter: retryAfterOf(p, header),
    attemptsLeft: Number.isInteger(p.attempts_left) && p.attempts_left >= 0 ? p.attempts_left : null,
    resetRequired: p.reset_required === true,
  });
}

export class KeyServer {
  /** base: the key server's public URL (an envelope's keyAccess.url). */
  constructor(base) {
    const u = new URL(base);
    this.origin = u.origin;
    this.host = u.host;
    this.base = u.href.replace(/\/+$/, '');
  }

  /**
   * One API call. opts: body (sent as JSON), token (Bearer), query
   * (object of search parameters). Returns the parsed JSON answer (null
   * for 204); throws KeyServerError.
   */
  async call(method, path, opts = {}) {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(opts.query || {})) url.searchParams.set(k, v);
    const headers = opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
    // Only sign-in and sign-out on keyd's own origin carry its cookie (the
    // remembered browser's, which the browser sends to keyd's pages only).
    const own = opts.ownCookie && typeof location !== 'undefined' && location.origin === this.origin;
    return apiFetch(url.href, method, { body: opts.body, headers, credentials: own ? 'same-origin' : 'omit', origin: this.origin });
  }

  /** GET /v1/messages/{id}/status?rcpt= (no authentication). */
  status(id, rcpt) {
    return this.call('GET', `/v1/messages/${encodeURIComponent(id)}/status`, { query: { rcpt } });
  }

  /** POST /v1/accounts: { email, name, password, phrase, questions: [{q, a}], message }. */
  register(account) {
    return this.call('POST', '/v1/accounts', { body: account });
  }

  /** POST /v1/accounts/activate: the mailed token and the password chosen at registration. */
  activate(token, password) {
    return this.call('POST', '/v1/accounts/activate', { body: { token, password } });
  }

  /** POST /v1/sessions with { email, password, remember } or, on keyd's
   * own origin, { email, remembered: true } (the browser's cookie). */
  signIn(body) {
    return this.call('POST', '/v1/sessions', { body, ownCookie: true });
  }

  /** DELETE /v1/sessions/current (and, forgetDevice true, make keyd forget
   * this browser: its cookie goes with the call on keyd's own origin). */
  signOut(token, forgetDevice) {
    return this.call('DELETE', '/v1/sessions/current', {
      token,
      body: forgetDevice ? { forget_device: true } : undefined,
      ownCookie: true,
    });
  }

  /** POST /v1/messages/{id}/key; token null for a security "low" message.
   * Returns { key (32 bytes), grant } where grant is { token, expires
   * (Date) } when keyd lets this recipient answer the message (its
   * reply_grant), else null. Throws 'bad-answer' for a key that is not 32
   * bytes. */
  async messageKey(id, token, rcpt) {
    const r = await this.call('POST', `/v1/messages/${encodeURIComponent(id)}/key`, { token, body: { rcpt } });
    const key = typeof r.key === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(r.key) ? r.key : null;
    if (!key) throw new KeyServerError('bad-answer', { detail: 'the key is not the standard base64 of 32 bytes' });
    const bin = atob(key);
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = bin.charCodeAt(i);
    const expires = new Date(typeof r.reply_grant_expires === 'string' ? r.reply_grant_expires : NaN);
    const ok = typeof r.reply_grant === 'string' && /^spy_[A-Za-z0-9_.-]{16,2044}$/.test(r.reply_grant);
    return { key: out, grant: ok && !Number.isNaN(expires.getTime()) ? { token: r.reply_grant, expires } : null };
  }

  /** POST /v1/accounts/reset { email, message? }: mails a reset link to an
   * active account (with the message being opened, in its sender's brand). */
  requestReset(email, message) {
    return this.call('POST', '/v1/accounts/reset', { body: message ? { email, message } : { email } });
  }

  /** POST /v1/accounts/reset/questions { token } -> { email, questions }. */
  resetQuestions(token) {
    return this.call('POST', '/v1/accounts/reset/questions', { body: { token } });
  }

  /** POST /v1/accounts/reset/confirm { token, answers, password }. */
  resetConfirm(token, answers, password) {
    return this.call('POST', '/v1/accounts/reset/confirm', { body: { token, answers, password } });
  }
}

/** "N minutes" / "N seconds" for a wait of s seconds (rounded up to whole minutes above 90 s). */
export function formatWait(s) {
  if (s == null) return 'a few minutes';
  if (s <= 90) return s === 1 ? '1 second' : `${s} seconds`;
  const m = Math.ceil(s / 60);
  return m === 1 ? '1 minute' : `${m} minutes`;
}

/**
 * { title, text } for an error from a key-server call that the views do
 * not handle more specifically: unreachable server, rate limits, lockout,
 * server faults, answers this page cannot read.
 */
export function describeKeyServerError(e, origin) {
  const name = e && e.problem;
  switch (name) {
    case 'network':
      return {
        title: `Cannot reach the key server at ${origin}`,
        text: 'Check your internet connection and try again. If it keeps failing, the key server may be down: try again later.',
      };
    case 'timeout':
      return { title: `The key server at ${origin} did not answer in time`, text: 'Try again in a moment.' };
    case 'too-many-requests':
      return {
        title: 'Too many attempts',
        text: `Wait ${formatWait(e.retryAfter)} and try again.`,
      };
    case 'account-locked':
      return {
        title: 'Your account is locked',
        text:
          'After too many wrong passwords, signing in with the password is blocked until the password is reset. ' +
          'Choose "Forgot your password?": we mail you a link to set a new one.',
      };
    case 'unavailable':
    case 'internal':
      return {
        title: 'The key server could not answer',
        text: 'It reported a problem on its side. Try again in a few minutes.',
      };
    case 'not-found':
      return {
        title: 'The key server does not know this message for this address',
        text: 'Check that the address is one the message was sent to. If it is, ask the sender to send the message again.',
      };
    default:
      return {
        title: 'The key server gave an unexpected answer',
        text: `Try again in a few minutes.${e && e.detail ? ` (${e.detail})` : name ? ` (${name})` : ''}`,
      };
  }
}
