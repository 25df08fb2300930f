// no-answers.js - stands in for compose.js in the opener of key-server
// envelopes that offer no answer (node web/build.mjs --variant keyserver):
// their header has no reply member (the organisation registered no reply
// key, or the message's profile allows no reply, reply-all nor forward), so
// they never show the answer buttons, and leaving the composer, HPKE and
// the MIME builder out saves about 30 KB in every one. Envelopes that offer
// answers carry the keyserver-reply opener (src/lib/opener.c chooses).

export function answerActions() {
  return null;
}
