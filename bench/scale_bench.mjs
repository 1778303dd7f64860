// scale_bench.mjs — the scale-out bench (issue 14): in one run, side by side, castor on SQLite
// (one node), on PostgreSQL (one node) and on PostgreSQL with two nodes over the same database,
// for GET twin, PATCH twin and a query mix; req/s, p99, and the goal ratios (PG 2 nodes / PG 1
// node on reads, PG 1 node / SQLite on GET). Prints figures; never passes or fails on time.
// Usage: node bench/scale_bench.mjs path/to/castor [duration]   (bench/run: BENCH_ONLY=scale)
//   TWINS (default 5,000) twins and RELS (1,000) relationships are loaded on each store.
//   BENCH_THREADS: castor threads per node (default 4 per core, castor's own default).
//   BENCH_PG_FAST=1 starts PostgreSQL with fsync off (default: on, as a real deployment).
//   BENCH_PG_SOCKET=1 connects the nodes through PostgreSQL's Unix socket (default: TCP on
//   loopback, as to a database on another machine).
//   BENCH_PIN=1 also measures PostgreSQL 2 nodes with node 1 pinned to core 0 and node 2 to
//   core 1 (taskset), to model "one node per machine"; the unpinned figures are always printed.
// Two nodes are reached by wrk directly, one wrk thread per node (bench/scale_bench.lua's
// ADDRS), not through nginx: on a 2-core machine nginx's TLS termination and re-encryption
// would take the CPU the nodes need, and the figure would measure nginx.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, chmodSync, rmSync, copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
process.env.CASTOR_BINARY = process.argv[2] || join(here, '..', 'build', 'castor');
delete process.env.CASTOR_TEST_STORE; // each server below names its store itself
const duration = process.argv[3] || process.env.BENCH_DURATION || '10s';
const TWINS = Number(process.env.TWINS || 5000);
const RELS = Math.min(Number(process.env.RELS || 1000), TWINS - 1);
const { startCastor, stopCastor, newDataDir } = await import('../tests/integration/lib/castor.js');
const { benchInstance, sensorTwin } = await import('./bench_instance.mjs');
const pgTmp = join(here, '..', 'scripts', 'pg-tmp');
const cores = execFileSync('nproc').toString().trim();
const threads = process.env.BENCH_THREADS || String(4 * Number(cores));
const load = () => execFileSync('uptime').toString().trim().replace(/.*load average/, 'load average');

// Loads the bench instance through node c: model, TWINS twins, RELS relationships (t_i feeds
// t_i+1), 64 requests in flight. Returns the data-plane token.
async function seed(c) {
  const { tok, agent, call } = await benchInstance(c);
  const parallel = async (count, fn) => {
    let next = 0;
    const worker = async () => { for (let i; (i = next++) < count;) { const x = await fn(i); if (x.status !== 200) throw new Error(x.text); } };
    await Promise.all(Array.from({ length: 64 }, worker));
  };
  await parallel(TWINS, (i) => call('PUT', `/digitaltwins/t${i}`, sensorTwin(i)));
  await parallel(RELS, (i) => call('PUT', `/digitaltwins/t${i}/relationships/f${i}`, JSON.stringify({ $targetId: `t${i + 1}`, $relationshipName: 'feeds', since: '2024' })));
  agent.destroy();
  return tok;
}

// CPU seconds (user + system) of the castor nodes and of PostgreSQL (the postmaster and its
// children: the backends stay for the whole run, castor's connections are pooled), so each
// figure also says where a request's CPU goes: with 2 shared cores that decides whether a
// second node can help.
const ticks = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "; ticks of 10 ms
    return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / 100 };
  } catch { return { ppid: 0, cpu: 0 }; }
};
let watched = { castor: [], postmaster: 0 };
function cpu() {
  const castor = watched.castor.reduce((a, p) => a + ticks(p).cpu, 0);
  let pg = 0;
  if (watched.postmaster) {
    pg = ticks(watched.postmaster).cpu;
    for (const d of readdirSync('/proc')) if (/^\d+$/.test(d)) { const t = ticks(d); if (t.ppid === watched.postmaster) pg += t.cpu; }
  }
  return { castor, pg };
}

// One wrk run of mode against the nodes listening on ports (the URL is node 1's public one).
function wrk(mode, url, ports, tok) {
  const before = cpu();
  const out = execFileSync('wrk', ['-t2', '-c64', `-d${duration}`, '--latency', '-s', join(here, 'scale_bench.lua'), url], {
    env: { ...process.env, MODE: mode, TWINS: String(TWINS), RELS: String(RELS), PREFIX: '/dt/bench', TOKEN: tok, ADDRS: ports.map((p) => `127.0.0.1:${p}`).join(',') },
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  });
  const after = cpu();
  const p99 = out.match(/\n\s+99%\s+(\S+)/)[1];
  const total = Number(out.match(/(\d+) requests in/)[1]);
  return {
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]), p99, non2xx: Number((out.match(/Non-2xx or 3xx responses: (\d+)/) || [0, 0])[1]),
    castorUs: ((after.castor - before.castor) * 1e6) / total, pgUs: ((after.pg - before.pg) * 1e6) / total,
  };
}

const MODES = ['get', 'patch', 'query'];
const results = {};
async function measure(label, url, ports, tok) {
  results[label] = {};
  for (const m of MODES) results[label][m] = wrk(m, url, ports, tok);
}
const pin = (c, cpu) => spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(c.child.pid)], { stdio: 'ignore' });

