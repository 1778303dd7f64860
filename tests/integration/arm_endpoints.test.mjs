// arm_endpoints.test.mjs — event endpoints as ARM sub-resources of an instance, over HTTP as any
// ARM client meets them: EventGrid, webhook and mqtt created (201 + Azure-AsyncOperation, then
// 200 on replace), secrets never in GET, list or the access log, ARM's name rule, clear 400s
// for bad input (AMQP types, IdentityBased, bad URLs, dead-letter targets, retry bounds, the
// six-endpoint limit), delete (202 + Location, then 204), Reader may read and not write, and
// deleting the instance takes its endpoints; an endpoint a route uses is kept; the unmodified
// @azure/arm-digitaltwins (EventGrid) and Debian's az (az resource / az rest) drive them too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCastor, stopCastor, request as raw, CASTOR_BINARY } from './lib/castor.js';
import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userToken, ARM_SCOPE, ADT_SCOPE, AZURE_CLI, ROLE, arm, scopes, createInstance, assignRole, claims } from './lib/azure.js';
import { adminGraphToken, graph } from './lib/identity.js';

const here = dirname(fileURLToPath(import.meta.url));
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const EP_TYPE = 'Microsoft.DigitalTwins/digitalTwinsInstances/endpoints';
const SECRETS = ['eg-key-1-SECRET', 'eg-key-2-SECRET', 'hook-key-SECRET', 'mqtt-pw-SECRET'];
let c; let tok; let inst; let s;

before(async () => {
  c = await startCastor();
  tok = await userToken(c, ARM_SCOPE);
  s = scopes(c);
  inst = await createInstance(c, tok, 'adt-ep');
});
after(async () => { if (c) await stopCastor(c); });

const ep = (name, i = inst) => `${i}/endpoints/${name}`;
const put = (name, properties, i) => arm(c, tok, 'PUT', ep(name, i), { properties });
const eventGrid = { endpointType: 'EventGrid', TopicEndpoint: 'https://topic.example/api/events', accessKey1: SECRETS[0], accessKey2: SECRETS[1] };
const webhook = { endpointType: 'webhook', endpointUri: 'https://hooks.example/adt', accessKey: SECRETS[2] };
const mqtt = { endpointType: 'mqtt', endpointUri: 'mqtt://127.0.0.1:1883', username: 'adt', password: SECRETS[3], topic: 'site/{instance}/{twinId}/{type}' };

