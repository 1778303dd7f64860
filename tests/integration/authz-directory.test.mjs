// authz-directory.test.mjs — the data-plane matrix for principals that need the directory:
// a user who gets Data Owner through a group, an application (app-only token) with Data
// Reader, a user whose client app lacks the ADT API permission, and a user with the permission
// but no role. Every route, expected status and cause (see authz.test.mjs for the rest).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCastor, stopCastor, request } from './lib/castor.js';
import { ROLE, arm, scopes, createInstance, assignRole, claims, dp } from './lib/azure.js';
import { cli, clientHome, serverArgs, ADMIN, ADMIN_PW, ADT_APP, READ_WRITE_ID } from './cli_helpers.mjs';
import { ROUTES, DT } from './lib/routes.js';

const ARM_APP = '797f4846-ba00-4fd7-ba43-dac1f8f63013';
const USER_IMPERSONATION = '41094075-9dad-400e-a0bd-54e686782033';
let c; let home; let armTok;

const run = async (args, env, h = home) => {
  const r = await cli(h, [...args], { env });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r;
};
const form = (o) => new URLSearchParams(o).toString();
async function tokenFor(fields) {
  const r = await request(c, 'POST', `/${c.connection.tenantId}/oauth2/v2.0/token`, {
    body: form(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(r.status, 200, r.text);
  return r.json.access_token;
}
const userToken = (username, password, clientId = '04b07795-8ddb-461a-bbee-02f9e1bf7b46') =>
  tokenFor({ grant_type: 'password', client_id: clientId, username, password, scope: 'https://digitaltwins.azure.net/.default' });

async function matrix(token, granted, cause) {
  for (const [method, path, action, body] of ROUTES) {
    const r = await dp(c, token, method, `/dt/adt1${path}`, body);
    if (granted(DT + action)) {
      assert.ok(r.status !== 401 && r.status !== 403, `${method} ${path} should pass authorization: ${r.status} ${r.text}`);
    } else {
      assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
      assert.equal(r.json.error.innererror.code, cause, `${method} ${path}: ${r.json.error.message}`);
    }
  }
}

before(async () => {
  c = await startCastor();
  home = clientHome();
  await run(['login', '-u', ADMIN, '-p', ADMIN_PW, ...serverArgs(c), '-o', 'none']);
  armTok = (await run(['account', 'get-access-token', '--resource', 'https://management.azure.com/'])).json.accessToken;
  await createInstance(c, armTok, 'adt1');
});
after(async () => { if (c) await stopCastor(c); });

test('a user who is a member of a group holding Data Owner passes every route; removed from it, is refused', async () => {
  const carol = (await run(['ad', 'user', 'create', '--display-name', 'Carol', '--user-principal-name', 'carol@castor.local', '--password', 'Carol-Pw-12345'])).json;
  const g = (await run(['ad', 'group', 'create', '--display-name', 'twin-operators', '--mail-nickname', 'twin-operators'])).json;
  const inner = (await run(['ad', 'group', 'create', '--display-name', 'night-shift', '--mail-nickname', 'night-shift'])).json;
  // Nested: carol -> night-shift -> twin-operators, which holds the role.
  await run(['ad', 'group', 'member', 'add', '--group', g.id, '--member-id', inner.id, '-o', 'none']);
  await run(['ad', 'group', 'member', 'add', '--group', inner.id, '--member-id', carol.id, '-o', 'none']);
  await assignRole(c, armTok, scopes(c).instance('adt1'), ROLE.dataOwner, g.id, 'Group');
  const tok = await userToken('carol@castor.local', 'Carol-Pw-12345');
  await matrix(tok, () => true);
  // The explanation of a refusal elsewhere names the group the role came through.
  const other = await createInstance(c, armTok, 'adt2');
  void other;
  const r = await dp(c, tok, 'GET', '/dt/adt2/models');
  assert.equal(r.status, 403);
  assert.equal(r.json.error.innererror.assignments[0].viaGroup, g.id.toLowerCase());
});

test('an application (app-only token) with Data Reader reads and queries, and may not write', async () => {
  const app = (await run(['ad', 'app', 'create', '--display-name', 'reader-daemon'])).json;
  const sp = (await run(['ad', 'sp', 'create', '--id', app.appId])).json;
  const secret = (await run(['ad', 'app', 'credential', 'reset', '--id', app.appId])).json.password;
  await assignRole(c, armTok, scopes(c).instance('adt1'), ROLE.dataReader, sp.id, 'ServicePrincipal');
  const tok = await tokenFor({ grant_type: 'client_credentials', client_id: app.appId, client_secret: secret, scope: 'https://digitaltwins.azure.net/.default' });
  assert.equal(claims(tok).scp, undefined, 'app-only tokens carry no scp');
  await matrix(tok, (a) => a.endsWith('/read') || a === `${DT}query/action`, 'role-lacks-data-action');
});

test('a user whose client app lacks the ADT API permission is refused on every route (seed cause #2), whatever its roles', async () => {
  const app = (await run(['ad', 'app', 'create', '--display-name', 'no-adt-client', '--is-fallback-public-client', 'true'])).json.appId;
  await run(['ad', 'sp', 'create', '--id', app, '-o', 'none']);
  await run(['ad', 'app', 'permission', 'add', '--id', app, '--api', ADT_APP, '--api-permissions', `${READ_WRITE_ID}=Scope`, '-o', 'none']);
  await run(['ad', 'app', 'permission', 'admin-consent', '--id', app, '-o', 'none']);
  await run(['ad', 'app', 'update', '--id', app, '--required-resource-accesses',
    JSON.stringify([{ resourceAppId: ARM_APP, resourceAccess: [{ id: USER_IMPERSONATION, type: 'Scope' }] }]), '-o', 'none']);
  // admin holds Data Owner here, so RBAC alone would allow everything.
  await assignRole(c, armTok, scopes(c).instance('adt1'), ROLE.dataOwner, claims(await userToken(ADMIN, ADMIN_PW)).oid);
  const tok = await userToken(ADMIN, ADMIN_PW, app);
  assert.ok(!(claims(tok).scp || '').split(' ').includes('Read.Write'));
  await matrix(tok, () => false, 'missing-api-permission');
});

test('a user with the permission but no role at all is refused on every route (seed cause #1)', async () => {
  await run(['ad', 'user', 'create', '--display-name', 'Dave', '--user-principal-name', 'dave@castor.local', '--password', 'Dave-Pw-123456', '-o', 'none']);
  const tok = await userToken('dave@castor.local', 'Dave-Pw-123456');
  assert.ok(claims(tok).scp.split(' ').includes('Read.Write'));
  await matrix(tok, () => false, 'no-role-assignment');
});

test('a disabled user is refused with 401 even with a token issued before', async () => {
  const erin = (await run(['ad', 'user', 'create', '--display-name', 'Erin', '--user-principal-name', 'erin@castor.local', '--password', 'Erin-Pw-123456'])).json;
  await assignRole(c, armTok, scopes(c).instance('adt1'), ROLE.dataOwner, erin.id);
  const tok = await userToken('erin@castor.local', 'Erin-Pw-123456');
  assert.notEqual((await dp(c, tok, 'GET', '/dt/adt1/models')).status, 401);
  const g = (await run(['account', 'get-access-token', '--resource', 'https://graph.microsoft.com'])).json.accessToken;
  const patch = await request(c, 'PATCH', `/v1.0/users/${erin.id}`, { body: JSON.stringify({ accountEnabled: false }), headers: { authorization: `Bearer ${g}` } });
  assert.ok(patch.status < 300, patch.text);
  const r = await dp(c, tok, 'GET', '/dt/adt1/models');
  assert.equal(r.status, 401);
  assert.equal(r.json.error.innererror.tokenProblem, 'principal');
});
