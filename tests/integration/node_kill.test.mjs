// node_kill.test.mjs — kill -9 of one castor node of two (one PostgreSQL database, nginx in
// front: lib/scale.js, the topology of scripts/scale-out) under mixed load, with clients that
// retry what failed on the other node. Nothing acknowledged may be lost:
//   - every client writes only its own objects, so "was this write applied" has one answer:
//     twins <phase>-<k>-t<n> created with If-None-Match: * (a retry of a create that committed
//     meets 412: counted, and the twin must exist with what was written; behind nginx the
//     client may not know of the retry: nginx sends a PUT in flight at a node's death on to
//     the other node itself), relationships from each new twin to the
//     client's counter twin (likewise), PATCHes of the counter with If-Match (a retry of one
//     that committed meets 412: the counter must then hold its value; a counter never goes
//     back), queries (they see at least what the client had acknowledged) and model reads;
//   - after the load, read back through the surviving node: every acknowledged twin and
//     relationship exists with what was written, each counter holds its last acknowledged
//     value (or the one of a later attempt), no twin exists that the client did not try to
//     create; the killed node, restarted, rejoins and serves the same;
//   - events: a webhook route (filter true) is delivered by whichever node holds its lease; the
//     node killed is the holder, so the survivor must take the route over and every
//     acknowledged write's event must arrive (duplicates allowed, counted).
// Two phases on one cluster: clients that switch to the other node themselves (kill -9 of the
// lease holder), then clients behind nginx that retry through it (kill -9 of the new holder).
// Runs under CASTOR_TEST_STORE=postgres (make integration-pg); needs nginx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_STORE } from './lib/castor.js';
import { userToken, ADT_SCOPE, ARM_SCOPE, ROLE, createInstance, assignRole, claims } from './lib/azure.js';
import { dtCaller, sqlRows } from './lib/twins.js';
import { startWebhook, putEndpoint, until } from './lib/events.js';
import { startNodes, haveNginx } from './lib/scale.js';

const skip = TEST_STORE !== 'postgres' ? 'needs CASTOR_TEST_STORE=postgres (make integration-pg)'
  : !haveNginx() ? 'needs nginx' : false;
const INST = 'nodekill';
const MODEL = 'dtmi:castor:test:Killed;1';
const CLIENTS = 8;
const KILL_AFTER = 600; // acknowledged writes before the kill
const MORE_AFTER = 600; // and after it, on the survivor
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let cluster; let hook; let token; let dataDir;

before(async () => {
  if (skip) return;
  cluster = await startNodes({ count: 2, args: ['--threads', '4', '--event-retry-max', '1s'] });
  const c = cluster.front;
  dataDir = cluster.nodes[0].dataDir;
  const armTok = await userToken(c, ARM_SCOPE);
  token = await userToken(c, ADT_SCOPE);
  const id = await createInstance(c, armTok, INST);
  await assignRole(c, armTok, id, ROLE.dataOwner, claims(token).oid);
  hook = await startWebhook();
  await putEndpoint(c, armTok, INST, 'hook', { endpointType: 'webhook', endpointUri: hook.url('/kill'), caCertificate: hook.tls.cert });
  const call = dtCaller(c, INST, token);
  try {
    let r;
    for (let i = 0; i < 100; i++) {
      r = await call('POST', '/models', [{
        '@id': MODEL, '@type': 'Interface', '@context': 'dtmi:dtdl:context;3',
        contents: [
          { '@type': 'Property', name: 'client', schema: 'string' },
          { '@type': 'Property', name: 'n', schema: 'integer' },
          { '@type': 'Relationship', name: 'feeds', properties: [{ '@type': 'Property', name: 'n', schema: 'integer' }] },
        ],
      }]);
      if (r.status !== 403) break; // the role assignment reaches the data plane
      await sleep(100);
    }
    assert.equal(r.status, 201, r.text);
    r = await call('PUT', '/eventroutes/r-hook', { endpointName: 'hook', filter: 'true' });
    assert.equal(r.status, 204, r.text);
  } finally {
    call.close();
  }
});
after(async () => {
  if (cluster) await cluster.stop();
  if (hook) await hook.close();
});

