// openapi.test.mjs - docs/api/openapi.yaml is the key server's contract, and
// this test holds the document and the server to each other:
//
// 1. the document itself: OpenAPI 3.1, every $ref resolves, every operation
//    has a unique operationId, a 2xx answer, and lists (per status, in
//    `x-problem-types`) the problem types it can produce, all from the stable
//    list in components.schemas.ProblemType with the right status; request
//    bodies refuse unknown members; examples agree with their schemas;
// 2. the operations are exactly the server's routes, as printed by
//    `sealpost-keyd --list-routes` ("METHOD /path/{param}" per line);
// 3. the real server's answers conform: a whole recipient journey (message
//    key, status, registration, activation, sign-in, key release, sign-out,
//    password reset) and the common refusals, each answer checked against the
//    operation's documented statuses, media types, schemas and problem types,
//    and the CORS preflight of every /v1/ path.
//
// SEALPOST_KEYD=build/src/keyd/sealpost-keyd node --test tests/integration/openapi.test.mjs
// (or SEALPOST=build/src/cli/sealpost: keyd is then the binary beside it)
// (needs web/node_modules: the `yaml` parser is a dev dependency of web/).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startKeyd, gatewayToken, registerAndActivate, latestMail, outbox, requireKeyd } from './keyd-helpers.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SPEC_PATH = `${REPO}docs/api/openapi.yaml`;
const YAML_ENTRY = `${REPO}web/node_modules/yaml/dist/index.js`;
assert.ok(existsSync(YAML_ENTRY), `${YAML_ENTRY} is missing: run "npm ci" in web/`);
const { parse } = await import(pathToFileURL(YAML_ENTRY).href);

const spec = parse(readFileSync(SPEC_PATH, 'utf8'), { strict: true, uniqueKeys: true });
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// ------------------------------------------------------------- the document

/** Resolve a local $ref ("#/components/schemas/X"). */
function deref(ref) {
  assert.ok(ref.startsWith('#/'), `only local references are used: ${ref}`);
  let node = spec;
  for (const part of ref.slice(2).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    assert.ok(node && Object.hasOwn(node, key), `unresolved reference ${ref}`);
    node = node[key];
  }
  return node;
}
/** Follow $ref chains (response, parameter, header objects). */
const resolve = (o) => (o && o.$ref ? resolve(deref(o.$ref)) : o);

/** Every operation: { method, path, op, key: "METHOD /path" }. */
const operations = [];
for (const [path, item] of Object.entries(spec.paths)) {
  for (const m of METHODS) if (item[m]) operations.push({ method: m.toUpperCase(), path, op: item[m], item, key: `${m.toUpperCase()} ${path}` });
}

/** The stable problem types: name -> { uri, status, global }. */
const PROBLEMS = new Map();
for (const entry of deref('#/components/schemas/ProblemType').oneOf) {
  const m = /^https:\/\/sealpost\.org\/problems\/([a-z-]+)$/.exec(entry.const);
  assert.ok(m, `problem type URI ${entry.const}`);
  PROBLEMS.set(m[1], { uri: entry.const, status: entry['x-status'], global: entry['x-global'] === true });
}

// A small JSON Schema (2020-12 subset) validator for the keywords this
// document uses; a keyword it does not know fails the test rather than being
// silently ignored.
const ANNOTATIONS = new Set(['description', 'title', 'examples', 'example', 'default', 'x-status', 'x-global', 'format']);
const KEYWORDS = new Set(['$ref', 'type', 'enum', 'const', 'properties', 'required', 'additionalProperties',
  'items', 'minItems', 'maxItems', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'oneOf']);

function typeOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Errors (strings) of value against schema; [] when it conforms. */
function validate(schema, value, at = '$') {
  const errs = [];
  for (const k of Object.keys(schema)) {
    if (!KEYWORDS.has(k) && !ANNOTATIONS.has(k)) throw new Error(`schema keyword "${k}" at ${at} is not supported by this test`);
  }
  if (schema.$ref) {
    errs.push(...validate(deref(schema.$ref), value, at));
  }
  if (schema.type) {
    const types = [].concat(schema.type);
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return [...errs, `${at}: ${t}, expected ${types.join('|')}`];
  }
  if (schema.enum && !schema.enum.includes(value)) errs.push(`${at}: ${JSON.stringify(value)} not one of ${schema.enum.join(', ')}`);
  if ('const' in schema && value !== schema.const) errs.push(`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`);
  if (typeof value === 'string') {
    const n = [...value].length;
    if (schema.minLength !== undefined && n < schema.minLength) errs.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && n > schema.maxLength) errs.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) errs.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) errs.push(`${at}: not an RFC 3339 date-time`);
    if (schema.format === 'email' && !/^[^@\s]+@[^@\s]+$/.test(value)) errs.push(`${at}: not an e-mail address`);
    if (schema.format === 'uri' && !URL.canParse(value)) errs.push(`${at}: not a URI`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errs.push(`${at}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errs.push(`${at}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errs.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errs.push(`${at}: more than ${schema.maxItems} items`);
    if (schema.items) value.forEach((v, i) => errs.push(...validate(schema.items, v, `${at}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    for (const r of schema.required || []) if (!Object.hasOwn(value, r)) errs.push(`${at}: member "${r}" missing`);
    const props = schema.properties || {};
    for (const [k, v] of Object.entries(value)) {
      if (props[k]) errs.push(...validate(props[k], v, `${at}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${at}: member "${k}" not allowed`);
      else if (typeof schema.additionalProperties === 'object') errs.push(...validate(schema.additionalProperties, v, `${at}.${k}`));
    }
  }
  if (schema.oneOf) {
    const ok = schema.oneOf.filter((s) => validate(s, value, at).length === 0).length;
    if (ok !== 1) errs.push(`${at}: matches ${ok} of the oneOf alternatives, expected exactly 1`);
  }
  return errs;
}

/** The statuses of an operation's responses, as numbers. */
const statuses = (op) => Object.keys(op.responses).map(Number);
const problemTypesOf = (response) => resolve(response)['x-problem-types'] || [];

test('the document is OpenAPI 3.1 and every reference resolves', () => {
  assert.match(spec.openapi, /^3\.1\.\d+$/);
  assert.ok(spec.info?.title && spec.info?.version, 'info.title and info.version');
  const walk = (node, at) => {
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${at}[${i}]`));
    if (node && typeof node === 'object') {
      if (typeof node.$ref === 'string') deref(node.$ref);
      for (const [k, v] of Object.entries(node)) walk(v, `${at}.${k}`);
    }
  };
  walk(spec, '$');
  for (const name of ['gatewayToken', 'sessionToken']) {
    const s = spec.components.securitySchemes[name];
    assert.equal(s?.type, 'http', `security scheme ${name}`);
    assert.equal(s.scheme, 'bearer', `security scheme ${name} is a bearer token`);
  }
});

test('the stable problem types are listed with their statuses', () => {
  const expected = {
    'invalid-json': 400, 'invalid-request': 422, 'weak-password': 422, 'unsupported-media-type': 415,
    'too-large': 413, unauthorized: 401, 'invalid-credentials': 401, 'password-required': 401,
    'account-inactive': 403, forbidden: 403, 'not-found': 404, 'method-not-allowed': 405, 'token-invalid': 400,
    'invalid-answers': 401, 'account-locked': 423, 'too-many-requests': 429, 'message-locked': 403,
    'message-expired': 410, 'message-recalled': 410, 'confirmation-required': 428, csrf: 403, internal: 500,
    unavailable: 503, 'password-session-required': 403, 'reply-key-conflict': 409,
    'invalid-answer': 422,
  };
  assert.deepEqual(Object.fromEntries([...PROBLEMS].map(([n, p]) => [n, p.status])), expected);
  const problem = deref('#/components/schemas/Problem');
  assert.deepEqual([...problem.required].sort(), ['status', 'title', 'type']);
  assert.equal(problem.properties.type.$ref, '#/components/schemas/ProblemType');
});

test('every operation has a unique operationId, a summary, tags and a 2xx answer', () => {
  const ids = new Map();
  for (const { key, op } of operations) {
    assert.match(op.operationId || '', /^[a-z][A-Za-z0-9]+$/, `${key}: operationId`);
    assert.ok(!ids.has(op.operationId), `${key}: operationId ${op.operationId} is also used by ${ids.get(op.operationId)}`);
    ids.set(op.operationId, key);
    assert.ok(op.summary, `${key}: summary`);
    assert.ok(op.tags?.length, `${key}: tags`);
    assert.ok(Array.isArray(op.security), `${key}: says who may call it (security, [] for anyone)`);
    assert.ok(statuses(op).some((s) => s >= 200 && s < 300), `${key}: no 2xx response`);
    for (const [code, r] of Object.entries(op.responses)) {
      assert.match(code, /^[1-5]\d\d$/, `${key}: response key ${code}`);
      assert.ok(resolve(r).description, `${key} ${code}: description`);
    }
  }
});

