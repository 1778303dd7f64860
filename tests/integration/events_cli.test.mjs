// events_cli.test.mjs — `castor dt endpoint …` and `castor dt route …` against a real server,
// signed in as the bootstrap admin: endpoints of the three types created, shown, listed
// (secrets never printed, --debug redacting them), the server's clear 400s passed through,
// a private CA read from a PEM file, delete; routes created, shown, listed and deleted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCastor, stopCastor } from './lib/castor.js';
import { cli, clientHome, ADMIN, ADMIN_PW } from './cli_helpers.mjs';

const KEY = 'cli-hook-key-SECRET';
const PW = 'cli-mqtt-pw-SECRET';
let castor; let home;
before(async () => {
  castor = await startCastor();
  home = clientHome();
  let r = await cli(home, ['login', '-u', ADMIN, '-p', ADMIN_PW, '--server', castor.url,
    '--ca-file', castor.connection.caFile, '-o', 'none']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(home, ['group', 'create', '-n', 'rg-ev', '-l', 'westus2', '-o', 'none']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(home, ['dt', 'create', '-n', 'dt-ev', '-g', 'rg-ev', '-o', 'none']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => { if (castor) await stopCastor(castor); });

const noSecret = (text) => {
  assert.ok(!text.includes(KEY) && !text.includes(PW), `a secret was printed: ${text}`);
};

test('castor dt endpoint create|show|list|delete for eventgrid, webhook and mqtt', async () => {
  let r = await cli(home, ['dt', 'endpoint', 'create', 'eventgrid', '-n', 'dt-ev', '--en', 'eg1',
    '--endpoint-uri', 'https://topic.example/api/events', '--access-key', KEY]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.name, 'eg1');
  assert.equal(r.json.resourceGroup, 'rg-ev');
  assert.equal(r.json.properties.endpointType, 'EventGrid');
  assert.equal(r.json.properties.accessKey1, null);
  assert.equal(r.json.properties.provisioningState, 'Succeeded');
  noSecret(r.stdout + r.stderr);

  const pem = join(home.dir, 'ca.pem');
  writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  r = await cli(home, ['dt', 'endpoint', 'create', 'webhook', '-n', 'dt-ev', '-g', 'rg-ev', '--en', 'hook1',
    '--endpoint-uri', 'https://hooks.example/adt', '--access-key', KEY, '--endpoint-ca', pem,
    '--max-attempts', '5', '--ttl-minutes', '10', '--debug']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.properties.endpointUri, 'https://hooks.example/adt');
  assert.match(r.json.properties.caCertificate, /BEGIN CERTIFICATE/);
  assert.deepEqual(r.json.properties.retryPolicy, { maxDeliveryAttempts: 5, eventTimeToLiveInMinutes: 10 });
  noSecret(r.stdout + r.stderr);
  assert.match(r.stderr, /"accessKey": "<redacted>"|accessKey.{0,4}<redacted>/, '--debug shows the body with the key redacted');

  r = await cli(home, ['dt', 'endpoint', 'create', 'mqtt', '-n', 'dt-ev', '--en', 'mq1',
    '--endpoint-uri', 'mqtt://127.0.0.1:1883', '--topic', 'site/{twinId}/{type}', '--username', 'adt',
    '--password', PW, '--client-id', 'castor-1', '--dead-letter-endpoint', 'hook1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.properties.topic, 'site/{twinId}/{type}');
  assert.equal(r.json.properties.clientId, 'castor-1');
  assert.equal(r.json.properties.password, null);
  assert.equal(r.json.properties.deadLetterEndpoint, 'hook1');
  noSecret(r.stdout + r.stderr);

  r = await cli(home, ['dt', 'endpoint', 'show', '-n', 'dt-ev', '--en', 'MQ1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.name, 'mq1');
  r = await cli(home, ['dt', 'endpoint', 'list', '-n', 'dt-ev']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json.map((e) => e.name), ['eg1', 'hook1', 'mq1']);
  noSecret(r.stdout);
  r = await cli(home, ['dt', 'endpoint', 'list', '-n', 'dt-ev', '-o', 'table']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /hook1/);

  // The server's messages come through as they are.
  r = await cli(home, ['dt', 'endpoint', 'create', 'webhook', '-n', 'dt-ev', '--en', 'bad1',
    '--endpoint-uri', 'http://hooks.example/x']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ERROR: .*https:\/\/ only/m);
  r = await cli(home, ['dt', 'endpoint', 'create', 'mqtt', '-n', 'dt-ev', '--en', 'bad1',
    '--endpoint-uri', 'mqtt://h:1', '--password', 'x']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--password needs --username/);
  r = await cli(home, ['dt', 'endpoint', 'create', 'webhook', '-n', 'dt-ev', '--en', 'bad1',
    '--endpoint-uri', 'https://h.example', '--endpoint-ca', join(home.dir, 'none.pem')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--endpoint-ca .*none\.pem: No such file/);
  r = await cli(home, ['dt', 'endpoint', 'create', 'webhook', '-n', 'dt-ev', '--en', 'bad1',
    '--endpoint-uri', 'https://h.example', '--max-attempts', 'many']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--max-attempts must be a positive integer/);
  r = await cli(home, ['dt', 'endpoint', 'show', '-n', 'dt-ev', '--en', 'nope1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nope1' under Azure Digital Twins instance 'dt-ev' was not found/);
  r = await cli(home, ['dt', 'endpoint', 'list', '-n', 'no-such-dt']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /'no-such-dt' was not found/);

  r = await cli(home, ['dt', 'endpoint', 'delete', '-n', 'dt-ev', '--en', 'hook1', '-y']);
  assert.equal(r.code, 1, 'mq1 dead-letters to hook1');
  assert.match(r.stderr, /'mq1'/);
  r = await cli(home, ['dt', 'endpoint', 'delete', '-n', 'dt-ev', '--en', 'eg1', '-y']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  r = await cli(home, ['dt', 'endpoint', 'list', '-n', 'dt-ev']);
  assert.deepEqual(r.json.map((e) => e.name), ['hook1', 'mq1']);
});

test('castor dt route create|show|list|delete, and an endpoint a route uses is kept', async () => {
  let r = await cli(home, ['dt', 'role-assignment', 'create', '-n', 'dt-ev', '--assignee', ADMIN,
    '--role', 'Azure Digital Twins Data Owner', '-o', 'none']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(home, ['dt', 'route', 'create', '-n', 'dt-ev', '--rn', 'r0', '--en', 'mq1']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(home, ['dt', 'endpoint', 'create', 'webhook', '-n', 'dt-ev', '--en', 'hook2',
    '--endpoint-uri', 'https://hooks.example/two', '-o', 'none']);
  assert.equal(r.code, 0, r.stderr);

  const filter = "type = 'Microsoft.DigitalTwins.Twin.Create'";
  r = await cli(home, ['dt', 'route', 'create', '-n', 'dt-ev', '--rn', 'r1', '--en', 'hook2', '--filter', filter]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json, { id: 'r1', endpointName: 'hook2', filter });
  r = await cli(home, ['dt', 'route', 'create', '-n', 'dt-ev', '--rn', 'r2', '--en', 'hook2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.filter, 'true', 'the default filter takes every event');
  r = await cli(home, ['dt', 'route', 'show', '-n', 'dt-ev', '--rn', 'r1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.endpointName, 'hook2');
  r = await cli(home, ['dt', 'route', 'list', '-n', 'dt-ev']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json.map((x) => x.id).sort(), ['r0', 'r1', 'r2']);
  r = await cli(home, ['dt', 'route', 'list', '-n', 'dt-ev', '-o', 'table']);
  assert.match(r.stdout, /^Id\s+EndpointName\s+Filter/m);

  // Bad input: the server's codes come through.
  r = await cli(home, ['dt', 'route', 'create', '-n', 'dt-ev', '--rn', 'r3', '--en', 'ghost']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /EventRouteEndpointInvalid/);
  r = await cli(home, ['dt', 'route', 'create', '-n', 'dt-ev', '--rn', 'r3', '--en', 'hook2', '--filter', "type = = 'x'"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /EventRouteFilterInvalid/);

  // An endpoint a route delivers to cannot be deleted; the message names the routes.
  r = await cli(home, ['dt', 'endpoint', 'delete', '-n', 'dt-ev', '--en', 'HOOK2', '-y']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /event route/);
  assert.match(r.stderr, /r1/);

  r = await cli(home, ['dt', 'route', 'delete', '-n', 'dt-ev', '--rn', 'r1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  r = await cli(home, ['dt', 'route', 'show', '-n', 'dt-ev', '--rn', 'r1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /EventRouteNotFound/);
  r = await cli(home, ['dt', 'route', 'delete', '-n', 'dt-ev', '--rn', 'r2']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(home, ['dt', 'endpoint', 'delete', '-n', 'dt-ev', '--en', 'hook2', '-y']);
  assert.equal(r.code, 0, r.stderr);
});