// Which node (index) holds the webhook route's lease, once one does.
async function leaseHolder() {
  let holder = -1;
  await until(() => {
    const rows = sqlRows(dataDir, "SELECT lease_owner FROM event_routes WHERE id = 'r-hook'");
    const owner = rows[0]?.lease_owner ?? '';
    holder = cluster.nodes.findIndex((n) => owner.includes(`-${n.child.pid}-`));
    return holder >= 0;
  }, 30000);
  assert.ok(holder >= 0, 'no node took the route lease');
  return holder;
}

// Whether a 412 to a create (If-None-Match: *) is the client meeting its own commit: the
// request was retried (by the client, or by nginx, which sends a PUT in flight at a node's death
// on to the next node: the client cannot tell) and what exists at path is what it wrote.
async function ownCommit(send, x, path, mine) {
  if (!x.retried && !send.behindProxy) return false;
  const g = await send('GET', `/digitaltwins/${path}`);
  return g.r.status === 200 && mine(g.r.json);
}

// One client's load. send(method, path, body, headers) resolves to {r, retried} once some node
// answered with something other than a gateway error; it retries transport errors and 502/503/504.
async function runClient(k, phase, send, stats, stop) {
  const me = `${phase}-${k}`;
  const ctr = `${me}-ctr`;
  const st = { creates: new Set(), createsTried: new Set(), rels: new Set(), relsTried: new Set(), counter: 0, counterTried: 0, etag: null };
  stats.clients.set(me, st);
  let { r } = await send('PUT', `/digitaltwins/${ctr}`, { $metadata: { $model: MODEL }, client: 'counter', n: 0 }, { 'if-none-match': '*' });
  // A retry of the create that committed meets 412; either way the counter exists with n = 0.
  if (r.status === 412) r = (await send('GET', `/digitaltwins/${ctr}`)).r;
  assert.equal(r.status, 200, `${ctr}: ${r.text}`);
  st.etag = r.headers.etag;
  let n = 0;
  while (!stop.now) {
    n++;
    // A twin of its own, then a relationship from it to the counter.
    const id = `${me}-t${n}`;
    st.createsTried.add(id);
    let x = await send('PUT', `/digitaltwins/${id}`, { $metadata: { $model: MODEL }, client: me, n }, { 'if-none-match': '*' });
    if (x.r.status === 412 && await ownCommit(send, x, id, (t) => t.client === me && t.n === n)) stats.createRetried412++;
    else assert.equal(x.r.status, 200, `PUT ${id}: ${x.r.text}`);
    st.creates.add(id);
    stats.acked++;

    const rel = `${id}/relationships/r${n}`;
    st.relsTried.add(rel);
    x = await send('PUT', `/digitaltwins/${rel}`, { $targetId: ctr, $relationshipName: 'feeds', n }, { 'if-none-match': '*' });
    if (x.r.status === 412 && await ownCommit(send, x, rel, (t) => t.$targetId === ctr && t.n === n)) stats.relRetried412++;
    else assert.equal(x.r.status, 200, `PUT ${rel}: ${x.r.text}`);
    st.rels.add(rel);
    stats.acked++;

    // The counter, under If-Match: only this client writes it, so a 412 on a retry means the
    // first attempt committed.
    const v = st.counter + 1;
    st.counterTried = v;
    x = await send('PATCH', `/digitaltwins/${ctr}`, [{ op: 'replace', path: '/n', value: v }], { 'if-match': st.etag });
    if (x.r.status === 412 && x.retried) {
      const g = await send('GET', `/digitaltwins/${ctr}`);
      assert.equal(g.r.status, 200, g.r.text);
      assert.equal(g.r.json.n, v, `${ctr}: a retried PATCH met 412 but the counter is ${g.r.json.n}, not ${v}`);
      st.etag = g.r.headers.etag;
      stats.patchRetried412++;
    } else {
      assert.equal(x.r.status, 204, `PATCH ${ctr}: ${x.r.text}`);
      st.etag = x.r.headers.etag;
    }
    st.counter = v;
    stats.acked++;

    // Reads: the model, and a query that must see at least what this client acknowledged.
    if (n % 4 === 0) {
      x = await send('GET', `/models/${encodeURIComponent(MODEL)}`);
      assert.equal(x.r.status, 200, x.r.text);
      const before = st.creates.size;
      x = await send('POST', '/query', { query: `SELECT COUNT() FROM DIGITALTWINS T WHERE T.client = '${me}'` });
      assert.equal(x.r.status, 200, x.r.text);
      const count = x.r.json.value[0].COUNT;
      assert.ok(count >= before && count <= st.createsTried.size, `${me}: query counts ${count} twins, acknowledged ${before}`);
    }
  }
}

