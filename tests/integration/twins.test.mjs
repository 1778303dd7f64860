// twins.test.mjs — the twin graph through the unmodified official SDKs: @azure/digital-twins-core
// (in a child node process trusting castor's CA through NODE_EXTRA_CA_CERTS) for what the SDK's
// own live tests cover, Debian's Python azure.digitaltwins.core for the basic lifecycle, and the
// outbox events every change leaves behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCastor, stopCastor, storeSql } from './lib/castor.js';
import { dp } from './lib/azure.js';
import { readyInstance, runClient } from './lib/twins.js';

const here = dirname(fileURLToPath(import.meta.url));
let c; let adtTok; let endpoint;

const sdk = (scenario, extra = []) => runClient(process.execPath, [join(here, 'clients', 'twins-sdk.mjs'), scenario, ...extra], {
  CASTOR_DT_ENDPOINT: endpoint, CASTOR_DT_TOKEN: adtTok, NODE_EXTRA_CA_CERTS: c.connection.caFile,
});

function sql(q) {
  return storeSql(c.dataDir, q);
}

before(async () => {
  c = await startCastor();
  ({ token: adtTok, endpoint } = await readyInstance(c, 'twins1'));
  const r = await sdk('models');
  assert.equal(r.code, 0, r.stderr + r.stdout);
});
after(async () => { if (c) await stopCastor(c); });

test('twins: upsert, get, conditional create/update/delete, JSON Patch add/replace/remove/multiple/invalid', async () => {
  const r = await sdk('twins');
  assert.equal(r.code, 0, r.stderr + r.stdout);
});

test('relationships: create, get, update, delete, list with nextLink paging, incoming, refusals', async () => {
  const r = await sdk('relationships');
  assert.equal(r.code, 0, r.stderr + r.stdout);
});

test('components: get and update, with conditions and validation', async () => {
  const r = await sdk('components');
  assert.equal(r.code, 0, r.stderr + r.stdout);
});

test('telemetry: twin and component telemetry become events with the Message-Id', async () => {
  const r = await sdk('telemetry');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const events = sql("SELECT event FROM outbox WHERE type = 'microsoft.iot.telemetry' ORDER BY seq")
    .split('\n').map((e) => JSON.parse(e));
  const ids = events.map((e) => e.id);
  assert.ok(ids.includes('msg-1'), ids.join(','));
  const comp = events.filter((e) => e.subject === 'Component1').map((e) => `${e.subject}|${e.dataschema}`);
  assert.deepEqual(comp, ['Component1|dtmi:samples:DTTestComponent;1']);
});

test('every change left its CloudEvents notification in the outbox', () => {
  const types = sql('SELECT DISTINCT type FROM outbox ORDER BY type').split('\n');
  for (const t of ['Microsoft.DigitalTwins.Twin.Create', 'Microsoft.DigitalTwins.Twin.Update', 'Microsoft.DigitalTwins.Twin.Delete',
    'Microsoft.DigitalTwins.Relationship.Create', 'Microsoft.DigitalTwins.Relationship.Update', 'Microsoft.DigitalTwins.Relationship.Delete'])
    assert.ok(types.includes(t), `${t} missing from ${types}`);
  const ev = JSON.parse(sql("SELECT event FROM outbox WHERE type = 'Microsoft.DigitalTwins.Twin.Update' ORDER BY seq LIMIT 1"));
  assert.equal(ev.specversion, '1.0');
  assert.equal(ev.datacontenttype, 'application/json');
  assert.match(ev.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  assert.equal(ev.source, `${new URL(c.url).host}/dt/twins1`);
  assert.ok(Array.isArray(ev.data.patch));
  assert.equal(ev.data.modelId, 'dtmi:samples:DTTestBuilding;1');
});

test('Python azure.digitaltwins.core: twin and relationship lifecycle', async () => {
  const r = await runClient('/usr/bin/python3', [join(here, 'clients', 'twins_python.py')], {
    CASTOR_DT_ENDPOINT: endpoint, CASTOR_DT_TOKEN: adtTok, REQUESTS_CA_BUNDLE: c.connection.caFile,
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /ok/);
});

test('DELETE /models is refused while twins use the model', async () => {
  const r = await dp(c, adtTok, 'DELETE', `/dt/twins1/models/${encodeURIComponent('dtmi:samples:DTTestBuilding;1')}`);
  assert.equal(r.status, 409, r.text);
  assert.equal(r.json.error.code, 'ModelReferencesNotDeleted');
});
