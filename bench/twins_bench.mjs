// twins_bench.mjs — twin-graph throughput and p99 over keep-alive TLS with valid tokens:
// GET twin, PATCH twin, PUT relationship on an instance holding TWINS (default 100,000) twins,
// compared with ADT's per-instance limits (1,000 reads/s, 1,000 patches/s, 500 creates/s).
// Usage: node bench/twins_bench.mjs path/to/castor [duration]. Prints figures; never fails on time.
// BENCH_MODES="patch" runs only some of get, patch, rel (e.g. under perf).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
process.env.CASTOR_BINARY = process.argv[2] || join(here, '..', 'build', 'castor');
const duration = process.argv[3] || process.env.BENCH_DURATION || '10s';
const TWINS = Number(process.env.TWINS || 100000);
const { startCastor, stopCastor } = await import('../tests/integration/lib/castor.js');
const { benchInstance, sensorTwin } = await import('./bench_instance.mjs');

// castor's default thread count (4 per core) unless BENCH_THREADS says otherwise; the test
// harness alone would start it with 2.
const threads = process.env.BENCH_THREADS || String(4 * Number(execFileSync('nproc').toString().trim()));
const c = await startCastor({ args: ['--log-level', 'warn', '--threads', threads] });
try {
  const { tok, agent, call } = await benchInstance(c);
  // Load the twins: 64 requests in flight over keep-alive TLS; this is also the create figure.
  let next = 0; const t0 = Date.now();
  const worker = async () => {
    for (let i; (i = next++) < TWINS;) {
      const x = await call('PUT', `/digitaltwins/t${i}`, sensorTwin(i));
      if (x.status !== 200) throw new Error(x.text);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  const createRate = TWINS / ((Date.now() - t0) / 1000);
  agent.destroy();
  console.log(`twins: ${TWINS} twins in the store (${threads} castor threads, ${execFileSync('nproc').toString().trim()} cores shared with the client)`);
  console.log(`PUT twin (load, node client, 64 in flight)   ${createRate.toFixed(0).padStart(8)} req/s   ${(createRate / 500).toFixed(1)}x ADT's 500 creates/s`);
  const limits = { get: [1000, 'reads'], patch: [1000, 'patches'], rel: [500, 'creates'] };
  const labels = { get: 'GET twin', patch: 'PATCH twin', rel: 'PUT relationship' };
  for (const mode of (process.env.BENCH_MODES || 'get patch rel').split(' ')) {
    const out = execFileSync('wrk', ['-t2', '-c64', `-d${duration}`, '--latency', '-s', join(here, 'twins_bench.lua'), c.url], {
      env: { ...process.env, MODE: mode, TWINS: String(TWINS), PREFIX: '/dt/bench', TOKEN: tok }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
    });
    const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]);
    const p99 = out.match(/\n\s+99%\s+(\S+)/)[1];
    const non2xx = (out.match(/Non-2xx or 3xx responses: (\d+)/) || [0, 0])[1];
    const [lim, what] = limits[mode];
    console.log(`${labels[mode].padEnd(46)} ${rps.toFixed(0).padStart(8)} req/s   p99 ${p99.padStart(8)}   ${(rps / lim).toFixed(1)}x ADT's ${lim} ${what}/s   non-2xx ${non2xx}`);
  }
} finally {
  await stopCastor(c);
}