function noSecrets(text, where) {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} shows a secret: ${text}`);
}

test('EventGrid, webhook and mqtt endpoints are created, read and listed without their secrets', async () => {
  let r = await put('eg-one', eventGrid);
  assert.equal(r.status, 201, r.text);
  assert.match(r.headers['azure-asyncoperation'], /\/locations\/westus2\/operationsStatuses\/[0-9a-f-]{36}\?api-version=2023-01-31$/);
  noSecrets(r.text, 'PUT');
  assert.equal(r.json.id, ep('eg-one'));
  assert.equal(r.json.name, 'eg-one');
  assert.equal(r.json.type, EP_TYPE);
  assert.equal(r.json.systemData.createdBy, 'admin@castor.local');
  assert.equal(r.json.systemData.createdAt, r.json.systemData.lastModifiedAt);
  assert.equal(r.json.properties.endpointType, 'EventGrid');
  assert.equal(r.json.properties.TopicEndpoint, eventGrid.TopicEndpoint);
  assert.equal(r.json.properties.accessKey1, null);
  assert.equal(r.json.properties.accessKey2, null);
  assert.equal(r.json.properties.provisioningState, 'Succeeded');
  assert.equal(r.json.properties.authenticationType, 'KeyBased');
  assert.ok(!Number.isNaN(Date.parse(r.json.properties.createdTime)));
  // Azure Resource Manager times carry seven fractional digits.
  for (const t of [r.json.properties.createdTime, r.json.systemData.createdAt, r.json.systemData.lastModifiedAt]) assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  assert.deepEqual(r.json.properties.retryPolicy, { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 });
  assert.ok(r.json.properties.deadLetterFolder.endsWith('/deadletter/adt-ep/eg-one/'), r.json.properties.deadLetterFolder);
  // The operation the client polls is already Succeeded.
  const op = await poll(r.headers['azure-asyncoperation']);
  assert.equal(op.status, 200, op.text);
  assert.equal(op.json.status, 'Succeeded');

  r = await put('Hook-1', { ...webhook, retryPolicy: { maxDeliveryAttempts: 3, eventTimeToLiveInMinutes: 5 } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.properties.endpointUri, webhook.endpointUri);
  assert.equal(r.json.properties.accessKey, null);
  assert.deepEqual(r.json.properties.retryPolicy, { maxDeliveryAttempts: 3, eventTimeToLiveInMinutes: 5 });

  r = await put('mq-1', { ...mqtt, deadLetterEndpoint: 'HOOK-1' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.properties.topic, mqtt.topic);
  assert.equal(r.json.properties.username, 'adt');
  assert.equal(r.json.properties.password, null);
  assert.equal(r.json.properties.deadLetterEndpoint, 'Hook-1', 'the target keeps its own spelling');
  assert.equal(r.json.properties.deadLetterFolder, undefined);

  // Names compare case-insensitively; the record keeps its first spelling and creation time.
  const first = (await arm(c, tok, 'GET', ep('hook-1'))).json;
  assert.equal(first.name, 'Hook-1');
  r = await put('HOOK-1', { endpointType: 'webhook', endpointUri: 'http://127.0.0.1:9/x' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['azure-asyncoperation'], undefined);
  assert.equal(r.json.name, 'Hook-1');
  assert.equal(r.json.properties.endpointUri, 'http://127.0.0.1:9/x');
  assert.equal(r.json.properties.createdTime, first.properties.createdTime);
  assert.equal(r.json.systemData.createdAt, first.systemData.createdAt);
  assert.equal(r.json.systemData.lastModifiedBy, 'admin@castor.local');

  r = await arm(c, tok, 'GET', `${inst}/endpoints`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.value.map((e) => e.name), ['eg-one', 'Hook-1', 'mq-1']);
  noSecrets(r.text, 'list');
  r = await arm(c, tok, 'GET', ep('mq-1'));
  assert.equal(r.status, 200, r.text);
  noSecrets(r.text, 'GET');
  r = await arm(c, tok, 'GET', ep('nope-1'));
  assert.equal(r.status, 404, r.text);
  assert.equal(r.json.error.code, 'ResourceNotFound');
  r = await arm(c, tok, 'GET', ep('eg-one', s.instance('no-such-dt')));
  assert.equal(r.status, 404, r.text);
  noSecrets(c.stderr() + c.stdout(), 'the log');
});

// GETs an absolute LRO URL castor handed out.
function poll(url) {
  const u = new URL(url);
  return raw(c, 'GET', u.pathname + u.search, { headers: { authorization: `Bearer ${tok}` } });
}

test('bad input gets ARM\'s error shape and says what is allowed', async () => {
  const cases = [
    ['xx1', { endpointType: 'EventHub', endpointUri: 'sb://x' }, 400, 'BadRequest', /no AMQP driver/],
    ['xx1', { endpointType: 'ServiceBus' }, 400, 'BadRequest', /'EventGrid'.*'webhook'.*'mqtt'/],
    ['xx1', { endpointType: 'kafka' }, 400, 'InvalidRequestContent', /not one castor has/],
    ['xx1', {}, 400, 'InvalidRequestContent', /endpointType is required/],
    ['xx1', { ...webhook, authenticationType: 'IdentityBased' }, 400, 'BadRequest', /managed identity/],
    ['xx1', { ...eventGrid, deadLetterSecret: 'https://st/c?sig=1' }, 400, 'BadRequest', /deadletter/],
    ['xx1', { endpointType: 'EventGrid', TopicEndpoint: 'https://t.example' }, 400, 'InvalidRequestContent', /accessKey1 is required/],
    ['xx1', { endpointType: 'webhook' }, 400, 'InvalidRequestContent', /endpointUri is required/],
    ['xx1', { endpointType: 'webhook', endpointUri: 'ftp://x' }, 400, 'InvalidRequestContent', /must start with https:\/\/ or http:\/\//],
    ['xx1', { endpointType: 'webhook', endpointUri: 'http://hooks.example/x' }, 400, 'InvalidRequestContent', /https:\/\/ only/],
    ['xx1', { endpointType: 'webhook', endpointUri: 'https://' }, 400, 'InvalidRequestContent', /no valid host/],
    ['xx1', { endpointType: 'webhook', endpointUri: 'https://u:p@h.example/' }, 400, 'InvalidRequestContent', /credentials/],
    ['xx1', { endpointType: 'webhook', endpointUri: 'https://h:99999/' }, 400, 'InvalidRequestContent', /bad port/],
    ['xx1', { ...webhook, caCertificate: 'not pem' }, 400, 'InvalidRequestContent', /PEM/],
    ['xx1', { endpointType: 'mqtt', endpointUri: 'https://h' }, 400, 'InvalidRequestContent', /mqtt:\/\/ or mqtts:\/\//],
    ['xx1', { ...mqtt, topic: 'a/#' }, 400, 'InvalidRequestContent', /wildcard/],
    ['xx1', { ...mqtt, topic: 'a/{twin}' }, 400, 'InvalidRequestContent', /\{instance\}, \{twinId\} and \{type\}/],
    ['xx1', { endpointType: 'mqtt', endpointUri: 'mqtt://h:1', password: 'p' }, 400, 'InvalidRequestContent', /needs properties.username/],
    ['xx1', { ...mqtt, caCertificate: '-----BEGIN CERTIFICATE-----' }, 400, 'InvalidRequestContent', /mqtts:\/\/ only/],
    ['xx1', { ...webhook, deadLetterEndpoint: 'ghost' }, 400, 'InvalidRequestContent', /'ghost' is not an endpoint/],
    ['xx1', { ...webhook, deadLetterEndpoint: 'XX1' }, 400, 'InvalidRequestContent', /itself/],
    ['xx1', { ...webhook, retryPolicy: { maxDeliveryAttempts: 0 } }, 400, 'InvalidRequestContent', /1 to 100/],
    ['xx1', { ...webhook, retryPolicy: { eventTimeToLiveInMinutes: 1441 } }, 400, 'InvalidRequestContent', /1 to 1440/],
    ['1234', webhook, 400, 'InvalidResourceName', /not only digits/],
    ['-ab', webhook, 400, 'InvalidResourceName', /3 to 49/],
    ['ab', webhook, 400, 'InvalidResourceName', /3 to 49/],
    ['a'.repeat(50), webhook, 400, 'InvalidResourceName', /3 to 49/],
  ];
  for (const [name, props, status, code, message] of cases) {
    const r = await put(name, props);
    assert.equal(r.status, status, `${JSON.stringify(props)}: ${r.text}`);
    assert.equal(r.json.error.code, code, r.text);
    assert.match(r.json.error.message, message);
  }
  let r = await arm(c, tok, 'PUT', ep('xx1'), { endpointType: 'webhook' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'InvalidRequestContent');
  r = await arm(c, tok, 'GET', ep('xx1'));
  assert.equal(r.status, 404, 'nothing was written');
});

test('six endpoints per instance; delete is 202 then 204; a dead-letter target is kept', async () => {
  const i = await createInstance(c, tok, 'adt-ep-six');
  for (let n = 0; n < 6; n++) {
    const r = await put(`ep-${n}`, n === 5 ? { ...webhook, deadLetterEndpoint: 'ep-0' } : webhook, i);
    assert.equal(r.status, 201, r.text);
  }
  let r = await put('ep-6', webhook, i);
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.code, 'LimitExceeded');
  assert.equal((await put('EP-5', { ...webhook, deadLetterEndpoint: 'ep-0' }, i)).status, 200, 'replacing is not creating');

  r = await arm(c, tok, 'DELETE', ep('ep-0', i));
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error.message, /'ep-5'/);
  r = await arm(c, tok, 'DELETE', ep('EP-5', i));
  assert.equal(r.status, 202, r.text);
  assert.match(r.headers.location, /\/operationResults\/[0-9a-f-]{36}\?api-version=2023-01-31$/);
  assert.equal(r.json.properties.provisioningState, 'Deleting');
  noSecrets(r.text, 'DELETE');
  const op = await poll(r.headers.location);
  assert.equal(op.status, 204, op.text);
  assert.equal((await arm(c, tok, 'DELETE', ep('ep-5', i))).status, 204, 'gone already');
  assert.equal((await arm(c, tok, 'GET', ep('ep-5', i))).status, 404);
  assert.equal((await put('ep-6', webhook, i)).status, 201, 'room again');

  // Deleting the instance deletes its endpoints.
  r = await arm(c, tok, 'DELETE', i);
  assert.equal(r.status, 202, r.text);
  const again = await createInstance(c, tok, 'adt-ep-six');
  r = await arm(c, tok, 'GET', `${again}/endpoints`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.value, []);
});

test('a Reader may list and read endpoints and may not create or delete them', async () => {
  const g = await adminGraphToken(c);
  const u = await graph(c, g, 'POST', '/users', {
    userPrincipalName: 'rita@castor.local', displayName: 'Rita', mailNickname: 'rita', accountEnabled: true,
    passwordProfile: { password: 'Rita-Ep-Pw-1', forceChangePasswordNextSignIn: false },
  });
  assert.equal(u.status, 201, u.text);
  await assignRole(c, tok, inst, READER, u.json.id);
  const rita = await userToken(c, ARM_SCOPE, { username: 'rita@castor.local', password: 'Rita-Ep-Pw-1' });
  let r = await arm(c, rita, 'GET', `${inst}/endpoints`);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.value.length >= 1);
  noSecrets(r.text, 'list');
  assert.equal((await arm(c, rita, 'GET', ep('eg-one'))).status, 200);
  r = await arm(c, rita, 'PUT', ep('rita-1'), { properties: webhook });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.error.code, 'AuthorizationFailed');
  assert.match(r.json.error.message, /'Microsoft\.DigitalTwins\/digitalTwinsInstances\/endpoints\/write'/);
  r = await arm(c, rita, 'DELETE', ep('eg-one'));
  assert.equal(r.status, 403, r.text);
  assert.match(r.json.error.message, /endpoints\/delete/);
});

// Runs clients/arm-endpoint-client.mjs (the unmodified SDK) in a child node, so
// NODE_EXTRA_CA_CERTS is read at its start; resolves to {code, steps, stderr}.
function runSdk(cfg) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'clients', 'arm-endpoint-client.mjs'), JSON.stringify({
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

test('@azure/arm-digitaltwins 3.3.0 creates, reads, lists and deletes an EventGrid endpoint', async () => {
  await createInstance(c, tok, 'adt-ep-sdk', 'rg-ep-sdk');
  const key = 'sdk-eg-key-SECRET';
  const { code, steps, stderr } = await runSdk({
    group: 'rg-ep-sdk', instance: 'adt-ep-sdk', topicEndpoint: 'https://topic.example/api/events', key,
  });
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
  const created = ok('createEventGrid');
  assert.equal(created.name, 'sdk-eg');
  assert.equal(created.type, EP_TYPE);
  assert.equal(created.properties.endpointType, 'EventGrid');
  assert.equal(created.properties.topicEndpoint, 'https://topic.example/api/events');
  assert.equal(created.properties.accessKey1, null);
  assert.equal(created.properties.provisioningState, 'Succeeded');
  assert.ok(!Number.isNaN(Date.parse(created.properties.createdTime)));
  assert.equal(ok('replaceEventGrid').name, 'sdk-eg');
  let e = failed('createWebhook');
  assert.equal(e.statusCode, 400);
  assert.match(e.message, /endpointUri is required/);
  e = failed('createEventHub');
  assert.equal(e.statusCode, 400);
  assert.equal(e.code, 'BadRequest');
  assert.match(e.message, /no AMQP driver/);
  assert.equal(failed('createBadName').code, 'InvalidResourceName');
  assert.equal(ok('get').properties.topicEndpoint, 'https://topic.example/api/events');
  assert.deepEqual(ok('list').map((x) => x.name), ['sdk-eg']);
  ok('delete');
  assert.equal(failed('getDeleted').statusCode, 404);
  assert.deepEqual(ok('listAfterDelete'), []);
  const everything = JSON.stringify(steps) + c.stderr() + c.stdout();
  assert.ok(!everything.includes(key), 'the key never comes back nor reaches the log');
  // The SDK polled the LRO URLs castor handed it.
  assert.match(c.stderr() + c.stdout(), /\/operationsStatuses\/[0-9a-f-]{36}"/);
  assert.match(c.stderr() + c.stdout(), /\/operationResults\/[0-9a-f-]{36}"/);
});

test('an endpoint an event route delivers to is kept, and the message names the routes', async () => {
  const i = await createInstance(c, tok, 'adt-ep-route');
  assert.equal((await put('hook-r', webhook, i)).status, 201);
  await assignRole(c, tok, i, ROLE.dataOwner, claims(tok).oid);
  const adt = await userToken(c, ADT_SCOPE);
  const route = (id, body) => raw(c, body ? 'PUT' : 'DELETE', `/dt/adt-ep-route/eventroutes/${id}?api-version=2023-10-31`,
    { body: body && JSON.stringify(body), headers: { authorization: `Bearer ${adt}` } });
  let r = await route('to-hook', { endpointName: 'HOOK-R', filter: 'true' });
  assert.equal(r.status, 204, r.text);
  r = await route('also-hook', { endpointName: 'hook-r', filter: "type = 'Microsoft.DigitalTwins.Twin.Create'" });
  assert.equal(r.status, 204, r.text);
  r = await arm(c, tok, 'DELETE', ep('hook-r', i));
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.code, 'BadRequest');
  assert.match(r.json.error.message, /2 event routes .*'to-hook'/);
  assert.match(r.json.error.message, /'also-hook'/);
  assert.equal((await arm(c, tok, 'GET', ep('hook-r', i))).status, 200, 'still there');
  assert.equal((await route('to-hook')).status, 204);
  assert.equal((await route('also-hook')).status, 204);
  r = await arm(c, tok, 'DELETE', ep('hook-r', i));
  assert.equal(r.status, 202, r.text);
});

test('the real az CLI manages endpoints through az resource and az rest',
  { skip: !(existsSync('/usr/bin/az') && existsSync('/usr/bin/python3')) && 'no /usr/bin/az (Debian package azure-cli)', timeout: 300000 }, async () => {
    const { code, stdout, stderr } = await new Promise((resolve) => {
      execFile('bash', [join(here, 'sh', 'endpoints_az.sh')], {
        env: {
          ...process.env, CASTOR_BIN: CASTOR_BINARY, CASTOR_URL: c.url, CASTOR_CA: c.connection.caFile,
          SUB: c.connection.subscriptionId, ADMIN_PW: 'Castor-Test-Pw-1',
        },
        timeout: 280000,
        maxBuffer: 16 << 20,
      }, (e, so, se) => resolve({ code: e ? e.code ?? 1 : 0, stdout: so, stderr: se }));
    });
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /endpoints_az\.sh: all checks passed/);
  });
