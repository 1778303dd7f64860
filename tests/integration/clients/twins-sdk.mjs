// twins-sdk.mjs — runs one scenario with the unmodified @azure/digital-twins-core against a
// castor instance (run in a child process so NODE_EXTRA_CA_CERTS trusts castor's CA).
// Usage: CASTOR_DT_ENDPOINT=https://host:port/dt/name CASTOR_DT_TOKEN=<jwt> node twins-sdk.mjs <scenario>
// Exits 0 when every assertion held; prints the failure otherwise.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DigitalTwinsClient } from '@azure/digital-twins-core';

const endpoint = process.env.CASTOR_DT_ENDPOINT;
const token = process.env.CASTOR_DT_TOKEN;
const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600e3 }) };
const client = new DigitalTwinsClient(endpoint, credential);

const BUILDING = 'dtmi:samples:DTTestBuilding;1';
const FLOOR = 'dtmi:samples:DTTestFloor;1';
const COMPONENT = 'dtmi:samples:DTTestComponent;1';
const MODELS = [
  { '@id': COMPONENT, '@type': 'Interface', '@context': 'dtmi:dtdl:context;2', displayName: 'Component1',
    contents: [{ '@type': 'Property', name: 'ComponentProp1', schema: 'string' },
      { '@type': 'Telemetry', name: 'ComponentTelemetry1', schema: 'integer' }] },
  { '@id': FLOOR, '@type': 'Interface', '@context': 'dtmi:dtdl:context;2', displayName: 'Floor',
    contents: [{ '@type': 'Property', name: 'name', schema: 'string' }] },
  { '@id': BUILDING, '@type': 'Interface', '@context': 'dtmi:dtdl:context;2', displayName: 'Building',
    contents: [{ '@type': 'Property', name: 'AverageTemperature', schema: 'double' },
      { '@type': 'Property', name: 'TemperatureUnit', schema: 'string' },
      { '@type': 'Component', name: 'Component1', schema: COMPONENT },
      { '@type': 'Relationship', name: 'has', target: FLOOR,
        properties: [{ '@type': 'Property', name: 'isAccessRestricted', schema: 'boolean' }] }] },
];

const building = (extra = {}) => ({ $metadata: { $model: BUILDING }, AverageTemperature: 68, TemperatureUnit: 'Celsius', Component1: { $metadata: {} }, ...extra });

async function rejects(p, status, code, phrase) {
  try {
    await p;
  } catch (e) {
    assert.equal(e.statusCode, status, `${e.statusCode} ${e.code} ${e.message}`);
    if (code) assert.equal(e.code, code, e.message);
    if (phrase) assert.ok(e.message.includes(phrase), `message "${e.message}" lacks "${phrase}"`);
    return e;
  }
  assert.fail(`expected ${status} ${code}`);
}

async function models() {
  await client.createModels(MODELS);
}

