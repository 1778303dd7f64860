// twins_requests.mjs — N sequential keep-alive twin-graph writes of one kind (patch: PATCH a
// twin's property; rel: PUT a new relationship; create: PUT a new twin) against a castor started
// through $WRAP (e.g. valgrind --tool=callgrind) or $CASTOR_BINARY. Used by twins_callgrind.sh.
import https from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const here = dirname(fileURLToPath(import.meta.url));
process.env.CASTOR_BINARY = process.env.WRAP || process.env.CASTOR_BINARY || join(here, '..', 'build', 'castor');
const { startCastor, stopCastor } = await import('../tests/integration/lib/castor.js');
const az = await import('../tests/integration/lib/azure.js');
const c = await startCastor({ args: ['--log-level', 'warn', '--threads', '1'] });
const armTok = await az.userToken(c, az.ARM_SCOPE);
const tok = await az.userToken(c, az.ADT_SCOPE);
const inst = await az.createInstance(c, armTok, 'bench');
await az.assignRole(c, armTok, inst, az.ROLE.dataOwner, az.claims(tok).oid);
const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: c.ca });
const call = (method, path, body) => new Promise((res, rej) => {
  const u = new URL(`${c.url}/dt/bench${path}?api-version=2022-05-31`);
  const req = https.request(u, { method, agent, headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' } }, (r) => {
    let t = ''; r.on('data', (d) => { t += d; }); r.on('end', () => res({ status: r.statusCode, text: t }));
  });
  req.on('error', rej);
  if (body) req.write(body);
  req.end();
});
for (let i = 0; i < 600; i++) { if ((await call('GET', '/models')).status === 200) break; await new Promise((r) => setTimeout(r, 200)); }
const model = { '@id': 'dtmi:bench:Sensor;1', '@type': 'Interface', '@context': 'dtmi:dtdl:context;3', contents: [
  { '@type': 'Property', name: 'temperature', schema: 'double' }, { '@type': 'Property', name: 'name', schema: 'string' },
  { '@type': 'Relationship', name: 'feeds', properties: [{ '@type': 'Property', name: 'since', schema: 'string' }] }] };
let r = await call('POST', '/models', JSON.stringify([model]));
if (r.status !== 201) throw new Error(r.text);
const twin = (i) => JSON.stringify({ $metadata: { $model: 'dtmi:bench:Sensor;1' }, temperature: i, name: `sensor ${i}` });
// 50 twins, so that relationships spread over them as in a real graph: the relationship limit
// counts are index scans of one twin's relationships, which all-from-one-twin would inflate.
const SPREAD = 50;
for (let i = 0; i < SPREAD; i++) { r = await call('PUT', `/digitaltwins/t${i}`, twin(0)); if (r.status !== 200) throw new Error(r.text); }
const kind = process.argv[2] || 'patch';
const N = Number(process.env.N || 200);
for (let i = 0; i < N; i++) {
  if (kind === 'patch') r = await call('PATCH', '/digitaltwins/t0', JSON.stringify([{ op: 'replace', path: '/temperature', value: i }]));
  else if (kind === 'rel') r = await call('PUT', `/digitaltwins/t${i % SPREAD}/relationships/r${i}`, JSON.stringify({ $targetId: `t${(i + 1) % SPREAD}`, $relationshipName: 'feeds', since: 'x' }));
  else r = await call('PUT', `/digitaltwins/c${i}`, twin(i));
  if (r.status >= 300) throw new Error(`${kind} ${r.status} ${r.text}`);
}
console.log(kind, N);
agent.destroy();
await stopCastor(c);
