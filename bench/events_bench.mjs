// events_bench.mjs — event delivery end to end: PATCH throughput with no route and with two
// routes (filter true) to a real HTTPS webhook and a real mosquitto broker read by mosquitto_sub,
// the events/s each receiver gets, and the latency from the write to its receipt (p50/p99),
// under full load, with writes paced at EVENTS_RATE, and at ADT's 1,000 patches/s. Next to ADT's limits; ADT documents no event
// throughput or latency. Prints figures; never fails on time.
// Usage: node bench/events_bench.mjs path/to/castor [duration]
//   TWINS (default 10000) twins; BENCH_THREADS castor threads (default 4 per core);
//   BENCH_LANES passes --event-lanes; BENCH_NICE passes --event-nice; EVENTS_RATE (5000) paces
//   the sustained run; PACED_RATE (1000) the latency run; PACED_SECONDS (5) is each one's length.
//   BENCH_RECEIVER_NICE runs the webhook sink, mosquitto and mosquitto_sub at that niceness: with
//   19 they take the CPU the way receivers on other machines would (hardly any of castor's), the
//   deployment ADT's own endpoints have. EVENTS_PHASES=ab stops after the two full-load runs.
//   WRK_CONNS (64) connections for the full-load runs (the paced run uses 256).
// Latency is measured from the event's `time` attribute, which castor sets when it writes the
// change (a little before the write is acknowledged), to the receipt on the same clock: the
// webhook sink's request end, mosquitto_sub's own receive stamp (%U).
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
process.env.CASTOR_BINARY = process.argv[2] || join(here, '..', 'build', 'castor');
const duration = process.argv[3] || process.env.BENCH_DURATION || '10s';
const TWINS = Number(process.env.TWINS || 10000);
const PACED_RATE = Number(process.env.PACED_RATE || 1000);
const PACED_SECONDS = Number(process.env.PACED_SECONDS || 5);
const EVENTS_RATE = Number(process.env.EVENTS_RATE || 5000);
const { startCastor, stopCastor, tempDir } = await import('../tests/integration/lib/castor.js');
const az = await import('../tests/integration/lib/azure.js');
const { benchInstance, sensorTwin } = await import('./bench_instance.mjs');
const { freePort, selfSigned, until } = await import('../tests/integration/lib/events.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cores = execFileSync('nproc').toString().trim();
const nowMs = () => performance.timeOrigin + performance.now();

// "2026-12-07T04:16:29.1234567Z" -> unix ms with the fraction kept.
function eventTime(text) {
  const i = text.indexOf('"time":"');
  if (i < 0) return NaN;
  const t = text.slice(i + 8, text.indexOf('"', i + 8));
  return Date.parse(`${t.slice(0, 19)}Z`) + Number(`0${t.slice(19, -1)}`) * 1000;
}

// What one receiver got: latencies (ms) of events written at or after `since`.
function recorder() {
  const rec = { since: Infinity, lat: [], last: 0 };
  rec.add = (written, at) => {
    if (!(written >= rec.since)) return;
    rec.lat.push(at - written);
    rec.last = at;
  };
  rec.reset = (since) => { rec.since = since; rec.lat = []; rec.last = 0; };
  return rec;
}

// Calls f with each whole line a receiver process prints.
function eachLine(stream, f) {
  let buf = '';
  stream.setEncoding('latin1');
  stream.on('data', (d) => {
    buf += d;
    let i, from = 0;
    while ((i = buf.indexOf('\n', from)) >= 0) {
      f(buf.slice(from, i));
      from = i + 1;
    }
    buf = buf.slice(from);
  });
}

// The webhook: bench/webhook_sink.c (libmicrohttpd + GnuTLS, one thread), built here; it prints
// "<event time> <receipt time>" per POST. A C receiver keeps the bench's own share of the two
// cores small (a node https receiver cost about a third of a core at 5,000 events/s).
async function startWebhook() {
  const tls = selfSigned();
  const dir = tempDir('castor-bench-hook-');
  const bin = join(dir, 'webhook_sink');
  const mhd = execFileSync('pkg-config', ['--cflags', '--libs', 'libmicrohttpd']).toString().trim().split(/\s+/);
  execFileSync('cc', ['-O2', '-std=c11', '-D_GNU_SOURCE', join(here, 'webhook_sink.c'), ...mhd, '-lpthread', '-o', bin], { stdio: 'inherit' });
  writeFileSync(join(dir, 'cert.pem'), tls.cert);
  writeFileSync(join(dir, 'key.pem'), tls.key);
  const port = await freePort();
  const sink = spawn(bin, [String(port), join(dir, 'cert.pem'), join(dir, 'key.pem')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rec = recorder();
  let listening = false;
  eachLine(sink.stdout, (line) => {
    const sp = line.indexOf(' ');
    if (sp > 0) rec.add(Number(line.slice(0, sp)), Number(line.slice(sp + 1)));
    else if (line === 'listening') listening = true;
  });
  if (!(await until(() => listening, 10000, 20))) throw new Error('webhook_sink did not start');
  return {
    rec, tls, url: `https://127.0.0.1:${port}/events`, pid: sink.pid,
    close: async () => { sink.kill('SIGTERM'); await new Promise((r) => sink.on('exit', r)); },
  };
}

// mosquitto on a free loopback port, read by mosquitto_sub at QoS 1, which stamps each message.
async function startMqtt() {
  const dir = tempDir('castor-bench-mqtt-');
  const port = await freePort();
  const user = 'castor', password = 'bench-pw-1';
  execFileSync('mosquitto_passwd', ['-c', '-b', join(dir, 'passwd'), user, password], { stdio: 'ignore' });
  writeFileSync(join(dir, 'mosquitto.conf'), [`listener ${port} 127.0.0.1`, 'allow_anonymous false',
    `password_file ${join(dir, 'passwd')}`, 'persistence false', 'log_dest stderr', 'log_type error', 'user root',
    'max_queued_messages 1000000', 'max_inflight_messages 0', 'set_tcp_nodelay true', ''].join('\n'));
  const broker = spawn('/usr/sbin/mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const rec = recorder();
  let probed = false;
  const ok = await until(async () => {
    try {
      execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', user, '-P', password, '-t', 'probe/x', '-m', 'x'], { stdio: 'ignore', timeout: 2000 });
      return true;
    } catch { return false; }
  }, 10000, 100);
  if (!ok) throw new Error('mosquitto did not start');
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-u', user, '-P', password, '-q', '1',
    '-t', 'castor/#', '-t', 'probe/#', '-F', '%U %p', '-i', `castor-bench-sub-${port}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  eachLine(sub.stdout, (line) => {
    const sp = line.indexOf(' ');
    if (line.startsWith('{', sp + 1)) rec.add(eventTime(line), Number(line.slice(0, sp)) * 1000);
    else probed = true;
  });
  const subscribed = await until(async () => {
    execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', user, '-P', password, '-t', 'probe/y', '-m', 'y', '-q', '1'], { stdio: 'ignore' });
    await sleep(100);
    return probed;
  }, 10000, 50);
  if (!subscribed) throw new Error('mosquitto_sub did not subscribe');
  return {
    rec, uri: `mqtt://127.0.0.1:${port}`, user, password, pids: { mosquitto: broker.pid, mosquitto_sub: sub.pid },
    close: async () => { sub.kill('SIGTERM'); broker.kill('SIGTERM'); await new Promise((r) => broker.on('exit', r)); },
  };
}

// wrk PATCHing random twins, run without blocking this process (the receivers live here).
// A paced run gets more connections: a connection waits for its answer before it takes its
// next send time, so at a given latency 64 of them could not keep the schedule.
function wrkPatch(c, tok, onStart, rate = 0, secs = duration) {
  return new Promise((res, rej) => {
    const w = spawn('wrk', ['-t2', `-c${rate > 0 ? 256 : Number(process.env.WRK_CONNS || 64)}`, `-d${secs}`, '--latency', '-s', join(here, 'twins_bench.lua'), c.url], {
      env: { ...process.env, MODE: 'patch', TWINS: String(TWINS), PREFIX: '/dt/bench', TOKEN: tok, RATE: String(rate), WRK_THREADS: '2' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (onStart) onStart(w.pid);
    let out = '';
    w.stdout.on('data', (d) => { out += d; });
    w.on('exit', (code) => {
      if (code !== 0) return rej(new Error(`wrk exited ${code}: ${out}`));
      const non2xx = Number((out.match(/Non-2xx or 3xx responses: (\d+)/) || [0, 0])[1]);
      res({
        rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]),
        p99: out.match(/\n\s+99%\s+(\S+)/)[1],
        ok: Number(out.match(/(\d+) requests in/)[1]) - non2xx,
        non2xx,
      });
    });
  });
}

// CPU seconds of a process's threads by thread name (utime + stime, 100 ticks a second).
function cpuByThread(pid) {
  const out = {};
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] || 0) + (Number(f[11]) + Number(f[12])) / 100;
    }
  } catch { /* gone */ }
  return out;
}
const cpuDiff = (a, b) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] || 0)]));
const cpuLine = (d, secs) => Object.entries(d).filter(([, v]) => v > 0.05).sort((x, y) => y[1] - x[1])
  .map(([k, v]) => `${k} ${(100 * v / secs).toFixed(0)}%`).join(', ');

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN);
const ms = (x) => (Number.isNaN(x) ? '     n/a' : `${x.toFixed(1).padStart(6)} ms`);