async function twins() {
  // upsert, get
  const created = await client.upsertDigitalTwin('b1', JSON.stringify(building()));
  assert.equal(created.body.$dtId, 'b1');
  assert.equal(created.body.AverageTemperature, 68);
  assert.equal(created.body.$metadata.$model, BUILDING);
  assert.ok(created.body.$metadata.AverageTemperature.lastUpdateTime);
  assert.equal(created.etag, created.body.$etag);
  const got = await client.getDigitalTwin('b1');
  assert.deepEqual(got.body, created.body);
  assert.equal(got.etag, created.etag);
  await rejects(client.getDigitalTwin('nope'), 404, 'DigitalTwinNotFound', 'There is no digital twin instance that exists with the ID nope');
  // conditional create
  await rejects(client.upsertDigitalTwin('b1', JSON.stringify(building()), { ifNoneMatch: '*' }), 412, 'PreconditionFailed');
  const c2 = await client.upsertDigitalTwin('b2', JSON.stringify(building()), { ifNoneMatch: '*' });
  assert.equal(c2.body.$dtId, 'b2');
  // invalid twins
  await rejects(client.upsertDigitalTwin('bad', JSON.stringify(building({ Bogus: 1 }))), 400, 'ValidationFailed', '$.Bogus');
  await rejects(client.upsertDigitalTwin('bad', JSON.stringify({ $metadata: { $model: 'dtmi:samples:Nope;1' } })), 400, 'ValidationFailed');
  await rejects(client.getDigitalTwin('bad'), 404, 'DigitalTwinNotFound');
  // JSON Patch: replace, add, remove, multiple, invalid
  let r = await client.updateDigitalTwin('b1', [{ op: 'replace', path: '/AverageTemperature', value: 42 }]);
  assert.ok(r.etag);
  assert.equal((await client.getDigitalTwin('b1')).body.AverageTemperature, 42);
  await client.updateDigitalTwin('b1', [{ op: 'remove', path: '/TemperatureUnit' }]);
  assert.equal((await client.getDigitalTwin('b1')).body.TemperatureUnit, undefined);
  await client.updateDigitalTwin('b1', [{ op: 'add', path: '/TemperatureUnit', value: 'F' }]);
  await client.updateDigitalTwin('b1', [
    { op: 'replace', path: '/AverageTemperature', value: 50 },
    { op: 'replace', path: '/TemperatureUnit', value: 'Kelvin' },
    { op: 'add', path: '/Component1/ComponentProp1', value: 'x' }]);
  const after = (await client.getDigitalTwin('b1')).body;
  assert.equal(after.AverageTemperature, 50);
  assert.equal(after.TemperatureUnit, 'Kelvin');
  assert.equal(after.Component1.ComponentProp1, 'x');
  await rejects(client.updateDigitalTwin('b1', [{ op: 'move', path: '/AverageTemperature', value: 42 }]), 400, 'JsonPatchInvalid',
    'Unsupported operation type move. Please provide a valid patch document.');
  await rejects(client.updateDigitalTwin('b1', [{ op: 'replace', path: '/AverageTemperature', value: 'warm' }]), 400, 'ValidationFailed', '$.AverageTemperature');
  await rejects(client.updateDigitalTwin('nope', [{ op: 'replace', path: '/AverageTemperature', value: 1 }]), 404, 'DigitalTwinNotFound');
  // conditional update and delete
  const cur = await client.getDigitalTwin('b2');
  await rejects(client.updateDigitalTwin('b2', [{ op: 'replace', path: '/AverageTemperature', value: 1 }], { ifMatch: 'XXX' }), 400, 'InvalidArgument',
    'Invalid If-Match header value. Allowed value(s): If-Match: {etag} or If-Match: *');
  await rejects(client.updateDigitalTwin('b2', [{ op: 'replace', path: '/AverageTemperature', value: 1 }], { ifMatch: 'W/"00000000-0000-0000-0000-000000000000"' }), 412, 'PreconditionFailed');
  r = await client.updateDigitalTwin('b2', [{ op: 'replace', path: '/AverageTemperature', value: 1 }], { ifMatch: cur.etag });
  await rejects(client.deleteDigitalTwin('b2', { ifMatch: cur.etag }), 412, 'PreconditionFailed');
  await client.deleteDigitalTwin('b2', { ifMatch: r.etag });
  await rejects(client.getDigitalTwin('b2'), 404, 'DigitalTwinNotFound');
  await rejects(client.deleteDigitalTwin('b2'), 404, 'DigitalTwinNotFound');
  await client.deleteDigitalTwin('b1');
}

