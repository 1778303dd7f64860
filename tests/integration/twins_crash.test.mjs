// twins_crash.test.mjs — an acknowledged write survives kill -9 of the real server.
//
// 24 clients write over keep-alive HTTPS with a valid token (twin PUT, a three-property PATCH,
// relationship PUT), each on its own twins and one request at a time, so every twin has at most
// one write in flight and its expected state is known exactly. castor is killed with SIGKILL
// mid-stream and restarted on the same data folder; then, from the database on disk:
//   - every acknowledged write is there (with the ETag the client received, when it was the
//     twin's last write) and has its outbox event;
//   - a write never acknowledged is there only whole and with its event, and only if it was the
//     one in flight (no other twin, relationship or event exists);
//   - no patch is half applied (a PATCH sets a, b and c to one value together).
// Two rounds on the same folder: the second also proves the restarted server keeps working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCastor, stopCastor, newDataDir } from './lib/castor.js';
import { readyInstance, dtCaller, sqlRows } from './lib/twins.js';

const MODEL = 'dtmi:crash:Thing;1';
const WORKERS = 24;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One client: owns twins w{n}-*, writes until its connection dies. Records what was
// acknowledged, and the one write in flight when the server died.
async function worker(call, w, round, log, stop) {
  const mine = [];
  for (let i = 0; !stop.now; i++) {
    const kind = mine.length < 2 ? 'create' : ['create', 'patch', 'patch', 'rel'][i % 4];
    let op;
    if (kind === 'create') {
      const id = `r${round}w${w}t${i}`;
      op = { kind, id, value: i, req: ['PUT', `/digitaltwins/${id}`, { $metadata: { $model: MODEL }, a: i, b: i, c: `v${i}` }] };
    } else if (kind === 'patch') {
      const id = mine[i % mine.length];
      op = { kind, id, value: i, req: ['PATCH', `/digitaltwins/${id}`, [
        { op: 'replace', path: '/a', value: i }, { op: 'replace', path: '/b', value: i }, { op: 'replace', path: '/c', value: `v${i}` }]] };
    } else {
      const src = mine[i % mine.length];
      const id = `rel${i}`;
      op = { kind, id, src, value: i, req: ['PUT', `/digitaltwins/${src}/relationships/${id}`,
        { $relationshipName: 'link', $targetId: mine[(i + 1) % mine.length], weight: i }] };
    }
    log.inflight.set(w, op);
    let r;
    try {
      r = await call(...op.req);
    } catch {
      return; // the server is gone: op stays in flight, unacknowledged
    }
    if (r.status >= 300) {
      if (stop.now) return;
      throw new Error(`${op.req[0]} ${op.req[1]}: ${r.status} ${r.text}`);
    }
    log.inflight.delete(w);
    op.etag = r.headers.etag;
    log.acked.push(op);
    if (kind === 'create') mine.push(op.id);
  }
}

// Everything on disk for the instance: twins by id, relationships by source/id, events.
function onDisk(dataDir) {
  const inst = sqlRows(dataDir, "SELECT id FROM dt_instances WHERE name = 'crash'")[0].id;
  const twins = new Map(sqlRows(dataDir, `SELECT id, etag, doc FROM twins WHERE instance_id = '${inst}'`)
    .map((r) => [r.id, { etag: r.etag, doc: JSON.parse(r.doc) }]));
  const rels = new Map(sqlRows(dataDir, `SELECT source_id, id, etag, doc FROM relationships WHERE instance_id = '${inst}'`)
    .map((r) => [`${r.source_id}/${r.id}`, { etag: r.etag, doc: JSON.parse(r.doc) }]));
  const events = sqlRows(dataDir, `SELECT type, subject, event FROM outbox WHERE instance_id = '${inst}' ORDER BY seq`)
    .map((e) => ({ type: e.type, subject: e.subject, ev: JSON.parse(e.event) }));
  return { twins, rels, events };
}