const threads = process.env.BENCH_THREADS || String(4 * Number(cores));
const args = ['--log-level', 'warn', '--threads', threads];
if (process.env.BENCH_LANES) args.push('--event-lanes', process.env.BENCH_LANES);
if (process.env.BENCH_NICE) args.push('--event-nice', process.env.BENCH_NICE);
// (c) and (d): writes paced at EVENTS_RATE with wrk, and at ADT's 1,000 patches/s.
async function pacedRuns(loaded, perReceiver, call) {
  // (c) Sustained: PATCH paced at EVENTS_RATE with both routes: is every event delivered as it
  // is written, and how fast?
  const e = await loaded(EVENTS_RATE, `${PACED_SECONDS}s`);
  console.log(`${`PATCH twin, paced at ${EVENTS_RATE}/s, 2 routes (wrk)`.padEnd(44)} ${e.w.rps.toFixed(0).padStart(7)} req/s   p99 ${e.w.p99.padStart(8)}   non-2xx ${e.w.non2xx}`);
  perReceiver(e);

  // (d) ADT's documented ceiling, paced: latency when delivery is not saturated.
  const t2 = nowMs();
  hook.rec.reset(t2);
  mq.rec.reset(t2);
  let sent = 0, failed = 0, inflight = 0;
  const total = PACED_RATE * PACED_SECONDS;
  await new Promise((done) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((nowMs() - t2) / 1000) * PACED_RATE));
      for (; sent < due; sent++) {
        inflight++;
        const id = Math.floor(Math.random() * TWINS);
        call('PATCH', `/digitaltwins/t${id}`, JSON.stringify([{ op: 'replace', path: '/temperature', value: sent }]), 'application/json-patch+json')
          .then((x) => { if (x.status >= 300) failed++; }, () => { failed++; })
          .finally(() => { if (--inflight === 0 && sent >= total) done(); });
      }
      if (sent >= total) clearInterval(tick);
    }, 5);
  });
  const paceSecs = (nowMs() - t2) / 1000;
  await until(() => hook.rec.lat.length >= total - failed && mq.rec.lat.length >= total - failed, 30000, 50);
  console.log(`PATCH twin, paced at ${PACED_RATE}/s for ${PACED_SECONDS} s (node client)   ${(total / paceSecs).toFixed(0)} req/s sent, ${failed} failed`);
  for (const [name, rx] of [['webhook', hook.rec], ['mqtt', mq.rec]]) {
    const s = Float64Array.from(rx.lat).sort();
    console.log(`  latency at ${name.padEnd(30)} p50 ${ms(pct(s, 0.5))}   p99 ${ms(pct(s, 0.99))}   ${s.length}/${total - failed} events`);
  }
  console.log("ADT: 1,000 patches/s per instance (adjustable); ADT documents no event throughput or delivery latency.");
}

