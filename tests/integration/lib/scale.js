// scale.js — several castor nodes over one PostgreSQL database with nginx in front, the
// topology of scripts/scale-out (docs/scale-out.md), as test handles: every node gets the same
// --store, the same --public-url (nginx's address) and node 1's TLS certificate, so tokens any
// node signs are valid on every node and one ca.pem is trusted whichever node answers.
// Needs CASTOR_TEST_STORE=postgres (the database comes from lib/castor.js's cluster) and nginx.
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { startNode, request, newDataDir, tempDir, pgStoreFor } from './castor.js';
import { freePort } from './events.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function haveNginx() {
  try {
    execFileSync('sh', ['-c', 'command -v nginx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// nginx on 127.0.0.1:port proxying to the given node ports, as scripts/scale-out configures it
// (a node that fails a connection is left alone for 2 s; idempotent requests go to the next
// node, a non-idempotent one in flight at a node's death comes back as 502 for the client to
// retry). Runs in the foreground as our child; resolves to {child, exited}.
async function startNginx(port, nodePorts, certDir) {
  const dir = tempDir('castor-nginx-');
  chmodSync(dir, 0o711); // as root nginx's workers run as nobody
  const upstream = nodePorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n');
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  upstream castor {
${upstream}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${certDir}/server.pem;
    ssl_certificate_key ${certDir}/server-key.pem;
    client_max_body_size 64m;
    location / {
      proxy_pass https://castor;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_ssl_session_reuse on;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 1s;
    }
  }
}
`);
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  const err = [];
  child.stderr.on('data', (d) => err.push(d));
  const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
  process.on('exit', () => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
  return { child, exited, dir, stderr: () => Buffer.concat(err).toString() };
}

// Starts `count` nodes and nginx in front. Resolves to a cluster:
//   nodes[i]     lib/castor.js handles, one per node (request() talks to that node directly)
//   front        a handle for nginx (same connection, ca and url; port is nginx's)
//   store        the PostgreSQL URL every node uses
//   kill(i)      kill -9 of node i, resolves once it is gone
//   restart(i)   starts node i again on its data folder and port (it rejoins nginx's upstream)
//   stop()       stops nginx and every node
// dataDir is node 1's data folder (default a new one), frontPort nginx's (default a free one);
// the store is args' --store or dataDir's database.
export async function startNodes({ count = 2, args = [], env = {}, dataDir, frontPort } = {}) {
  frontPort = frontPort || await freePort();
  const publicUrl = `https://localhost:${frontPort}`;
  const dirs = Array.from({ length: count }, (_, i) => (i === 0 && dataDir) || newDataDir());
  const si = args.indexOf('--store');
  const store = si >= 0 ? args[si + 1] : pgStoreFor(dirs[0]);
  const argsOf = (i) => [
    '--store', store, '--public-url', publicUrl,
    ...(i > 0 ? ['--tls-cert', join(dirs[0], 'server.pem'), '--tls-key', join(dirs[0], 'server-key.pem')] : []),
    ...args,
  ];
  const nodes = [];
  let nginx = null;
  let ca;
  // Every handle's url is its own node's address (connection.authority is nginx's), and all
  // trust node 1's CA (the others' connection.json names the leaf certificate they were given).
  const own = (n) => Object.assign(n, { url: `https://localhost:${n.port}` });
  let front;
  try {
    // Node 1 first: it creates the schema, the directory and the certificate the others present.
    for (let i = 0; i < count; i++) {
      nodes.push(own(await startNode({ dataDir: dirs[i], args: argsOf(i), env, ca })));
      ca = nodes[0].ca;
    }
    nginx = await startNginx(frontPort, nodes.map((n) => n.port), dirs[0]);
    front = { ...nodes[0], port: frontPort, url: publicUrl, nginx };
    for (let i = 0; ; i++) {
      const r = await request(front, 'GET', '/readyz').catch(() => null);
      if (r && r.status === 200) break;
      if (i > 200) throw new Error(`nginx does not answer on ${frontPort}: ${nginx.stderr()}`);
      await sleep(50);
    }
  } catch (e) {
    // Nothing left running to keep the test process alive.
    if (nginx) nginx.child.kill('SIGKILL');
    await Promise.all(nodes.map((n) => stopNode(n, 'SIGKILL')));
    throw e;
  }
  const cluster = {
    nodes, front, store, publicUrl,
    async kill(i) {
      const exit = await stopNode(nodes[i], 'SIGKILL');
      if (exit.signal !== 'SIGKILL') throw new Error(`node ${i + 1} exited by itself: ${JSON.stringify(exit)}`);
    },
    async restart(i) {
      nodes[i] = own(await startNode({ dataDir: dirs[i], args: argsOf(i), env, port: nodes[i].port, ca }));
      return nodes[i];
    },
    async stop(signal = 'SIGTERM') {
      nginx.child.kill('SIGTERM');
      await nginx.exited;
      const exits = await Promise.all(nodes.map((n) => stopNode(n, signal)));
      return exits[0];
    },
  };
  return cluster;
}

function stopNode(n, signal) {
  if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill(signal);
  return n.exited;
}

// startCastor under CASTOR_TEST_NODES=count: a deployment of `count` nodes as one handle. Node
// 1's process is the handle's child; when it exits (however a test stopped it) the other nodes
// and nginx are stopped too. Logs are every node's, node 1's first.
export async function startScaled({ dataDir, args = [], env = {}, port = 0 } = {}, count) {
  const cluster = await startNodes({ count, args, env, dataDir, frontPort: port });
  const [first, ...others] = cluster.nodes;
  first.exited.then(() => {
    cluster.front.nginx.child.kill('SIGTERM');
    for (const n of others) stopNode(n, 'SIGTERM');
  });
  return {
    ...cluster.front,
    cluster,
    stdout: () => cluster.nodes.map((n) => n.stdout()).join(''),
    stderr: () => cluster.nodes.map((n) => n.stderr()).join(''),
    stopAll: (signal) => cluster.stop(signal),
  };
}
