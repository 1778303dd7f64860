// authz_requests.mjs — N sequential keep-alive requests to one route (auth: an authorized
// data-plane GET /models; health: /healthz) against a castor started through $WRAP (e.g.
// valgrind --tool=callgrind) or $CASTOR_BINARY. Used by authz_callgrind.sh.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const here = dirname(fileURLToPath(import.meta.url));
process.env.CASTOR_BINARY = process.env.WRAP || process.env.CASTOR_BINARY || join(here, '..', 'build', 'castor');
const { startCastor, stopCastor } = await import('../tests/integration/lib/castor.js');
const az = await import('../tests/integration/lib/azure.js');
import https from 'node:https';
const c = await startCastor({ args: ['--log-level', 'warn', '--threads', '1'] });
const armTok = await az.userToken(c, az.ARM_SCOPE);
const tok = await az.userToken(c, az.ADT_SCOPE);
const inst = await az.createInstance(c, armTok, 'bench');
await az.assignRole(c, armTok, inst, az.ROLE.dataOwner, az.claims(tok).oid);
const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: c.ca });
const get = (p, h) => new Promise((res, rej) => https.get(`${c.url}${p}`, { agent, headers: h }, (r) => { r.resume(); r.on('end', () => res(r.statusCode)); }).on('error', rej));
const N = Number(process.env.N || 2000);
let s = 0;
for (let i = 0; i < N; i++) s += await get(process.argv[2] === 'auth' ? '/dt/bench/models?api-version=2022-05-31' : '/healthz', { authorization: `Bearer ${tok}` });
console.log(process.argv[2], s / N);
agent.destroy();
await stopCastor(c);
