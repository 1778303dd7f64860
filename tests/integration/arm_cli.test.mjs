// arm_cli.test.mjs — the resource manager through what users use: unauthenticated calls in
// ARM's 401 shape, then `castor login` as the bootstrap admin (Owner of castor-default) and
// `castor group|dt|role` against a real server: groups, an instance whose hostName is the
// data-plane endpoint, role definitions with legacy names, assignments at the instance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCastor, stopCastor, request } from './lib/castor.js';
import { cli, clientHome, ADMIN, ADMIN_PW } from './cli_helpers.mjs';
import { userToken, arm, ADT_SCOPE, ARM_SCOPE, dp as dataPlane } from './lib/azure.js';

let castor;
let home;
before(async () => {
  castor = await startCastor();
  home = clientHome();
  const r = await cli(home, ['login', '-u', ADMIN, '-p', ADMIN_PW, '--server', castor.url,
    '--ca-file', castor.connection.caFile, '-o', 'none']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => { if (castor) await stopCastor(castor); });

test('ARM refuses a missing or bad token with its 401 codes', async () => {
  const none = await request(castor, 'GET', '/subscriptions?api-version=2022-12-01');
  assert.equal(none.status, 401);
  assert.equal(none.json.error.code, 'AuthenticationFailed');
  const bad = await request(castor, 'GET', '/subscriptions?api-version=2022-12-01',
    { headers: { authorization: 'Bearer not.a.jwt' } });
  assert.equal(bad.status, 401);
  assert.equal(bad.json.error.code, 'InvalidAuthenticationToken');
  const v = await request(castor, 'GET', `/subscriptions/${castor.connection.subscriptionId}/resourcegroups?api-version=1999-01-01`);
  assert.equal(v.status, 400);
  assert.equal(v.json.error.code, 'InvalidApiVersionParameter');
});

test('the data plane resolves instances by name before anything else', async () => {
  const r = await request(castor, 'GET', '/dt/no-such-instance/models?api-version=2023-10-31');
  assert.equal(r.status, 404);
  assert.match(r.json.error.message, /No Azure Digital Twins instance named 'no-such-instance'/);
});

test('castor group, dt and role commands manage groups, instances and assignments', async () => {
  const g = await cli(home, ['group', 'create', '-n', 'rg1', '-l', 'westus2']);
  assert.equal(g.code, 0, g.stderr);
  assert.equal(g.json.name, 'rg1');
  assert.equal(g.json.type, 'Microsoft.Resources/resourceGroups');

  const c = await cli(home, ['dt', 'create', '-n', 'dt-cli', '-g', 'rg1', '-l', 'westus2']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.json.provisioningState, 'Succeeded');
  assert.equal(c.json.resourceGroup, 'rg1');
  // hostName works as the data-plane endpoint: https:// + hostName reaches /dt/{name}/...
  assert.equal(c.json.hostName, `${new URL(castor.url).host}/dt/dt-cli`);
  const dp = await request(castor, 'GET', '/dt/dt-cli/models?api-version=2023-10-31');
  assert.equal(dp.status, 401, 'an existing instance is found, then a token is required');

  const list = await cli(home, ['dt', 'list']);
  assert.deepEqual(list.json.map((i) => i.name), ['dt-cli']);
  const show = await cli(home, ['dt', 'show', '-n', 'dt-cli']);
  assert.equal(show.json.id, c.json.id);

  const rd = await cli(home, ['role', 'definition', 'list', '--name', 'Azure Digital Twins Owner (Preview)']);
  assert.equal(rd.code, 0, rd.stderr);
  assert.equal(rd.json[0].roleName, 'Azure Digital Twins Data Owner');
  assert.match(rd.stderr, /former name/);

  const all = await cli(home, ['role', 'assignment', 'list', '--all']);
  assert.equal(all.code, 0, all.stderr);
  assert.ok(all.json.some((a) => a.roleDefinitionId.endsWith('8e3af657-a8ff-443c-a75c-2fe8c4bcb635')),
    'the admin is Owner of the subscription');

  const inh = await cli(home, ['dt', 'role-assignment', 'list', '-n', 'dt-cli', '--include-inherited']);
  assert.equal(inh.code, 0, inh.stderr);
  assert.ok(inh.json.some((a) => a.roleDefinitionName === 'Owner'));

  const del = await cli(home, ['dt', 'delete', '-n', 'dt-cli', '--yes']);
  assert.equal(del.code, 0, del.stderr);
  const gone = await request(castor, 'GET', '/dt/dt-cli/models?api-version=2023-10-31');
  assert.equal(gone.status, 404);
  const gd = await cli(home, ['group', 'delete', '-n', 'rg1', '--yes']);
  assert.equal(gd.code, 0, gd.stderr);
});

test('castor dt role-assignment create resolves --assignee (UPN, appId, object id) through Graph', async () => {
  const ok = async (args) => {
    const r = await cli(home, args);
    assert.equal(r.code, 0, `castor ${args.join(' ')}\n${r.stderr}`);
    return r;
  };
  await ok(['group', 'create', '-n', 'rg-ra', '-l', 'westus2']);
  await ok(['dt', 'create', '-n', 'dt-ra', '-g', 'rg-ra', '-l', 'westus2']);
  const user = await ok(['ad', 'user', 'create', '--display-name', 'Carol', '--user-principal-name', 'carol@castor.local', '--password', 'Carol-Pw-12345']);
  const app = await ok(['ad', 'app', 'create', '--display-name', 'ra-app']);
  const sp = await ok(['ad', 'sp', 'create', '--id', app.json.appId]);
  const DATA_OWNER = 'bcd981a7-7f74-457b-83e1-cceb9e632ffe';
  const DATA_READER = 'd57506d4-4c8d-48b1-8587-93c323f6a5a3';

  // Carol cannot read the instance's data before the assignment ...
  const carolTok = await userToken(castor, ADT_SCOPE, { username: 'carol@castor.local', password: 'Carol-Pw-12345' });
  assert.equal((await dataPlane(castor, carolTok, 'GET', '/dt/dt-ra/models')).status, 403);

  // A UPN, with the legacy role name: the output says which role it became.
  const byUpn = await ok(['dt', 'role-assignment', 'create', '-n', 'dt-ra', '--assignee', 'carol@castor.local',
    '--role', 'Azure Digital Twins Owner (Preview)']);
  assert.equal(byUpn.json.principalId, user.json.id);
  assert.equal(byUpn.json.principalType, 'User');
  assert.ok(byUpn.json.roleDefinitionId.endsWith(DATA_OWNER), byUpn.json.roleDefinitionId);
  assert.ok(byUpn.json.scope.endsWith('/resourceGroups/rg-ra/providers/Microsoft.DigitalTwins/digitalTwinsInstances/dt-ra'));
  assert.match(byUpn.stderr, /'Azure Digital Twins Owner \(Preview\)' is the former name of the built-in role 'Azure Digital Twins Data Owner'/);
  // ... and can on the very next request.
  assert.equal((await dataPlane(castor, carolTok, 'GET', '/dt/dt-ra/models')).status, 200);

  // An appId resolves to its service principal.
  const byApp = await ok(['dt', 'role-assignment', 'create', '-n', 'dt-ra', '--assignee', app.json.appId,
    '--role', 'Azure Digital Twins Data Reader']);
  assert.equal(byApp.json.principalId, sp.json.id);
  assert.equal(byApp.json.principalType, 'ServicePrincipal');
  // An object id (not an appId) resolves through directoryObjects/getByIds.
  const byOid = await ok(['dt', 'role-assignment', 'create', '-n', 'dt-ra', '-g', 'rg-ra', '--assignee', user.json.id,
    '--role', DATA_READER]);
  assert.equal(byOid.json.principalId, user.json.id);
  assert.equal(byOid.json.principalType, 'User');
  assert.ok(byOid.json.roleDefinitionId.endsWith(DATA_READER));

  // The list shows principal and role names, as az does.
  const list = await ok(['dt', 'role-assignment', 'list', '-n', 'dt-ra']);
  const rows = list.json.map((a) => `${a.principalName}|${a.roleDefinitionName}`).sort();
  assert.deepEqual(rows, [`${app.json.appId}|Azure Digital Twins Data Reader`,
    'carol@castor.local|Azure Digital Twins Data Owner', 'carol@castor.local|Azure Digital Twins Data Reader'].sort());
  const all = await ok(['role', 'assignment', 'list', '--all']);
  assert.ok(all.json.some((a) => a.principalName === ADMIN && a.roleDefinitionName === 'Owner'), all.stdout);

  // Duplicates, unknown assignees and unknown roles are clear errors; nothing is written.
  const dup = await cli(home, ['dt', 'role-assignment', 'create', '-n', 'dt-ra', '--assignee', 'carol@castor.local',
    '--role', 'Azure Digital Twins Data Owner']);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /RoleAssignmentExists/);
  const nobody = await cli(home, ['dt', 'role-assignment', 'create', '-n', 'dt-ra', '--assignee', 'nobody@castor.local',
    '--role', 'Azure Digital Twins Data Owner']);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /Cannot find user or service principal in graph database for 'nobody@castor.local'/);
  const ghost = await cli(home, ['dt', 'role-assignment', 'create', '-n', 'dt-ra', '--assignee', '00000000-0000-0000-0000-00000000000a',
    '--role', 'Azure Digital Twins Data Owner']);
  assert.equal(ghost.code, 1);
  assert.match(ghost.stderr, /Cannot find user or service principal/);
  const typo = await cli(home, ['dt', 'role-assignment', 'create', '-n', 'dt-ra', '--assignee', 'carol@castor.local',
    '--role', 'Azure Digital Twins Data Ownr']);
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /Role 'Azure Digital Twins Data Ownr' doesn't exist\. Did you mean 'Azure Digital Twins Data Owner'/);
  const after = await ok(['dt', 'role-assignment', 'list', '-n', 'dt-ra']);
  assert.equal(after.json.length, 3);

  // Delete by assignee and role; Carol loses the data plane at once.
  await ok(['dt', 'role-assignment', 'delete', '-n', 'dt-ra', '--assignee', 'carol@castor.local', '--role', 'Azure Digital Twins Data Owner']);
  await ok(['dt', 'role-assignment', 'delete', '-n', 'dt-ra', '--assignee', 'carol@castor.local', '--role', 'Azure Digital Twins Data Reader']);
  assert.equal((await dataPlane(castor, carolTok, 'GET', '/dt/dt-ra/models')).status, 403);
  const left = await ok(['dt', 'role-assignment', 'list', '-n', 'dt-ra']);
  assert.deepEqual(left.json.map((a) => a.principalId), [sp.json.id]);
  await ok(['dt', 'delete', '-n', 'dt-ra', '--yes']);
  await ok(['group', 'delete', '-n', 'rg-ra', '--yes']);
});

// ARM answers 100 items a page; a list command must follow nextLink to the end.
test('castor group list follows ARM nextLink past the first page', async () => {
  const token = await userToken(castor, ARM_SCOPE);
  const sub = `/subscriptions/${castor.connection.subscriptionId}`;
  for (let i = 0; i < 101; i++) {
    const r = await arm(castor, token, 'PUT', `${sub}/resourcegroups/rg-page-${i}`, { location: 'westus2' });
    assert.ok(r.status === 200 || r.status === 201, r.text);
  }
  assert.ok((await arm(castor, token, 'GET', `${sub}/resourcegroups`)).json.nextLink, 'the server pages');
  const list = await cli(home, ['group', 'list']);
  assert.equal(list.code, 0, list.stderr);
  const names = new Set(list.json.map((g) => g.name));
  for (let i = 0; i < 101; i++) assert.ok(names.has(`rg-page-${i}`), `rg-page-${i} listed`);
});
