// no-argon2.js - stands in for hash-wasm in the opener of key-server
// envelopes (node web/build.mjs --variant keyserver): such an envelope never
// derives a key from a password, and leaving Argon2id out saves about 15 KB
// in every one. An envelope whose header was edited to ask for a password
// fails to open here, as it would anyway (its header is authenticated).

export async function argon2id() {
  throw new Error('this envelope was written for a key server, not for a password');
}
