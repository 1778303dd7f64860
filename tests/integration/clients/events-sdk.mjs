// events-sdk.mjs — event routes through the unmodified @azure/digital-twins-core: upsert, get,
// list (by page), delete, and the refusals, as an ADT user's code makes them. Run as a child
// process (NODE_EXTRA_CA_CERTS trusts castor's CA).
// Usage: CASTOR_DT_ENDPOINT=… CASTOR_DT_TOKEN=… node events-sdk.mjs '{"hook":"…","broker":"…"}'
import assert from 'node:assert/strict';
import { DigitalTwinsClient } from '@azure/digital-twins-core';

const cfg = JSON.parse(process.argv[2]);
const token = process.env.CASTOR_DT_TOKEN;
const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600e3 }) };
const client = new DigitalTwinsClient(process.env.CASTOR_DT_ENDPOINT, credential);

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

// Two routes that stay for the delivery tests.
await client.upsertEventRoute('r-hook', cfg.hook, 'true');
await client.upsertEventRoute('r-mqtt', cfg.broker, 'true');
// Add then replace (same id): the filter changes, the route stays one.
await client.upsertEventRoute('r-temp', cfg.hook, "type = 'Microsoft.DigitalTwins.Twin.Create'");
await client.upsertEventRoute('r-temp', cfg.hook, "type = 'Microsoft.DigitalTwins.Twin.Delete'");
const got = await client.getEventRoute('r-temp');
assert.equal(got.id, 'r-temp');
assert.equal(got.endpointName, cfg.hook);
assert.equal(got.filter, "type = 'Microsoft.DigitalTwins.Twin.Delete'");

const all = [];
for await (const r of client.listEventRoutes()) all.push(r);
assert.deepEqual(all.map((r) => r.id).sort(), ['r-hook', 'r-mqtt', 'r-temp']);
for (const r of all) assert.deepEqual(Object.keys(r).sort(), ['endpointName', 'filter', 'id']);
// One route a page: the SDK follows nextLink.
const pages = [];
for await (const page of client.listEventRoutes(1).byPage({ maxPageSize: 1 })) pages.push(page.value.length);
assert.deepEqual(pages, [1, 1, 1]);

await client.deleteEventRoute('r-temp');
await rejects(client.getEventRoute('r-temp'), 404, 'EventRouteNotFound', 'r-temp');
await rejects(client.deleteEventRoute('r-temp'), 404, 'EventRouteNotFound');
await rejects(client.upsertEventRoute('r-bad', 'no-such-endpoint', 'true'), 400, 'EventRouteEndpointInvalid', 'no-such-endpoint');
await rejects(client.upsertEventRoute('r-bad', cfg.hook, "type = 'x' AND"), 400, 'EventRouteFilterInvalid');
await rejects(client.upsertEventRoute('r-bad', cfg.hook, "tpye = 'x'"), 400, 'EventRouteFilterInvalid');
await rejects(client.getEventRoute('r-bad'), 404, 'EventRouteNotFound');
console.log('ok');
