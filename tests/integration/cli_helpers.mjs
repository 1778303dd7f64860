// cli_helpers.mjs — runs the real `castor` client binary against a castor started by the
// harness, each caller with its own ~/.castor (CASTOR_CONFIG_DIR) and working folder.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CASTOR_BINARY, request, tempDir } from './lib/castor.js';

export const ADT = 'https://digitaltwins.azure.net';
export const ADT_APP = '0b07f429-9f4b-4714-9392-cc5e8e80c8b0';
export const READ_WRITE_ID = '4589bd03-58cb-4e6c-b17f-b580e39652f8';
export const ADMIN = 'admin@castor.local';
export const ADMIN_PW = 'Castor-Test-Pw-1';

// A fresh client home: config dir and working folder (no castor-data/ in it).
export function clientHome() {
  const dir = tempDir('castor-cli-');
  return { dir, config: join(dir, '.castor') };
}

// Runs `castor args...`; resolves to {code, stdout, stderr, json}. `onStderr` sees stderr as
// it arrives (device code login reads the code from it).
export function cli(home, args, { env = {}, onStderr, timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(CASTOR_BINARY, args, {
      cwd: home.dir,
      env: { ...process.env, HOME: home.dir, CASTOR_CONFIG_DIR: home.config, CASTOR_URL: '', CASTOR_CA_FILE: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = [];
    const err = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => {
      err.push(d);
      if (onStderr) onStderr(Buffer.concat(err).toString());
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      let json;
      try { json = stdout ? JSON.parse(stdout) : undefined; } catch { json = undefined; }
      resolve({ code, stdout, stderr: Buffer.concat(err).toString(), json });
    });
  });
}

// --server and --ca-file for a harness castor.
export const serverArgs = (castor) => ['--server', castor.url, '--ca-file', castor.connection.caFile];

// The claims of a JWT (not verified).
export function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

// Whether this castor serves the token endpoint yet (the identity plane is merged).
export async function identityReady(castor) {
  const r = await request(castor, 'POST', `/${castor.connection.tenantId}/oauth2/v2.0/token`, {
    body: 'grant_type=password',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  }).catch(() => null);
  return !!r && !(r.status === 404 && /No operation is served/.test(r.text));
}

// Whether the Graph subset answers /v1.0/users (with some token, or 401 without one).
export async function graphReady(castor) {
  const r = await request(castor, 'GET', '/v1.0/users').catch(() => null);
  return !!r && r.status !== 404;
}

// Whether the resource manager lists subscriptions yet (the ARM plane is merged).
export async function armReady(castor) {
  const r = await request(castor, 'GET', '/subscriptions?api-version=2022-12-01').catch(() => null);
  return !!r && !(r.status === 404 && /No operation is served/.test(r.text));
}
