// arm_http.test.mjs — the resource manager's rules over HTTP, as any ARM client meets them:
// a non-Owner refused on every write route with ARM's exact AuthorizationFailed message,
// PrincipalNotFound, RoleAssignmentExists, the last Owner of a subscription kept, Azure's
// instance name rule, custom roles' assignable scopes, Microsoft.Authorization/permissions at
// an instance, the atScope() / principalId eq / assignedTo() filters, and absolute nextLinks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startCastor, stopCastor, request } from './lib/castor.js';
import { userToken, ARM_SCOPE, ROLE, arm, scopes, createInstance, assignRole, claims } from './lib/azure.js';
import { adminGraphToken, graph } from './lib/identity.js';

const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const MA = '/providers/Microsoft.Authorization';
let c; let tok; let adminOid; let s; let inst; let bob; let bobTok; let grp;

before(async () => {
  c = await startCastor();
  tok = await userToken(c, ARM_SCOPE);
  adminOid = claims(tok).oid;
  s = scopes(c);
  inst = await createInstance(c, tok, 'adt-http');
  const g = await adminGraphToken(c);
  const u = await graph(c, g, 'POST', '/users', {
    userPrincipalName: 'bob@castor.local', displayName: 'Bob', mailNickname: 'bob', accountEnabled: true,
    passwordProfile: { password: 'Bob-Http-Pw-1', forceChangePasswordNextSignIn: false },
  });
  assert.equal(u.status, 201, u.text);
  bob = u.json.id;
  const gr = await graph(c, g, 'POST', '/groups', { displayName: 'ops', mailNickname: 'ops', mailEnabled: false, securityEnabled: true });
  assert.equal(gr.status, 201, gr.text);
  grp = gr.json.id;
  const m = await graph(c, g, 'POST', `/groups/${grp}/members/$ref`, { '@odata.id': `${c.url}/v1.0/directoryObjects/${bob}` });
  assert.equal(m.status, 204, m.text);
  // Bob may read everything in the subscription, and change nothing.
  await assignRole(c, tok, s.sub, READER, bob);
  bobTok = await userToken(c, ARM_SCOPE, { username: 'bob@castor.local', password: 'Bob-Http-Pw-1' });
});
after(async () => { if (c) await stopCastor(c); });

const roleDef = (guid) => `/subscriptions/${c.connection.subscriptionId}${MA}/roleDefinitions/${guid}`;
const raBody = (guid, principalId, principalType) => ({ properties: { roleDefinitionId: roleDef(guid), principalId, ...(principalType ? { principalType } : {}) } });
const authFailed = (action, scope) => `The client 'bob@castor.local' with object id '${bob}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`;

test('a non-Owner is refused on every write route with ARM\'s exact AuthorizationFailed', async () => {
  const loc = `${s.sub}/providers/Microsoft.DigitalTwins/locations/westus2`;
  const rd = { properties: { roleName: 'x', permissions: [{ actions: ['*/read'] }], assignableScopes: [s.sub] } };
  const writes = [
    ['PUT', `${s.sub}/resourceGroups/rg-bob`, { location: 'westus2' }, 'Microsoft.Resources/subscriptions/resourceGroups/write', `${s.sub}/resourceGroups/rg-bob`],
    ['PUT', `${s.sub}/resourcegroups/rg1`, { location: 'westus2' }, 'Microsoft.Resources/subscriptions/resourceGroups/write', s.group],
    ['DELETE', s.group, undefined, 'Microsoft.Resources/subscriptions/resourceGroups/delete', s.group],
    ['PUT', inst, { location: 'westus2' }, 'Microsoft.DigitalTwins/digitalTwinsInstances/write', inst],
    ['PUT', s.instance('bob-new'), { location: 'westus2' }, 'Microsoft.DigitalTwins/digitalTwinsInstances/write', s.instance('bob-new')],
    ['PATCH', inst, { tags: { a: 'b' } }, 'Microsoft.DigitalTwins/digitalTwinsInstances/write', inst],
    ['DELETE', inst, undefined, 'Microsoft.DigitalTwins/digitalTwinsInstances/delete', inst],
    ['POST', `${loc}/checkNameAvailability`, { name: 'x-y-z', type: 'Microsoft.DigitalTwins/digitalTwinsInstances' }, 'Microsoft.DigitalTwins/locations/checkNameAvailability/action', s.sub],
  ];
  for (const scope of ['', s.sub, s.group, inst]) {
    const shown = scope || '/';
    writes.push(['PUT', `${scope}${MA}/roleDefinitions/${randomUUID()}`, rd, 'Microsoft.Authorization/roleDefinitions/write', shown]);
    writes.push(['DELETE', `${scope}${MA}/roleDefinitions/${randomUUID()}`, undefined, 'Microsoft.Authorization/roleDefinitions/delete', shown]);
    writes.push(['PUT', `${scope}${MA}/roleAssignments/${randomUUID()}`, raBody(ROLE.dataOwner, bob), 'Microsoft.Authorization/roleAssignments/write', shown]);
    writes.push(['DELETE', `${scope}${MA}/roleAssignments/${randomUUID()}`, undefined, 'Microsoft.Authorization/roleAssignments/delete', shown]);
  }
  for (const [method, path, body, action, scope] of writes) {
    const r = await arm(c, bobTok, method, path, body);
    assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
    assert.equal(r.json.error.code, 'AuthorizationFailed');
    assert.equal(r.json.error.message, authFailed(action, scope), `${method} ${path}`);
  }
  // Reads pass: Bob is Reader of the subscription.
  assert.equal((await arm(c, bobTok, 'GET', inst)).status, 200);
  assert.equal((await arm(c, bobTok, 'GET', `${inst}${MA}/roleAssignments`)).status, 200);
  // Nothing was written.
  assert.equal((await arm(c, tok, 'GET', `${s.sub}/resourceGroups/rg-bob`)).status, 404);
  assert.deepEqual((await arm(c, tok, 'GET', inst)).json.tags, {});
});

