// twins_rec.test.mjs — a RealEstateCore graph (about 1,700 twins and 3,400 relationships made by
// lib/rec_graph.mjs from the REC ontology) loads through the unmodified @azure/digital-twins-core
// and reads back identical, with an outbox event for every twin and relationship created.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCastor, stopCastor } from './lib/castor.js';
import { readyInstance, runClient, sqlRows } from './lib/twins.js';
import { recOntologyDir, loadRecModels, recGraph } from './lib/rec_graph.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const REC = recOntologyDir();
let c;
before(async () => { if (REC) c = await startCastor(); });
after(async () => { if (c) await stopCastor(c); });

test('the generator is deterministic: one seed, one graph; another seed, another graph', (t) => {
  if (!REC) { console.log('skipped: no ../shared'); t.skip('no ../shared'); return; }
  const models = loadRecModels(REC);
  const a = JSON.stringify(recGraph(models, { seed: 3 }));
  assert.equal(JSON.stringify(recGraph(models, { seed: 3 })), a);
  assert.notEqual(JSON.stringify(recGraph(models, { seed: 4 })), a);
  const g = recGraph(models, { seed: 3 });
  assert.ok(g.counts.twins > 1000 && g.counts.relationships > 2000, JSON.stringify(g.counts));
});

test('RealEstateCore graph: ontology, twins and relationships load through the SDK and read back identical', async (t) => {
  if (!REC) { console.log('skipped: no ../shared'); t.skip('no ../shared'); return; }
  const { token, endpoint } = await readyInstance(c, 'rec');
  const up = await runClient(process.execPath, [join(here, 'lib', 'sdk_models.mjs')], {
    SDK_ENDPOINT: endpoint, SDK_TOKEN: token, NODE_EXTRA_CA_CERTS: c.connection.caFile,
    SDK_STEPS: JSON.stringify([{ op: 'uploadFolder', args: [REC, 250] }]),
  });
  assert.equal(up.code, 0, up.stderr);
  const [res] = JSON.parse(up.stdout);
  assert.ok(res.ok, JSON.stringify(res));
  assert.equal(res.value.created, 767);
  const r = await runClient(process.execPath, [join(here, 'clients', 'rec-sdk.mjs')], {
    CASTOR_DT_ENDPOINT: endpoint, CASTOR_DT_TOKEN: token, NODE_EXTRA_CA_CERTS: c.connection.caFile, REC_SEED: '11',
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1));
  console.log(`rec graph: ${JSON.stringify(summary)}`);
  const g = recGraph(loadRecModels(REC), { seed: 11 });
  assert.equal(summary.twins, g.counts.twins);
  const inst = sqlRows(c.dataDir, "SELECT id FROM dt_instances WHERE name = 'rec'")[0].id;
  const ev = Object.fromEntries(sqlRows(c.dataDir, `SELECT type, count(*) AS n FROM outbox WHERE instance_id = '${inst}' GROUP BY type`).map((x) => [x.type, x.n]));
  assert.equal(ev['Microsoft.DigitalTwins.Twin.Create'], g.counts.twins);
  assert.equal(ev['Microsoft.DigitalTwins.Relationship.Create'], g.counts.relationships);
});
