// rec-sdk.mjs — loads the RealEstateCore graph of lib/rec_graph.mjs through the UNMODIFIED
// @azure/digital-twins-core and reads every twin and relationship back. The models are uploaded
// by the caller first (lib/sdk_models.mjs uploadFolder). Run in a child process so that
// NODE_EXTRA_CA_CERTS trusts castor's CA.
// Env: CASTOR_DT_ENDPOINT, CASTOR_DT_TOKEN, REC_SEED. Prints one JSON summary line; exits 1 on
// the first difference.
import assert from 'node:assert/strict';
import { DigitalTwinsClient } from '@azure/digital-twins-core';
import { recOntologyDir, loadRecModels, recGraph, comparable } from '../lib/rec_graph.mjs';

const token = process.env.CASTOR_DT_TOKEN;
const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600e3 }) };
const client = new DigitalTwinsClient(process.env.CASTOR_DT_ENDPOINT, credential);
const graph = recGraph(loadRecModels(recOntologyDir()), { seed: Number(process.env.REC_SEED || 1) });

// Runs fn over items, `width` at a time.
async function each(items, width, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    for (let i; (i = next++) < items.length;) await fn(items[i]);
  }));
}

const t0 = Date.now();
await each(graph.twins, 16, async (t) => {
  const { $dtId, ...body } = t;
  const r = await client.upsertDigitalTwin($dtId, JSON.stringify(body));
  assert.equal(r.body.$dtId, $dtId);
});
await each(graph.relationships, 16, async (rel) => {
  const r = await client.upsertRelationship(rel.$sourceId, rel.$relationshipId, rel);
  assert.equal(r.body.$relationshipId, rel.$relationshipId);
});
const loadMs = Date.now() - t0;

// Every twin as it was sent (modulo $etag and $metadata times), its ETag header its $etag.
await each(graph.twins, 16, async (t) => {
  const got = await client.getDigitalTwin(t.$dtId);
  assert.equal(got.etag, got.body.$etag, t.$dtId);
  assert.deepEqual(comparable(got.body), comparable(t), t.$dtId);
  for (const [k, v] of Object.entries(t)) if (!k.startsWith('$') && !(v && v.$metadata))
    assert.ok(got.body.$metadata[k]?.lastUpdateTime, `${t.$dtId}: no lastUpdateTime for ${k}`);
});
// Every relationship, listed from its source and from its target, exactly the generated set.
const expected = new Map(graph.relationships.map((r) => [`${r.$sourceId}/${r.$relationshipId}`, r]));
const seen = new Set();
let incoming = 0;
await each(graph.twins, 16, async (t) => {
  for await (const r of client.listRelationships(t.$dtId)) {
    const k = `${r.$sourceId}/${r.$relationshipId}`;
    assert.ok(expected.has(k), `unexpected relationship ${k}`);
    assert.ok(r.$etag, k);
    assert.deepEqual(comparable(r), comparable(expected.get(k)), k);
    seen.add(k);
  }
  for await (const r of client.listIncomingRelationships(t.$dtId)) {
    assert.equal(r.targetId ?? r.$targetId ?? t.$dtId, t.$dtId);
    assert.ok(expected.has(`${r.sourceId}/${r.relationshipId}`), JSON.stringify(r));
    incoming++;
  }
});
assert.equal(seen.size, expected.size);
assert.equal(incoming, expected.size);
// And one by one, through GET relationship.
await each(graph.relationships.filter((_, i) => i % 7 === 0), 16, async (rel) => {
  const got = await client.getRelationship(rel.$sourceId, rel.$relationshipId);
  assert.deepEqual(comparable(got.body), comparable(rel));
});
console.log(JSON.stringify({ ...graph.counts, loadMs, readBack: 'identical' }));
