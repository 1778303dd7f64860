// twins_cli.test.mjs — `castor dt twin …` against a real server, as a user runs it: login as the
// bootstrap admin, an instance with a Data Owner assignment, models from the CLI, then twins,
// relationships, components and telemetry through each command, checked by what the server
// answers afterwards (and, for telemetry, by the outbox on disk).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCastor, stopCastor } from './lib/castor.js';
import { sqlRows } from './lib/twins.js';
import { cli, clientHome, ADMIN, ADMIN_PW } from './cli_helpers.mjs';

const N = 'dt-twins-cli';
const ROOM = 'dtmi:cli:Room;1';
const FLOOR = 'dtmi:cli:Floor;1';
const MODELS = [
  { '@id': 'dtmi:cli:Thermostat;1', '@type': 'Interface', '@context': 'dtmi:dtdl:context;3', contents: [
    { '@type': 'Property', name: 'target', schema: 'double', writable: true },
    { '@type': 'Telemetry', name: 'reading', schema: 'double' }] },
  { '@id': ROOM, '@type': 'Interface', '@context': 'dtmi:dtdl:context;3', contents: [
    { '@type': 'Property', name: 'temp', schema: 'double', writable: true },
    { '@type': 'Telemetry', name: 'airTemp', schema: 'double' },
    { '@type': 'Component', name: 'thermostat', schema: 'dtmi:cli:Thermostat;1' }] },
  { '@id': FLOOR, '@type': 'Interface', '@context': 'dtmi:dtdl:context;3', contents: [
    { '@type': 'Property', name: 'name', schema: 'string', writable: true },
    { '@type': 'Relationship', name: 'contains', target: ROOM,
      properties: [{ '@type': 'Property', name: 'since', schema: 'string', writable: true }] }] },
];

let castor; let home;
const dt = (...args) => cli(home, ['dt', ...args]);
const ok = (r) => { assert.equal(r.code, 0, `${r.stderr}${r.stdout}`); return r.json; };

before(async () => {
  castor = await startCastor();
  home = clientHome();
  ok(await cli(home, ['login', '-u', ADMIN, '-p', ADMIN_PW, '--server', castor.url, '--ca-file', castor.connection.caFile, '-o', 'none']));
  ok(await cli(home, ['group', 'create', '-n', 'rg-twins', '-l', 'westus2']));
  ok(await dt('create', '-n', N, '-g', 'rg-twins', '-l', 'westus2'));
  ok(await dt('role-assignment', 'create', '-n', N, '--assignee', ADMIN, '--role', 'Azure Digital Twins Data Owner'));
  const file = join(home.dir, 'models.json');
  writeFileSync(file, JSON.stringify(MODELS));
  // A new assignment can take a moment to reach the data plane's cache.
  let r;
  for (let i = 0; i < 50; i++) {
    r = await dt('model', 'create', '-n', N, '--models', file);
    if (r.code === 0) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  ok(r);
});
after(async () => { if (castor) await stopCastor(castor); });

test('castor dt twin create, show, update, list, delete', async () => {
  const room = ok(await dt('twin', 'create', '-n', N, '-m', ROOM, '-t', 'room1', '-p', '{"temp":21,"thermostat":{"$metadata":{}}}'));
  assert.equal(room.$dtId, 'room1');
  assert.equal(room.temp, 21);
  assert.equal(room.$metadata.$model, ROOM);
  assert.ok(room.$metadata.temp.lastUpdateTime);
  const shown = ok(await dt('twin', 'show', '-n', N, '-t', 'room1'));
  assert.deepEqual(shown, room);
  // --if-none-match only creates.
  const again = await dt('twin', 'create', '-n', N, '-m', ROOM, '-t', 'room1', '-p', '{"thermostat":{"$metadata":{}}}', '--if-none-match');
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /PreconditionFailed/);
  // Invalid values are refused with the JSON path.
  const bad = await dt('twin', 'create', '-n', N, '-m', ROOM, '-t', 'room2', '-p', '{"temp":"warm","thermostat":{"$metadata":{}}}');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /ValidationFailed/);
  assert.match(bad.stderr, /\$\.temp/);
  // update: JSON Patch inline and from @file, with --etag (stale -> 412).
  const up = ok(await dt('twin', 'update', '-n', N, '-t', 'room1', '--json-patch', '[{"op":"replace","path":"/temp","value":22.5}]', '--etag', room.$etag));
  assert.equal(up.temp, 22.5);
  assert.notEqual(up.$etag, room.$etag);
  const stale = await dt('twin', 'update', '-n', N, '-t', 'room1', '--json-patch', '[{"op":"replace","path":"/temp","value":1}]', '--etag', room.$etag);
  assert.notEqual(stale.code, 0);
  assert.match(stale.stderr, /PreconditionFailed/);
  const pf = join(home.dir, 'patch.json');
  writeFileSync(pf, '[{"op":"remove","path":"/temp"}]');
  const removed = ok(await dt('twin', 'update', '-n', N, '-t', 'room1', '--json-patch', `@${pf}`));
  assert.equal(removed.temp, undefined);
  ok(await dt('twin', 'create', '-n', N, '-m', ROOM, '-t', 'room2', '-p', '{"temp":19,"thermostat":{"$metadata":{}}}'));
  const list = await dt('twin', 'list', '-n', N);
  if (list.code === 0) assert.deepEqual(list.json.map((t) => t.$dtId).sort(), ['room1', 'room2']);
  else assert.match(list.stderr, /query/i, 'twin list needs the query API; anything else is a failure');
  ok(await dt('twin', 'delete', '-n', N, '-t', 'room2'));
  const gone = await dt('twin', 'show', '-n', N, '-t', 'room2');
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /DigitalTwinNotFound/);
});