const c = await startCastor({ args, env: { CASTOR_OUTBOX_RETENTION: '0s' } });
let hook, mq, agent;
try {
  let armTok, tok, inst, call, r;
  ({ armTok, tok, inst, call, agent } = await benchInstance(c));
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    for (let i; (i = next++) < TWINS;) {
      const x = await call('PUT', `/digitaltwins/t${i}`, sensorTwin(i));
      if (x.status !== 200) throw new Error(x.text);
    }
  }));
  hook = await startWebhook();
  mq = await startMqtt();
  const receiverNice = Number(process.env.BENCH_RECEIVER_NICE || 0);
  if (receiverNice) {
    const os = await import('node:os');
    for (const pid of [hook.pid, ...Object.values(mq.pids)]) os.setPriority(pid, receiverNice);
  }
  const lanes = process.env.BENCH_LANES || '4 (default)';
  const nice = process.env.BENCH_NICE ? `--event-nice ${process.env.BENCH_NICE}` : '--event-nice 10 (default)';
  console.log(`events: ${TWINS} twins, ${threads} castor threads, ${lanes} lanes per route, ${nice}; ${cores} cores shared by castor, wrk (2 threads, 64 connections), the webhook sink (C), mosquitto + mosquitto_sub${receiverNice ? ` (at nice ${receiverNice})` : ''} and node (the bench)`);

  // (a) PATCH with no route.
  const a0 = cpuByThread(c.child.pid), ta0 = nowMs();
  const a = await wrkPatch(c, tok);
  const aCpu = cpuDiff(a0, cpuByThread(c.child.pid)), aSecs = (nowMs() - ta0) / 1000;
  console.log(`${'PATCH twin, no route'.padEnd(44)} ${a.rps.toFixed(0).padStart(7)} req/s   p99 ${a.p99.padStart(8)}   ${(a.rps / 1000).toFixed(1)}x ADT's 1,000 patches/s   non-2xx ${a.non2xx}`);

  // Two routes, filter true: one to the webhook, one to the broker.
  const armPut = async (name, properties) => {
    const path = `${inst}/endpoints/${name}`;
    const x = await az.arm(c, armTok, 'PUT', path, { properties });
    if (x.status >= 300) throw new Error(`endpoint ${name}: ${x.status} ${x.text}`);
    if (!(await until(async () => (await az.arm(c, armTok, 'GET', path)).json?.properties?.provisioningState === 'Succeeded', 10000)))
      throw new Error(`endpoint ${name} never provisioned`);
  };
  await armPut('hook', { endpointType: 'webhook', endpointUri: hook.url, accessKey: 'bench-key-1', caCertificate: hook.tls.cert });
  await armPut('broker', { endpointType: 'mqtt', endpointUri: mq.uri, username: mq.user, password: mq.password });
  for (const [id, ep] of [['to-hook', 'hook'], ['to-broker', 'broker']]) {
    r = await call('PUT', `/eventroutes/${id}`, JSON.stringify({ endpointName: ep, filter: 'true' }));
    if (r.status >= 300) throw new Error(`route ${id}: ${r.status} ${r.text}`);
  }
  // Delivering once writes reach both; a burst first, so that the sinks' connections are open
  // (as they stay in a running castor) before anything is measured.
  const warm = nowMs() - 1;
  hook.rec.reset(warm);
  mq.rec.reset(warm);
  const WARM = 2000;
  next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    for (let i; (i = next++) < WARM;) {
      const x = await call('PATCH', `/digitaltwins/t${i % TWINS}`, JSON.stringify([{ op: 'replace', path: '/temperature', value: -i }]), 'application/json-patch+json');
      if (x.status >= 300) throw new Error(x.text);
    }
  }));
  if (!(await until(() => hook.rec.lat.length >= WARM && mq.rec.lat.length >= WARM, 120000)))
    throw new Error(`routes never delivered the warm-up (webhook ${hook.rec.lat.length}, mqtt ${mq.rec.lat.length} of ${WARM})`);

  // (b) PATCH with both routes at full load, then everything written delivered.
  const others = () => ({ ...Object.fromEntries(Object.entries({ ...mq.pids, webhook_sink: hook.pid })
    .map(([k, p]) => [k, Object.values(cpuByThread(p)).reduce((x, y) => x + y, 0)])),
  'node (bench)': Object.values(cpuByThread(process.pid)).reduce((x, y) => x + y, 0) });
  const receivers = [['webhook (HTTPS POST)', hook.rec], ['mqtt (QoS 1, mosquitto_sub)', mq.rec]];
  // A loaded run: wrk at `rate` (0: as fast as castor answers) for `secs`, then until both
  // receivers have every acknowledged write (or nothing came for 5 s).
  const loaded = async (rate, secs) => {
    const t0 = nowMs();
    hook.rec.reset(t0);
    mq.rec.reset(t0);
    const cpu0 = { castor: cpuByThread(c.child.pid), others: others() };
    let wrkCpu = 0, wrkPid = 0;
    const sampler = setInterval(() => { // wrk's own figure, read until it exits
      const v = wrkPid ? Object.values(cpuByThread(wrkPid)).reduce((x, y) => x + y, 0) : 0;
      if (v > wrkCpu) wrkCpu = v; /* an exiting wrk has fewer threads left to count */
    }, 250);
    const w = await wrkPatch(c, tok, (pid) => { wrkPid = pid; }, rate, secs);
    const t1 = nowMs();
    clearInterval(sampler);
    const cpu1 = { castor: cpuByThread(c.child.pid), others: others() };
    const atStop = [hook.rec.lat.length, mq.rec.lat.length];
    let seen = -1, stall = nowMs();
    await until(() => {
      const n = hook.rec.lat.length + mq.rec.lat.length;
      if (n !== seen) { seen = n; stall = nowMs(); }
      return (hook.rec.lat.length >= w.ok && mq.rec.lat.length >= w.ok) || nowMs() - stall > 5000;
    }, 600000, 100);
    return { w, t0, t1, atStop, cpu: cpuDiff(cpu0.castor, cpu1.castor), otherCpu: { ...cpuDiff(cpu0.others, cpu1.others), wrk: wrkCpu } };
  };
  const perReceiver = (run) => {
    const secs = (run.t1 - run.t0) / 1000;
    receivers.forEach(([name, rx], k) => {
      const s = Float64Array.from(rx.lat).sort();
      const rate = s.length / ((rx.last - run.t0) / 1000);
      console.log(`  events at ${name.padEnd(31)} ${rate.toFixed(0).padStart(7)} ev/s   p50 ${ms(pct(s, 0.5))}   p99 ${ms(pct(s, 0.99))}   ` +
        `${s.length}/${run.w.ok} writes (${(s.length / run.w.ok).toFixed(3)}), ${(run.atStop[k] / secs).toFixed(0)} ev/s while loaded, ` +
        `all in ${((rx.last - run.t0) / 1000).toFixed(1)} s`);
    });
  };
  const b = await loaded(0, duration);
  console.log(`${'PATCH twin, 2 routes (webhook + mqtt, true)'.padEnd(44)} ${b.w.rps.toFixed(0).padStart(7)} req/s   p99 ${b.w.p99.padStart(8)}   ${(b.w.rps / a.rps).toFixed(2)} of no route   non-2xx ${b.w.non2xx}`);
  perReceiver(b);
  const secs = (b.t1 - b.t0) / 1000;
  console.log(`  CPU while loaded (of one core): castor threads: ${cpuLine(b.cpu, secs)}; ${cpuLine(b.otherCpu, secs)}`);
  // Per unit of work, which depends less on what else the machine runs than rates do.
  const delivered = b.atStop[0] + b.atStop[1];
  const us = (cpu, n) => (n > 0 ? `${(1e6 * cpu / n).toFixed(0)} µs` : 'n/a');
  const perPatch = (cpu, n) => us((cpu['MHD-worker'] || 0) + (cpu['castor-sync'] || 0), n);
  console.log(`  castor CPU per delivered event (castor-lane + castor-events): ${us((b.cpu['castor-lane'] || 0) + (b.cpu['castor-events'] || 0), delivered)}; ` +
    `per PATCH (MHD-worker + castor-sync): ${perPatch(b.cpu, b.w.rps * secs)} (${perPatch(aCpu, a.rps * aSecs)} with no route)`);
  // The issue's goal, from this run's figures: every receiver's end-to-end rate, and (b)/(a).
  const slowest = Math.min(...receivers.map(([, rx]) => rx.lat.length / ((rx.last - b.t0) / 1000)));
  console.log(`  goal (>= 5,000 events/s at each receiver, PATCH >= 0.85 of no route): ${slowest.toFixed(0)} ev/s, ${(b.w.rps / a.rps).toFixed(2)}: ` +
    `${slowest >= 5000 && b.w.rps / a.rps >= 0.85 ? 'met' : 'not met'}`);
  if (process.env.EVENTS_PHASES !== 'ab') await pacedRuns(loaded, perReceiver, call);

} finally {
  agent?.destroy();
  await stopCastor(c);
  await hook?.close();
  await mq?.close();
}
