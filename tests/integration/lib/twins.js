// twins.js — what the twin-graph tests share: an instance the admin may write to, child
// processes for the SDK clients, a keep-alive HTTPS data-plane caller, and a read-only SQL view of
// a server's store (SQLite or PostgreSQL) for checking what was written.
import { execFile } from 'node:child_process';
import https from 'node:https';
import { storeRows } from './castor.js';
import { userToken, ADT_SCOPE, ARM_SCOPE, ROLE, createInstance, assignRole, claims, dp } from './azure.js';

// Runs a client program; resolves to {code, stdout, stderr}.
export function runClient(cmd, args, env) {
  return new Promise((res) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 300000, maxBuffer: 1 << 26 }, (err, stdout, stderr) =>
      res({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

// Creates instance `name`, makes the admin its Data Owner and waits until the data plane
// answers; resolves to {token, endpoint}.
export async function readyInstance(castor, name) {
  const armTok = await userToken(castor, ARM_SCOPE);
  const tok = await userToken(castor, ADT_SCOPE);
  const id = await createInstance(castor, armTok, name);
  await assignRole(castor, armTok, id, ROLE.dataOwner, claims(tok).oid);
  for (let i = 0; i < 100; i++) {
    const r = await dp(castor, tok, 'GET', `/dt/${name}/models`);
    if (r.status === 200) break;
    await new Promise((r2) => setTimeout(r2, 100));
  }
  return { token: tok, endpoint: `${castor.url}/dt/${name}` };
}

// A data-plane caller over one keep-alive agent: call(method, path, body, headers) resolves to
// {status, headers, text, json}; rejects on a transport error (a killed server).
export function dtCaller(castor, instance, token, { maxSockets = 64 } = {}) {
  const agent = new https.Agent({ keepAlive: true, maxSockets, ca: castor.ca });
  const call = (method, path, body, headers = {}) => new Promise((res, rej) => {
    const u = new URL(`${castor.url}/dt/${instance}${path}${path.includes('?') ? '&' : '?'}api-version=2022-05-31`);
    const req = https.request(u, {
      method, agent,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    }, (r) => {
      let t = '';
      r.on('data', (d) => { t += d; });
      r.on('end', () => {
        let json;
        try { json = t ? JSON.parse(t) : undefined; } catch { json = undefined; }
        res({ status: r.statusCode, headers: r.headers, text: t, json });
      });
      r.on('error', rej);
    });
    req.on('error', rej);
    if (body !== undefined) req.write(typeof body === 'string' ? body : JSON.stringify(body));
    req.end();
  });
  call.close = () => agent.destroy();
  return call;
}

// Rows of a read-only SQL query on a data folder's store (SQLite or PostgreSQL), as objects.
export function sqlRows(dataDir, q) {
  return storeRows(dataDir, q);
}
