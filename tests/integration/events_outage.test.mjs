// events_outage.test.mjs — receivers that go away, with events written meanwhile.
//
// Three routes (filter true), each to its own receiver, all of which go away before two bursts
// of twin writes (creates, patches, deletes), at once and 10 s later:
//   - a webhook that is down for a full minute: once it is back, every event arrives, each
//     twin's in write order;
//   - a webhook whose endpoint has retryPolicy.eventTimeToLiveInMinutes = 1 and which stays
//     down past that: every event ends up in the endpoint's dead-letter folder (reason
//     TimeToLiveExceeded, the event whole), none is delivered and none is lost;
//   - the MQTT broker, stopped and started again after ~15 s: every event is published once it
//     is back.
// What "every event" means is the outbox: one event per acknowledged write, read from the
// database. --event-retry-max 6s keeps the retries coming (a receiver that returns is served
// within 6 s) while the webhook's default 30 attempts still outlast the minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCastor, stopCastor, newDataDir } from './lib/castor.js';
import { userToken, ARM_SCOPE } from './lib/azure.js';
import { readyInstance, dtCaller, sqlRows } from './lib/twins.js';
import { startWebhook, startMosquitto, putEndpoint, deadLetters, until } from './lib/events.js';

const INST = 'evout';
const MODEL = 'dtmi:castor:test:Outage;1';
const OUTAGE_MS = 60000;
const BROKER_DOWN_MS = 15000;
const SECOND_BURST_MS = 10000;
const TWINS = 20; // per burst
const CLIENTS = 8;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The outbox's events of the instance after seq `after`, in seq order: {seq, id, subject}.
function outbox(dataDir, after) {
  const inst = sqlRows(dataDir, `SELECT id FROM dt_instances WHERE name = '${INST}'`)[0].id;
  return sqlRows(dataDir, `SELECT seq, event FROM outbox WHERE instance_id = '${inst}' AND seq > ${after} ORDER BY seq`)
    .map((r) => { const e = JSON.parse(r.event); return { seq: r.seq, id: e.id, subject: e.subject }; });
}

