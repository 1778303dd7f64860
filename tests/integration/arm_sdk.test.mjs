// arm_sdk.test.mjs — the unmodified @azure/arm-digitaltwins 3.3.0 against castor's resource
// manager: checkNameAvailability, create (beginCreateOrUpdateAndWait polls
// Azure-AsyncOperation), get, list by subscription (two pages: the SDK must follow castor's
// absolute nextLink) and by group, update tags, delete (beginDeleteAndWait polls Location).
// The SDK runs in a child node (clients/arm-client.mjs) so NODE_EXTRA_CA_CERTS is read at its
// start; its credential is @azure/identity's UsernamePasswordCredential against castor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCastor, stopCastor, request } from './lib/castor.js';
import { userToken, ARM_SCOPE, AZURE_CLI, arm, scopes, assignRole } from './lib/azure.js';
import { adminGraphToken, graph } from './lib/identity.js';

const here = dirname(fileURLToPath(import.meta.url));
let c; let tok;
before(async () => {
  c = await startCastor();
  tok = await userToken(c, ARM_SCOPE);
});
after(async () => { if (c) await stopCastor(c); });

// Runs the SDK client; resolves to {steps: {name: {result|error}}, stderr}.
function runSdk(cfg) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'clients', 'arm-client.mjs'), JSON.stringify({
      authorityHost: c.url, tenantId: c.connection.tenantId, subscriptionId: c.connection.subscriptionId,
      clientId: AZURE_CLI, username: 'admin@castor.local', password: 'Castor-Test-Pw-1', ...cfg,
    })], { env: { ...process.env, NODE_EXTRA_CA_CERTS: c.connection.caFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = ''; let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`SDK client timed out: ${err}`)); }, 120000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const steps = {};
      for (const line of out.split('\n').filter(Boolean)) {
        const { step, ...rest } = JSON.parse(line);
        steps[step] = rest;
      }
      resolve({ code, steps, stderr: err });
    });
  });
}

test('@azure/arm-digitaltwins 3.3.0 creates, reads, lists, tags and deletes instances', async () => {
  const s = scopes(c, 'rg-sdk');
  let r = await arm(c, tok, 'PUT', s.group, { location: 'westus2' });
  assert.equal(r.status, 201, r.text);
  // 100 items fill castor's first list page: 99 made over plain HTTPS in another group,
  // plus the SDK's two, so the subscription list has a second page.
  const other = scopes(c, 'rg-fill');
  r = await arm(c, tok, 'PUT', other.group, { location: 'westus2' });
  assert.equal(r.status, 201, r.text);
  for (let i = 0; i < 99; i++) {
    r = await arm(c, tok, 'PUT', other.instance(`fill-${i}`), { location: 'westus2' });
    assert.equal(r.status, 201, r.text);
  }

  const { code, steps, stderr } = await runSdk({ group: 'rg-sdk', names: ['sdk-dt1', 'sdk-dt2'] });
  assert.equal(code, 0, stderr);
  const ok = (name) => {
    assert.ok(steps[name], `step ${name} ran (stderr: ${stderr})`);
    assert.equal(steps[name].error, undefined, `${name}: ${JSON.stringify(steps[name].error)}`);
    return steps[name].result;
  };
  const failed = (name) => {
    assert.ok(steps[name]?.error, `${name} should fail: ${JSON.stringify(steps[name])}`);
    return steps[name].error;
  };

  assert.equal(ok('checkNameAvailability').nameAvailable, true);
  const created = ok('create');
  assert.equal(created.name, 'sdk-dt1');
  assert.equal(created.type, 'Microsoft.DigitalTwins/digitalTwinsInstances');
  assert.equal(created.provisioningState, 'Succeeded');
  assert.equal(created.hostName, `${new URL(c.url).host}/dt/sdk-dt1`);
  assert.deepEqual(created.tags, { env: 'test' });
  assert.equal(created.id, s.instance('sdk-dt1'));
  assert.equal(ok('create:sdk-dt2').name, 'sdk-dt2');

  const taken = ok('checkNameTaken');
  assert.equal(taken.nameAvailable, false);
  assert.equal(taken.reason, 'AlreadyExists');
  const invalid = ok('checkNameInvalid');
  assert.equal(invalid.nameAvailable, false);
  assert.equal(invalid.reason, 'Invalid');

  assert.equal(ok('get').id, s.instance('sdk-dt1'));
  const missing = failed('getMissing');
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.code, 'ResourceNotFound');

  const all = ok('list');
  assert.equal(all.length, 101, 'the SDK followed nextLink to the second page');
  assert.ok(all.some((i) => i.name === 'sdk-dt2'));
  const pages = ok('listPages');
  assert.deepEqual(pages.map((p) => p.length), [100, 1]);
  assert.deepEqual(ok('listByResourceGroup').map((i) => i.name).sort(), ['sdk-dt1', 'sdk-dt2']);

  assert.deepEqual(ok('update').tags, { env: 'prod', team: 'twins' });
  const bad = failed('createBadName');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.code, 'InvalidResourceName');
  assert.ok(ok('operations') >= 3);

  ok('delete');
  const gone = failed('getDeleted');
  assert.equal(gone.statusCode, 404);
  assert.deepEqual(ok('listAfterDelete'), ['sdk-dt2']);
  // Deleting removed the data plane too.
  const dp = await request(c, 'GET', '/dt/sdk-dt1/models?api-version=2023-10-31');
  assert.equal(dp.status, 404);
  // The SDK polled the LRO URLs castor handed it (the access log names every path).
  const log = c.stderr() + c.stdout();
  assert.match(log, /\/locations\/westus2\/operationsStatuses\/[0-9a-f-]{36}"/, 'create polled Azure-AsyncOperation');
  assert.match(log, /\/locations\/westus2\/operationResults\/[0-9a-f-]{36}"/, 'delete polled Location');
});

