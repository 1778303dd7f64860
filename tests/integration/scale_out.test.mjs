// scale_out.test.mjs — two castor nodes over one PostgreSQL database (docs/postgres.md,
// docs/scale-out.md): what one node writes the other serves, and whatever a node caches (the
// RBAC snapshot, model graphs, verified and reused tokens, instance lookups) follows a change
// made through the other node on its very next request: role assignments granted and revoked,
// models added and deleted, users disabled, service principals deleted, group memberships, API
// permissions, instances deleted. Runs under CASTOR_TEST_STORE=postgres (make
// integration-pg); skipped on SQLite, whose store belongs to one process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, stopCastor, pgStoreFor, newDataDir, request, TEST_STORE } from './lib/castor.js';
import { userToken, ADT_SCOPE, ARM_SCOPE, ROLE, scopes, createInstance, assignRole, claims, dp, arm } from './lib/azure.js';
import { cli, clientHome, serverArgs, ADMIN, ADMIN_PW, ADT_APP, READ_WRITE_ID } from './cli_helpers.mjs';

const ARM_APP = '797f4846-ba00-4fd7-ba43-dac1f8f63013';
const USER_IMPERSONATION = '41094075-9dad-400e-a0bd-54e686782033';
const skip = TEST_STORE !== 'postgres' ? 'needs CASTOR_TEST_STORE=postgres (make integration-pg)' : false;
let a; let b; let home;

// Both nodes reuse app-only tokens (--token-reuse), so that a membership change through A must
// also end B's reuse. Each is one process (startNode): this file is its own two-node
// topology, also under make integration-scale.
before(async () => {
  if (skip) return;
  const dirA = newDataDir();
  a = await startNode({ dataDir: dirA, args: ['--token-reuse', '600'] });
  b = await startNode({ args: ['--store', pgStoreFor(dirA), '--token-reuse', '600'] });
  home = clientHome();
  await run(['login', '-u', ADMIN, '-p', ADMIN_PW, ...serverArgs(a), '-o', 'none']);
});
after(async () => {
  if (a) await stopCastor(a);
  if (b) await stopCastor(b);
});

