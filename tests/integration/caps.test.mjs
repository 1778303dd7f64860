// caps.test.mjs — text longer than castor keeps is refused with a 400 in the plane's error shape
// and a message naming the field and its cap, never stored cut: the value one under each cap is
// stored whole and reads back equal (core/limits.h; issue 15 §3).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startCastor, stopCastor } from './lib/castor.js';
import { userToken, ARM_SCOPE, ROLE, arm, scopes, claims } from './lib/azure.js';
import { AZURE_CLI, ADMIN, ADMIN_PW, adminGraphToken, graph, token } from './lib/identity.js';

const NAME_MAX = 255; // CASTOR_NAME_MAX - 1
const DESCRIPTION_MAX = 1023; // CASTOR_DESCRIPTION_MAX - 1
const LOCATION_MAX = 63; // CASTOR_LOCATION_MAX - 1
const OAUTH_SCOPES_MAX = 2047; // CASTOR_OAUTH_SCOPES_MAX - 1
const MA = '/providers/Microsoft.Authorization';

let c; let tok; let s; let g; let me;
before(async () => {
  c = await startCastor();
  tok = await userToken(c, ARM_SCOPE);
  me = claims(tok).oid;
  s = scopes(c);
  g = await adminGraphToken(c);
  const r = await arm(c, tok, 'PUT', s.group, { location: 'westus2' });
  assert.ok(r.status < 300, r.text);
});
after(async () => { if (c) await stopCastor(c); });

function refused(r, code, fragment) {
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.code, code, r.text);
  assert.ok(r.json.error.message.includes(fragment), r.json.error.message);
}

test('ARM: role assignment and custom role descriptions, locations and tags are kept whole or refused', async () => {
  const rd = `/subscriptions/${c.connection.subscriptionId}${MA}/roleDefinitions/${ROLE.dataReader}`;
  const ra = (description) => arm(c, tok, 'PUT', `${s.group}${MA}/roleAssignments/${randomUUID()}`,
    { properties: { roleDefinitionId: rd, principalId: me, principalType: 'User', description } });
  refused(await ra('d'.repeat(DESCRIPTION_MAX + 1)), 'InvalidRoleAssignmentRequest',
    `properties.description is ${DESCRIPTION_MAX + 1} characters long; at most ${DESCRIPTION_MAX}`);
  const ok = await ra('é'.repeat((DESCRIPTION_MAX - 1) / 2) + 'x');
  assert.equal(ok.status, 201, ok.text);
  const back = await arm(c, tok, 'GET', ok.json.id);
  assert.equal(back.json.properties.description, 'é'.repeat((DESCRIPTION_MAX - 1) / 2) + 'x');

  const role = (roleName, description) => arm(c, tok, 'PUT', `${s.sub}${MA}/roleDefinitions/${randomUUID()}`, {
    properties: { roleName, description, type: 'CustomRole', permissions: [{ actions: ['*/read'] }], assignableScopes: [s.sub] },
  });
  refused(await role('long role', 'd'.repeat(DESCRIPTION_MAX + 1)), 'InvalidRoleDefinition',
    `at most ${DESCRIPTION_MAX} are allowed`);
  // A role name up to 511 characters is accepted by RBAC and stored whole (the record once kept 255).
  const longName = 'R'.repeat(511);
  const made = await role(longName, 'd'.repeat(DESCRIPTION_MAX));
  assert.equal(made.status, 201, made.text);
  const got = await arm(c, tok, 'GET', made.json.id);
  assert.equal(got.json.properties.roleName, longName);
  assert.equal(got.json.properties.description, 'd'.repeat(DESCRIPTION_MAX));
  refused(await role('R'.repeat(512), 'x'), 'InvalidRoleDefinition', '511');

  refused(await arm(c, tok, 'PUT', `${s.sub}/resourceGroups/rg-long-loc`, { location: 'w'.repeat(LOCATION_MAX + 1) }),
    'LocationNotAvailableForResourceType', `at most ${LOCATION_MAX} characters`);
  refused(await arm(c, tok, 'PUT', s.instance('adt-long-loc'), { location: 'w'.repeat(LOCATION_MAX + 1) }),
    'LocationNotAvailableForResourceType', `at most ${LOCATION_MAX} characters`);
  assert.equal((await arm(c, tok, 'GET', `${s.sub}/resourceGroups/rg-long-loc`)).status, 404);

  // 50 tags of 300-character names and 200-character values pass each tag's rule but not the
  // record that keeps them all (16,383 bytes of JSON).
  const tags = {};
  for (let i = 0; i < 50; i++) tags[`${String(i).padStart(2, '0')}${'k'.repeat(298)}`] = 'v'.repeat(200);
  refused(await arm(c, tok, 'PUT', `${s.sub}/resourceGroups/rg-tags`, { location: 'westus2', tags }),
    'InvalidTagNameCharacters', 'castor keeps at most 16383');
  assert.equal((await arm(c, tok, 'GET', `${s.sub}/resourceGroups/rg-tags`)).status, 404);
});

