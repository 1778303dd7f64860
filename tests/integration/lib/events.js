// events.js — real receivers for event delivery tests: an HTTPS webhook (node's https server
// with a certificate made by openssl for 127.0.0.1), and a real mosquitto broker on a free
// loopback port with a password, read by a real mosquitto_sub. Each records what arrives.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import https from 'node:https';
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './castor.js';
import { arm, scopes } from './azure.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// Waits until cond() is true (polling), up to ms; returns whether it became true.
export async function until(cond, ms = 20000, step = 50) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(step);
  }
  return !!(await cond());
}

// A self-signed certificate for 127.0.0.1 and localhost: {key, cert} as PEM text.
export function selfSigned() {
  const dir = tempDir('castor-rx-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=castor-test-receiver',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
}

// An HTTPS webhook receiver. Every POST is recorded under its path as
// {path, headers, body (parsed JSON), at (ms)}; status(code) sets what it answers (200).
// down()/up() close and reopen the listener on the same port (a receiver that is away).
export async function startWebhook() {
  const tls = selfSigned();
  const rx = { events: [], byPath: new Map(), tls, statusCode: 200, requests: 0 };
  const sockets = new Set();
  const handler = (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      rx.requests++;
      if (rx.statusCode >= 200 && rx.statusCode < 300) {
        let json;
        try { json = JSON.parse(body); } catch { json = undefined; }
        const e = { path: req.url, headers: req.headers, body: json, raw: body, at: Date.now() };
        rx.events.push(e);
        if (!rx.byPath.has(req.url)) rx.byPath.set(req.url, []);
        rx.byPath.get(req.url).push(e);
        if (rx.onEvent) rx.onEvent(e);
      }
      res.writeHead(rx.statusCode, { 'content-length': 0 });
      res.end();
    });
  };
  const listen = (port) => new Promise((res) => {
    rx.server = https.createServer({ key: tls.key, cert: tls.cert, keepAliveTimeout: 60000 }, handler);
    rx.server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    rx.server.listen(port, '127.0.0.1', () => res(rx.server.address().port));
  });
  rx.port = await listen(0);
  rx.url = (path = '/events') => `https://127.0.0.1:${rx.port}${path}`;
  rx.at = (path) => rx.byPath.get(path) ?? [];
  rx.clear = (path) => { if (path) rx.byPath.set(path, []); else { rx.events = []; rx.byPath.clear(); } };
  rx.status = (code) => { rx.statusCode = code; };
  rx.down = () => new Promise((res) => {
    rx.server.close(() => res());
    for (const s of sockets) s.destroy();
  });
  rx.up = async () => { await listen(rx.port); };
  rx.close = () => rx.down();
  return rx;
}

