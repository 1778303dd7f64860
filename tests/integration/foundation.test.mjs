// foundation.test.mjs — the listener as a client sees it: TLS trust, probes, keep-alive,
// request ids, and errors in each plane's shape before any handler runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { existsSync, readFileSync } from 'node:fs';
import { startCastor, stopCastor, request, GUID } from './lib/castor.js';

let castor;
before(async () => { castor = await startCastor(); });
after(async () => { if (castor) await stopCastor(castor); });

const DP = '/dt/inst1';
const V = 'api-version=2022-05-31';

test('TLS is trusted through ca.pem and only through it', async () => {
  const r = await request(castor, 'GET', '/healthz');
  assert.equal(r.status, 200);
  await assert.rejects(
    new Promise((res, rej) => {
      https.get({ host: 'localhost', port: castor.port, path: '/healthz', agent: false }, res).on('error', rej);
    }),
    (e) => /self.signed|unable to (verify|get local issuer)/i.test(e.message) || /CERT|SIGNATURE|ISSUER/.test(e.code ?? ''),
  );
  // 127.0.0.1 is in the certificate too.
  const ip = await new Promise((res, rej) => {
    https.get({ host: '127.0.0.1', port: castor.port, path: '/healthz', ca: castor.ca, agent: false }, (r2) => {
      r2.resume();
      res(r2.statusCode);
    }).on('error', rej);
  });
  assert.equal(ip, 200);
});

test('healthz and readyz answer without authentication', async () => {
  const h = await request(castor, 'GET', '/healthz');
  assert.equal(h.json.status, 'ok');
  const r = await request(castor, 'GET', '/readyz');
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'ready');
  assert.ok(r.json.schemaVersion >= 1);
});

test('every response carries a request id and echoes the client request id', async () => {
  const r = await request(castor, 'GET', '/healthz', { headers: { 'x-ms-client-request-id': 'abc-123' } });
  assert.match(r.headers['x-ms-request-id'], GUID);
  assert.equal(r.headers['x-ms-client-request-id'], 'abc-123');
  const e = await request(castor, 'GET', '/nowhere/at/all');
  assert.match(e.headers['x-ms-request-id'], GUID);
});

test('two requests on one connection reuse it (keep-alive over TLS)', async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: castor.ca });
  try {
    const a = await request(castor, 'GET', '/healthz', { agent });
    const b = await request(castor, 'GET', '/readyz', { agent });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(a.reusedSocket, false);
    assert.equal(b.reusedSocket, true, 'the second request must reuse the first connection');
    assert.notEqual(a.headers.connection, 'close');
    // An error response must keep the connection too.
    const c = await request(castor, 'GET', `${DP}/models`, { agent });
    assert.equal(c.status, 400);
    const d = await request(castor, 'GET', '/healthz', { agent });
    assert.equal(d.reusedSocket, true);
  } finally {
    agent.destroy();
  }
});

test('data plane: unknown path 404, wrong method 405 in ADT shape', async () => {
  const nf = await request(castor, 'GET', `${DP}/nothing-here?${V}`);
  assert.equal(nf.status, 404);
  assert.equal(typeof nf.json.error.code, 'string');
  assert.match(nf.json.error.message, /No operation is served at GET/);
  assert.equal(nf.headers['x-ms-error-code'], nf.json.error.code);

  const ma = await request(castor, 'PUT', `${DP}/models?${V}`, { body: '[]' });
  assert.equal(ma.status, 405);
  assert.equal(ma.json.error.code, 'MethodNotAllowed');
  assert.equal(ma.headers.allow, 'POST, GET');
});

test('data plane: api-version missing or unsupported is 400 with the supported list', async () => {
  const missing = await request(castor, 'GET', `${DP}/models`);
  assert.equal(missing.status, 400);
  assert.equal(missing.json.error.code, 'MissingApiVersionParameter');
  assert.match(missing.json.error.message, /2022-05-31/);
  const bad = await request(castor, 'GET', `${DP}/models?api-version=1999-01-01`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, 'InvalidApiVersionParameter');
  assert.match(bad.json.error.message, /'1999-01-01' is invalid.*2023-10-31/);
});

