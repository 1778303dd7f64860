// identity-az.test.mjs — Debian's real Azure CLI 2.45 and Python azure.identity sign in to
// castor: cloud registration with the ADFS-style authority (real-clients-cli-python.md §1, §3),
// az login -u/-p, --use-device-code (completed through the verification page),
// --service-principal, get-access-token for ADT, az ad app/sp/user commands. The cloud is the
// one `castor cloud-config` prints, so az lists /subscriptions and /tenants on castor's own
// resource manager at login.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCastor, stopCastor, CASTOR_BINARY, tempDir } from './lib/castor.js';
import { ADT_APP, READ_WRITE, ADMIN, ADMIN_PW, claims, adminGraphToken, newApp, completeDeviceCode } from './lib/identity.js';

const here = dirname(fileURLToPath(import.meta.url));
const haveAz = existsSync('/usr/bin/az');
const havePy = existsSync('/usr/lib/python3/dist-packages/azure/identity');
let castor, work, env, tid, sub, admin;

before(async () => {
  if (!haveAz && !havePy) return;
  castor = await startCastor();
  tid = castor.connection.tenantId;
  admin = await adminGraphToken(castor);
  work = tempDir('castor-az-');
  const ca = readFileSync(castor.connection.caFile, 'utf8');
  writeFileSync(join(work, 'bundle.pem'), readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8') + ca);
  sub = castor.connection.subscriptionId;
  writeFileSync(join(work, 'cloud.json'), execFileSync(CASTOR_BINARY,
    ['cloud-config', '--server', castor.url, '--ca-file', castor.connection.caFile]));
  env = {
    ...process.env, AZURE_CONFIG_DIR: join(work, 'az'), AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_NO_COLOR: 'true', REQUESTS_CA_BUNDLE: join(work, 'bundle.pem'), AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
  };
});
after(async () => {
  if (castor) await stopCastor(castor);
});

function az(...args) {
  return new Promise((resolve) => {
    execFile('/usr/bin/az', [...args, '-o', 'json'], { env, timeout: 120000 }, (error, stdout, stderr) => {
      let json;
      try { json = stdout.trim() ? JSON.parse(stdout) : undefined; } catch { json = undefined; }
      resolve({ code: error ? error.code ?? 1 : 0, stdout, stderr, json });
    });
  });
}

async function azOk(...args) {
  const r = await az(...args);
  assert.equal(r.code, 0, `az ${args.join(' ')}\n${r.stderr}${r.stdout}`);
  return r;
}

test('python azure.identity ClientSecretCredential gets an ADT token', { skip: !havePy }, async () => {
  const { app, sp, secret } = await newApp(castor, admin);
  const out = await new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', [join(here, 'clients', 'python_secret.py'), castor.url, tid, app.appId, secret,
      'https://digitaltwins.azure.net/.default'], { env: { ...env, HOME: work }, timeout: 60000 },
    (e, stdout, stderr) => (e ? reject(new Error(stderr)) : resolve(stdout.trim())));
  });
  const c = claims(out);
  assert.equal(c.aud, 'https://digitaltwins.azure.net');
  assert.equal(c.oid, sp.id);
});

test('az: cloud register, login -u -p, get-access-token for ADT, ad app/sp/user', { skip: !haveAz }, async () => {
  await azOk('cloud', 'register', '--name', 'castor', '--cloud-config', `@${join(work, 'cloud.json')}`);
  await azOk('cloud', 'set', '--name', 'castor');
  const login = await azOk('login', '-u', ADMIN, '-p', ADMIN_PW, '--tenant', tid);
  assert.equal(login.json[0].user.name, ADMIN);
  // The subscription and tenant az lists come from castor's resource manager.
  assert.equal(login.json[0].id, sub);
  assert.equal(login.json[0].tenantId, tid);
  assert.equal(login.json[0].name, 'castor-default');
  const t = await azOk('account', 'get-access-token', '--resource', 'https://digitaltwins.azure.net');
  const c = claims(t.json.accessToken);
  assert.equal(c.aud, 'https://digitaltwins.azure.net');
  assert.equal(c.scp, 'Read.Write');
  assert.equal(c.appid, '04b07795-8ddb-461a-bbee-02f9e1bf7b46');

  const app = await azOk('ad', 'app', 'create', '--display-name', 'az-castor-app');
  assert.match(app.json.appId, /^[0-9a-f-]{36}$/);
  await azOk('ad', 'app', 'permission', 'add', '--id', app.json.appId, '--api', ADT_APP, '--api-permissions', `${READ_WRITE}=Scope`);
  const shown = await azOk('ad', 'app', 'show', '--id', app.json.appId);
  assert.equal(shown.json.requiredResourceAccess[0].resourceAppId, ADT_APP);
  const sp = await azOk('ad', 'sp', 'create', '--id', app.json.appId);
  assert.equal(sp.json.appId, app.json.appId);
  await azOk('ad', 'app', 'permission', 'grant', '--id', app.json.appId, '--api', ADT_APP, '--scope', 'Read.Write');
  const cred = await azOk('ad', 'app', 'credential', 'reset', '--id', app.json.appId);
  assert.ok(cred.json.password);
  const user = await azOk('ad', 'user', 'create', '--display-name', 'Bob', '--user-principal-name', 'bob@castor.local', '--password', 'Bob-Pw-12345');
  assert.equal(user.json.userPrincipalName, 'bob@castor.local');
  const shownUser = await azOk('ad', 'user', 'show', '--id', 'bob@castor.local');
  assert.equal(shownUser.json.id, user.json.id);

  // Service principal sign-in with the secret az just created. az login lists the subscriptions
  // the principal may read, as ARM does, so the admin first makes it a Reader of castor's.
  const reader = `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`;
  await azOk('rest', '--method', 'put', '--url',
    `/subscriptions/${sub}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
    '--body', JSON.stringify({ properties: { roleDefinitionId: reader, principalId: sp.json.id, principalType: 'ServicePrincipal' } }));
  await azOk('logout');
  // --password=VALUE: a generated secret may start with '-', which az would take for a flag.
  const spLogin = await azOk('login', '--service-principal', '-u', app.json.appId, `--password=${cred.json.password}`, '--tenant', tid);
  assert.equal(spLogin.json[0].user.type, 'servicePrincipal');
  assert.equal(spLogin.json[0].id, sub, 'the SP sees the subscription its role assignment grants');
  const st = await azOk('account', 'get-access-token', '--resource', 'https://digitaltwins.azure.net');
  const sc = claims(st.json.accessToken);
  assert.equal(sc.idtyp, 'app');
  assert.equal(sc.oid, sp.json.id);
  await azOk('logout');
});

test('az login --use-device-code completed through the verification page', { skip: !haveAz }, async () => {
  const child = spawn('/usr/bin/az', ['login', '--use-device-code', '--tenant', tid, '-o', 'json'], { env });
  let out = '', err = '', completed = null;
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => {
    err += d;
    const m = err.match(/enter the code (\S+) to authenticate/);
    if (m && !completed) completed = completeDeviceCode(castor, m[1]);
  });
  const code = await new Promise((r) => child.on('exit', r));
  assert.ok(completed, `az printed no device code: ${err}`);
  assert.equal((await completed).status, 200);
  assert.equal(code, 0, err + out);
  assert.equal(JSON.parse(out)[0].user.name, ADMIN);
  const t = await azOk('account', 'get-access-token', '--resource', 'https://digitaltwins.azure.net');
  assert.equal(claims(t.json.accessToken).upn, ADMIN);
});