async function relationships() {
  await client.upsertDigitalTwin('rb', JSON.stringify(building()));
  for (const f of ['f1', 'f2', 'f3']) await client.upsertDigitalTwin(f, JSON.stringify({ $metadata: { $model: FLOOR }, name: f }));
  const rel = (id, target) => ({ $relationshipId: id, $sourceId: 'rb', $targetId: target, $relationshipName: 'has', isAccessRestricted: false });
  const created = await client.upsertRelationship('rb', 'r1', rel('r1', 'f1'));
  assert.equal(created.body.$relationshipId, 'r1');
  assert.equal(created.body.$targetId, 'f1');
  assert.equal(created.etag, created.body.$etag);
  await client.upsertRelationship('rb', 'r2', rel('r2', 'f2'));
  await client.upsertRelationship('rb', 'r3', rel('r3', 'f3'));
  await rejects(client.upsertRelationship('rb', 'r1', rel('r1', 'f1'), { ifNoneMatch: '*' }), 412, 'PreconditionFailed');
  await rejects(client.upsertRelationship('rb', 'bad', { ...rel('bad', 'nope') }), 404, 'TargetTwinNotFound');
  await rejects(client.upsertRelationship('rb', 'bad', { ...rel('bad', 'f1'), $relationshipName: 'nope' }), 400, 'InvalidRelationship');
  await rejects(client.upsertRelationship('f1', 'bad', { $relationshipId: 'bad', $sourceId: 'f1', $targetId: 'rb', $relationshipName: 'has' }), 400, 'InvalidRelationship');
  const got = await client.getRelationship('rb', 'r1');
  assert.equal(got.body.$relationshipName, 'has');
  assert.equal(got.body.isAccessRestricted, false);
  await rejects(client.getRelationship('rb', 'nope'), 404, 'RelationshipNotFound');
  // update
  const u = await client.updateRelationship('rb', 'r1', [{ op: 'replace', path: '/isAccessRestricted', value: true }]);
  assert.ok(u.etag);
  assert.equal((await client.getRelationship('rb', 'r1')).body.isAccessRestricted, true);
  await rejects(client.updateRelationship('rb', 'r1', [{ op: 'replace', path: '/isAccessRestricted', value: 'yes' }]), 400, 'ValidationFailed');
  await rejects(client.updateRelationship('rb', 'r1', [{ op: 'move', path: '/isAccessRestricted' }]), 400, 'JsonPatchInvalid');
  await rejects(client.updateRelationship('rb', 'r1', [{ op: 'replace', path: '/isAccessRestricted', value: false }], { ifMatch: created.etag }), 412, 'PreconditionFailed');
  // list (paged through nextLink by the SDK) and incoming
  const ids = [];
  for await (const x of client.listRelationships('rb')) ids.push(x.$relationshipId);
  assert.deepEqual(ids.sort(), ['r1', 'r2', 'r3']);
  const pages = [];
  for await (const page of client.listRelationships('rb').byPage({ maxPageSize: 2 })) pages.push(page.value.length);
  assert.equal(pages.reduce((a, b) => a + b, 0), 3);
  const incoming = [];
  for await (const x of client.listIncomingRelationships('f2')) incoming.push(x);
  assert.equal(incoming.length, 1);
  assert.equal(incoming[0].sourceId ?? incoming[0].$sourceId, 'rb');
  // a twin with relationships cannot be deleted
  await rejects(client.deleteDigitalTwin('f1'), 400, 'RelationshipsNotDeleted');
  // delete
  await client.deleteRelationship('rb', 'r1');
  await rejects(client.getRelationship('rb', 'r1'), 404, 'RelationshipNotFound');
  await rejects(client.deleteRelationship('rb', 'r1'), 404, 'RelationshipNotFound');
  const cur = await client.getRelationship('rb', 'r2');
  await rejects(client.deleteRelationship('rb', 'r2', { ifMatch: created.etag }), 412, 'PreconditionFailed');
  await client.deleteRelationship('rb', 'r2', { ifMatch: cur.etag });
  await client.deleteRelationship('rb', 'r3');
  await client.deleteDigitalTwin('f1');
}