test('assignments: PrincipalNotFound, RoleAssignmentExists, last Owner, assignable scopes', async () => {
  const ghost = randomUUID();
  let r = await arm(c, tok, 'PUT', `${inst}${MA}/roleAssignments/${randomUUID()}`, raBody(ROLE.dataOwner, ghost, 'User'));
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.code, 'PrincipalNotFound');
  assert.equal(r.json.error.message, `Principal ${ghost} does not exist in the directory ${c.connection.tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group. See https://aka.ms/docs-principaltype`);

  const name = randomUUID();
  r = await arm(c, tok, 'PUT', `${inst}${MA}/roleAssignments/${name}`, raBody(ROLE.dataReader, bob, 'User'));
  assert.equal(r.status, 201, r.text);
  // The same PUT again is idempotent; the same grant under another name is a conflict.
  r = await arm(c, tok, 'PUT', `${inst}${MA}/roleAssignments/${name}`, raBody(ROLE.dataReader, bob, 'User'));
  assert.equal(r.status, 200, r.text);
  r = await arm(c, tok, 'PUT', `${inst}${MA}/roleAssignments/${randomUUID()}`, raBody(ROLE.dataReader, bob, 'User'));
  assert.equal(r.status, 409, r.text);
  assert.equal(r.json.error.code, 'RoleAssignmentExists');
  assert.match(r.json.error.message, /^The role assignment already exists\. \(as '[0-9a-f-]{36}'\)$/, 'ARM\'s words, then which one');
  r = await arm(c, tok, 'DELETE', `${inst}${MA}/roleAssignments/${name}`);
  assert.equal(r.status, 200, r.text);

  // The subscription's only Owner assignment cannot go; with a second Owner it can.
  const owners = await arm(c, tok, 'GET', `${s.sub}${MA}/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${adminOid}'`)}`);
  const own = owners.json.value.find((a) => a.properties.roleDefinitionId.endsWith(ROLE.owner) && a.properties.scope === s.sub);
  assert.ok(own, owners.text);
  r = await arm(c, tok, 'DELETE', own.id);
  assert.equal(r.status, 409, r.text);
  assert.equal(r.json.error.code, 'LastOwnerRoleAssignment');
  assert.match(r.json.error.message, /only Owner of subscription/);
  assert.equal((await arm(c, tok, 'GET', own.id)).status, 200, 'still there');
  const second = await assignRole(c, tok, s.sub, ROLE.owner, grp, 'Group');
  r = await arm(c, tok, 'DELETE', second);
  assert.equal(r.status, 200, 'a second Owner may go again while the admin stays');

  // A custom role assignable only at rg-limited cannot be assigned at the subscription or
  // at another group, and can be at or below its assignable scope.
  const lim = scopes(c, 'rg-limited');
  assert.equal((await arm(c, tok, 'PUT', lim.group, { location: 'westus2' })).status, 201);
  const custom = randomUUID();
  r = await arm(c, tok, 'PUT', `${s.sub}${MA}/roleDefinitions/${custom}`, {
    properties: { roleName: 'No scopes', type: 'CustomRole', permissions: [{ actions: ['*/read'] }], assignableScopes: [] },
  });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.code, 'InvalidRoleDefinition');
  assert.match(r.json.error.message, /at least one assignable scope/);
  r = await arm(c, tok, 'PUT', `${s.sub}${MA}/roleDefinitions/${custom}`, {
    properties: { roleName: 'Limited reader', type: 'CustomRole', permissions: [{ actions: ['*/read'] }], assignableScopes: [lim.group] },
  });
  assert.equal(r.status, 201, r.text);
  for (const scope of [s.sub, s.group, inst]) {
    r = await arm(c, tok, 'PUT', `${scope}${MA}/roleAssignments/${randomUUID()}`, raBody(custom, bob, 'User'));
    assert.equal(r.status, 400, `${scope}: ${r.text}`);
    assert.match(r.json.error.code, /^(InvalidRoleAssignmentRequest|RoleAssignmentScopeNotAssignableToRoleDefinition)$/);
    assert.match(r.json.error.message, /assignable scope/i);
  }
  r = await arm(c, tok, 'PUT', `${lim.group}${MA}/roleAssignments/${randomUUID()}`, raBody(custom, bob, 'User'));
  assert.equal(r.status, 201, r.text);
  // In use, the role cannot be deleted.
  r = await arm(c, tok, 'DELETE', `${s.sub}${MA}/roleDefinitions/${custom}`);
  assert.equal(r.status, 409, r.text);
  assert.equal(r.json.error.code, 'RoleDefinitionHasAssignments');
});

test('instance names follow Azure\'s rule ^(?!-)[A-Za-z0-9-]{3,63}(?<!-)$', async () => {
  for (const bad of ['ab', '-abc', 'abc-', 'a_b_c', 'a.bc', 'x'.repeat(64), 'caf%C3%A9']) {
    const r = await arm(c, tok, 'PUT', s.instance(bad), { location: 'westus2' });
    assert.equal(r.status, 400, `${bad}: ${r.text}`);
    assert.equal(r.json.error.code, 'InvalidResourceName', bad);
    assert.match(r.json.error.message, /3 to 63 letters, digits or hyphens/);
  }
  for (const good of ['abc', 'A-1-b', 'x'.repeat(63)]) {
    const r = await arm(c, tok, 'PUT', s.instance(good), { location: 'westus2' });
    assert.equal(r.status, 201, `${good}: ${r.text}`);
  }
  // Names are global: the same name in another group is taken.
  const other = scopes(c, 'rg-other');
  assert.equal((await arm(c, tok, 'PUT', other.group, { location: 'westus2' })).status, 201);
  const r = await arm(c, tok, 'PUT', other.instance('abc'), { location: 'westus2' });
  assert.equal(r.status, 409, r.text);
  for (const good of ['abc', 'A-1-b', 'x'.repeat(63)]) assert.equal((await arm(c, tok, 'DELETE', s.instance(good))).status, 202);
});

test('Microsoft.Authorization/permissions answers the caller\'s effective actions at an instance', async () => {
  // The admin: Owner of the subscription (actions *, no data actions) ...
  let r = await arm(c, tok, 'GET', `${inst}${MA}/permissions`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.value.flatMap((p) => p.actions), ['*']);
  assert.deepEqual(r.json.value.flatMap((p) => p.dataActions), []);
  // ... and with Data Reader at the instance, its data actions join.
  const ra = await assignRole(c, tok, inst, ROLE.dataReader, adminOid);
  r = await arm(c, tok, 'GET', `${inst}${MA}/permissions`);
  const data = r.json.value.flatMap((p) => p.dataActions);
  assert.ok(data.includes('Microsoft.DigitalTwins/digitaltwins/read'), r.text);
  assert.ok(!data.some((a) => a.endsWith('/write')), r.text);
  // Not at another instance: permissions are per scope.
  await createInstance(c, tok, 'adt-http2');
  r = await arm(c, tok, 'GET', `${s.instance('adt-http2')}${MA}/permissions`);
  assert.deepEqual(r.json.value.flatMap((p) => p.dataActions), []);
  await arm(c, tok, 'DELETE', ra);
  // Bob through his group: Data Owner at the instance, plus Reader from the subscription.
  const gra = await assignRole(c, tok, inst, ROLE.dataOwner, grp, 'Group');
  r = await arm(c, bobTok, 'GET', `${inst}${MA}/permissions`);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.value.flatMap((p) => p.actions).includes('*/read'), r.text);
  assert.ok(r.json.value.flatMap((p) => p.dataActions).includes('Microsoft.DigitalTwins/digitaltwins/*'), r.text);
  // Permissions at the subscription: no data actions for Bob there.
  r = await arm(c, bobTok, 'GET', `${s.sub}${MA}/permissions`);
  assert.deepEqual(r.json.value.flatMap((p) => p.dataActions), []);
  await arm(c, tok, 'DELETE', gra);
});

test('role assignment filters: atScope(), principalId eq, assignedTo()', async () => {
  const direct = await assignRole(c, tok, inst, ROLE.dataReader, bob);
  const viaGroup = await assignRole(c, tok, s.group, ROLE.dataOwner, grp, 'Group');
  const elsewhere = await assignRole(c, tok, s.instance('adt-http2'), ROLE.dataReader, bob);
  const q = (f) => `?$filter=${encodeURIComponent(f)}`;
  const name = (id) => id.split('/').pop();

  // atScope(): at the scope and above it, never below or beside.
  let r = await arm(c, tok, 'GET', `${inst}${MA}/roleAssignments${q('atScope()')}`);
  assert.equal(r.status, 200, r.text);
  let got = r.json.value.map((a) => a.name);
  assert.ok(got.includes(name(direct)) && got.includes(name(viaGroup)), r.text);
  assert.ok(!got.includes(name(elsewhere)));
  r = await arm(c, tok, 'GET', `${s.group}${MA}/roleAssignments${q('atScope()')}`);
  got = r.json.value.map((a) => a.name);
  assert.ok(got.includes(name(viaGroup)) && !got.includes(name(direct)), 'atScope() excludes children');
  // Without a filter a scope lists what is above and below it.
  r = await arm(c, tok, 'GET', `${s.group}${MA}/roleAssignments`);
  got = r.json.value.map((a) => a.name);
  assert.ok(got.includes(name(direct)) && got.includes(name(elsewhere)) && got.includes(name(viaGroup)));

  // principalId eq: exactly that principal's own assignments (not its groups').
  r = await arm(c, tok, 'GET', `${s.sub}${MA}/roleAssignments${q(`principalId eq '${bob}'`)}`);
  assert.ok(r.json.value.every((a) => a.properties.principalId === bob), r.text);
  got = r.json.value.map((a) => a.name);
  assert.ok(got.includes(name(direct)) && got.includes(name(elsewhere)) && !got.includes(name(viaGroup)));
  // principalId eq combined with atScope().
  r = await arm(c, tok, 'GET', `${inst}${MA}/roleAssignments${q(`atScope() and principalId eq '${bob}'`)}`);
  got = r.json.value.map((a) => a.name);
  assert.ok(got.includes(name(direct)) && !got.includes(name(elsewhere)) && !got.includes(name(viaGroup)));

  // assignedTo(): the principal's and its groups' assignments.
  r = await arm(c, tok, 'GET', `${s.sub}${MA}/roleAssignments${q(`assignedTo('${bob}')`)}`);
  assert.equal(r.status, 200, r.text);
  got = r.json.value.map((a) => a.name);
  assert.ok(got.includes(name(direct)) && got.includes(name(elsewhere)) && got.includes(name(viaGroup)), r.text);
  assert.ok(r.json.value.every((a) => [bob, grp].includes(a.properties.principalId)));
  r = await arm(c, tok, 'GET', `${s.sub}${MA}/roleAssignments${q(`assignedTo('${adminOid}')`)}`);
  assert.ok(r.json.value.every((a) => a.properties.principalId === adminOid), r.text);

  r = await arm(c, tok, 'GET', `${s.sub}${MA}/roleAssignments${q("roleName eq 'x'")}`);
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'InvalidFilterInQueryString');
  for (const id of [direct, viaGroup, elsewhere]) assert.equal((await arm(c, tok, 'DELETE', id)).status, 200);
  // What is left for Bob at the instance is inherited: his Reader on the subscription.
  const left = (await arm(c, tok, 'GET', `${inst}${MA}/roleAssignments${q(`principalId eq '${bob}'`)}`)).json.value;
  assert.deepEqual(left.map((a) => [a.properties.scope, a.properties.roleDefinitionId.split('/').pop()]), [[s.sub, READER]]);
});

test('every nextLink is absolute and leads to the rest of the list', async () => {
  for (let i = 0; i < 102; i++) {
    const r = await arm(c, tok, 'PUT', `${s.sub}/resourceGroups/page-${String(i).padStart(3, '0')}`, { location: 'westus2' });
    assert.equal(r.status, 201, r.text);
  }
  const seen = [];
  let r = await arm(c, tok, 'GET', `${s.sub}/resourcegroups`);
  let pages = 0;
  for (;;) {
    assert.equal(r.status, 200, r.text);
    pages++;
    seen.push(...r.json.value.map((g) => g.name));
    if (!r.json.nextLink) break;
    const next = new URL(r.json.nextLink);
    assert.equal(`${next.protocol}//${next.host}`, c.url, `nextLink ${r.json.nextLink} is absolute on castor`);
    assert.ok(next.searchParams.get('api-version'), 'nextLink keeps the api-version');
    r = await request(c, 'GET', next.pathname + next.search, { headers: { authorization: `Bearer ${tok}` } });
  }
  assert.ok(pages >= 2, `${pages} pages`);
  assert.equal(new Set(seen).size, seen.length, 'no group twice');
  assert.equal(seen.filter((n) => n.startsWith('page-')).length, 102);
  // A $skipToken castor never issued is refused.
  r = await arm(c, tok, 'GET', `${s.sub}/resourcegroups?$skipToken=zz`);
  assert.equal(r.status, 400, r.text);
});