// The event key of a write: creates by subject, patches by subject and value, relationships by subject.
const keyOf = (op) => (op.kind === 'create' ? `C ${op.id}` : op.kind === 'patch' ? `U ${op.id} ${op.value}` : `R ${op.src}/relationships/${op.id}`);
function eventKey(e) {
  if (e.type === 'Microsoft.DigitalTwins.Twin.Create') return `C ${e.subject}`;
  if (e.type === 'Microsoft.DigitalTwins.Twin.Update') {
    const a = e.ev.data.patch.find((p) => p.path === '/a');
    return `U ${e.subject} ${a ? a.value : '?'}`;
  }
  if (e.type === 'Microsoft.DigitalTwins.Relationship.Create') return `R ${e.subject}`;
  return `? ${e.type} ${e.subject}`;
}

function check(disk, acked, unacked) {
  const events = new Map();
  for (const e of disk.events) {
    const k = eventKey(e);
    assert.ok(!events.has(k), `event ${k} written twice`);
    events.set(k, e);
  }
  // The expected last write of each twin (acknowledged ops are per twin in order).
  const lastWrite = new Map();
  for (const op of acked) {
    assert.ok(events.has(keyOf(op)), `acknowledged ${op.kind} ${op.src ?? ''}${op.id} (${op.value}) has no outbox event`);
    if (op.kind === 'rel') {
      const r = disk.rels.get(`${op.src}/${op.id}`);
      assert.ok(r, `acknowledged relationship ${op.src}/${op.id} is lost`);
      assert.equal(r.etag, op.etag);
      assert.equal(r.doc.weight, op.value);
    } else {
      assert.ok(disk.twins.has(op.id), `acknowledged ${op.kind} of twin ${op.id} is lost`);
      lastWrite.set(op.id, op);
    }
  }
  const inflight = new Map(unacked.map((op) => [keyOf(op), op]));
  // Nothing else: every event is an acknowledged write's or the in-flight one of its client.
  const ackedKeys = new Set(acked.map(keyOf));
  for (const k of events.keys()) assert.ok(ackedKeys.has(k) || inflight.has(k), `event ${k} is for no write that was sent`);
  for (const [id, t] of disk.twins) {
    const { a, b, c } = t.doc;
    assert.ok(a === b && c === `v${a}`, `twin ${id} is half patched: ${JSON.stringify({ a, b, c })}`);
    const last = lastWrite.get(id);
    const pending = unacked.find((op) => op.id === id && op.kind !== 'rel');
    if (pending && a === pending.value) {
      assert.ok(events.has(keyOf(pending)), `unacknowledged ${pending.kind} of ${id} is on disk without its event`);
      continue;
    }
    assert.ok(last, `twin ${id} exists but was never acknowledged`);
    assert.equal(a, last.value, `twin ${id} holds ${a}, its last acknowledged write was ${last.value}`);
    assert.equal(t.etag, last.etag, `twin ${id}'s ETag is not the acknowledged one`);
  }
  for (const [k, r] of disk.rels) {
    const [src, id] = k.split('/');
    const op = acked.find((o) => o.kind === 'rel' && o.src === src && o.id === id)
      ?? unacked.find((o) => o.kind === 'rel' && o.src === src && o.id === id);
    assert.ok(op, `relationship ${k} was never sent`);
    assert.equal(r.doc.weight, op.value);
    assert.ok(events.has(keyOf(op)), `relationship ${k} is on disk without its event`);
  }
  // An in-flight write that is on disk has its event, and its event means it is on disk.
  for (const op of unacked) {
    const there = op.kind === 'rel' ? disk.rels.has(`${op.src}/${op.id}`) : disk.twins.get(op.id)?.doc.a === op.value;
    assert.equal(events.has(keyOf(op)), there, `in-flight ${op.kind} ${op.id}: event ${events.has(keyOf(op))}, on disk ${there}`);
  }
}