test('the SDK meets ARM\'s AuthorizationFailed as a RestError for a principal without write', async () => {
  const s = scopes(c, 'rg-reader');
  assert.equal((await arm(c, tok, 'PUT', s.group, { location: 'westus2' })).status, 201);
  assert.equal((await arm(c, tok, 'PUT', s.instance('reader-dt'), { location: 'westus2' })).status, 201);
  const g = await adminGraphToken(c);
  const u = await graph(c, g, 'POST', '/users', {
    userPrincipalName: 'rita@castor.local', displayName: 'Rita', mailNickname: 'rita', accountEnabled: true,
    passwordProfile: { password: 'Rita-Sdk-Pw-1', forceChangePasswordNextSignIn: false },
  });
  assert.equal(u.status, 201, u.text);
  await assignRole(c, tok, s.group, 'acdd72a7-3385-48ef-bd42-f606fba81ae7', u.json.id); // Reader
  const { code, steps, stderr } = await runSdk({
    mode: 'reader', group: 'rg-reader', names: ['reader-dt'], username: 'rita@castor.local', password: 'Rita-Sdk-Pw-1',
  });
  assert.equal(code, 0, stderr);
  assert.equal(steps.readerGet.result?.name, 'reader-dt', JSON.stringify(steps.readerGet));
  assert.deepEqual(steps.readerList.result, ['reader-dt']);
  const msg = (action, scope) => `The client 'rita@castor.local' with object id '${u.json.id}' does not have authorization to perform action 'Microsoft.DigitalTwins/digitalTwinsInstances/${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`;
  for (const [stepName, action, scope] of [['readerCreate', 'write', s.instance('reader-new')],
    ['readerUpdate', 'write', s.instance('reader-dt')], ['readerDelete', 'delete', s.instance('reader-dt')]]) {
    const e = steps[stepName].error;
    assert.ok(e, `${stepName}: ${JSON.stringify(steps[stepName])}`);
    assert.equal(e.statusCode, 403, stepName);
    assert.equal(e.code, 'AuthorizationFailed', stepName);
    assert.equal(e.message, msg(action, scope), stepName);
  }
  assert.equal((await arm(c, tok, 'GET', s.instance('reader-dt'))).status, 200, 'still there');
});
