// answer-upload.js - hand a sealed answer to the key server:
// POST {keyAccess.url}/v1/messages/{id}/replies with the reply grant that
// came with the message key (Bearer), the sealed answer as the body
// (application/vnd.sealpost.answer). XMLHttpRequest rather than fetch, for
// its upload progress. Like every envelope call: CORS, no cookies.
//
// keyd answers 202 {id, recipients} once the organisation's reply route has
// taken the answer, or a problem (RFC 9457), read as keyserver.js reads
// every other answer.

import { KeyServerError, answerOf } from './keyserver.js';

// No progress for this long while the body goes up: the connection is dead.
const STALL_MS = 60000;
// Once the body is up keyd relays the answer before it answers.
const RELAY_MS = 5 * 60000;

/**
 * Upload body (a sealed answer, a Blob) for the message with id `message` to the
 * key server at base (its URL, no trailing slash) with grant (the reply
 * grant's token). onProgress(fraction) follows the upload. Resolves with
 * keyd's answer { id, recipients }; rejects with a KeyServerError (the
 * problem's name and status, or 'network' / 'timeout').
 */
export function uploadAnswer({ base, message, grant, body, onProgress }) {
  const origin = new URL(base).origin;
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let timer = 0;
    let timedOut = false;
    const wait = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        xhr.abort();
      }, ms);
    };
    xhr.open('POST', `${base}/v1/messages/${encodeURIComponent(message)}/replies`);
    xhr.withCredentials = false;
    xhr.setRequestHeader('Authorization', `Bearer ${grant}`);
    xhr.setRequestHeader('Content-Type', 'application/vnd.sealpost.answer');
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    xhr.upload.addEventListener('progress', (e) => {
      wait(STALL_MS);
      if (e.lengthComputable && onProgress) onProgress(e.total ? e.loaded / e.total : 1);
    });
    xhr.upload.addEventListener('load', () => {
      if (onProgress) onProgress(1);
      wait(RELAY_MS);
    });
    xhr.addEventListener('load', () => {
      clearTimeout(timer);
      try {
        const r = answerOf(xhr.status, xhr.responseText, (name) => xhr.getResponseHeader(name));
        if (xhr.status !== 202 || !Number.isInteger(r.recipients))
          throw new KeyServerError('bad-answer', { status: xhr.status, detail: 'the key server did not confirm the answer' });
        resolve(r);
      } catch (e) {
        reject(e);
      }
    });
    const failed = () => {
      clearTimeout(timer);
      reject(new KeyServerError(timedOut ? 'timeout' : 'network', { origin }));
    };
    xhr.addEventListener('error', failed);
    xhr.addEventListener('abort', failed);
    xhr.addEventListener('timeout', failed);
    wait(STALL_MS);
    xhr.send(body);
  });
}
