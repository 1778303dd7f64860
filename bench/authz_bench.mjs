// authz_bench.mjs — the cost of authorization on the data plane: authorized requests (bearer
// token verified — from the verified-token cache after the first —, instance looked up, RBAC
// decided, a small handler) per second over keep-alive TLS, next to the same server answering
// an unauthenticated route with a body of about the same size, in the same run. castor has no
// switch that turns authorization off, so this is the only honest comparison: the ratio shows
// what authorization plus the instance lookup cost. Prints figures; never fails on time.
// Usage: node bench/authz_bench.mjs path/to/castor [duration]
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import https from 'node:https';

const here = dirname(fileURLToPath(import.meta.url));
process.env.CASTOR_BINARY = process.argv[2] || join(here, '..', 'build', 'castor');
const duration = process.argv[3] || process.env.BENCH_DURATION || '10s';
const { startCastor, stopCastor } = await import('../tests/integration/lib/castor.js');
const az = await import('../tests/integration/lib/azure.js');

const c = await startCastor({ args: ['--log-level', 'warn', '--threads', '2'] });
try {
  const armTok = await az.userToken(c, az.ARM_SCOPE);
  const tok = await az.userToken(c, az.ADT_SCOPE);
  const inst = await az.createInstance(c, armTok, 'bench');
  await az.assignRole(c, armTok, inst, az.ROLE.dataOwner, az.claims(tok).oid);
  const size = (path, headers = {}) => new Promise((res, rej) => {
    https.get(`${c.url}${path}`, { ca: c.ca, headers }, (r) => {
      let n = 0; r.on('data', (d) => { n += d.length; }); r.on('end', () => res({ status: r.statusCode, bytes: n }));
    }).on('error', rej);
  });
  const authed = '/dt/bench/models?api-version=2022-05-31';
  const a = await size(authed, { authorization: `Bearer ${tok}` });
  const h = await size('/healthz');
  if (a.status !== 200) throw new Error(`authorized route answered ${a.status}`);
  const run = (path, headers) => {
    const args = ['-t2', '-c64', `-d${duration}`, '--latency'];
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    const out = execFileSync('wrk', [...args, `${c.url.replace('localhost', '127.0.0.1')}${path}`], { encoding: 'utf8' });
    return { rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]), p99: out.match(/\n\s+99%\s+(\S+)/)[1],
      non2xx: Number((out.match(/Non-2xx or 3xx responses: (\d+)/) || [0, 0])[1]) };
  };
  const base = run('/healthz', {});
  const auth = run(authed, { Authorization: `Bearer ${tok}` });
  console.log(`authz: wrk -t2 -c64 -d${duration}, keep-alive TLS, 2 castor threads (${execFileSync('nproc').toString().trim()} cores shared with wrk)`);
  console.log(`unauthenticated GET /healthz (${h.bytes} B)            ${base.rps.toFixed(0).padStart(8)} req/s   p99 ${base.p99}`);
  console.log(`authorized GET /dt/bench/models (${a.bytes} B)          ${auth.rps.toFixed(0).padStart(8)} req/s   p99 ${auth.p99}   non-2xx ${auth.non2xx}`);
  console.log(`the authorized route costs ${((base.rps / auth.rps - 1) * 100).toFixed(1)}% more than /healthz: authorization plus the handler's store read;`);
  console.log('the guard alone, exactly: bench/authz_callgrind.sh (BENCH_CALLGRIND=1), target under 10% of a request');
} finally {
  await stopCastor(c);
}
