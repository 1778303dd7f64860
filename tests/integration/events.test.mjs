// events.test.mjs — event routes end to end: endpoints made through the resource manager, routes
// through the unmodified JS SDK, and every change delivered to a real HTTPS webhook and a real
// mosquitto broker (read by mosquitto_sub) with ADT's CloudEvents attributes and data, in order
// per twin; route filters picking exactly what they say; bad input refused with ADT's codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startCastor, stopCastor } from './lib/castor.js';
import { userToken, ARM_SCOPE, arm, scopes } from './lib/azure.js';
import { readyInstance, runClient, dtCaller } from './lib/twins.js';
import { startWebhook, startMosquitto, until } from './lib/events.js';

const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const INST = 'ev1';
const ROOM = 'dtmi:castor:test:Room;1';
let c, tok, endpoint, armTok, hook, mq, call;

function endpointPath(name) { return `${scopes(c).instance(INST)}/endpoints/${name}`; }

async function putEndpoint(name, properties) {
  const r = await arm(c, armTok, 'PUT', endpointPath(name), { properties });
  assert.ok(r.status === 200 || r.status === 201, `${name}: ${r.status} ${r.text}`);
  assert.ok(await until(async () => {
    const g = await arm(c, armTok, 'GET', endpointPath(name));
    return g.status === 200 && g.json.properties.provisioningState === 'Succeeded';
  }, 10000));
}

before(async () => {
  c = await startCastor({ args: ['--event-retry-max', '1s'] });
  ({ token: tok, endpoint } = await readyInstance(c, INST));
  armTok = await userToken(c, ARM_SCOPE);
  hook = await startWebhook();
  mq = await startMosquitto({ tls: true });
  call = dtCaller(c, INST, tok);
  await putEndpoint('hook', { endpointType: 'webhook', endpointUri: hook.url('/all'), accessKey: 'hook-key-1', caCertificate: hook.tls.cert });
  await putEndpoint('hookf', { endpointType: 'webhook', endpointUri: hook.url('/f'), caCertificate: hook.tls.cert });
  await putEndpoint('broker', { endpointType: 'mqtt', endpointUri: mq.uri, username: mq.user, password: mq.password });
  const models = await call('POST', '/models', [{
    '@id': ROOM, '@type': 'Interface', '@context': 'dtmi:dtdl:context;3',
    contents: [{ '@type': 'Property', name: 'temp', schema: 'double' },
      { '@type': 'Property', name: 'label', schema: 'string' },
      { '@type': 'Telemetry', name: 'reading', schema: 'double' },
      { '@type': 'Relationship', name: 'next', properties: [{ '@type': 'Property', name: 'w', schema: 'double' }] }],
  }]);
  assert.equal(models.status, 201, models.text);
});

after(async () => {
  call?.close();
  await hook?.close();
  await mq?.close();
  if (c) await stopCastor(c);
});

