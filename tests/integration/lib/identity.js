// identity.js — helpers for the identity tests: form posts to the token service, Graph calls
// with an admin token, JWT claim decoding, and running the SDK client scripts as children.
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from './castor.js';

const here = dirname(fileURLToPath(import.meta.url));
export const AZURE_CLI = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
export const ADT_APP = '0b07f429-9f4b-4714-9392-cc5e8e80c8b0';
export const READ_WRITE = '4589bd03-58cb-4e6c-b17f-b580e39652f8';
export const ADT_SCOPE = 'https://digitaltwins.azure.net/.default';
export const ADMIN = 'admin@castor.local';
export const ADMIN_PW = 'Castor-Test-Pw-1';

export function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

export function form(castor, path, fields, headers = {}) {
  const body = new URLSearchParams(fields).toString();
  return request(castor, 'POST', path, {
    body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
}

export async function token(castor, fields, v = 'v2.0') {
  const path = v ? `/${castor.connection.tenantId}/oauth2/${v}/token` : `/${castor.connection.tenantId}/oauth2/token`;
  return form(castor, path, fields);
}

export async function adminGraphToken(castor) {
  const r = await token(castor, {
    grant_type: 'password', client_id: AZURE_CLI, username: ADMIN, password: ADMIN_PW,
    scope: 'https://graph.microsoft.com/.default',
  });
  if (r.status !== 200) throw new Error(`admin sign-in failed: ${r.text}`);
  return r.json.access_token;
}

export async function graph(castor, tok, method, path, body) {
  const r = await request(castor, method, `/v1.0${path}`, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${tok}` },
  });
  return r;
}

// Creates an app registration + service principal + secret; returns {app, sp, secret}.
export async function newApp(castor, tok, extra = {}) {
  const app = await graph(castor, tok, 'POST', '/applications', { displayName: `app-${Date.now()}`, ...extra });
  if (app.status !== 201) throw new Error(`create app: ${app.text}`);
  const sp = await graph(castor, tok, 'POST', '/servicePrincipals', { appId: app.json.appId });
  if (sp.status !== 201) throw new Error(`create sp: ${sp.text}`);
  const pw = await graph(castor, tok, 'POST', `/applications/${app.json.id}/addPassword`, { passwordCredential: {} });
  return { app: app.json, sp: sp.json, secret: pw.json.secretText };
}

// Runs clients/identity-client.mjs; onLine gets each parsed stdout line; resolves to all lines.
export function runClient(castor, cfg, onLine = () => {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, '..', 'clients', 'identity-client.mjs'), JSON.stringify({
      authorityHost: castor.url, tenantId: castor.connection.tenantId, ...cfg,
    })], { env: { ...process.env, NODE_EXTRA_CA_CERTS: castor.connection.caFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [];
    let buf = '';
    let err = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        lines.push(line);
        Promise.resolve(onLine(line)).catch(reject);
      }
    });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`client timed out: ${err}`)); }, 60000);
    child.on('exit', () => { clearTimeout(timer); resolve({ lines, stderr: err }); });
  });
}

// Completes a device code through the HTML verification page, as a person would.
export async function completeDeviceCode(castor, userCode, username = ADMIN, password = ADMIN_PW, action = 'signin') {
  const page1 = await form(castor, '/devicelogin', { code: userCode });
  if (page1.status !== 200 || !/Sign in/.test(page1.text)) throw new Error(`code page: ${page1.status} ${page1.text}`);
  return form(castor, '/devicelogin', { code: userCode, username, password, action });
}