test('path parameters are declared with the names used in the path', () => {
  for (const { key, path, op, item } of operations) {
    const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    const declared = [...(item.parameters || []), ...(op.parameters || [])]
      .map(resolve)
      .filter((p) => p.in === 'path')
      .map((p) => {
        assert.equal(p.required, true, `${key}: path parameter ${p.name} must be required`);
        return p.name;
      })
      .sort();
    assert.deepEqual(declared, inPath, `${key}: path parameters`);
  }
});

test('problem responses name their problem types, all from the list, with matching statuses', () => {
  for (const { key, op } of operations) {
    for (const [code, ref] of Object.entries(op.responses)) {
      const r = resolve(ref);
      const isProblem = !!r.content?.['application/problem+json'];
      const types = r['x-problem-types'];
      if (Number(code) < 400) {
        assert.ok(!isProblem && !types, `${key} ${code}: a success is not a problem`);
        continue;
      }
      if (!isProblem) {
        // /readyz says "not ready" in text for load balancers; nothing else may
        assert.equal(`${key} ${code}`, 'GET /readyz 503', `${key} ${code}: errors are application/problem+json`);
        continue;
      }
      assert.ok(Array.isArray(types) && types.length, `${key} ${code}: x-problem-types lists the problem types`);
      for (const t of types) {
        assert.ok(PROBLEMS.has(t), `${key} ${code}: problem type "${t}" is not in components.schemas.ProblemType`);
        assert.equal(PROBLEMS.get(t).status, Number(code), `${key} ${code}: "${t}" is a ${PROBLEMS.get(t).status}`);
      }
      assert.equal(r.content['application/problem+json'].schema?.$ref, '#/components/schemas/Problem', `${key} ${code}: schema`);
      for (const [name, ex] of Object.entries(r.content['application/problem+json'].examples || {})) {
        const t = ex.value.type.replace('https://sealpost.org/problems/', '');
        assert.ok(types.includes(t), `${key} ${code}: example ${name} has type ${t}, not listed`);
        assert.equal(ex.value.status, Number(code), `${key} ${code}: example ${name} status`);
      }
    }
  }
});

test('operations list the problems a client must handle', () => {
  const has = (op, code, type) => op.responses[code] && problemTypesOf(op.responses[code]).includes(type);
  for (const { key, path, op } of operations) {
    if (op.requestBody?.content?.['application/vnd.sealpost.answer']) {
      // The one body that is not JSON: a sealed answer (an envelope file).
      for (const [code, type] of [[413, 'too-large'], [415, 'unsupported-media-type'], [422, 'invalid-answer']])
        assert.ok(has(op, code, type), `${key}: takes a sealed answer, so it must list ${code} ${type}`);
    } else if (op.requestBody) {
      assert.ok(op.requestBody.content?.['application/json'], `${key}: the body is application/json`);
      for (const [code, type] of [[400, 'invalid-json'], [413, 'too-large'], [415, 'unsupported-media-type'], [422, 'invalid-request']]) {
        assert.ok(has(op, code, type), `${key}: takes a JSON body, so it must list ${code} ${type}`);
      }
    }
    const params = [...(spec.paths[path].parameters || []), ...(op.parameters || [])].map(resolve);
    if (params.some((p) => p.in === 'query')) assert.ok(has(op, 422, 'invalid-request'), `${key}: has query parameters, so 422 invalid-request`);
    const needsAuth = op.security.length > 0 && !op.security.some((s) => Object.keys(s).length === 0);
    if (needsAuth) {
      assert.ok(has(op, 401, 'unauthorized'), `${key}: needs a bearer token, so 401 unauthorized`);
      assert.ok(resolve(op.responses[401]).headers?.['WWW-Authenticate'], `${key}: 401 carries WWW-Authenticate`);
    }
    if (path.startsWith('/v1/messages/{id}') && key.split(' ')[0] !== 'OPTIONS') assert.ok(has(op, 404, 'not-found'), `${key}: 404 not-found for an unknown message`);
    if (op['x-rate-limited']) {
      assert.ok(has(op, 429, 'too-many-requests'), `${key}: rate-limited, so 429 too-many-requests`);
    }
    for (const code of ['429']) {
      if (op.responses[code]) assert.ok(resolve(op.responses[code]).headers?.['Retry-After'], `${key} ${code}: Retry-After header`);
    }
    if (path.startsWith('/v1/') && !key.startsWith('OPTIONS')) {
      assert.ok(has(op, 500, 'internal'), `${key}: 500 internal`);
      for (const code of statuses(op).filter((s) => s >= 200 && s < 300)) {
        assert.ok(resolve(op.responses[code]).headers?.['Access-Control-Allow-Origin'], `${key} ${code}: CORS header documented`);
      }
    }
  }
  // sign-in and reset are where lockout and backoff happen
  for (const key of ['POST /v1/sessions', 'POST /v1/accounts/reset/confirm']) {
    const { op } = operations.find((o) => o.key === key);
    assert.ok(has(op, 423, 'account-locked') && has(op, 429, 'too-many-requests'), `${key}: 423 and 429`);
  }
  // every stable type is produced somewhere (or by any path, x-global)
  const used = new Set(operations.flatMap(({ op }) => Object.values(op.responses).flatMap(problemTypesOf)));
  for (const [name, p] of PROBLEMS) assert.ok(used.has(name) || p.global, `problem type ${name} is listed but no operation produces it`);
});