test('castor dt twin relationship create, show, update, list, delete', async () => {
  ok(await dt('twin', 'create', '-n', N, '-m', FLOOR, '-t', 'floor1', '-p', '{"name":"F1"}'));
  ok(await dt('twin', 'create', '-n', N, '-m', ROOM, '-t', 'room3', '-p', '{"thermostat":{"$metadata":{}}}'));
  const rel = ok(await dt('twin', 'relationship', 'create', '-n', N, '-t', 'floor1', '-r', 'r1', '--target', 'room3', '--kind', 'contains'));
  assert.equal(rel.$relationshipId, 'r1');
  assert.equal(rel.$sourceId, 'floor1');
  assert.equal(rel.$targetId, 'room3');
  assert.equal(rel.$relationshipName, 'contains');
  ok(await dt('twin', 'relationship', 'create', '-n', N, '-t', 'floor1', '-r', 'r2', '--target', 'room1', '--kind', 'contains'));
  // The wrong target model is refused.
  ok(await dt('twin', 'create', '-n', N, '-m', FLOOR, '-t', 'floor2', '-p', '{"name":"F2"}'));
  const wrong = await dt('twin', 'relationship', 'create', '-n', N, '-t', 'floor1', '-r', 'r3', '--target', 'floor2', '--relationship', 'contains');
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /InvalidRelationship/);
  assert.deepEqual(ok(await dt('twin', 'relationship', 'show', '-n', N, '-t', 'floor1', '-r', 'r1')), rel);
  const up = ok(await dt('twin', 'relationship', 'update', '-n', N, '-t', 'floor1', '-r', 'r1', '--json-patch', '[{"op":"add","path":"/since","value":"2024"}]'));
  assert.equal(up.since, '2024');
  assert.equal((ok(await dt('twin', 'relationship', 'show', '-n', N, '-t', 'floor1', '-r', 'r1'))).since, '2024');
  const out = ok(await dt('twin', 'relationship', 'list', '-n', N, '-t', 'floor1'));
  assert.deepEqual(out.map((r) => r.$relationshipId).sort(), ['r1', 'r2']);
  assert.deepEqual(ok(await dt('twin', 'relationship', 'list', '-n', N, '-t', 'floor1', '--kind', 'contains')).length, 2);
  assert.deepEqual(ok(await dt('twin', 'relationship', 'list', '-n', N, '-t', 'floor1', '--kind', 'nothing')), []);
  const inc = ok(await dt('twin', 'relationship', 'list', '-n', N, '-t', 'room3', '--incoming'));
  assert.equal(inc.length, 1);
  assert.equal(inc[0].sourceId ?? inc[0].$sourceId, 'floor1');
  // A twin with relationships cannot be deleted.
  const busy = await dt('twin', 'delete', '-n', N, '-t', 'room3');
  assert.notEqual(busy.code, 0);
  assert.match(busy.stderr, /RelationshipsNotDeleted/);
  ok(await dt('twin', 'relationship', 'delete', '-n', N, '-t', 'floor1', '-r', 'r1'));
  const gone = await dt('twin', 'relationship', 'show', '-n', N, '-t', 'floor1', '-r', 'r1');
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /RelationshipNotFound/);
  ok(await dt('twin', 'delete', '-n', N, '-t', 'room3'));
});