async function components() {
  await client.upsertDigitalTwin('cb', JSON.stringify(building({ Component1: { ComponentProp1: 'a', $metadata: {} } })));
  const c = await client.getComponent('cb', 'Component1');
  assert.equal(c.body.ComponentProp1, 'a');
  assert.ok(c.body.$metadata.ComponentProp1.lastUpdateTime);
  await rejects(client.getComponent('cb', 'Nope'), 404, 'ComponentNotFound');
  await client.updateComponent('cb', 'Component1', [{ op: 'replace', path: '/ComponentProp1', value: 'b' }]);
  assert.equal((await client.getComponent('cb', 'Component1')).body.ComponentProp1, 'b');
  await client.updateComponent('cb', 'Component1', [{ op: 'remove', path: '/ComponentProp1' }]);
  await client.updateComponent('cb', 'Component1', [{ op: 'add', path: '/ComponentProp1', value: 'c' }]);
  const twin = await client.getDigitalTwin('cb');
  assert.equal(twin.body.Component1.ComponentProp1, 'c');
  await rejects(client.updateComponent('cb', 'Component1', [{ op: 'add', path: '/ComponentProp1', value: 1 }], { ifMatch: c.etag }), 412, 'PreconditionFailed');
  await rejects(client.updateComponent('cb', 'Component1', [{ op: 'add', path: '/ComponentProp1', value: 1 }]), 400, 'ValidationFailed');
  await rejects(client.updateComponent('nope', 'Component1', []), 404, 'DigitalTwinNotFound');
}

async function telemetry() {
  await client.upsertDigitalTwin('tb', JSON.stringify(building()));
  await client.publishTelemetry('tb', { AverageTemperature: 70 }, 'msg-1');
  await client.publishTelemetry('tb', { hello: 'world' });
  // The SDK swaps component telemetry's arguments: the "payload" travels as Message-Id.
  await client.publishComponentTelemetry('tb', 'Component1', JSON.stringify({ ComponentTelemetry1: 5 }), 'msg-2');
  await rejects(client.publishTelemetry('nope', { x: 1 }, 'm'), 404, 'DigitalTwinNotFound');
  await rejects(client.publishComponentTelemetry('tb', 'Nope', '{}', 'm'), 404, 'ComponentNotFound');
}

// Loads a generated graph (twins then relationships) and prints what reads back.
async function loadGraph() {
  const graph = JSON.parse(readFileSync(process.argv[3], 'utf8'));
  await client.createModels(graph.models);
  const queue = [...graph.twins];
  const worker = async () => {
    for (let t; (t = queue.shift());) await client.upsertDigitalTwin(t.$dtId, JSON.stringify(t));
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const rq = [...graph.relationships];
  const rworker = async () => {
    for (let r; (r = rq.shift());) await client.upsertRelationship(r.$sourceId, r.$relationshipId, r);
  };
  await Promise.all(Array.from({ length: 8 }, rworker));
  let mismatches = 0;
  for (const t of graph.twins) {
    const got = (await client.getDigitalTwin(t.$dtId)).body;
    for (const [k, v] of Object.entries(t)) {
      if (k === '$metadata') { if (got.$metadata.$model !== v.$model) mismatches++; continue; }
      const g = got[k];
      const strip = (o) => (o && typeof o === 'object' ? Object.fromEntries(Object.entries(o).filter(([x]) => x !== '$metadata')) : o);
      if (JSON.stringify(strip(g)) !== JSON.stringify(strip(v))) { mismatches++; console.error('twin', t.$dtId, k, g, v); }
    }
  }
  let rels = 0;
  const bySource = new Map();
  for (const r of graph.relationships) bySource.set(r.$sourceId, (bySource.get(r.$sourceId) || 0) + 1);
  for (const [src, n] of bySource) {
    let got = 0;
    for await (const x of client.listRelationships(src)) {
      const want = graph.relationships.find((r) => r.$sourceId === src && r.$relationshipId === x.$relationshipId);
      if (!want || want.$targetId !== x.$targetId || want.$relationshipName !== x.$relationshipName) mismatches++;
      got++;
    }
    if (got !== n) mismatches++;
    rels += got;
  }
  console.log(JSON.stringify({ twins: graph.twins.length, relationships: rels, mismatches }));
  assert.equal(mismatches, 0);
}

const scenarios = { models, twins, relationships, components, telemetry, loadGraph };
try {
  await scenarios[process.argv[2]]();
  console.log('ok');
} catch (e) {
  console.error(e.stack || e);
  if (e.response) console.error(e.response.bodyAsText);
  process.exit(1);
}