// Retries on transport errors and gateway answers, moving to the next target each time (with
// one target, nginx, it tries the same address again: nginx moves on to the other node).
function sender(targets, stats, behindProxy) {
  let pref = 0;
  const send = async (method, path, body, headers = {}) => {
    for (let i = 0; ; i++) {
      if (i > 200) throw new Error(`${method} ${path}: no node answered after ${i} attempts`);
      const t = targets[pref % targets.length];
      let r;
      try {
        r = await t(method, path, body, headers);
      } catch {
        stats.transportErrors++;
        pref++;
        await sleep(20);
        continue;
      }
      if (r.status === 502 || r.status === 503 || r.status === 504) {
        stats.gatewayErrors++;
        pref++;
        await sleep(20);
        continue;
      }
      if (i > 0) stats.retried++;
      return { r, retried: i > 0 };
    }
  };
  send.behindProxy = behindProxy;
  return send;
}

// Reads everything the clients of `phase` acknowledged back through `node`; returns a
// comparable summary (twins with their n, relationships, counters).
async function readBack(node, phase, stats) {
  const call = dtCaller(node, INST, token, { maxSockets: 16 });
  const summary = { twins: {}, rels: [], counters: {} };
  try {
    for (const [me, st] of stats.clients) {
      if (!me.startsWith(`${phase}-`)) continue;
      // Every twin this client has: by query, page by page.
      const found = new Map();
      let body = { query: `SELECT T.$dtId, T.n FROM DIGITALTWINS T WHERE T.client = '${me}'` };
      for (;;) {
        const r = await call('POST', '/query', body);
        assert.equal(r.status, 200, r.text);
        for (const t of r.json.value) found.set(t.$dtId, t.n);
        if (!r.json.continuationToken) break;
        body = { continuationToken: r.json.continuationToken };
      }
      for (const id of st.creates) {
        assert.ok(found.has(id), `acknowledged twin ${id} is gone`);
        assert.equal(found.get(id), Number(id.slice(id.lastIndexOf('-t') + 2)), `${id} holds another n`);
      }
      for (const id of found.keys()) assert.ok(st.createsTried.has(id), `${id} exists but ${me} never created it`);
      for (const [id, v] of found) summary.twins[id] = v;

      const ctr = await call('GET', `/digitaltwins/${me}-ctr`);
      assert.equal(ctr.status, 200, ctr.text);
      assert.ok(ctr.json.n === st.counter || ctr.json.n === st.counterTried,
        `${me}-ctr holds ${ctr.json.n}; acknowledged ${st.counter}`);
      summary.counters[me] = ctr.json.n;

      const rels = await Promise.all([...st.rels].map((rel) => call('GET', `/digitaltwins/${rel}`)));
      [...st.rels].forEach((rel, i) => {
        assert.equal(rels[i].status, 200, `acknowledged relationship ${rel}: ${rels[i].text}`);
        assert.equal(rels[i].json.$targetId, `${me}-ctr`);
      });
      const incoming = [];
      let path = `/digitaltwins/${me}-ctr/incomingrelationships`;
      for (;;) {
        const r = await call('GET', path);
        assert.equal(r.status, 200, r.text);
        incoming.push(...r.json.value.map((x) => `${x.$sourceId}/relationships/${x.$relationshipId}`));
        if (!r.json.nextLink) break;
        path = r.json.nextLink.slice(r.json.nextLink.indexOf(`/dt/${INST}`) + `/dt/${INST}`.length).replace(/[?&]api-version=[^&]*/, '');
      }
      for (const rel of incoming) assert.ok(st.relsTried.has(rel), `${rel} exists but ${me} never created it`);
      summary.rels.push(...incoming.sort());
    }
  } finally {
    call.close();
  }
  return summary;
}