test('malformed JSON is 400 naming the offset; deep nesting is refused', async () => {
  const r = await request(castor, 'POST', `${DP}/query?${V}`, { body: '{"query": "SELECT" ,, }' });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /not valid JSON.*line 1, column \d+ \(byte offset \d+\)/);
  const deep = '['.repeat(200) + ']'.repeat(200);
  const d = await request(castor, 'POST', `${DP}/query?${V}`, { body: deep });
  assert.equal(d.status, 400);
  assert.match(d.json.error.message, /deeper than 64 levels/);
});

test('an over-large body is 413, and the connection stays usable', async () => {
  const big = JSON.stringify({ query: 'x'.repeat(40 * 1024) });
  const r = await request(castor, 'POST', `${DP}/query?${V}`, { body: big });
  assert.equal(r.status, 413);
  assert.equal(r.json.error.code, 'PayloadTooLarge');
  assert.match(r.json.error.message, /larger than 32768 bytes/);
  // Model uploads may be up to 1 MB (ADT's limit), so 40 KB passes the size check there.
  const m = await request(castor, 'POST', `${DP}/models?${V}`, { body: JSON.stringify([{ pad: 'x'.repeat(40 * 1024) }]) });
  assert.notEqual(m.status, 413);
});

test('checks run before the instance is looked up; an unknown instance is 404', async () => {
  const r = await request(castor, 'GET', `${DP}/models?${V}`);
  assert.equal(r.status, 404);
  assert.match(r.json.error.message, /instance named 'inst1'/);
});

test('resource manager and identity planes answer in their own error shapes', async () => {
  const arm = await request(castor, 'GET', '/subscriptions/00000000-0000-0000-0000-000000000000/nothing?api-version=2021-04-01');
  assert.equal(arm.status, 404);
  assert.ok(arm.json.error.code);
  assert.ok(arm.json.error.message);
  const idn = await request(castor, 'GET', '/some-tenant/oauth2/v2.0/nothing');
  assert.equal(idn.status, 404);
  assert.equal(idn.json.error, 'invalid_request');
  assert.match(idn.json.error_description, /^AADSTS\d+: .*\r\nTrace ID: /);
  assert.ok(Array.isArray(idn.json.error_codes));
  assert.match(idn.json.trace_id, GUID);
  const graph = await request(castor, 'GET', '/v1.0/nothing');
  assert.equal(graph.status, 404);
  assert.equal(graph.json.error.code, 'Request_ResourceNotFound');
});

test('oversized request headers are refused and the server lives on', async () => {
  const r = await request(castor, 'GET', '/healthz', { headers: { 'x-big': 'a'.repeat(100 * 1024) } })
    .catch((e) => ({ status: 'reset', error: e }));
  if (r.status !== 'reset') assert.ok(r.status === 431 || r.status === 413 || r.status === 400, `got ${r.status}`);
  const ok = await request(castor, 'GET', '/healthz');
  assert.equal(ok.status, 200);
});

test('connection.json tells clients where to connect', async () => {
  const c = castor.connection;
  assert.equal(c.authority, `https://localhost:${castor.port}`);
  assert.match(c.tenantId, GUID);
  assert.match(c.subscriptionId, GUID);
  assert.equal(c.resourceManager, `https://localhost:${castor.port}/`);
  assert.equal(c.graph, `https://localhost:${castor.port}/`);
  assert.equal(c.adminUser, 'admin@castor.local');
  assert.ok(existsSync(c.caFile));
  assert.match(readFileSync(c.caFile, 'utf8'), /BEGIN CERTIFICATE/);
});

test('the access log has one JSON line per request, without the query string', async () => {
  await request(castor, 'GET', `${DP}/models?api-version=2022-05-31&secret=hunter2`);
  await new Promise((r) => setTimeout(r, 100));
  const lines = castor.stderr().split('\n').filter((l) => l.includes('"msg":"request"'));
  assert.ok(lines.length > 5);
  const parsed = lines.map((l) => JSON.parse(l));
  const hit = parsed.find((l) => l.path === `${DP}/models` && l.status === 404);
  assert.ok(hit, 'the request is logged');
  for (const k of ['method', 'status', 'bytes', 'us', 'requestId']) assert.ok(k in hit, k);
  assert.ok(!castor.stderr().includes('hunter2'), 'query values never reach the log');
});
