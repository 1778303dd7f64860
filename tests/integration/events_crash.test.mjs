// events_crash.test.mjs — kill -9 of castor while it takes writes and delivers their events.
//
// Two routes (filter true) deliver every change to a real HTTPS webhook and to a real mosquitto
// broker (read by mosquitto_sub). Clients create 10,000 twins over keep-alive HTTPS, several
// requests at a time, each write a twin of its own (t<n>), so "was this write applied" is "is
// twin t<n> in the database". castor is killed with SIGKILL after ~4,000 acknowledgements,
// restarted on the same data folder, and the rest are written. Once delivery has caught up, at
// each endpoint:
//   - every acknowledged write's event has arrived (a write in flight at the kill may have
//     committed: then its event must arrive too);
//   - no event has arrived for a twin that is not in the database;
//   - duplicates (redeliveries of what was in flight at the kill) are allowed, counted and
//     reported, and a duplicate is the same event (the same CloudEvents id).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCastor, stopCastor, newDataDir } from './lib/castor.js';
import { userToken, ARM_SCOPE } from './lib/azure.js';
import { readyInstance, dtCaller, sqlRows } from './lib/twins.js';
import { startWebhook, startMosquitto, putEndpoint, until } from './lib/events.js';

const INST = 'evcrash';
const MODEL = 'dtmi:castor:test:Crashed;1';
const TOTAL = 10000;
const KILL_AFTER = 4000;
const CONCURRENCY = 16;
const ARGS = ['--threads', '4', '--event-retry-max', '1s'];
// castor's default outbox retention (none: delivered rows are trimmed at once), not the
// harness's hour, so trimming runs against delivery and the restart as it does in production.
const ENV = { CASTOR_OUTBOX_RETENTION: '0' };
const CREATE = 'Microsoft.DigitalTwins.Twin.Create';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Writes twins t<n> for n taken from plan.next until plan.end, CONCURRENCY at a time. An
// acknowledged write goes to plan.acked; one whose connection died (the server is gone) to
// plan.unacked, and its client stops.
async function writeTwins(call, plan) {
  const client = async () => {
    while (!plan.dead && plan.next < plan.end) {
      const n = plan.next++;
      let r;
      try {
        r = await call('PUT', `/digitaltwins/t${n}`, { $metadata: { $model: MODEL }, n });
      } catch {
        plan.unacked.add(n);
        return;
      }
      if (r.status !== 200) {
        if (plan.dead) {
          plan.unacked.add(n);
          return;
        }
        throw new Error(`PUT t${n}: ${r.status} ${r.text}`);
      }
      plan.acked.add(n);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
}

// What arrived at one endpoint: created twin id -> the CloudEvents ids received for it.
function arrivals(events) {
  const by = new Map();
  for (const e of events) {
    assert.equal(e.type, CREATE, `only twin creations were written, got ${e.type} for ${e.subject}`);
    if (!by.has(e.subject)) by.set(e.subject, []);
    by.get(e.subject).push(e.id);
  }
  return by;
}

test('kill -9 during 10,000 acknowledged writes: every committed write\'s event reaches the webhook and MQTT, nothing else', async (t) => {
  const dataDir = newDataDir();
  let c = await startCastor({ dataDir, args: ARGS, env: ENV });
  const { token } = await readyInstance(c, INST);
  const armTok = await userToken(c, ARM_SCOPE);
  const hook = await startWebhook();
  const mq = await startMosquitto();
  let call = dtCaller(c, INST, token);
  try {
    await putEndpoint(c, armTok, INST, 'hook', { endpointType: 'webhook', endpointUri: hook.url('/crash'), caCertificate: hook.tls.cert });
    await putEndpoint(c, armTok, INST, 'broker', { endpointType: 'mqtt', endpointUri: mq.uri, username: mq.user, password: mq.password });
    const m = await call('POST', '/models', [{ '@id': MODEL, '@type': 'Interface', '@context': 'dtmi:dtdl:context;3',
      contents: [{ '@type': 'Property', name: 'n', schema: 'integer' }] }]);
    assert.equal(m.status, 201, m.text);
    for (const [id, ep] of [['r-hook', 'hook'], ['r-mqtt', 'broker']]) {
      const r = await call('PUT', `/eventroutes/${id}`, { endpointName: ep, filter: 'true' });
      assert.equal(r.status, 204, r.text);
    }

    // Up to the kill.
    const plan = { next: 0, end: TOTAL, dead: false, acked: new Set(), unacked: new Set() };
    const started = Date.now();
    const writing = writeTwins(call, plan);
    const reached = await until(() => plan.acked.size >= KILL_AFTER, 120000, 2);
    assert.ok(reached, `only ${plan.acked.size} writes acknowledged in 120 s`);
    // Killed with every client's request in flight: they stop once their connections die.
    const killed = stopCastor(c, 'SIGKILL');
    plan.dead = true;
    const exit = await killed;
    assert.equal(exit.signal, 'SIGKILL');
    await writing;
    call.close();
    const atKill = { acked: plan.acked.size, hook: hook.at('/crash').length, mqtt: mq.messages.length };

    // The rest, on the restarted server (the writes in flight at the kill are not sent again:
    // whether they committed is what the database says).
    c = await startCastor({ dataDir, args: ARGS, env: ENV });
    call = dtCaller(c, INST, token);
    plan.dead = false;
    await writeTwins(call, plan);
    assert.equal(plan.acked.size + plan.unacked.size, TOTAL);
    const wrote = Date.now();

    const inst = sqlRows(dataDir, `SELECT id FROM dt_instances WHERE name = '${INST}'`)[0].id;
    const inDb = new Set(sqlRows(dataDir, `SELECT id FROM twins WHERE instance_id = '${inst}'`).map((r) => r.id));
    for (const n of plan.acked) assert.ok(inDb.has(`t${n}`), `acknowledged twin t${n} is not in the database`);
    assert.ok(inDb.size >= plan.acked.size && inDb.size <= TOTAL, `${inDb.size} twins in the database`);

    const hookEvents = () => hook.at('/crash').map((e) => e.body);
    const mqttEvents = () => mq.messages.map((e) => e.body);
    const caughtUp = (events) => {
      const got = new Set(events().map((e) => e.subject));
      for (const id of inDb) if (!got.has(id)) return false;
      return true;
    };
    // The restarted castor takes the routes over once the killed one's leases run out (10 s).
    await until(() => caughtUp(hookEvents) && caughtUp(mqttEvents), 180000, 100);
    const delivered = Date.now();
    await sleep(1000); // late redeliveries, to count them too

    for (const [name, events] of [['webhook', hookEvents()], ['mqtt', mqttEvents()]]) {
      const by = arrivals(events);
      const missing = [...inDb].filter((id) => !by.has(id));
      assert.equal(missing.length, 0, `${name}: ${missing.length} committed writes' events never arrived, e.g. ${missing.slice(0, 5)}`);
      const ghosts = [...by.keys()].filter((id) => !inDb.has(id));
      assert.deepEqual(ghosts, [], `${name}: events for twins not in the database`);
      let dups = 0;
      for (const [id, ids] of by) {
        dups += ids.length - 1;
        assert.ok(ids.every((x) => x === ids[0]), `${name}: ${id} arrived as different events ${ids}`);
      }
      const unackedCommitted = [...plan.unacked].filter((n) => inDb.has(`t${n}`)).length;
      t.diagnostic(`${name}: ${events.length} events for ${by.size} twins, ${dups} duplicates; ` +
        `${plan.unacked.size} writes unacknowledged at the kill, ${unackedCommitted} of them committed`);
    }
    t.diagnostic(`kill after ${atKill.acked} acknowledgements (${atKill.hook} webhook, ${atKill.mqtt} mqtt events delivered by then); ` +
      `10,000 writes in ${((wrote - started) / 1000).toFixed(1)} s, delivery caught up ${((delivered - wrote) / 1000).toFixed(1)} s later`);
  } finally {
    call.close();
    await stopCastor(c);
    await hook.close();
    await mq.close();
  }
});
