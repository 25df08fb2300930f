// messages.js - what the reader is told when an envelope cannot be opened.
// One plain-language title and explanation per error class of
// docs/envelope-format.md §10, each saying what to do next.

import { formatDate } from './format.js';

/**
 * { title, text, retry } for an EnvelopeError (or any other error). retry:
 * whether trying again with another password can help.
 */
export function describeError(e) {
  switch (e && e.kind) {
    case 'wrong-key':
      return {
        title: 'Wrong password',
        text: 'That password does not open this message. Check it and try again; passwords are case-sensitive.',
        retry: true,
      };
    case 'tampered':
      return {
        title: 'This message has been altered',
        text:
          'The file was changed after it was sent, so it cannot be opened safely. ' +
          'Ask the sender to send the message again.',
      };
    case 'truncated':
      return {
        title: 'This message is incomplete',
        text:
          'The file is cut short, perhaps because it was not completely downloaded or saved. ' +
          'Save the attachment again from the original email, or ask the sender to send it again.',
      };
    case 'version':
      return {
        title: 'This message uses a format this page cannot open',
        text:
          'It was made by a newer or different version of sealpost. ' +
          'Ask the sender to send it again, or open it with the current sealpost app.',
      };
    case 'expired':
      return {
        title: 'This message has expired',
        text: `It could be opened until ${formatDate(e.expires)}. Ask the sender to send it again if you still need it.`,
      };
    case 'browser':
      return {
        title: 'Your browser cannot open this message here',
        text:
          'Secure decryption is not available in this window: the page is not in a secure context, ' +
          'or the browser is too old. Save the file to your computer and open it from there ' +
          'in a current browser such as Chrome, Edge, Firefox or Safari.',
      };
    case 'kdf':
      return {
        title: 'This device could not open the message',
        text:
          `Opening it needs about ${Math.round(e.memory / 1048576)} MB of memory, which the browser could not provide. ` +
          'Close other tabs or apps and try again, or open the file on a computer.',
        retry: true,
      };
    case 'malformed':
    case 'not-envelope':
      return {
        title: 'This file is damaged',
        text:
          'Parts of the secure message are missing or invalid, so it cannot be read. ' +
          'Ask the sender to send it again.',
      };
    default:
      return {
        title: 'Something went wrong',
        text:
          'The message could not be opened' +
          (e && e.message ? ` (${e.message})` : '') +
          '. Try again, or open the file in another browser.',
        retry: true,
      };
  }
}