test('routes through the JS SDK: upsert, replace, get, list by page, delete, and ADT refusals', async () => {
  const r = await runClient(process.execPath, [join(here, 'clients', 'events-sdk.mjs'), JSON.stringify({ hook: 'hook', broker: 'broker' })], {
    CASTOR_DT_ENDPOINT: endpoint, CASTOR_DT_TOKEN: tok, NODE_EXTRA_CA_CERTS: c.connection.caFile,
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
});

const HOST = () => `${new URL(c.url).host}/dt/${INST}`;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/;

test('every change reaches the webhook and the MQTT broker with ADT attributes and data', async () => {
  const tp = '00-2aa957558db348f387ef704b37631a1d-c28d665340fe5045-01';
  const w = async (m, p, b, h) => { const r = await call(m, p, b, h); assert.ok(r.status < 300, `${m} ${p}: ${r.status} ${r.text}`); return r; };
  await w('PUT', '/digitaltwins/ev-a', { $metadata: { $model: ROOM }, temp: 20 }, { traceparent: tp });
  await w('PUT', '/digitaltwins/ev-b', { $metadata: { $model: ROOM }, temp: 21 });
  await w('PATCH', '/digitaltwins/ev-a', [{ op: 'replace', path: '/temp', value: 22 }]);
  await w('PATCH', '/digitaltwins/ev-a', [{ op: 'add', path: '/label', value: 'x' }]);
  await w('PUT', '/digitaltwins/ev-a/relationships/ab', { $targetId: 'ev-b', $relationshipName: 'next', w: 1 });
  await w('PATCH', '/digitaltwins/ev-a/relationships/ab', [{ op: 'replace', path: '/w', value: 2 }]);
  await w('POST', '/digitaltwins/ev-b/telemetry', { reading: 5.5 }, { 'Message-Id': 'msg-ev-1', traceparent: tp });
  await w('DELETE', '/digitaltwins/ev-a/relationships/ab');
  await w('DELETE', '/digitaltwins/ev-a');
  const want = [
    ['Microsoft.DigitalTwins.Twin.Create', 'ev-a'], ['Microsoft.DigitalTwins.Twin.Create', 'ev-b'],
    ['Microsoft.DigitalTwins.Twin.Update', 'ev-a'], ['Microsoft.DigitalTwins.Twin.Update', 'ev-a'],
    ['Microsoft.DigitalTwins.Relationship.Create', 'ev-a/relationships/ab'],
    ['Microsoft.DigitalTwins.Relationship.Update', 'ev-a/relationships/ab'],
    ['microsoft.iot.telemetry', undefined],
    ['Microsoft.DigitalTwins.Relationship.Delete', 'ev-a/relationships/ab'],
    ['Microsoft.DigitalTwins.Twin.Delete', 'ev-a'],
  ];
  assert.ok(await until(() => hook.at('/all').length >= want.length && mq.messages.length >= want.length), `webhook ${hook.at('/all').length}, mqtt ${mq.messages.length} of ${want.length}`);
  await sleep(300);
  const got = hook.at('/all');
  assert.equal(got.length, want.length, JSON.stringify(got.map((e) => e.body.type)));
  // One twin's events in write order (the only order ADT promises); here all of ev-a's.
  const ofA = got.filter((e) => (e.body.subject ?? '').startsWith('ev-a')).map((e) => e.body.type);
  assert.deepEqual(ofA, want.filter(([, s]) => s?.startsWith('ev-a')).map(([t]) => t));
  const ids = new Set();
  for (const e of got) {
    const ev = e.body;
    assert.equal(e.headers['content-type'], 'application/cloudevents+json; charset=utf-8');
    assert.equal(e.headers.authorization, 'Bearer hook-key-1');
    assert.equal(ev.specversion, '1.0');
    assert.ok(ev.id && !ids.has(ev.id));
    ids.add(ev.id);
    assert.match(ev.time, TIME);
    assert.equal(ev.datacontenttype, 'application/json');
    if (ev.type === 'microsoft.iot.telemetry') {
      assert.equal(ev.source, `${HOST()}/digitaltwins/ev-b`);
      assert.equal(ev.id, 'msg-ev-1');
      assert.equal(ev.dataschema, ROOM);
      assert.deepEqual(ev.data, { reading: 5.5 });
      assert.equal(ev.traceparent, tp);
    } else {
      assert.equal(ev.source, HOST());
    }
  }
  const byType = (t) => got.filter((e) => e.body.type === t).map((e) => e.body);
  const create = byType('Microsoft.DigitalTwins.Twin.Create').find((e) => e.subject === 'ev-a');
  assert.equal(create.data.$dtId, 'ev-a');
  assert.equal(create.data.$metadata.$model, ROOM);
  assert.equal(create.data.temp, 20);
  assert.equal(create.traceparent, tp);
  const [u1, u2] = byType('Microsoft.DigitalTwins.Twin.Update');
  assert.deepEqual(u1.data, { modelId: ROOM, patch: [{ op: 'replace', path: '/temp', value: 22 }] });
  assert.deepEqual(u2.data.patch, [{ op: 'add', path: '/label', value: 'x' }]);
  const rc = byType('Microsoft.DigitalTwins.Relationship.Create')[0];
  assert.equal(rc.data.$relationshipId, 'ab');
  assert.equal(rc.data.$sourceId, 'ev-a');
  assert.equal(rc.data.$targetId, 'ev-b');
  assert.equal(rc.data.$relationshipName, 'next');
  assert.deepEqual(byType('Microsoft.DigitalTwins.Relationship.Update')[0].data.patch, [{ op: 'replace', path: '/w', value: 2 }]);
  assert.equal(byType('Microsoft.DigitalTwins.Relationship.Delete')[0].data.$relationshipId, 'ab');
  assert.equal(byType('Microsoft.DigitalTwins.Twin.Delete')[0].data.$dtId, 'ev-a');

  // MQTT: the same events, QoS 1, on castor/{instance}/{twinId}/{type}.
  const msgs = mq.messages;
  assert.equal(msgs.length, want.length);
  assert.deepEqual(new Set(msgs.map((m) => m.body.id)), ids);
  for (const m of msgs) {
    const twin = m.body.type === 'microsoft.iot.telemetry' ? 'ev-b' : m.body.subject.split('/')[0];
    assert.equal(m.topic, `castor/${INST}/${twin}/${m.body.type}`);
  }
  assert.deepEqual(msgs.filter((m) => m.topic.includes('/ev-a/')).map((m) => m.body.type), ofA);
});

test("an endpoint's GET shows what its routes delivered (castor's delivery figures)", async () => {
  let d;
  assert.ok(await until(async () => {
    d = (await arm(c, armTok, 'GET', endpointPath('broker'))).json.properties.delivery;
    return d.delivered >= 9 && d.outboxLag === 0;
  }, 10000), JSON.stringify(d));
  assert.equal(d.routes, 1);
  assert.equal(d.failing, false);
  assert.equal(d.deadLettered, 0);
  assert.match(d.lastDeliveredTime, /^\d{4}-/);
  const list = (await arm(c, armTok, 'GET', `${scopes(c).instance(INST)}/endpoints`)).json.value;
  assert.ok(list.every((e) => typeof e.properties.delivery.delivered === 'number'));
});

test('delivery lanes run nicer than the writers (--event-nice, 10 by default): writes go first', () => {
  // /proc/<pid>/task/<tid>/stat: field 19 is the thread's niceness.
  const nice = {};
  for (const tid of readdirSync(`/proc/${c.child.pid}/task`)) {
    const st = readFileSync(`/proc/${c.child.pid}/task/${tid}/stat`, 'latin1');
    const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
    (nice[name] ??= new Set()).add(Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16]));
  }
  assert.deepEqual([...nice['castor-lane']], [10], JSON.stringify(Object.fromEntries(Object.entries(nice).map(([k, v]) => [k, [...v]]))));
  // The dispatcher takes the write lock: niced, it would hold the writers up (inversion).
  assert.deepEqual([...nice['castor-events']], [0]);
  assert.deepEqual([...nice['MHD-worker']], [0]);
});

