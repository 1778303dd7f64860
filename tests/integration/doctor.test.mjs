// doctor.test.mjs — `castor dt doctor` names the right cause in each state of the seed, and
// finds an earlier refusal by its request id in castor's audit log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCastor, stopCastor, request } from './lib/castor.js';
import { cli, clientHome, serverArgs, ADMIN, ADMIN_PW, ADT_APP, READ_WRITE_ID } from './cli_helpers.mjs';

const ARM_APP = '797f4846-ba00-4fd7-ba43-dac1f8f63013';
let castor; let home;

const run = async (h, args, env) => {
  const r = await cli(h, args, { env });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r;
};
const doctor = async (h, extra = [], env) => (await run(h, ['dt', 'doctor', '-n', 'doc-dt', ...extra], env)).json;

before(async () => {
  castor = await startCastor();
  home = clientHome();
  await run(home, ['login', '-u', ADMIN, '-p', ADMIN_PW, ...serverArgs(castor), '-o', 'none']);
  await run(home, ['group', 'create', '-n', 'rg-doc', '-l', 'westus2', '-o', 'none']);
  await run(home, ['dt', 'create', '-n', 'doc-dt', '-g', 'rg-doc', '-l', 'westus2', '-o', 'none']);
});
after(async () => { if (castor) await stopCastor(castor); });

test('subscription Owner only: doctor names seed cause #1 and the role assignment that fixes it', async () => {
  const d = await doctor(home);
  assert.equal(d.cause, 'seed cause #1', JSON.stringify(d, null, 2));
  assert.match(d.verdict, /no data-plane role/);
  assert.match(d.fix.castor, /^castor dt role-assignment create --dt-name doc-dt --assignee admin@castor\.local --role "Azure Digital Twins Data (Reader|Owner)"$/);
  assert.match(d.fix.az, /^az dt role-assignment create/);
  assert.deepEqual(d.effectiveDataActions, []);
  const byName = Object.fromEntries(d.checks.map((c) => [c.check, c.result]));
  assert.equal(byName['API permission (seed cause #2)'], 'ok');
  assert.equal(byName['data-plane role (seed cause #1)'], 'problem');
  assert.equal(d.principal.name, ADMIN);
});

test('a refused request is found again by its x-ms-request-id', async () => {
  const tok = (await run(home, ['account', 'get-access-token', '--resource', 'https://digitaltwins.azure.net'])).json.accessToken;
  const r = await request(castor, 'GET', '/dt/doc-dt/digitaltwins/room1?api-version=2022-05-31', { headers: { authorization: `Bearer ${tok}` } });
  assert.equal(r.status, 403);
  const id = r.headers['x-ms-request-id'];
  const d = await doctor(home, ['--request-id', id]);
  assert.equal(d.recordedDenial.requestId, id, JSON.stringify(d.recordedDenial));
  assert.equal(d.recordedDenial.cause, 'control-plane-role-only');
  assert.equal(d.recordedDenial.action, 'Microsoft.DigitalTwins/digitaltwins/read');
  assert.equal(d.recordedDenial.status, 403);
  assert.equal(d.recordedDenial.detail.seedCause, 1);
  // The role change that follows is audited too.
  await run(home, ['dt', 'role-assignment', 'create', '--dt-name', 'doc-dt', '--assignee', ADMIN, '--role', 'Azure Digital Twins Data Owner', '-o', 'none']);
});

test('with a data role, doctor says access is fine', async () => {
  const d = await doctor(home);
  assert.equal(d.cause, null);
  assert.match(d.verdict, /Access is fine/);
  assert.ok(d.effectiveDataActions.includes('Microsoft.DigitalTwins/digitaltwins/*'), JSON.stringify(d.effectiveDataActions));
});