// The castor CLI, signed in as the administrator, talking to node A.
const run = async (args) => {
  const r = await cli(home, args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r;
};
const form = (o) => new URLSearchParams(o).toString();
async function tokenFrom(node, fields) {
  const r = await request(node, 'POST', `/${node.connection.tenantId}/oauth2/v2.0/token`, {
    body: form(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(r.status, 200, r.text);
  return r.json.access_token;
}
const model = (id, prop, extra = {}) => ({
  '@id': id, '@type': 'Interface', '@context': 'dtmi:dtdl:context;2',
  contents: [{ '@type': 'Property', name: prop, schema: 'integer' }], ...extra,
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

test('models added and deleted through node A are in force for node B\'s very next twin', { skip }, async () => {
  const armA = await userToken(a, ARM_SCOPE);
  await createInstance(a, armA, 'models1');
  const adtA = await userToken(a, ADT_SCOPE);
  await assignRole(a, armA, scopes(a).instance('models1'), ROLE.dataOwner, claims(adtA).oid);
  const adtB = await userToken(b, ADT_SCOPE);

  // B compiles (and caches) the instance's model graph with M1 in it.
  let r = await dp(a, adtA, 'POST', '/dt/models1/models', [model('dtmi:so:M1;1', 'n')]);
  assert.equal(r.status, 201, r.text);
  r = await dp(b, adtB, 'PUT', '/dt/models1/digitaltwins/t1', { $metadata: { $model: 'dtmi:so:M1;1' }, n: 1 });
  assert.equal(r.status, 200, r.text);

  // A model only A added: B validates against it at once.
  r = await dp(a, adtA, 'POST', '/dt/models1/models', [model('dtmi:so:M2;1', 'm', { extends: 'dtmi:so:M1;1' })]);
  assert.equal(r.status, 201, r.text);
  r = await dp(b, adtB, 'PUT', '/dt/models1/digitaltwins/t2', { $metadata: { $model: 'dtmi:so:M2;1' }, n: 2, m: 2 });
  assert.equal(r.status, 200, `B's very next twin after A added its model: ${r.text}`);

  // Deleted through A (its twin first): B refuses a twin of it at once.
  r = await dp(a, adtA, 'DELETE', '/dt/models1/digitaltwins/t2');
  assert.equal(r.status, 204, r.text);
  r = await dp(a, adtA, 'DELETE', `/dt/models1/models/${encodeURIComponent('dtmi:so:M2;1')}`);
  assert.equal(r.status, 204, r.text);
  r = await dp(b, adtB, 'PUT', '/dt/models1/digitaltwins/t3', { $metadata: { $model: 'dtmi:so:M2;1' }, n: 3 });
  assert.equal(r.status, 400, `B's very next twin after A deleted its model: ${r.text}`);
  // M1's twins still validate on B (a patch needs the graph too).
  r = await dp(b, adtB, 'PATCH', '/dt/models1/digitaltwins/t1', [{ op: 'replace', path: '/n', value: 5 }]);
  assert.equal(r.status, 204, r.text);
});

test('a user disabled and a service principal deleted through node A are refused by node B at once', { skip }, async () => {
  const armA = await userToken(a, ARM_SCOPE);
  await createInstance(a, armA, 'dir1');
  const erin = (await run(['ad', 'user', 'create', '--display-name', 'Erin', '--user-principal-name', 'erin@castor.local', '--password', 'Erin-Pw-123456'])).json;
  await assignRole(a, armA, scopes(a).instance('dir1'), ROLE.dataOwner, erin.id);
  const app = (await run(['ad', 'app', 'create', '--display-name', 'so-daemon'])).json;
  const sp = (await run(['ad', 'sp', 'create', '--id', app.appId])).json;
  const secret = (await run(['ad', 'app', 'credential', 'reset', '--id', app.appId])).json.password;
  await assignRole(a, armA, scopes(a).instance('dir1'), ROLE.dataReader, sp.id, 'ServicePrincipal');

  // B verifies (and caches) both tokens.
  const userTok = await userToken(b, ADT_SCOPE, { username: 'erin@castor.local', password: 'Erin-Pw-123456' });
  const appTok = await tokenFrom(b, { grant_type: 'client_credentials', client_id: app.appId, client_secret: secret, scope: ADT_SCOPE });
  assert.equal((await dp(b, userTok, 'GET', '/dt/dir1/models')).status, 200);
  assert.equal((await dp(b, appTok, 'GET', '/dt/dir1/models')).status, 200);

  const graph = (await run(['account', 'get-access-token', '--resource', 'https://graph.microsoft.com'])).json.accessToken;
  const patch = await request(a, 'PATCH', `/v1.0/users/${erin.id}`, { body: JSON.stringify({ accountEnabled: false }), headers: { authorization: `Bearer ${graph}` } });
  assert.ok(patch.status < 300, patch.text);
  let r = await dp(b, userTok, 'GET', '/dt/dir1/models');
  assert.equal(r.status, 401, `B's very next call after A disabled the user: ${r.text}`);
  assert.equal(r.json.error.innererror.tokenProblem, 'principal');

  const del = await request(a, 'DELETE', `/v1.0/servicePrincipals/${sp.id}`, { headers: { authorization: `Bearer ${graph}` } });
  assert.ok(del.status < 300, del.text);
  r = await dp(b, appTok, 'GET', '/dt/dir1/models');
  assert.equal(r.status, 401, `B's very next call after A deleted the service principal: ${r.text}`);
});

test('a group membership added through node A ends node B\'s reuse of an app-only token', { skip }, async () => {
  const app = (await run(['ad', 'app', 'create', '--display-name', 'so-reuse'])).json;
  const sp = (await run(['ad', 'sp', 'create', '--id', app.appId])).json;
  const secret = (await run(['ad', 'app', 'credential', 'reset', '--id', app.appId])).json.password;
  const fields = { grant_type: 'client_credentials', client_id: app.appId, client_secret: secret, scope: ADT_SCOPE };
  const first = await tokenFrom(b, fields);
  assert.equal(await tokenFrom(b, fields), first, 'B reuses the app-only token (--token-reuse)');
  assert.equal(claims(first).groups, undefined);
  const g = (await run(['ad', 'group', 'create', '--display-name', 'so-daemons', '--mail-nickname', 'so-daemons'])).json;
  await run(['ad', 'group', 'member', 'add', '--group', g.id, '--member-id', sp.id, '-o', 'none']);
  const next = await tokenFrom(b, fields);
  assert.notEqual(next, first, 'B\'s next token request after A changed the membership is a fresh token');
  assert.deepEqual(claims(next).groups, [g.id]);
});

test('an API permission granted through node A is in node B\'s next token (seed cause #2 fixed across nodes)', { skip }, async () => {
  const armA = await userToken(a, ARM_SCOPE);
  await createInstance(a, armA, 'perm1');
  const adtA = await userToken(a, ADT_SCOPE);
  await assignRole(a, armA, scopes(a).instance('perm1'), ROLE.dataOwner, claims(adtA).oid);
  // A client app whose registration lists only the resource manager (as authz-directory's).
  const client = (await run(['ad', 'app', 'create', '--display-name', 'so-client', '--is-fallback-public-client', 'true'])).json.appId;
  await run(['ad', 'sp', 'create', '--id', client, '-o', 'none']);
  await run(['ad', 'app', 'permission', 'add', '--id', client, '--api', ADT_APP, '--api-permissions', `${READ_WRITE_ID}=Scope`, '-o', 'none']);
  await run(['ad', 'app', 'permission', 'admin-consent', '--id', client, '-o', 'none']);
  await run(['ad', 'app', 'update', '--id', client, '--required-resource-accesses',
    JSON.stringify([{ resourceAppId: ARM_APP, resourceAccess: [{ id: USER_IMPERSONATION, type: 'Scope' }] }]), '-o', 'none']);
  let tok = await userToken(b, ADT_SCOPE, { clientId: client });
  let r = await dp(b, tok, 'GET', '/dt/perm1/models');
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.error.innererror.code, 'missing-api-permission');

  await run(['ad', 'app', 'permission', 'add', '--id', client, '--api', ADT_APP, '--api-permissions', `${READ_WRITE_ID}=Scope`, '-o', 'none']);
  await run(['ad', 'app', 'permission', 'admin-consent', '--id', client, '-o', 'none']);
  tok = await userToken(b, ADT_SCOPE, { clientId: client });
  assert.ok(claims(tok).scp.split(' ').includes('Read.Write'), claims(tok).scp);
  r = await dp(b, tok, 'GET', '/dt/perm1/models');
  assert.equal(r.status, 200, `B with the token it issued after A's grant: ${r.text}`);
});

test('an instance deleted through node A is gone on node B at once', { skip }, async () => {
  const armA = await userToken(a, ARM_SCOPE);
  const id = await createInstance(a, armA, 'gone1');
  const adtB = await userToken(b, ADT_SCOPE);
  await assignRole(a, armA, id, ROLE.dataOwner, claims(adtB).oid);
  let r = await dp(b, adtB, 'GET', '/dt/gone1/models'); // B caches the name's lookup
  assert.equal(r.status, 200, r.text);
  r = await arm(a, armA, 'DELETE', id);
  assert.ok(r.status < 300, r.text);
  r = await dp(b, adtB, 'GET', '/dt/gone1/models');
  assert.equal(r.status, 404, `B's very next request after A deleted the instance: ${r.text}`);
});
