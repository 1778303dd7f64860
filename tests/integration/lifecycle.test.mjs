// lifecycle.test.mjs — what survives a restart, a kill -9, and what a bad start says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { startCastor, stopCastor, request, newDataDir, CASTOR_BINARY, tempDir } from './lib/castor.js';

const files = (dir) => ['ca.pem', 'server.pem'].map((f) => readFileSync(join(dir, f), 'utf8'));

test('SIGTERM stops castor with exit code 0 and a restart keeps tenant, subscription and certificates', async () => {
  const dataDir = newDataDir();
  const first = await startCastor({ dataDir });
  assert.match(first.stdout(), /admin@castor\.local/);
  const conn1 = first.connection;
  const pem1 = files(dataDir);
  const exit = await stopCastor(first, 'SIGTERM');
  assert.equal(exit.code, 0);
  assert.match(first.stderr(), /"msg":"stopped"/);

  const second = await startCastor({ dataDir });
  try {
    assert.equal(second.connection.tenantId, conn1.tenantId);
    assert.equal(second.connection.subscriptionId, conn1.subscriptionId);
    assert.deepEqual(files(dataDir), pem1, 'CA and server certificate are reused');
    assert.match(second.stdout(), /as set at first start/);
  } finally {
    assert.equal((await stopCastor(second, 'SIGINT')).code, 0);
  }
});

test('kill -9 then restart comes back with nothing lost', async () => {
  const dataDir = newDataDir();
  const first = await startCastor({ dataDir });
  const conn1 = first.connection;
  const pem1 = files(dataDir);
  await stopCastor(first, 'SIGKILL');
  const second = await startCastor({ dataDir });
  try {
    assert.equal(second.connection.tenantId, conn1.tenantId);
    assert.equal(second.connection.subscriptionId, conn1.subscriptionId);
    assert.deepEqual(files(dataDir), pem1);
    const r = await request(second, 'GET', '/readyz');
    assert.equal(r.status, 200);
  } finally {
    await stopCastor(second);
  }
});

test('a generated admin password is printed once, on the first start only', async () => {
  const dataDir = newDataDir();
  const first = await startCastor({ dataDir, env: { CASTOR_ADMIN_PASSWORD: '' } });
  const m = first.stdout().match(/password: (\S{20})\n/);
  assert.ok(m, `a 20-character password is printed:\n${first.stdout()}`);
  await stopCastor(first);
  const second = await startCastor({ dataDir, env: { CASTOR_ADMIN_PASSWORD: '' } });
  assert.ok(!second.stdout().includes(m[1]), 'the password is not printed again');
  await stopCastor(second);
});

test('a new public URL host gets a new server certificate naming it; the CA stays', async () => {
  const dataDir = newDataDir();
  const first = await startCastor({ dataDir });
  const [ca1, srv1] = files(dataDir);
  await stopCastor(first);
  const second = await startCastor({ dataDir, args: ['--public-url', 'https://twins.example.test:9443'] });
  try {
    const [ca2, srv2] = files(dataDir);
    assert.equal(ca2, ca1);
    assert.notEqual(srv2, srv1);
    const cert = new X509Certificate(srv2);
    assert.match(cert.subjectAltName, /DNS:twins\.example\.test/);
    assert.match(cert.subjectAltName, /DNS:localhost/);
    assert.match(cert.subjectAltName, /IP Address:127\.0\.0\.1/);
    assert.ok(cert.checkIssued(new X509Certificate(ca2)));
    assert.equal(second.connection.authority, 'https://twins.example.test:9443');
  } finally {
    await stopCastor(second);
  }
});

test('a port in use, a bad flag, a data folder that is a file: clear messages, no crash', async () => {
  const a = await startCastor();
  try {
    const r = spawnSync(CASTOR_BINARY, ['serve', '--data', newDataDir(), '--listen', `127.0.0.1:${a.port}`], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /port is in use by another process/);
    const same = spawnSync(CASTOR_BINARY, ['serve', '--data', a.dataDir, '--listen', '127.0.0.1:0'], { encoding: 'utf8' });
    assert.equal(same.status, 1);
    assert.match(same.stderr, /another castor \(pid \d+\) is serving the data folder/);
  } finally {
    await stopCastor(a);
  }
  const bad = spawnSync(CASTOR_BINARY, ['serve', '--listen', 'nowhere'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /expected ADDR:PORT/);
  const unknown = spawnSync(CASTOR_BINARY, ['serve', '--frobnicate'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown option '--frobnicate'/);
  const f = join(tempDir('castor-it-'), 'afile');
  writeFileSync(f, 'x');
  const file = spawnSync(CASTOR_BINARY, ['serve', '--data', f, '--listen', '127.0.0.1:0'], { encoding: 'utf8' });
  assert.notEqual(file.status, 0);
  assert.match(file.stderr, /is not a folder/);
  const http = spawnSync(CASTOR_BINARY, ['serve', '--public-url', 'http://x'], { encoding: 'utf8' });
  assert.equal(http.status, 2);
  assert.match(http.stderr, /must be an https:\/\/ URL/);
});

test('a client that stalls mid-request (slowloris) is disconnected; others are served', async () => {
  const tls = await import('node:tls');
  const c = await startCastor({ args: ['--idle-timeout', '2'] });
  try {
    // castor's own timeout: to a node itself, not through nginx (make integration-scale), which
    // keeps a stalled client for its client_header_timeout.
    const node = c.cluster?.nodes[0] ?? c;
    const sock = tls.connect({ host: 'localhost', port: node.port, ca: node.ca, servername: 'localhost' });
    await new Promise((res, rej) => { sock.once('secureConnect', res); sock.once('error', rej); });
    sock.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    const closedAfter = await new Promise((res) => {
      const t0 = Date.now();
      sock.on('error', () => {});
      sock.once('close', () => res(Date.now() - t0));
      setTimeout(() => res(-1), 10000);
    });
    assert.ok(closedAfter > 0, 'the stalled connection is closed by the server');
    const r = await request(c, 'GET', '/healthz');
    assert.equal(r.status, 200);
  } finally {
    await stopCastor(c);
  }
});
