// no-keyserver.js - stands in for ksflow.js in the opener of password
// envelopes (node web/build.mjs --variant password): such an envelope never
// signs in to a key server, and leaving the sign-in flow out saves about
// 10 KB in every one. An envelope whose header was edited to name a key
// server says it cannot be opened, as it could not anyway (its header is
// authenticated).

import { EnvelopeError } from '../envelope.js';
import { errorBox } from '../ui.js';

export function keyServerPanel() {
  return errorBox(new EnvelopeError('version', 'this envelope was written for a password, not for a key server'));
}