console.log(`scale: ${TWINS} twins, ${RELS} relationships; ${threads} castor threads per node; wrk -t2 -c64 -d${duration} per figure; ${cores} cores shared by castor, PostgreSQL and wrk`);
console.log(`scale: ${load()} (before)`);
const args = ['--log-level', 'warn', '--threads', threads];

// SQLite, one node.
{
  const c = await startCastor({ args });
  watched = { castor: [c.child.pid], postmaster: 0 };
  try {
    const tok = await seed(c);
    await measure('SQLite 1 node', c.url, [c.port], tok);
  } finally {
    await stopCastor(c);
  }
}

// PostgreSQL: one throwaway cluster; one node, then a second node on the same database.
const parent = mkdtempSync(join(tmpdir(), 'castor-scale-'));
chmodSync(parent, 0o711); // as root the cluster runs as castor-test, which must reach it
const cluster = join(parent, 'pg');
execFileSync(pgTmp, ['start', cluster, ...(process.env.BENCH_PG_FAST === '1' ? ['--fast'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
const nodes = [];
try {
  let store = execFileSync(pgTmp, ['createdb', cluster, 'castor'], { encoding: 'utf8' }).trim();
  if (process.env.BENCH_PG_SOCKET === '1') store = `postgresql://castor@/castor?host=${cluster}&port=${new URL(store).port}`;
  console.log(`scale: PostgreSQL ${process.env.BENCH_PG_FAST === '1' ? 'with fsync off' : 'with fsync on'}, over ${process.env.BENCH_PG_SOCKET === '1' ? 'its Unix socket' : 'TCP on loopback'}`);
  const n1 = await startCastor({ args: [...args, '--store', store] });
  nodes.push(n1);
  watched = { castor: [n1.child.pid], postmaster: Number(readFileSync(join(cluster, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) };
  const tok = await seed(n1);
  await measure('PG 1 node', n1.url, [n1.port], tok);
  // Node 2 gets node 1's CA and certificate (its data folder holds only TLS material) and its
  // public URL: tokens name it as their issuer, and clients trust one ca.pem.
  const dir2 = newDataDir();
  for (const f of ['ca.pem', 'ca-key.pem', 'server.pem', 'server-key.pem']) copyFileSync(join(n1.dataDir, f), join(dir2, f));
  const n2 = await startCastor({ dataDir: dir2, args: [...args, '--store', store, '--public-url', n1.url] });
  nodes.push(n2);
  watched.castor.push(n2.child.pid);
  await measure('PG 2 nodes', n1.url, [n1.port, n2.port], tok);
  if (process.env.BENCH_PIN === '1') {
    pin(n1, 0);
    pin(n2, 1);
    await measure('PG 2 pinned', n1.url, [n1.port, n2.port], tok);
  }
} finally {
  for (const n of nodes) await stopCastor(n);
  execFileSync(pgTmp, ['stop', cluster], { stdio: 'ignore' });
  rmSync(parent, { recursive: true, force: true });
}

const labels = { get: 'GET twin', patch: 'PATCH twin', query: 'query mix' };
const cols = Object.keys(results);
const cell = (r) => `${r.rps.toFixed(0).padStart(7)} req/s p99 ${r.p99.padStart(8)}${r.non2xx ? ` !${r.non2xx}` : ''}`;
const spent = (r) => `CPU/req castor ${r.castorUs.toFixed(0)} us${r.pgUs ? `, PG ${r.pgUs.toFixed(0)} us` : ''}`;
// Each column as wide as its longest cell and two spaces, so no two cells run together.
const width = 2 + Math.max(...cols.flatMap((k) => [k.length, ...MODES.flatMap((m) => [cell(results[k][m]).length, spent(results[k][m]).length])]));
console.log(`${''.padEnd(12)}${cols.map((k) => k.padStart(width)).join('')}`);
for (const m of MODES) {
  console.log(`${labels[m].padEnd(12)}${cols.map((k) => cell(results[k][m]).padStart(width)).join('')}`);
  console.log(`${''.padEnd(12)}${cols.map((k) => spent(results[k][m]).padStart(width)).join('')}`);
}
const ratio = (a, b) => (a / b).toFixed(2);
const s = results['SQLite 1 node'], p1 = results['PG 1 node'], p2 = results['PG 2 nodes'];
console.log(`scale: PG 1 node / SQLite: GET ${ratio(p1.get.rps, s.get.rps)} (goal >= 0.5), PATCH ${ratio(p1.patch.rps, s.patch.rps)}, query ${ratio(p1.query.rps, s.query.rps)}`);
console.log(`scale: PG 2 nodes / PG 1 node: GET ${ratio(p2.get.rps, p1.get.rps)}, query ${ratio(p2.query.rps, p1.query.rps)} (goal >= 1.6 on reads), PATCH ${ratio(p2.patch.rps, p1.patch.rps)}`);
if (results['PG 2 pinned']) {
  const pp = results['PG 2 pinned'];
  console.log(`scale: pinned (node 1 on core 0, node 2 on core 1; PostgreSQL and wrk unpinned) / PG 1 node: GET ${ratio(pp.get.rps, p1.get.rps)}, query ${ratio(pp.query.rps, p1.query.rps)}, PATCH ${ratio(pp.patch.rps, p1.patch.rps)}`);
}
console.log(`scale: ${load()} (after)`);