// Each row: a filter and, as a predicate over the delivered CloudEvent, what it must pass. The
// batch below is routed to /all (filter true) and to /f (the row's filter); /f must hold exactly
// the events of /all that the predicate accepts.
const FILTERS = [
  ["type = 'Microsoft.DigitalTwins.Twin.Create'", (e) => e.type === 'Microsoft.DigitalTwins.Twin.Create'],
  ["type = 'Microsoft.DigitalTwins.Twin.Update' OR type = 'microsoft.iot.telemetry'", (e) => ['Microsoft.DigitalTwins.Twin.Update', 'microsoft.iot.telemetry'].includes(e.type)],
  ["STARTS_WITH(subject, 'fa-')", (e) => (e.subject ?? '').startsWith('fa-')],
  ["ENDS_WITH(subject, '-z')", (e) => (e.subject ?? '').endsWith('-z')],
  ["CONTAINS(subject, '/relationships/')", (e) => (e.subject ?? '').includes('/relationships/')],
  ["$body.$metadata.$model = 'dtmi:castor:test:Room;1'", (e) => e.data?.$metadata?.$model === ROOM],
  ['$body.reading > 20', (e) => e.type === 'microsoft.iot.telemetry' && e.data.reading > 20],
  ["NOT (type = 'microsoft.iot.telemetry')", (e) => e.type !== 'microsoft.iot.telemetry'],
  ["type IN ['Microsoft.DigitalTwins.Relationship.Create', 'Microsoft.DigitalTwins.Twin.Delete']", (e) => ['Microsoft.DigitalTwins.Relationship.Create', 'Microsoft.DigitalTwins.Twin.Delete'].includes(e.type)],
  ["type = 'Microsoft.DigitalTwins.Twin.Update' AND $body.modelId = 'dtmi:castor:test:Room;1'", (e) => e.type === 'Microsoft.DigitalTwins.Twin.Update'],
  ["$body.temp != null", (e) => e.data?.temp !== undefined && e.data?.temp !== null],
  ["source = '@HOST@'", (e) => e.source === HOST()],
  ['false', () => false],
  ['true', () => true],
];