test('kill -9 under concurrent twin, patch and relationship writes: acknowledged writes and their events survive, nothing else', async () => {
  const dataDir = newDataDir();
  let c = await startCastor({ dataDir, args: ['--threads', '4'] });
  const { token } = await readyInstance(c, 'crash');
  let call = dtCaller(c, 'crash', token);
  const model = { '@id': MODEL, '@type': 'Interface', '@context': 'dtmi:dtdl:context;3', contents: [
    { '@type': 'Property', name: 'a', schema: 'double' }, { '@type': 'Property', name: 'b', schema: 'double' },
    { '@type': 'Property', name: 'c', schema: 'string' },
    { '@type': 'Relationship', name: 'link', properties: [{ '@type': 'Property', name: 'weight', schema: 'double' }] }] };
  const m = await call('POST', '/models', [model]);
  assert.equal(m.status, 201, m.text);
  const acked = [];
  const unacked = [];
  for (let round = 0; round < 2; round++) {
    const log = { acked, inflight: new Map() };
    const stop = { now: false };
    const before = acked.length;
    const running = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(call, w, round, log, stop)));
    // Kill once enough writes are acknowledged in this round, mid-stream.
    const deadline = Date.now() + 20000;
    while (acked.length - before < 600 + 400 * round && Date.now() < deadline) await sleep(5);
    stop.now = true;
    const exit = await stopCastor(c, 'SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    await running;
    call.close();
    unacked.push(...log.inflight.values());
    assert.ok(acked.length - before >= 100, `only ${acked.length - before} writes acknowledged before the kill`);
    c = await startCastor({ dataDir, args: ['--threads', '4'] });
    call = dtCaller(c, 'crash', token);
    // The restarted server answers, with what is on disk.
    const probe = acked.filter((o) => o.kind !== 'rel').at(-1);
    const g = await call('GET', `/digitaltwins/${probe.id}`);
    assert.equal(g.status, 200, g.text);
    check(onDisk(dataDir), acked, unacked);
    console.log(`round ${round}: ${acked.length - before} acknowledged writes, ${log.inflight.size} in flight at the kill`);
  }
  call.close();
  await stopCastor(c);
});

// A graceful stop while writes wait for their disk sync (their connections suspended): castor
// answers or drops each, exits 0 without libmicrohttpd's "suspended connections" panic, and
// every write it acknowledged is on disk with its event.
test('SIGTERM under concurrent writes: a clean exit, and every acknowledged write is kept', async () => {
  const dataDir = newDataDir();
  let c = await startCastor({ dataDir, args: ['--threads', '4'] });
  const { token } = await readyInstance(c, 'crash');
  let call = dtCaller(c, 'crash', token);
  const model = { '@id': MODEL, '@type': 'Interface', '@context': 'dtmi:dtdl:context;3', contents: [
    { '@type': 'Property', name: 'a', schema: 'double' }, { '@type': 'Property', name: 'b', schema: 'double' },
    { '@type': 'Property', name: 'c', schema: 'string' },
    { '@type': 'Relationship', name: 'link', properties: [{ '@type': 'Property', name: 'weight', schema: 'double' }] }] };
  assert.equal((await call('POST', '/models', [model])).status, 201);
  const acked = [];
  const log = { acked, inflight: new Map() };
  const stop = { now: false };
  const running = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(call, w, 0, log, stop)));
  const deadline = Date.now() + 20000;
  while (acked.length < 400 && Date.now() < deadline) await sleep(5);
  const exit = await stopCastor(c, 'SIGTERM');
  stop.now = true;
  await running;
  call.close();
  assert.equal(exit.code, 0, `castor exited ${JSON.stringify(exit)}: ${c.stderr().slice(-2000)}`);
  assert.doesNotMatch(c.stderr(), /suspended|panic|MHD_stop_daemon/i);
  assert.ok(acked.length >= 100, `only ${acked.length} writes acknowledged before the stop`);
  c = await startCastor({ dataDir, args: ['--threads', '4'] });
  check(onDisk(dataDir), acked, [...log.inflight.values()]);
  await stopCastor(c);
});