test('every /v1/ path answers the CORS preflight', () => {
  for (const path of Object.keys(spec.paths).filter((p) => p.startsWith('/v1/'))) {
    const op = spec.paths[path].options;
    assert.ok(op, `OPTIONS ${path} is documented`);
    const r = resolve(op.responses?.['204']);
    assert.ok(r, `OPTIONS ${path}: 204`);
    for (const h of ['Access-Control-Allow-Origin', 'Access-Control-Allow-Methods', 'Access-Control-Allow-Headers', 'Access-Control-Max-Age']) {
      assert.ok(r.headers?.[h], `OPTIONS ${path}: header ${h}`);
    }
  }
});

test('request bodies refuse unknown members and give lengths to every string', () => {
  const check = (schema, at) => {
    schema = schema.$ref ? deref(schema.$ref) : schema;
    if (schema.oneOf) return schema.oneOf.forEach((s, i) => check(s, `${at}.oneOf[${i}]`));
    if (schema.type === 'object') {
      assert.equal(schema.additionalProperties, false, `${at}: additionalProperties: false`);
      for (const [k, v] of Object.entries(schema.properties || {})) check(v, `${at}.${k}`);
    } else if (schema.type === 'array') {
      assert.ok(schema.maxItems !== undefined, `${at}: maxItems`);
      check(schema.items, `${at}[]`);
    } else if ([].concat(schema.type).includes('string') && !schema.enum && !schema.format?.startsWith('date')) {
      assert.ok(schema.maxLength !== undefined || schema.pattern, `${at}: maxLength or pattern`);
    }
  };
  for (const { key, op } of operations) {
    const json = op.requestBody?.content['application/json'];
    if (json) check(json.schema, key);
  }
});

test('every example agrees with its schema', () => {
  let n = 0;
  for (const { key, op } of operations) {
    const media = [];
    if (op.requestBody?.content['application/json']) media.push([`${key} request`, op.requestBody.content['application/json']]);
    for (const [code, r] of Object.entries(op.responses)) {
      for (const [type, m] of Object.entries(resolve(r).content || {})) {
        if (type.includes('json')) media.push([`${key} ${code} ${type}`, m]);
      }
    }
    for (const [at, m] of media) {
      for (const [name, ex] of Object.entries(m.examples || {})) {
        assert.deepEqual(validate(m.schema, ex.value), [], `${at} example ${name}`);
        n++;
      }
    }
  }
  assert.ok(n >= 30, `only ${n} examples`);
});

// ------------------------------------------------------ the server's routes