test('route filters pass exactly the events they describe (table)', async () => {
  let batch = 0;
  for (const [text, pred] of FILTERS) {
    const filter = text.replace('@HOST@', HOST());
    const put = await call('PUT', '/eventroutes/r-filter', { endpointName: 'hookf', filter });
    assert.equal(put.status, 204, `${filter}: ${put.text}`);
    await sleep(700); // the dispatcher re-reads routes every 500 ms
    hook.clear('/f');
    const seenAll = hook.at('/all').length;
    batch++;
    const a = `fa-${batch}`, z = `t${batch}-z`;
    const ops = [
      ['PUT', `/digitaltwins/${a}`, { $metadata: { $model: ROOM }, temp: 1 }],
      ['PUT', `/digitaltwins/${z}`, { $metadata: { $model: ROOM } }],
      ['PATCH', `/digitaltwins/${a}`, [{ op: 'replace', path: '/temp', value: 30 }]],
      ['PUT', `/digitaltwins/${a}/relationships/r${batch}`, { $targetId: z, $relationshipName: 'next' }],
      ['POST', `/digitaltwins/${z}/telemetry`, { reading: 25 }, { 'Message-Id': `m-${batch}-z` }],
      ['POST', `/digitaltwins/${a}/telemetry`, { reading: 15 }, { 'Message-Id': `m-${batch}-a` }],
      ['DELETE', `/digitaltwins/${a}/relationships/r${batch}`],
      ['DELETE', `/digitaltwins/${z}`],
    ];
    for (const [m, p, b, h] of ops) {
      const r = await call(m, p, b, h);
      assert.ok(r.status < 300, `${m} ${p}: ${r.status} ${r.text}`);
    }
    assert.ok(await until(() => hook.at('/all').length >= seenAll + ops.length), 'the true route got the batch');
    const all = hook.at('/all').slice(seenAll).map((e) => e.body);
    const expect = all.filter(pred).map((e) => e.id).sort();
    // The filtered route runs on its own lanes and may trail the other: wait for what it owes,
    // then a little longer for anything it should not have sent.
    await until(() => hook.at('/f').length >= expect.length, 20000);
    await sleep(300);
    const got = hook.at('/f').map((e) => e.body.id).sort();
    assert.deepEqual(got, expect, `filter ${filter}`);
  }
  assert.equal((await call('DELETE', '/eventroutes/r-filter')).status, 204);
});

