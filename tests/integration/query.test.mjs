// query.test.mjs — ADT queries against a real castor: a RealEstateCore graph of ~2,600 twins
// and ~4,700 relationships (query/graph.mjs) loaded through the data plane, then every case of
// query/expected.json checked through the unmodified @azure/digital-twins-core queryTwins
// (query-sdk.mjs, paging included); continuation tokens that are tampered with or replayed
// by another caller or on another instance; writes visible to the next query; the time budget;
// query-charge. Skips when ../shared (the ontology) is absent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCastor, stopCastor, request } from './lib/castor.js';
import { userToken, ADT_SCOPE, ARM_SCOPE, ROLE, createInstance, assignRole, claims, bearer } from './lib/azure.js';
import { execFile } from 'node:child_process';
import { recAvailable, recBatches } from './query/rec.mjs';
import { cli, clientHome, ADMIN, ADMIN_PW } from './cli_helpers.mjs';
import { buildGraph } from './query/graph.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const skip = !recAvailable();
if (skip) console.log('skipped: no ../shared');
let c; let tok; let endpoint; let agent;

const call = (method, path, body, headers = {}, token = tok) => request(c, method, `${path}${path.includes('?') ? '&' : '?'}api-version=2022-05-31`, {
  body: body === undefined ? undefined : JSON.stringify(body), headers: { ...bearer(token), ...headers }, agent,
});
const query = (inst, body, headers, token) => call('POST', `/dt/${inst}/query`, body, headers, token);

// An instance with the test user as its Data Owner (the role assignment reaches the data plane
// once the RBAC snapshot is swapped, hence the wait).
async function readyInstance(castor, name) {
  const armTok = await userToken(castor, ARM_SCOPE);
  const token = await userToken(castor, ADT_SCOPE);
  const id = await createInstance(castor, armTok, name);
  await assignRole(castor, armTok, id, ROLE.dataOwner, claims(token).oid);
  for (let i = 0; i < 100; i++) {
    const r = await request(castor, 'GET', `/dt/${name}/models?api-version=2022-05-31`, { headers: bearer(token) });
    if (r.status === 200) break;
    await new Promise((r2) => setTimeout(r2, 100));
  }
  return { token, endpoint: `${castor.url}/dt/${name}` };
}

const runClient = (cmd, args, env) => new Promise((res) => {
  execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 600000, maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
    res({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
});

async function pool(items, n, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (i < items.length) { const k = i++; await fn(items[k]); } }));
}

before(async () => {
  if (skip) return;
  c = await startCastor();
  agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca: c.ca });
  ({ token: tok, endpoint } = await readyInstance(c, 'rec'));
  for (const batch of recBatches()) {
    const r = await call('POST', '/dt/rec/models', batch);
    assert.equal(r.status, 201, r.text);
  }
  const g = buildGraph();
  await pool(g.twins, 8, async (t) => {
    const r = await call('PUT', `/dt/rec/digitaltwins/${encodeURIComponent(t.$dtId)}`, t);
    assert.equal(r.status, 200, `${t.$dtId}: ${r.text}`);
  });
  await pool(g.rels, 8, async (x) => {
    const r = await call('PUT', `/dt/rec/digitaltwins/${encodeURIComponent(x.$sourceId)}/relationships/${encodeURIComponent(x.$relationshipId)}`, x);
    assert.equal(r.status, 200, `${x.$relationshipId}: ${r.text}`);
  });
});
after(async () => { agent?.destroy(); if (c) await stopCastor(c); });

const sdk = (scenario) => runClient(process.execPath, [join(here, 'clients', 'query-sdk.mjs'), scenario], {
  CASTOR_DT_ENDPOINT: endpoint, CASTOR_DT_TOKEN: tok, NODE_EXTRA_CA_CERTS: c.connection.caFile,
});

test('query results: every case of query/expected.json through the SDK, paging included', { skip }, async () => {
  const r = await sdk('results');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /(\d+) of \1 query cases matched/);
});