test('the operations are exactly the routes of sealpost-keyd --list-routes', () => {
  const r = spawnSync(requireKeyd(), ['--list-routes'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `sealpost-keyd --list-routes failed: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.trim());
  for (const l of lines) assert.match(l, /^[A-Z]+ \/\S*$/, `--list-routes line "${l}" is not "METHOD /path"`);
  // The preflight is answered for every /v1/ path by the HTTP layer, not by a
  // route of its own; it is checked over HTTP below.
  const server = new Set(lines.filter((l) => !l.startsWith('OPTIONS ')));
  const documented = new Set(operations.filter((o) => o.method !== 'OPTIONS').map((o) => o.key));
  const undocumented = [...server].filter((k) => !documented.has(k));
  const unserved = [...documented].filter((k) => !server.has(k));
  assert.deepEqual(
    { undocumented, unserved },
    { undocumented: [], unserved: [] },
    'undocumented = served by keyd but not in docs/api/openapi.yaml; unserved = in the document but keyd has no such route',
  );
  assert.equal(lines.length, new Set(lines).size, '--list-routes lists each route once');
});

// ------------------------------------------- the real server's answers conform

let keyd;
let GW;

const opByKey = new Map(operations.map((o) => [o.key, o]));

/**
 * Send a request and check the answer against the operation `key` of the
 * document: the status is documented, the media type is one it lists, a JSON
 * body validates against the schema, a problem's type is one listed for the
 * status. Returns { status, body, text, headers }.
 */
async function call(key, { params = {}, query = '', body, raw, contentType, token, headers: extra = {} } = {}) {
  const o = opByKey.get(key);
  assert.ok(o, `${key} is documented`);
  const path = o.path.replace(/\{(\w+)\}/g, (_, n) => encodeURIComponent(params[n]));
  const headers = { ...extra };
  if (token) headers.authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined) headers['content-type'] = contentType || 'application/json';
  const res = await fetch(keyd.url + path + query, { method: o.method, headers, body: payload });
  const text = await res.text();
  const where = `${key} → ${res.status} ${text.slice(0, 300)}`;
  const documented = o.op.responses[String(res.status)];
  assert.ok(documented, `${where}: status ${res.status} is not documented for ${key}`);
  const r = resolve(documented);
  const ctype = (res.headers.get('content-type') || '').split(';')[0].trim();
  if (!r.content) {
    assert.equal(text, '', `${where}: documented without a body`);
  } else {
    assert.ok(r.content[ctype], `${where}: content type ${ctype} not documented (${Object.keys(r.content).join(', ')})`);
    if (ctype.includes('json')) {
      const json = JSON.parse(text);
      assert.deepEqual(validate(r.content[ctype].schema, json), [], `${where}: body does not match the schema`);
      if (ctype === 'application/problem+json') {
        const t = json.type.replace('https://sealpost.org/problems/', '');
        assert.ok(r['x-problem-types'].includes(t), `${where}: problem type ${t} not listed for ${res.status}`);
        assert.equal(json.status, res.status, `${where}: problem status member`);
      }
      for (const h of Object.keys(r.headers || {})) {
        if (h !== 'Cache-Control') assert.ok(res.headers.get(h) !== null, `${where}: header ${h} documented but missing`);
      }
      return { status: res.status, body: json, text, headers: res.headers };
    }
  }
  for (const h of Object.keys(r.headers || {})) {
    if (h !== 'Cache-Control') assert.ok(res.headers.get(h) !== null, `${where}: header ${h} documented but missing`);
  }
  return { status: res.status, body: null, text, headers: res.headers };
}

const PATIENT = 'patient@example.org';
const PASSWORD = 'violet kettle on the stairs';

describe('the running server', () => {
  before(async () => {
    keyd = await startKeyd();
    GW = gatewayToken(keyd.dataDir, 'clinic', ['clinic.example']);
  });
  after(async () => {
    if (keyd) await keyd.stop();
  });

  test('a recipient journey: every answer is the documented one', async () => {
    const created = await call('POST /v1/messages', {
      token: GW,
      body: { from: 'ana.lima@clinic.example', to: [PATIENT, 'carer@example.net'], security: 'high', expires: null },
    });
    assert.equal(created.status, 201);
    const id = created.body.id;
    assert.equal(created.body.org, 'clinic');

    let st = await call('GET /v1/messages/{id}/status', { params: { id }, query: `?rcpt=${encodeURIComponent(PATIENT.toUpperCase())}` });
    assert.equal(st.status, 200);
    assert.equal(st.body.recipient.account, 'unregistered');
    assert.equal(st.body.recipient.email, PATIENT, 'addresses come back lower-cased');

    // registration through the documented call, activation through the mail
    const skip = outbox(keyd.dataDir).map((m) => m.path);
    const reg = await call('POST /v1/accounts', {
      body: {
        email: PATIENT, name: 'Pat Example', password: PASSWORD, phrase: 'blue heron at dawn',
        questions: [{ q: 'First school?', a: 'Saint Anne' }, { q: 'Street you grew up on?', a: 'Rue des Lilas' }],
        message: id,
      },
    });
    assert.equal(reg.status, 202);
    const mail = await latestMail(keyd.dataDir, PATIENT, { skip });
    const spa = mail.link.match(/\/activate#token=(spa_[A-Za-z0-9_-]{43})&m=([A-Za-z0-9_-]+)$/);
    assert.ok(spa, `activation link ${mail.link} is {public_url}/activate#token=spa_…&m=ID`);
    assert.equal(spa[2], id, 'the link names the message');
    const wrongPw = await call('POST /v1/accounts/activate', { body: { token: spa[1], password: 'not the one chosen' } });
    assert.equal(wrongPw.body.type, PROBLEMS.get('invalid-credentials').uri);
    const act = await call('POST /v1/accounts/activate', { body: { token: spa[1], password: PASSWORD } });
    assert.equal(act.status, 200);
    assert.equal((await call('POST /v1/accounts/activate', { body: { token: spa[1], password: PASSWORD } })).body.type, PROBLEMS.get('token-invalid').uri);

    st = await call('GET /v1/messages/{id}/status', { params: { id }, query: `?rcpt=${PATIENT}` });
    assert.equal(st.body.recipient.account, 'active');

    const wrong = await call('POST /v1/sessions', { body: { email: PATIENT, password: 'not the password at all' } });
    assert.equal(wrong.status, 401);
    await new Promise((ok) => setTimeout(ok, 1100)); // the 1 s backoff after one failure

    // "Remember this browser" is for keyd's own pages (their Origin); the
    // device token travels only in the sp_device cookie.
    const own = { origin: keyd.url };
    const s = await call('POST /v1/sessions', { headers: own, body: { email: PATIENT, password: PASSWORD, remember: true } });
    assert.equal(s.status, 201);
    assert.equal(s.body.method, 'password');
    assert.ok(s.body.remembered, 'remember: true answers when the browser is remembered until');
    const deviceCookie = s.headers.getSetCookie().find((c) => c.startsWith('sp_device=')).split(';')[0];
    const fromFile = await call('POST /v1/sessions', { headers: { origin: 'null' }, body: { email: PATIENT, password: PASSWORD, remember: true } });
    assert.equal(fromFile.status, 422, 'not from a file:// page');

    const key = await call('POST /v1/messages/{id}/key', { params: { id }, token: s.body.token, body: {} });
    assert.equal(key.status, 200);
    assert.equal(key.body.key, created.body.key, 'the released key is the one created');
    assert.equal(key.body.kid, created.body.kid);

    const dev = await call('POST /v1/sessions', { headers: { ...own, cookie: deviceCookie }, body: { email: PATIENT, remembered: true } });
    assert.equal(dev.status, 201);
    assert.equal(dev.body.method, 'device');
    const pr = await call('POST /v1/messages/{id}/key', { params: { id }, token: dev.body.token, body: {} });
    assert.equal(pr.status, 401);
    assert.equal(pr.body.type, PROBLEMS.get('password-required').uri);
    const acc = await call('GET /v1/account', { token: dev.body.token });
    assert.equal(acc.status, 403);
    assert.equal(acc.body.type, PROBLEMS.get('password-session-required').uri);

    const out = await call('DELETE /v1/sessions/current', {
      token: s.body.token,
      headers: { ...own, cookie: deviceCookie },
      body: { forget_device: true },
    });
    assert.equal(out.status, 204);
    const gone = await call('POST /v1/messages/{id}/key', { params: { id }, token: s.body.token, body: {} });
    assert.equal(gone.status, 401);
    assert.equal(gone.body.type, PROBLEMS.get('unauthorized').uri);
    const forgotten = await call('POST /v1/sessions', { headers: { ...own, cookie: deviceCookie }, body: { email: PATIENT, remembered: true } });
    assert.equal(forgotten.status, 401, 'forget_device revoked the device token');
    assert.equal(forgotten.body.type, PROBLEMS.get('invalid-credentials').uri);

    // password reset by the mailed link (after the 1 s back-off that the
    // failed sign-in with the forgotten device token started: answering the
    // questions counts as a sign-in attempt)
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const skip2 = outbox(keyd.dataDir).map((m) => m.path);
    const rs = await call('POST /v1/accounts/reset', { body: { email: PATIENT } });
    assert.equal(rs.status, 202);
    const rmail = await latestMail(keyd.dataDir, PATIENT, { skip: skip2 });
    const spr = rmail.link.match(/\/reset#token=(spr_[A-Za-z0-9_-]{43})$/);
    assert.ok(spr, `reset link ${rmail.link} is {public_url}/reset#token=spr_…`);
    const q = await call('POST /v1/accounts/reset/questions', { body: { token: spr[1] } });
    assert.deepEqual(q.body.questions, ['First school?', 'Street you grew up on?']);
    const weak = await call('POST /v1/accounts/reset/confirm', { body: { token: spr[1], answers: ['saint anne', 'rue des lilas'], password: 'password1' } });
    assert.equal(weak.body.type, PROBLEMS.get('weak-password').uri, 'a blocklisted password is refused');
    const done = await call('POST /v1/accounts/reset/confirm', {
      body: { token: spr[1], answers: ['  Saint   ANNE ', 'rue des lilas'], password: 'seven quiet lanterns by the river' },
    });
    assert.equal(done.status, 200);
    assert.equal((await call('POST /v1/accounts/reset', { body: { email: 'nobody@example.org' } })).status, 202);
  });

  test('a security-low message key is released without sign-in to a listed recipient with an account', async () => {
    const created = await call('POST /v1/messages', {
      token: GW,
      body: { from: 'billing@clinic.example', to: ['low@example.org', 'newcomer@example.org'], security: 'low' },
    });
    const id = created.body.id;
    await registerAndActivate(keyd.url, keyd.dataDir, id, 'low@example.org', 'amber lanterns over the bay');
    const k = await call('POST /v1/messages/{id}/key', { params: { id }, body: { rcpt: 'LOW@example.org' } });
    assert.equal(k.status, 200);
    assert.equal(k.body.key, created.body.key);
    const unreg = await call('POST /v1/messages/{id}/key', { params: { id }, body: { rcpt: 'newcomer@example.org' } });
    assert.equal(unreg.status, 401, 'a listed recipient without an account must register first');
    assert.equal(unreg.body.type, PROBLEMS.get('unauthorized').uri);
    const nf = await call('POST /v1/messages/{id}/key', { params: { id }, body: { rcpt: 'other@example.org' } });
    assert.equal(nf.status, 401, 'an address not listed is told to sign in, as a Bcc recipient is');
    const none = await call('POST /v1/messages/{id}/key', { params: { id }, body: {} });
    assert.equal(none.status, 422, 'without a session, rcpt is required');
    assert.equal(none.body.field, 'rcpt');
  });

  test('refusals are the documented problems', async () => {
    const msg = { from: 'ana.lima@clinic.example', to: [PATIENT] };
    let r = await call('POST /v1/messages', { body: msg });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') || '', /^Bearer/);
    r = await call('POST /v1/messages', { body: msg, token: 'spg_' + 'A'.repeat(43) });
    assert.equal(r.body.type, PROBLEMS.get('unauthorized').uri);
    r = await call('DELETE /v1/sessions/current');
    assert.equal(r.body.type, PROBLEMS.get('unauthorized').uri);
    r = await call('DELETE /v1/sessions/current', { token: 'sps_' + 'A'.repeat(43) });
    assert.equal(r.body.type, PROBLEMS.get('unauthorized').uri);
    r = await call('POST /v1/messages', { token: GW, body: { ...msg, from: 'x@elsewhere.example' } });
    assert.equal(r.body.type, PROBLEMS.get('forbidden').uri);
    r = await call('POST /v1/messages', { token: GW, raw: JSON.stringify(msg), contentType: 'text/plain' });
    assert.equal(r.body.type, PROBLEMS.get('unsupported-media-type').uri);
    r = await call('POST /v1/messages', { token: GW, raw: '{"from": "a@clinic.example",' });
    assert.equal(r.body.type, PROBLEMS.get('invalid-json').uri);
    assert.match(r.body.detail || '', /line/i, 'invalid-json names the line');
    assert.match(r.body.detail || '', /column/i, 'invalid-json names the column');
    r = await call('POST /v1/messages', { token: GW, body: { ...msg, colour: 'red' } });
    assert.equal(r.body.type, PROBLEMS.get('invalid-request').uri);
    assert.equal(r.body.field, 'colour');
    r = await call('POST /v1/messages', { token: GW, body: { ...msg, to: [PATIENT, 'a@b.example', 'not an address'] } });
    assert.equal(r.body.field, 'to[2]');
    r = await call('POST /v1/messages', { token: GW, raw: JSON.stringify({ ...msg, profile: 'x'.repeat(70 * 1024) }) });
    assert.equal(r.body.type, PROBLEMS.get('too-large').uri);
    r = await call('GET /v1/messages/{id}/status', { params: { id: 'AAAAAAAAAAAAAAAAAAAAAA' }, query: `?rcpt=${PATIENT}` });
    assert.equal(r.body.type, PROBLEMS.get('not-found').uri);
    r = await call('GET /v1/messages/{id}/status', { params: { id: 'AAAAAAAAAAAAAAAAAAAAAA' } });
    assert.equal(r.status, 422);
    r = await call('POST /v1/accounts/activate', { body: { token: 'spa_' + 'A'.repeat(43), password: 'whatever it is' } });
    assert.equal(r.body.type, PROBLEMS.get('token-invalid').uri);
    r = await call('POST /v1/sessions', { body: { email: 'nobody@example.org', password: 'whatever it is' } });
    assert.equal(r.body.type, PROBLEMS.get('invalid-credentials').uri);
  });

  test('unknown paths are not-found and known paths with another method are method-not-allowed', async () => {
    for (const path of ['/v1/nothing-here', '/v2/messages', '/assets/no-such-file.js']) {
      const r = await fetch(keyd.url + path);
      assert.equal(r.status, 404, path);
      const body = await r.json();
      assert.deepEqual(validate({ $ref: '#/components/schemas/Problem' }, body), [], path);
      assert.equal(body.type, PROBLEMS.get('not-found').uri, path);
    }
    for (const [method, path] of [['GET', '/v1/sessions'], ['PUT', '/v1/messages'], ['POST', '/healthz']]) {
      const r = await fetch(keyd.url + path, { method });
      assert.equal(r.status, 405, `${method} ${path}`);
      const body = await r.json();
      assert.equal(body.type, PROBLEMS.get('method-not-allowed').uri);
      assert.ok(r.headers.get('allow'), `${method} ${path}: Allow header`);
    }
  });

  test('the CORS preflight of every /v1/ path is answered as documented', async () => {
    const pre = resolve(deref('#/components/responses/Preflight'));
    for (const path of Object.keys(spec.paths).filter((p) => p.startsWith('/v1/'))) {
      const url = keyd.url + path.replace('{id}', 'AAAAAAAAAAAAAAAAAAAAAA');
      const r = await fetch(url, {
        method: 'OPTIONS',
        headers: { origin: 'null', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      assert.equal(r.status, 204, `OPTIONS ${path}`);
      for (const [h, def] of Object.entries(pre.headers)) {
        assert.equal(r.headers.get(h), resolve(def).schema.const, `OPTIONS ${path}: ${h}`);
      }
    }
    const r = await fetch(`${keyd.url}/v1/messages/AAAAAAAAAAAAAAAAAAAAAA/status?rcpt=${PATIENT}`, { headers: { origin: 'null' } });
    assert.equal(r.headers.get('access-control-allow-origin'), '*', 'errors carry CORS too, so the envelope can read them');
    assert.equal(r.headers.get('access-control-expose-headers'), 'Retry-After');
    assert.equal(r.headers.get('set-cookie'), null, 'no cookies on /v1/');
  });

  test('operations endpoints and pages answer with the documented media types', async () => {
    assert.match((await call('GET /healthz')).text, /^ok\s*$/);
    assert.match((await call('GET /readyz')).text, /^ready\s*$/);
    // Not public: only on [server] metrics_listen or with the metrics token
    // (keyd-ops.test.mjs checks both), so a development keyd answers 404.
    assert.equal((await call('GET /metrics')).status, 404);
    for (const key of ['GET /', 'GET /open', 'GET /activate', 'GET /reset', 'GET /signin', 'GET /forgot', 'GET /account', 'GET /messages']) {
      const r = await call(key);
      assert.equal(r.status, 200, key);
      assert.match(r.text, /<html/i, key);
      const csp = r.headers.get('content-security-policy') || '';
      assert.match(csp, /^default-src 'none'/, `${key}: CSP denies by default`);
      assert.doesNotMatch(csp, /'unsafe-(inline|eval)'/, `${key}: CSP`);
      for (const [, name] of r.text.matchAll(/(?:src|href)="\/assets\/([A-Za-z0-9._-]+)"/g)) {
        const a = await call('GET /assets/{name}', { params: { name } });
        assert.equal(a.status, 200, `/assets/${name} linked from ${key}`);
      }
    }
  });
});