// Every acknowledged write of `phase` has its event at the webhook: creations, relationship
// creations and each acknowledged counter value. Returns the duplicate count, or null when
// something is still missing.
function eventsMissing(phase, stats) {
  const seen = new Map(); // key -> how many times
  const count = (key) => seen.set(key, (seen.get(key) ?? 0) + 1);
  for (const e of hook.at('/kill')) {
    const b = e.body;
    if (!b?.subject?.startsWith(`${phase}-`)) continue;
    if (b.type === 'Microsoft.DigitalTwins.Twin.Create') count(`c ${b.subject}`);
    else if (b.type === 'Microsoft.DigitalTwins.Relationship.Create') count(`r ${b.subject}`);
    else if (b.type === 'Microsoft.DigitalTwins.Twin.Update') count(`u ${b.subject} ${b.data.patch[0].value}`);
  }
  const missing = [];
  for (const [me, st] of stats.clients) {
    if (!me.startsWith(`${phase}-`)) continue;
    for (const id of st.creates) if (!seen.has(`c ${id}`)) missing.push(`create ${id}`);
    for (const rel of st.rels) if (!seen.has(`r ${rel}`)) missing.push(`relationship ${rel}`);
    for (let v = 1; v <= st.counter; v++) if (!seen.has(`u ${me}-ctr ${v}`)) missing.push(`${me}-ctr = ${v}`);
  }
  let dups = 0;
  for (const n of seen.values()) dups += n - 1;
  return { missing, dups };
}

async function phase(t, name, targetsOf) {
  const victim = await leaseHolder();
  const survivor = 1 - victim;
  const stats = { clients: new Map(), acked: 0, transportErrors: 0, gatewayErrors: 0, retried: 0, createRetried412: 0, relRetried412: 0, patchRetried412: 0 };
  const callers = cluster.nodes.map((n) => dtCaller(n, INST, token));
  const front = dtCaller(cluster.front, INST, token);
  const stop = { now: false };
  const started = Date.now();
  let load;
  try {
    load = Promise.all(Array.from({ length: CLIENTS }, (_, k) =>
      runClient(k, name, sender(targetsOf({ callers, front, k }), stats, name === 'nginx'), stats, stop)));
    load.catch(() => { stop.now = true; });
    assert.ok(await until(() => stop.now || stats.acked >= KILL_AFTER, 120000, 5), `only ${stats.acked} writes acknowledged in 120 s`);
    const atKill = stats.acked;
    await cluster.kill(victim);
    const killedAt = Date.now();
    assert.ok(await until(() => stop.now || stats.acked >= atKill + MORE_AFTER, 120000, 20), `only ${stats.acked - atKill} writes acknowledged after the kill`);
    stop.now = true;
    await load;
    const wrote = Date.now();

    // The survivor keeps serving and has everything; the events arrive (it took the lease).
    const got = await readBack(cluster.nodes[survivor], name, stats);
    let ev = eventsMissing(name, stats);
    await until(() => { ev = eventsMissing(name, stats); return ev.missing.length === 0; }, 60000, 200);
    assert.deepEqual(ev.missing.slice(0, 10), [], `${ev.missing.length} acknowledged writes' events never arrived`);
    const delivered = Date.now();
    assert.equal(await leaseHolder(), survivor, 'the survivor holds the route now');

    // The killed node, restarted on its data folder and port, serves the same data.
    await cluster.restart(victim);
    const again = await readBack(cluster.nodes[victim], name, stats);
    assert.deepEqual(again, got, 'the restarted node serves what the survivor serves');
    const viaFront = await readBack(cluster.front, name, stats);
    assert.deepEqual(viaFront, got, 'nginx serves the same');

    t.diagnostic(`${name}: killed node ${victim + 1} (the route's lease holder) after ${atKill} acknowledged writes, ` +
      `${stats.acked} in all in ${((wrote - started) / 1000).toFixed(1)} s (${((wrote - killedAt) / 1000).toFixed(1)} s after the kill); ` +
      `${stats.transportErrors} transport errors, ${stats.gatewayErrors} 502/503/504, ${stats.retried} requests answered on a retry; ` +
      `retries meeting their own commit: ${stats.createRetried412} creates, ${stats.relRetried412} relationships, ${stats.patchRetried412} patches (412); ` +
      `events: all arrived ${((delivered - wrote) / 1000).toFixed(1)} s after the load, ${ev.dups} duplicates`);
  } finally {
    stop.now = true;
    await load?.catch(() => {});
    for (const c of callers) c.close();
    front.close();
  }
}

test('kill -9 of one node: clients retrying on the other node lose no acknowledged write', { skip }, async (t) => {
  // Half the clients start on each node; a failure moves a client to the other one.
  await phase(t, 'direct', ({ callers, k }) => (k % 2 ? [callers[0], callers[1]] : [callers[1], callers[0]]));
});

test('kill -9 of one node behind nginx: clients retrying through nginx lose no acknowledged write', { skip }, async (t) => {
  await phase(t, 'nginx', ({ front }) => [front]);
});
