// arm_cli.test.mjs — the resource manager through what users use: unauthenticated calls in
// ARM's 401 shape, then `castor login` as the bootstrap admin (Owner of castor-default) and
// `castor group|dt|role` against a real server: groups, an instance whose hostName is the
// data-plane endpoint, role definitions with legacy names, assignments at the instance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCastor, stopCastor, request } from './lib/castor.js';
import { cli, clientHome, ADMIN, ADMIN_PW } from './cli_helpers.mjs';

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