test('castor dt twin component show and update', async () => {
  const c = ok(await dt('twin', 'component', 'show', '-n', N, '-t', 'room1', '--component', 'thermostat'));
  assert.equal(c.target, undefined);
  assert.equal(c.$metadata.target, undefined);
  ok(await dt('twin', 'component', 'update', '-n', N, '-t', 'room1', '--component', 'thermostat', '--json-patch', '[{"op":"add","path":"/target","value":20}]'));
  const after2 = ok(await dt('twin', 'component', 'show', '-n', N, '-t', 'room1', '--component', 'thermostat'));
  assert.equal(after2.target, 20);
  assert.ok(after2.$metadata.target.lastUpdateTime);
  assert.equal(ok(await dt('twin', 'show', '-n', N, '-t', 'room1')).thermostat.target, 20);
  const none = await dt('twin', 'component', 'show', '-n', N, '-t', 'room1', '--component', 'nope');
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /ComponentNotFound/);
});

test('castor dt twin telemetry send: twin and component telemetry become events, once per Message-Id', async () => {
  ok(await dt('twin', 'telemetry', 'send', '-n', N, '-t', 'room1', '--telemetry', '{"airTemp":21.5}', '--message-id', 'cli-m1'));
  ok(await dt('twin', 'telemetry', 'send', '-n', N, '-t', 'room1', '--telemetry', '{"airTemp":21.5}', '--mid', 'cli-m1'));
  ok(await dt('twin', 'telemetry', 'send', '-n', N, '-t', 'room1', '--component', 'thermostat', '--telemetry', '{"reading":20}', '--tst', '2024-05-01T12:00:00Z'));
  const bad = await dt('twin', 'telemetry', 'send', '-n', N, '-t', 'room1', '--telemetry', '{"airTemp":"hot"}');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /ValidationFailed/);
  const inst = sqlRows(castor.dataDir, `SELECT id FROM dt_instances WHERE name = '${N}'`)[0].id;
  const evs = sqlRows(castor.dataDir, `SELECT event FROM outbox WHERE instance_id = '${inst}' AND type = 'microsoft.iot.telemetry' ORDER BY seq`).map((r) => JSON.parse(r.event));
  assert.equal(evs.length, 2, JSON.stringify(evs));
  assert.equal(evs[0].id, 'cli-m1');
  assert.deepEqual(evs[0].data, { airTemp: 21.5 });
  assert.equal(evs[0].dataschema, ROOM);
  assert.equal(evs[1].subject, 'thermostat');
  assert.equal(evs[1].telemetrysourcetime, '2024-05-01T12:00:00Z');
  assert.match(evs[1].id, /^[0-9a-f-]{36}$/);
});

// The data plane answers up to 100 models a page with an absolute nextLink.
test('castor dt model list follows the data-plane nextLink past the first page', async () => {
  const many = Array.from({ length: 101 }, (_, i) => ({
    '@id': `dtmi:cli:page:M${i};1`, '@type': 'Interface', '@context': 'dtmi:dtdl:context;3' }));
  const file = join(home.dir, 'many-models.json');
  writeFileSync(file, JSON.stringify(many));
  ok(await dt('model', 'create', '-n', N, '--models', file));
  const ids = new Set(ok(await dt('model', 'list', '-n', N)).map((m) => m.id));
  for (const m of many) assert.ok(ids.has(m['@id']), `${m['@id']} listed`);
  assert.ok(ids.has(ROOM));
});