test('Graph: user, group and application names are kept whole or refused', async () => {
  const user = (extra) => graph(c, g, 'POST', '/users', {
    userPrincipalName: `u${randomUUID().slice(0, 8)}@castor.local`, displayName: 'U', mailNickname: 'u', accountEnabled: true,
    passwordProfile: { password: 'Caps-Test-Pw-1', forceChangePasswordNextSignIn: false }, ...extra,
  });
  const graphRefused = (r, prop, n, cap) => {
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'Request_BadRequest', r.text);
    assert.ok(r.json.error.message.includes(`property '${prop}'`), r.json.error.message);
    assert.ok(r.json.error.message.includes(`it is ${n} bytes long, and at most ${cap} are allowed`), r.json.error.message);
  };
  graphRefused(await user({ displayName: 'n'.repeat(NAME_MAX + 1) }), 'displayName', NAME_MAX + 1, NAME_MAX);
  graphRefused(await user({ mailNickname: 'n'.repeat(300) }), 'mailNickname', 300, NAME_MAX);
  const upn = `${'a'.repeat(NAME_MAX - '@castor.local'.length + 1)}@castor.local`;
  graphRefused(await user({ userPrincipalName: upn }), 'userPrincipalName', NAME_MAX + 1, NAME_MAX);
  const whole = await user({ displayName: 'n'.repeat(NAME_MAX) });
  assert.equal(whole.status, 201, whole.text);
  assert.equal((await graph(c, g, 'GET', `/users/${whole.json.id}`)).json.displayName, 'n'.repeat(NAME_MAX));
  graphRefused(await graph(c, g, 'PATCH', `/users/${whole.json.id}`, { displayName: 'p'.repeat(NAME_MAX + 1) }),
    'displayName', NAME_MAX + 1, NAME_MAX);
  assert.equal((await graph(c, g, 'GET', `/users/${whole.json.id}`)).json.displayName, 'n'.repeat(NAME_MAX));

  graphRefused(await graph(c, g, 'POST', '/groups', { displayName: 'grp', mailNickname: 'grp', description: 'd'.repeat(DESCRIPTION_MAX + 1) }),
    'description', DESCRIPTION_MAX + 1, DESCRIPTION_MAX);
  const grp = await graph(c, g, 'POST', '/groups', { displayName: 'grp', mailNickname: 'grp', description: 'd'.repeat(DESCRIPTION_MAX) });
  assert.equal(grp.status, 201, grp.text);
  assert.equal((await graph(c, g, 'GET', `/groups/${grp.json.id}`)).json.description, 'd'.repeat(DESCRIPTION_MAX));

  graphRefused(await graph(c, g, 'POST', '/applications', { displayName: 'a'.repeat(NAME_MAX + 1) }),
    'displayName', NAME_MAX + 1, NAME_MAX);
});

test('OAuth: an over-long scope is invalid_scope, not a cut list', async () => {
  const scope = `https://graph.microsoft.com/${'x'.repeat(300)}`;
  let r = await token(c, { grant_type: 'password', client_id: AZURE_CLI, username: ADMIN, password: ADMIN_PW, scope });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error, 'invalid_scope');
  assert.ok(r.json.error_description.startsWith('AADSTS70011: '), r.json.error_description);
  assert.ok(r.json.error_description.includes('is too long'), r.json.error_description);
  r = await token(c, { grant_type: 'password', client_id: AZURE_CLI, username: ADMIN, password: ADMIN_PW, scope: `openid ${'y'.repeat(OAUTH_SCOPES_MAX)}` });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error, 'invalid_scope');
  assert.ok(r.json.error_description.includes(`at most ${OAUTH_SCOPES_MAX} are accepted`), r.json.error_description);
});