test('MQTT over TLS (mqtts://, the broker trusted through caCertificate) with a topic template', async () => {
  await putEndpoint('broker-tls', {
    endpointType: 'mqtt', endpointUri: mq.tlsUri, username: mq.user, password: mq.password,
    caCertificate: mq.tls.cert, topic: 'castor/tls/{twinId}/{type}',
  });
  assert.equal((await call('PUT', '/eventroutes/r-tls', { endpointName: 'broker-tls', filter: "type = 'Microsoft.DigitalTwins.Twin.Create'" })).status, 204);
  await sleep(300);
  assert.ok((await call('PUT', '/digitaltwins/tls-1', { $metadata: { $model: ROOM } })).status < 300);
  assert.ok(await until(() => mq.messages.some((m) => m.topic === 'castor/tls/tls-1/Microsoft.DigitalTwins.Twin.Create')),
    JSON.stringify(mq.messages.slice(-3).map((m) => m.topic)));
  const m = mq.messages.find((x) => x.topic.startsWith('castor/tls/'));
  assert.equal(m.body.subject, 'tls-1');
  assert.equal(mq.messages.filter((x) => x.topic.startsWith('castor/tls/')).length, 1);
  assert.equal((await call('DELETE', '/eventroutes/r-tls')).status, 204);
  assert.ok([200, 202, 204].includes((await arm(c, armTok, 'DELETE', endpointPath('broker-tls'))).status));
});

const BAD_FILTERS = [
  ["type = 'a' AND", 'EventRouteFilterInvalid'],
  ["type == 'a'", "'=='"],
  ["STARTS_WITH(subject)", 'two arguments'],
  ["(type = 'a'", ')'],
  ["colour = 'red'", 'colour'],
  ["type = 'unterminated", 'EventRouteFilterInvalid'],
  ['', 'EventRouteFilterInvalid'],
];

test('malformed filters, unknown endpoints, bad ids and a seventh route are refused (400)', async () => {
  for (const [filter, phrase] of BAD_FILTERS) {
    const r = await call('PUT', '/eventroutes/r-bad', { endpointName: 'hook', filter });
    assert.equal(r.status, 400, `${filter}: ${r.text}`);
    assert.equal(r.json.error.code, 'EventRouteFilterInvalid', r.text);
    assert.ok(r.text.includes(phrase) || phrase === 'EventRouteFilterInvalid', `${filter}: ${r.text}`);
  }
  let r = await call('PUT', '/eventroutes/r-bad', { endpointName: 'nope', filter: 'true' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'EventRouteEndpointInvalid');
  assert.match(r.json.error.message, /nope/);
  r = await call('PUT', '/eventroutes/r-bad', { filter: 'true' });
  assert.equal(r.json.error.code, 'EventRouteEndpointInvalid');
  r = await call('PUT', '/eventroutes/r-bad', { endpointName: 'hook' });
  assert.equal(r.json.error.code, 'EventRouteFilterInvalid');
  r = await call('PUT', `/eventroutes/${'x'.repeat(200)}`, { endpointName: 'hook', filter: 'true' });
  assert.equal(r.json.error.code, 'EventRouteIdInvalid');
  r = await call('GET', '/eventroutes/r-bad');
  assert.equal(r.status, 404);
  assert.equal(r.json.error.code, 'EventRouteNotFound');
  // r-hook and r-mqtt exist: four more fit, the seventh does not.
  for (let i = 0; i < 4; i++) assert.equal((await call('PUT', `/eventroutes/extra${i}`, { endpointName: 'hookf', filter: 'false' })).status, 204);
  r = await call('PUT', '/eventroutes/extra4', { endpointName: 'hookf', filter: 'false' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'LimitExceeded');
  // Replacing an existing route is not a new one.
  assert.equal((await call('PUT', '/eventroutes/extra0', { endpointName: 'hookf', filter: 'true' })).status, 204);
  for (let i = 0; i < 4; i++) assert.equal((await call('DELETE', `/eventroutes/extra${i}`)).status, 204);
  // An endpoint a route uses cannot be deleted.
  r = await arm(c, armTok, 'DELETE', endpointPath('hook'));
  assert.ok(r.status >= 400 && r.status < 500, r.text);
  assert.match(r.text, /r-hook/);
});

test('a reader without eventroutes/write is refused before anything happens', async () => {
  const r = await call('PUT', '/eventroutes/r-x', { endpointName: 'hook', filter: 'true' }, { authorization: 'Bearer not-a-token' });
  assert.equal(r.status, 401);
});
