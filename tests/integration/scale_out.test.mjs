// scale_out.test.mjs — two castor nodes over one PostgreSQL database (docs/postgres.md): what
// one node writes the other serves, and a role assignment made through node A is enforced by
// node B on its very next request, both ways (granted, then revoked). Runs under
// CASTOR_TEST_STORE=postgres (make integration-pg); skipped on SQLite, whose store belongs to
// one process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCastor, stopCastor, pgStoreFor, newDataDir, TEST_STORE } from './lib/castor.js';
import { userToken, ADT_SCOPE, ARM_SCOPE, ROLE, scopes, createInstance, assignRole, claims, dp, arm } from './lib/azure.js';

const skip = TEST_STORE !== 'postgres' ? 'needs CASTOR_TEST_STORE=postgres (make integration-pg)' : false;
let a; let b;

before(async () => {
  if (skip) return;
  const dirA = newDataDir();
  a = await startCastor({ dataDir: dirA });
  b = await startCastor({ args: ['--store', pgStoreFor(dirA)] });
});
after(async () => {
  if (a) await stopCastor(a);
  if (b) await stopCastor(b);
});

test('a role assignment made through node A is enforced by node B on its next request', { skip }, async () => {
  // One directory, one subscription, one set of signing keys: B knows A's admin and instance.
  assert.equal(b.connection.subscriptionId, a.connection.subscriptionId);
  const armA = await userToken(a, ARM_SCOPE);
  await createInstance(a, armA, 'shared1');
  const adtB = await userToken(b, ADT_SCOPE);
  const oid = claims(adtB).oid;

  // Owner of the subscription but no data role yet: B refuses (seed cause #1).
  let r = await dp(b, adtB, 'GET', '/dt/shared1/models');
  assert.equal(r.status, 403, r.text);

  const ra = await assignRole(a, armA, scopes(a).instance('shared1'), ROLE.dataOwner, oid);
  r = await dp(b, adtB, 'GET', '/dt/shared1/models');
  assert.equal(r.status, 200, `B's very next request after A's assignment: ${r.text}`);

  // What B writes, A serves.
  r = await dp(b, adtB, 'POST', '/dt/shared1/models', [{
    '@id': 'dtmi:scale:Room;1', '@type': 'Interface', '@context': 'dtmi:dtdl:context;2',
    contents: [{ '@type': 'Property', name: 'n', schema: 'integer' }],
  }]);
  assert.equal(r.status, 201, r.text);
  const adtA = await userToken(a, ADT_SCOPE);
  r = await dp(a, adtA, 'PUT', '/dt/shared1/digitaltwins/room1', { $metadata: { $model: 'dtmi:scale:Room;1' }, n: 1 });
  assert.equal(r.status, 200, r.text);
  r = await dp(b, adtB, 'GET', '/dt/shared1/digitaltwins/room1');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.n, 1);
  r = await dp(b, adtB, 'POST', '/dt/shared1/query', { query: 'SELECT * FROM DIGITALTWINS T WHERE T.n = 1' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.value.map((t) => t.$dtId), ['room1']);

  // Revoked through A: B refuses again on its next request.
  const del = await arm(a, armA, 'DELETE', ra);
  assert.ok(del.status === 200 || del.status === 204, del.text);
  r = await dp(b, adtB, 'GET', '/dt/shared1/models');
  assert.equal(r.status, 403, `B's very next request after A's revocation: ${r.text}`);
});