// Twins <prefix>0..: each twin's writes, one client per twin at a time: create, three patches,
// and for every fourth twin a delete. Resolves to the number of writes (all acknowledged).
async function burst(call, prefix) {
  let next = 0, writes = 0;
  const w = async (m, p, b) => {
    const r = await call(m, p, b);
    assert.ok(r.status < 300, `${m} ${p}: ${r.status} ${r.text}`);
    writes++;
  };
  const client = async () => {
    while (next < TWINS) {
      const n = next++;
      const id = `${prefix}${n}`;
      await w('PUT', `/digitaltwins/${id}`, { $metadata: { $model: MODEL }, v: 0 });
      for (let v = 1; v <= 3; v++) await w('PATCH', `/digitaltwins/${id}`, [{ op: 'replace', path: '/v', value: v }]);
      if (n % 4 === 3) await w('DELETE', `/digitaltwins/${id}`);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return writes;
}

// The first arrival of each event, in arrival order, and how many arrived again.
function firsts(events) {
  const seen = new Set();
  const out = [];
  for (const e of events) if (!seen.has(e.id)) { seen.add(e.id); out.push(e); }
  return { events: out, dups: events.length - out.length };
}

test('receivers away: a minute-long outage is caught up, past the TTL goes to the dead-letter folder, a restarted broker gets everything', async (t) => {
  const dataDir = newDataDir();
  const c = await startCastor({ dataDir, args: ['--event-retry-max', '6s'] });
  const { token } = await readyInstance(c, INST);
  const armTok = await userToken(c, ARM_SCOPE);
  const hook = await startWebhook();
  const hookTtl = await startWebhook();
  const mq = await startMosquitto({ restartable: true });
  const call = dtCaller(c, INST, token);
  try {
    await putEndpoint(c, armTok, INST, 'hook', { endpointType: 'webhook', endpointUri: hook.url('/a'), caCertificate: hook.tls.cert });
    await putEndpoint(c, armTok, INST, 'hookttl', { endpointType: 'webhook', endpointUri: hookTtl.url('/ttl'), caCertificate: hookTtl.tls.cert,
      retryPolicy: { eventTimeToLiveInMinutes: 1 } });
    await putEndpoint(c, armTok, INST, 'broker', { endpointType: 'mqtt', endpointUri: mq.uri, username: mq.user, password: mq.password });
    const m = await call('POST', '/models', [{ '@id': MODEL, '@type': 'Interface', '@context': 'dtmi:dtdl:context;3',
      contents: [{ '@type': 'Property', name: 'v', schema: 'integer' }] }]);
    assert.equal(m.status, 201, m.text);
    for (const [id, ep] of [['r-a', 'hook'], ['r-ttl', 'hookttl'], ['r-mqtt', 'broker']]) {
      const r = await call('PUT', `/eventroutes/${id}`, { endpointName: ep, filter: 'true' });
      assert.equal(r.status, 204, r.text);
    }
    // Every route delivers before anything goes away.
    assert.equal((await call('PUT', '/digitaltwins/warm', { $metadata: { $model: MODEL }, v: 0 })).status, 200);
    assert.ok(await until(() => hook.at('/a').length === 1 && hookTtl.at('/ttl').length === 1 && mq.messages.length === 1, 20000),
      `warm-up: webhook ${hook.at('/a').length}, ttl webhook ${hookTtl.at('/ttl').length}, mqtt ${mq.messages.length}`);
    const warmSeq = outbox(dataDir, 0).at(-1).seq;
    hook.clear();
    hookTtl.clear();
    mq.messages.length = 0;

    const requestsBefore = hook.requests + hookTtl.requests;
    await Promise.all([hook.down(), hookTtl.down(), mq.stop()]);
    const downAt = Date.now();
    // Writes go on during the outage: a burst at once, another 10 s in.
    let writes = await burst(call, 'o');
    await sleep(Math.max(0, downAt + SECOND_BURST_MS - Date.now()));
    writes += await burst(call, 'p');
    const wroteAt = Date.now();
    const want = outbox(dataDir, warmSeq);
    assert.equal(want.length, writes, 'one outbox event per acknowledged write');
    const wantIds = new Set(want.map((e) => e.id));
    assert.equal(wantIds.size, want.length, 'event ids are unique');

    // The broker comes back: everything is published to it.
    await sleep(Math.max(0, downAt + BROKER_DOWN_MS - Date.now()));
    await mq.start();
    const brokerUp = Date.now();
    assert.ok(await until(() => firsts(mq.messages.map((x) => x.body)).events.length >= want.length, 30000),
      `mqtt: ${firsts(mq.messages.map((x) => x.body)).events.length} of ${want.length} events after the broker came back`);
    const brokerCaught = Date.now();

    // The webhook comes back after a full minute: everything arrives, in order per twin.
    await sleep(Math.max(0, downAt + OUTAGE_MS - Date.now()));
    assert.equal(hook.requests + hookTtl.requests, requestsBefore, 'nothing was received while the receivers were down');
    await hook.up();
    const hookUp = Date.now();
    assert.ok(await until(() => firsts(hook.at('/a').map((e) => e.body)).events.length >= want.length, 30000),
      `webhook: ${firsts(hook.at('/a').map((e) => e.body)).events.length} of ${want.length} events after it came back`);
    const hookCaught = Date.now();

    // Past the TTL (one minute from each write): all of the TTL endpoint's events are dead letters,
    // in the data folder of the node that gave up on them (any node, under make integration-scale).
    const dirs = c.cluster ? c.cluster.nodes.map((n) => n.dataDir) : [dataDir];
    const deadNow = () => dirs.flatMap((d) => deadLetters(d, INST, 'hookttl'));
    assert.ok(await until(() => deadNow().length >= want.length, wroteAt + OUTAGE_MS + 30000 - Date.now()),
      `dead letters: ${deadNow().length} of ${want.length}`);
    const deadAt = Date.now();
    await hookTtl.up();
    await sleep(1500);

    const bySeq = new Map(want.map((e) => [e.seq, e]));
    for (const [name, received] of [['webhook', hook.at('/a').map((e) => e.body)], ['mqtt', mq.messages.map((x) => x.body)]]) {
      const { events, dups } = firsts(received);
      assert.deepEqual(new Set(events.map((e) => e.id)), wantIds, `${name}: exactly the outbox's events`);
      // One twin's events arrive in write (seq) order.
      const order = new Map(want.map((e, i) => [e.id, i]));
      const last = new Map();
      for (const e of events) {
        const i = order.get(e.id);
        assert.ok(!(last.get(e.subject) > i), `${name}: ${e.subject}'s events out of order`);
        last.set(e.subject, i);
      }
      t.diagnostic(`${name}: ${events.length} events, ${dups} duplicates`);
    }
    const dead = deadNow();
    assert.equal(dead.length, want.length, 'one dead letter per event');
    assert.equal(hookTtl.at('/ttl').length, 0, 'an event past its TTL is not delivered after all');
    for (const d of dead) {
      assert.equal(d.deadLetterReason, 'TimeToLiveExceeded', d.file);
      assert.equal(d.route, 'r-ttl');
      assert.equal(d.endpoint, 'hookttl');
      assert.ok(d.deliveryAttempts >= 1, d.file);
      assert.match(d.lastDeliveryOutcome, /\S/, d.file);
      const e = bySeq.get(d.sequence);
      assert.ok(e, `${d.file}: sequence ${d.sequence} is none of the outbox's events`);
      assert.equal(d.event.id, e.id, d.file);
      assert.equal(d.event.subject, e.subject, d.file);
      assert.equal(d.event.specversion, '1.0', d.file);
    }
    assert.deepEqual(new Set(dead.map((d) => d.event.id)), wantIds, 'every event of the TTL endpoint is in its dead-letter folder');
    // The route's saved counters say the same: the warm-up delivered, the rest dead-lettered.
    const counts = sqlRows(dataDir, "SELECT delivered, dead_lettered FROM event_routes WHERE id = 'r-ttl'")[0];
    assert.deepEqual(counts, { delivered: 1, dead_lettered: want.length });
    const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
    t.diagnostic(`${writes} writes in ${s(wroteAt - downAt)}; broker back after ${s(brokerUp - downAt)}, caught up in ${s(brokerCaught - brokerUp)}; ` +
      `webhook back after ${s(hookUp - downAt)}, caught up in ${s(hookCaught - hookUp)}; all ${dead.length} dead-lettered ${s(deadAt - wroteAt)} after the last write`);
  } finally {
    call.close();
    await stopCastor(c);
    await hook.close().catch(() => {});
    await hookTtl.close().catch(() => {});
    await mq.close();
  }
});
