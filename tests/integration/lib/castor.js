// castor.js — starts and stops a real `castor serve` for a test: its own free port, its own
// temporary data folder, waiting until /readyz answers over TLS trusted through its ca.pem.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import https from 'node:https';

const here = dirname(fileURLToPath(import.meta.url));
export const CASTOR_BINARY =
  process.env.CASTOR_BINARY || resolve(here, '..', '..', '..', 'build', 'castor');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Temporary folders made by this test process, removed when it exits (CASTOR_KEEP_TMP=1 keeps
// them for a look after a failure): a full run makes hundreds, some of them hundreds of MB.
const tempDirs = [];
process.on('exit', () => {
  if (process.env.CASTOR_KEEP_TMP === '1') return;
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'castor-it-') {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

export function newDataDir() {
  return tempDir('castor-it-');
}

// CASTOR_TEST_STORE=postgres runs every server of this test process on PostgreSQL: one
// throwaway cluster per process (scripts/pg-tmp, stopped at exit) and one database per data
// folder, so a server restarted on the same folder finds its data again.
// CASTOR_TEST_PG_CLUSTER=DIR uses a cluster already started with `scripts/pg-tmp start DIR`.
export const TEST_STORE = process.env.CASTOR_TEST_STORE || 'sqlite';
const pgTmp = resolve(here, '..', '..', '..', 'scripts', 'pg-tmp');
let pgCluster = null;
const pgDatabases = new Map();

function pgClusterDir() {
  if (pgCluster) return pgCluster;
  if (process.env.CASTOR_TEST_PG_CLUSTER) {
    pgCluster = process.env.CASTOR_TEST_PG_CLUSTER;
    return pgCluster;
  }
  const parent = mkdtempSync(join(tmpdir(), 'castor-pg-'));
  chmodSync(parent, 0o711); // as root the cluster runs as castor-test, which must reach it
  const dir = join(parent, 'cluster');
  execFileSync(pgTmp, ['start', dir, '--fast'], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.on('exit', () => {
    try {
      execFileSync(pgTmp, ['stop', dir], { stdio: 'ignore' });
      rmSync(dirname(dir), { recursive: true, force: true });
    } catch {
      // already gone
    }
  });
  pgCluster = dir;
  return dir;
}

// The PostgreSQL URL of dataDir's database, created on first use.
export function pgStoreFor(dataDir) {
  let url = pgDatabases.get(dataDir);
  if (url) return url;
  const name = `castor_${dataDir.replace(/[^A-Za-z0-9]/g, '_').slice(-40)}`.toLowerCase();
  url = execFileSync(pgTmp, ['createdb', pgClusterDir(), name], { encoding: 'utf8' }).trim();
  pgDatabases.set(dataDir, url);
  return url;
}

// What the store of dataDir answers to a read-only SQL query, as sqlite3 or psql print it
// (columns joined by '|', rows by newlines, trimmed). Write q in SQL both engines accept.
export function storeSql(dataDir, q) {
  if (TEST_STORE === 'postgres')
    return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', q, pgStoreFor(dataDir)],
      { encoding: 'utf8', maxBuffer: 1 << 28 }).trim();
  return execFileSync('sqlite3', ['-readonly', join(dataDir, 'castor.db'), q], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim();
}

// Rows of a read-only SQL query on dataDir's store, as objects.
export function storeRows(dataDir, q) {
  if (TEST_STORE === 'postgres') {
    const out = storeSql(dataDir, `SELECT coalesce(json_agg(r), '[]') FROM (${q}) r`);
    return JSON.parse(out);
  }
  const out = execFileSync('sqlite3', ['-readonly', '-json', join(dataDir, 'castor.db'), q], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim();
  return out ? JSON.parse(out) : [];
}

// CASTOR_TEST_NODES=N (N > 1, with CASTOR_TEST_STORE=postgres; make integration-scale) makes
// every server a deployment of its own: N nodes over its database with nginx in front
// (lib/scale.js). The handle is node 1's (child, dataDir, exited) but its port and url are
// nginx's, so every request may land on any node; stopCastor stops them all. A server started
// with its own --public-url, --tls-cert or a non-PostgreSQL store stays one node.
export const TEST_NODES = Number(process.env.CASTOR_TEST_NODES || 1);

function scalable(args, env) {
  if (TEST_NODES < 2 || TEST_STORE !== 'postgres' || env.CASTOR_STORE) return false;
  if (args.includes('--public-url') || args.includes('--tls-cert')) return false;
  const i = args.indexOf('--store');
  return i < 0 || /^postgres/.test(args[i + 1] ?? '');
}

// Starts castor; resolves to a handle once /readyz answers 200.
export async function startCastor(opts = {}) {
  if (scalable(opts.args ?? [], opts.env ?? {})) {
    const { startScaled } = await import('./scale.js');
    return startScaled(opts, TEST_NODES);
  }
  return startNode(opts);
}

// One castor process (what startCastor starts unless CASTOR_TEST_NODES says otherwise). ca (PEM)
// is what to trust instead of connection.json's caFile (a node given another's certificate).
export async function startNode({ dataDir = newDataDir(), args = [], env = {}, port = 0, ca } = {}) {
  const connPath = join(dataDir, 'connection.json');
  rmSync(connPath, { force: true });
  const stdout = [];
  const stderr = [];
  const storeArgs =
    TEST_STORE === 'postgres' && !args.includes('--store') && !env.CASTOR_STORE
      ? ['--store', pgStoreFor(dataDir)]
      : [];
  const child = spawn(
    CASTOR_BINARY,
    ['serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`, '--threads', '2', ...storeArgs, ...args],
    { env: { ...process.env, CASTOR_ADMIN_PASSWORD: 'Castor-Test-Pw-1', CASTOR_OUTBOX_RETENTION: '1h', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (d) => stdout.push(d));
  child.stderr.on('data', (d) => stderr.push(d));
  const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
  const handle = {
    child,
    dataDir,
    exited,
    stdout: () => Buffer.concat(stdout).toString(),
    stderr: () => Buffer.concat(stderr).toString(),
  };
  const deadline = Date.now() + 30000;
  let early = null;
  exited.then((r) => { early = r; });
  while (Date.now() < deadline) {
    if (early) throw new Error(`castor exited early (${JSON.stringify(early)}):\n${handle.stderr()}${handle.stdout()}`);
    // The banner is printed after connection.json is written; it names the bound port,
    // which differs from the public URL's when --public-url is given.
    const banner = handle.stdout().match(/listening on \S+, port (\d+)\)/);
    if (banner && existsSync(connPath)) {
      handle.connection = JSON.parse(readFileSync(connPath, 'utf8'));
      handle.port = Number(banner[1]);
      break;
    }
    await sleep(50);
  }
  if (!handle.connection) {
    child.kill('SIGKILL');
    throw new Error(`castor did not write connection.json:\n${handle.stderr()}`);
  }
  handle.url = handle.connection.authority;
  handle.ca = ca ?? readFileSync(handle.connection.caFile);
  for (;;) {
    const r = await request(handle, 'GET', '/readyz').catch(() => null);
    if (r && r.status === 200) break;
    if (Date.now() > deadline) throw new Error('castor never became ready');
    await sleep(50);
  }
  return handle;
}

// Stops castor with a signal and resolves to its exit {code, signal}.
export async function stopCastor(handle, signal = 'SIGTERM') {
  if (handle.stopAll) return handle.stopAll(signal);
  if (handle.child.exitCode === null && handle.child.signalCode === null) handle.child.kill(signal);
  return handle.exited;
}

// One HTTPS request trusting only the server's ca.pem. Resolves to
// {status, headers, text, json, reusedSocket}.
export function request(handle, method, path, { body, headers = {}, agent } = {}) {
  return new Promise((resolveReq, reject) => {
    const req = https.request(
      {
        host: 'localhost',
        port: handle.port,
        method,
        path,
        ca: handle.ca,
        agent: agent ?? false,
        headers: body !== undefined
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers }
          : headers,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json;
          try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
          resolveReq({ status: res.statusCode, headers: res.headers, text, json, reusedSocket: req.reusedSocket });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