// A mosquitto broker on a free loopback port, with user `castor` / password `mqtt-pw-1`, and a
// mosquitto_sub reading `castor/#` at QoS 1: rx.messages holds {topic, body, at}.
// restartable: the broker keeps its sessions on disk and the subscriber's session is persistent
// (clean session off), so rx.stop()/rx.start() (a broker that goes away and comes back) lose
// nothing the broker acknowledged, whichever of castor and mosquitto_sub reconnects first.
// tls: a second listener on rx.tlsPort speaks MQTT over TLS with rx.tls.cert (self-signed).
export async function startMosquitto({ user = 'castor', password = 'mqtt-pw-1', topic = 'castor/#', restartable = false, tls = false } = {}) {
  const dir = tempDir('castor-mqtt-');
  const port = await freePort();
  const tlsPort = tls ? await freePort() : 0;
  const cert = tls ? selfSigned() : null;
  if (cert) {
    writeFileSync(join(dir, 'cert.pem'), cert.cert);
    writeFileSync(join(dir, 'key.pem'), cert.key);
  }
  execFileSync('mosquitto_passwd', ['-c', '-b', join(dir, 'passwd'), user, password], { stdio: 'ignore' });
  writeFileSync(join(dir, 'mosquitto.conf'), [
    `listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${join(dir, 'passwd')}`,
    ...(restartable ? ['persistence true', `persistence_location ${dir}/`] : ['persistence false']),
    'log_dest stderr', 'log_type error', 'log_type warning', 'user root',
    'max_queued_messages 100000', 'max_inflight_messages 0',
    ...(tls ? [`listener ${tlsPort} 127.0.0.1`, `certfile ${join(dir, 'cert.pem')}`, `keyfile ${join(dir, 'key.pem')}`] : []),
    '',
  ].join('\n'));
  let brokerErr = '';
  const rx = { port, user, password, messages: [], uri: `mqtt://127.0.0.1:${port}`, tlsPort, tls: cert, tlsUri: `mqtts://127.0.0.1:${tlsPort}` };
  const launch = async () => {
    const broker = spawn('/usr/sbin/mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    broker.stderr.on('data', (d) => { brokerErr += d; });
    rx.broker = broker;
    rx.brokerExited = new Promise((r) => broker.on('exit', r));
    const ok = await until(async () => {
      try {
        execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', user, '-P', password, '-t', 'probe/x', '-m', 'x'], { stdio: 'ignore', timeout: 2000 });
        return true;
      } catch { return false; }
    }, 10000, 100);
    if (!ok) throw new Error(`mosquitto did not start: ${brokerErr}`);
  };
  await launch();
  rx.sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-u', user, '-P', password, '-q', '1',
    ...(restartable ? ['-c'] : []), '-t', topic, '-t', 'probe/#', '-v', '-i', `castor-test-sub-${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  rx.sub.stdout.setEncoding('utf8');
  rx.sub.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const sp = line.indexOf(' ');
      const t = line.slice(0, sp);
      if (t.startsWith('probe/')) { rx.probed = true; continue; }
      let body;
      try { body = JSON.parse(line.slice(sp + 1)); } catch { body = undefined; }
      rx.messages.push({ topic: t, body, at: Date.now() });
    }
  });
  // Subscribed once a probe published now comes back.
  const subscribed = await until(async () => {
    execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', user, '-P', password, '-t', 'probe/y', '-m', 'y', '-q', '1'], { stdio: 'ignore' });
    await sleep(100);
    return rx.probed;
  }, 10000, 50);
  if (!subscribed) throw new Error('mosquitto_sub did not subscribe');
  // The broker goes away (SIGTERM: it saves its sessions when restartable) and comes back on
  // the same port.
  rx.stop = async () => {
    if (rx.broker.exitCode === null && rx.broker.signalCode === null) rx.broker.kill('SIGTERM');
    await rx.brokerExited;
  };
  rx.start = launch;
  rx.close = async () => {
    rx.sub.kill('SIGTERM');
    await rx.stop();
  };
  return rx;
}

// Every dead letter castor wrote to the folder of an endpoint: the parsed JSON records
// ({deadLetterReason, deliveryAttempts, lastDeliveryOutcome, route, endpoint, sequence, event}),
// each with its file name as .file. Half-written files (*.tmp) are not dead letters yet.
export function deadLetters(dataDir, instance, endpoint) {
  const dir = join(dataDir, 'deadletter', instance, endpoint);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json'))
    .map((f) => ({ ...JSON.parse(readFileSync(join(dir, f), 'utf8')), file: f }));
}

// Creates or replaces an endpoint through the resource manager and waits until it is
// provisioned; throws with the answer when it is refused.
export async function putEndpoint(castor, armToken, instance, name, properties) {
  const path = `${scopes(castor).instance(instance)}/endpoints/${name}`;
  const r = await arm(castor, armToken, 'PUT', path, { properties });
  if (r.status !== 200 && r.status !== 201) throw new Error(`endpoint ${name}: ${r.status} ${r.text}`);
  const ok = await until(async () => {
    const g = await arm(castor, armToken, 'GET', path);
    return g.status === 200 && g.json.properties.provisioningState === 'Succeeded';
  }, 10000);
  if (!ok) throw new Error(`endpoint ${name} was not provisioned in 10 s`);
}