test('doctor reports an event endpoint that is failing, and the events waiting for it', async () => {
  // A webhook nobody answers (a port just closed) and a route that sends it everything.
  const srv = (await import('node:net')).createServer();
  const port = await new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv.address().port)));
  await new Promise((r) => srv.close(r));
  await run(home, ['dt', 'endpoint', 'create', 'webhook', '-n', 'doc-dt', '--en', 'deadhook',
    '--endpoint-uri', `http://127.0.0.1:${port}/events`, '-o', 'none']);
  await run(home, ['dt', 'route', 'create', '-n', 'doc-dt', '--rn', 'r-all', '--en', 'deadhook', '--filter', 'true', '-o', 'none']);
  const tok = (await run(home, ['account', 'get-access-token', '--resource', 'https://digitaltwins.azure.net'])).json.accessToken;
  const h = { authorization: `Bearer ${tok}`, 'content-type': 'application/json' };
  const model = [{ '@id': 'dtmi:doc:Thing;1', '@type': 'Interface', '@context': 'dtmi:dtdl:context;3' }];
  let r = await request(castor, 'POST', '/dt/doc-dt/models?api-version=2023-10-31', { body: JSON.stringify(model), headers: h });
  assert.equal(r.status, 201, r.text);
  r = await request(castor, 'PUT', '/dt/doc-dt/digitaltwins/t1?api-version=2023-10-31', { body: JSON.stringify({ $metadata: { $model: 'dtmi:doc:Thing;1' } }), headers: h });
  assert.equal(r.status, 200, r.text);
  let d;
  for (let i = 0; i < 100; i++) {
    d = await doctor(home);
    if (d.cause === 'event delivery') break;
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal(d.cause, 'event delivery', JSON.stringify(d, null, 2));
  assert.match(d.verdict, /Access is fine, but event delivery needs attention: endpoint deadhook is failing/);
  assert.match(d.verdict, /127\.0\.0\.1/);
  const ep = d.events.endpoints.find((e) => e.name === 'deadhook');
  assert.equal(ep.delivery.failing, true);
  assert.ok(ep.delivery.outboxLag >= 1);
  assert.match(ep.deadLettersIn, /deadletter\/doc-dt\/deadhook/);
  assert.deepEqual(d.events.routes.map((x) => x.id), ['r-all']);
  // Gone again: delivery has nothing to say.
  await run(home, ['dt', 'route', 'delete', '-n', 'doc-dt', '--rn', 'r-all', '-o', 'none']);
  await run(home, ['dt', 'endpoint', 'delete', '-n', 'doc-dt', '--en', 'deadhook', '-y', '-o', 'none']);
  d = await doctor(home);
  assert.equal(d.cause, null, JSON.stringify(d, null, 2));
  assert.deepEqual(d.events, { endpoints: [], routes: [] });
});

test('signed in through an app registration lacking the ADT permission: doctor names seed cause #2', async () => {
  const app = (await run(home, ['ad', 'app', 'create', '--display-name', 'doc-app', '--is-fallback-public-client', 'true'])).json.appId;
  await run(home, ['ad', 'sp', 'create', '--id', app, '-o', 'none']);
  await run(home, ['ad', 'app', 'permission', 'add', '--id', app, '--api', ADT_APP, '--api-permissions', `${READ_WRITE_ID}=Scope`, '-o', 'none']);
  await run(home, ['ad', 'app', 'permission', 'add', '--id', app, '--api', ARM_APP, '--api-permissions', '41094075-9dad-400e-a0bd-54e686782033=Scope', '-o', 'none']);
  await run(home, ['ad', 'app', 'permission', 'admin-consent', '--id', app, '-o', 'none']);
  // The permission is then dropped from the registration (consent stays, as in Entra).
  await run(home, ['ad', 'app', 'update', '--id', app, '--required-resource-accesses',
    JSON.stringify([{ resourceAppId: ARM_APP, resourceAccess: [{ id: '41094075-9dad-400e-a0bd-54e686782033', type: 'Scope' }] }]), '-o', 'none']);
  const user = clientHome();
  const env = { CASTOR_CLIENT_ID: app };
  await run(user, ['login', '-u', ADMIN, '-p', ADMIN_PW, ...serverArgs(castor), '-o', 'none'], env);
  const d = await doctor(user, [], env);
  assert.equal(d.cause, 'seed cause #2', JSON.stringify(d, null, 2));
  assert.equal(d.principal.clientAppId, app);
  assert.match(d.fix.castor, new RegExp(`castor ad app permission add --id ${app} --api ${ADT_APP} --api-permissions ${READ_WRITE_ID}=Scope`));
});

test('signed out: doctor says to sign in', async () => {
  const nobody = clientHome();
  const r = await cli(nobody, ['dt', 'doctor', '-n', 'doc-dt', ...serverArgs(castor)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.json.verdict, /sign in/i);
  assert.equal(r.json.fix.castor, 'castor login');
});