test('query errors: syntax, semantics and limits are 400 SqlQueryError with the position', { skip }, async () => {
  const r = await sdk('errors');
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('continuation tokens: opaque, tamper-evident, bound to the instance and the caller', { skip }, async () => {
  const first = await query('rec', { query: 'SELECT T.$dtId FROM DIGITALTWINS T' }, { 'max-items-per-page': '10' });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.value.length, 10);
  const t1 = first.json.continuationToken;
  assert.equal(typeof t1, 'string');
  assert.ok(!t1.includes('SELECT'), 'the token does not show the query in clear');
  const second = await query('rec', { continuationToken: t1 }, { 'max-items-per-page': '10' });
  assert.equal(second.status, 200, second.text);
  const seen = new Set(first.json.value.map((r) => r.$dtId));
  for (const r of second.json.value) assert.ok(!seen.has(r.$dtId), 'pages do not overlap');
  // Any changed character is refused.
  const [p, m] = t1.split('.');
  const flip = (s, i) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  for (const bad of [`${flip(p, 5)}.${m}`, `${p}.${flip(m, 3)}`, 'garbage', `${p}`, '']) {
    const r = await query('rec', { continuationToken: bad });
    assert.equal(r.status, 400, `${bad}: ${r.text}`);
    assert.equal(r.json.error.code, 'BadRequest', r.text);
  }
  // Another instance of the same caller, and another caller on this instance.
  await readyInstance(c, 'rec2');
  const other = await query('rec2', { continuationToken: t1 });
  assert.equal(other.status, 400, other.text);
  assert.match(other.json.error.message, /another instance or caller/);
});

test('an acknowledged write is in the next query; query-charge is a number', { skip }, async () => {
  for (let i = 0; i < 5; i++) {
    const id = `fresh-${i}`;
    const put = await call('PUT', `/dt/rec/digitaltwins/${id}`, { $metadata: { $model: 'dtmi:castor:test:Wing;1' }, name: `Fresh ${i}` });
    assert.equal(put.status, 200, put.text);
    const q = await query('rec', { query: `SELECT T.name FROM DIGITALTWINS T WHERE T.$dtId = '${id}'` });
    assert.deepEqual(q.json.value, [{ name: `Fresh ${i}` }]);
    assert.match(q.headers['query-charge'], /^\d+(\.\d+)?$/);
    const del = await call('DELETE', `/dt/rec/digitaltwins/${id}`);
    assert.equal(del.status, 204, del.text);
    const gone = await query('rec', { query: `SELECT COUNT() FROM DIGITALTWINS T WHERE T.$dtId = '${id}'` });
    assert.deepEqual(gone.json.value, [{ COUNT: 0 }]);
  }
});

test('max-items-per-page: capped at 1000, refused when not a positive number', { skip }, async () => {
  const big = await query('rec', { query: 'SELECT T.$dtId FROM DIGITALTWINS T' }, { 'max-items-per-page': '5000' });
  assert.equal(big.status, 200);
  assert.equal(big.json.value.length, 1000);
  const bad = await query('rec', { query: 'SELECT * FROM DIGITALTWINS' }, { 'max-items-per-page': 'many' });
  assert.equal(bad.status, 400);
  const none = await query('rec', {});
  assert.equal(none.status, 400);
  assert.equal(none.json.error.code, 'BadRequest');
});

test('castor dt twin query: every page, -o json as az prints it, -o table', { skip }, async () => {
  const home = clientHome();
  const login = await cli(home, ['login', '-u', ADMIN, '-p', ADMIN_PW, '--server', c.url, '--ca-file', c.connection.caFile]);
  assert.equal(login.code, 0, login.stderr);
  const q = "SELECT T.$dtId, T.levelNumber FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:digitaltwins:rec_3_3:core:Level;1')";
  const j = await cli(home, ['dt', 'twin', 'query', '-n', 'rec', '-q', q, '--page-size', '3', '--show-cost']);
  assert.equal(j.code, 0, j.stderr);
  const out = JSON.parse(j.stdout);
  assert.equal(out.result.length, 20, 'all pages of 3 were followed');
  assert.ok(out.cost >= 7, `cost ${out.cost}: at least 1 per page`);
  assert.deepEqual(out.result.map((r) => r.$dtId).sort(), Array.from({ length: 20 }, (_, i) => `B${1 + Math.floor(i / 5)}-L${i % 5}`).sort());
  const t = await cli(home, ['dt', 'twin', 'query', '-n', 'rec', '-q', "SELECT T.name FROM DIGITALTWINS T WHERE T.$dtId = 'B2'", '-o', 'table']);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /Building 2/);
  const bad = await cli(home, ['dt', 'twin', 'query', '-n', 'rec', '-q', 'SELECT FROM']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /position/);
});

// COUNT filtered by IS_OF_MODEL alone (or not at all) is answered from the store's per-model
// counts; the same question with a second, always-true condition scans the twins. They must
// agree for every model of the graph, with and without exact, a base model, a model with no
// twin, and after twins are added, re-modelled and deleted.
test('COUNT by model agrees with the scanning form on the results graph', { skip }, async () => {
  const count = async (q) => {
    const r = await query('rec', { query: q });
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    return r.json.value[0].COUNT;
  };
  const agree = async (filter) => {
    const fast = await count(`SELECT COUNT() FROM DIGITALTWINS T${filter ? ` WHERE ${filter}` : ''}`);
    const scan = await count(`SELECT COUNT() FROM DIGITALTWINS T WHERE ${filter ? `${filter} AND ` : ''}IS_DEFINED(T.$dtId)`);
    assert.equal(fast, scan, filter || 'no filter');
    return fast;
  };
  const graph = buildGraph().twins;
  const models = [...new Set(graph.map((t) => t.$metadata.$model))];
  models.push('dtmi:digitaltwins:rec_3_3:core:Space;1', 'dtmi:digitaltwins:rec_3_3:core:Capability;1', 'dtmi:castor:none;1');
  const check = async () => {
    assert.ok((await agree('')) > 0);
    for (const m of models) {
      await agree(`IS_OF_MODEL(T, '${m}')`);
      await agree(`IS_OF_MODEL('${m}', exact)`);
    }
  };
  await check();
  const wing = 'dtmi:castor:test:Wing;1';
  const before = await agree(`IS_OF_MODEL('${wing}')`);
  for (let i = 0; i < 3; i++) {
    const put = await call('PUT', `/dt/rec/digitaltwins/count-${i}`, { $metadata: { $model: wing }, name: `C ${i}` });
    assert.equal(put.status, 200, put.text);
  }
  assert.equal(await agree(`IS_OF_MODEL('${wing}')`), before + 3);
  // Replaced with another model: counted under the new one only.
  const other = graph.find((t) => t.$metadata.$model !== wing);
  const re = await call('PUT', '/dt/rec/digitaltwins/count-0', { ...other, $dtId: 'count-0' });
  assert.equal(re.status, 200, re.text);
  assert.equal(await agree(`IS_OF_MODEL('${wing}')`), before + 2);
  for (let i = 0; i < 3; i++) assert.equal((await call('DELETE', `/dt/rec/digitaltwins/count-${i}`)).status, 204);
  assert.equal(await agree(`IS_OF_MODEL('${wing}')`), before);
  await check();
});
