// twins_requests.mjs — N sequential keep-alive twin-graph writes of one kind (patch: PATCH a
// twin's property; rel: PUT a new relationship; create: PUT a new twin) against a castor started
// through $WRAP (e.g. valgrind --tool=callgrind) or $CASTOR_BINARY. Used by twins_callgrind.sh.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const here = dirname(fileURLToPath(import.meta.url));
process.env.CASTOR_BINARY = process.env.WRAP || process.env.CASTOR_BINARY || join(here, '..', 'build', 'castor');
const { startCastor, stopCastor } = await import('../tests/integration/lib/castor.js');
const { benchInstance, sensorTwin } = await import('./bench_instance.mjs');
const c = await startCastor({ args: ['--log-level', 'warn', '--threads', '1'] });
const { call, agent } = await benchInstance(c, { sockets: 1, tries: 600, pauseMs: 200 });
let r;
// 50 twins, so that relationships spread over them as in a real graph: the relationship limit
// counts are index scans of one twin's relationships, which all-from-one-twin would inflate.
const SPREAD = 50;
for (let i = 0; i < SPREAD; i++) { r = await call('PUT', `/digitaltwins/t${i}`, sensorTwin(0)); if (r.status !== 200) throw new Error(r.text); }
const kind = process.argv[2] || 'patch';
const N = Number(process.env.N || 200);
for (let i = 0; i < N; i++) {
  if (kind === 'patch') r = await call('PATCH', '/digitaltwins/t0', JSON.stringify([{ op: 'replace', path: '/temperature', value: i }]));
  else if (kind === 'rel') r = await call('PUT', `/digitaltwins/t${i % SPREAD}/relationships/r${i}`, JSON.stringify({ $targetId: `t${(i + 1) % SPREAD}`, $relationshipName: 'feeds', since: 'x' }));
  else r = await call('PUT', `/digitaltwins/c${i}`, sensorTwin(i));
  if (r.status >= 300) throw new Error(`${kind} ${r.status} ${r.text}`);
}
console.log(kind, N);
agent.destroy();
await stopCastor(c);
