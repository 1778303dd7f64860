// seed.test.mjs — the problem castor starts from (../shared/reference/seed-troubleshoot-403.md),
// end to end with the unmodified JavaScript SDK and the castor CLI:
//   cause #1: the bootstrap admin (a subscription Owner) creates an instance, and the SDK's
//   listModels fails with 403 whose message names cause #1 and the fix; the fix (with the
//   current role name, and once with the legacy preview name) makes the very next call work.
//   cause #2: a user signing in through an app registration that lacks the Azure Digital Twins
//   API permission; castor names it and the fix works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCastor, stopCastor } from './lib/castor.js';
import { cli, clientHome, serverArgs, ADMIN, ADMIN_PW, ADT_APP, READ_WRITE_ID } from './cli_helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const AZURE_CLI = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
let castor; let home;

before(async () => {
  castor = await startCastor();
  home = clientHome();
  for (const args of [
    ['login', '-u', ADMIN, '-p', ADMIN_PW, ...serverArgs(castor)],
    ['group', 'create', '-n', 'rg-seed', '-l', 'westus2'],
    ['dt', 'create', '-n', 'seed-dt', '-g', 'rg-seed', '-l', 'westus2'],
  ]) {
    const r = await cli(home, [...args, '-o', 'none']);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
});
after(async () => { if (castor) await stopCastor(castor); });

// An app process holding one credential and one client; call() makes one listModels.
function app(clientId) {
  const child = spawn(process.execPath, [join(here, 'clients', 'seed-client.mjs'), JSON.stringify({
    authorityHost: castor.url, tenantId: castor.connection.tenantId, clientId,
    username: ADMIN, password: ADMIN_PW, endpoint: `https://localhost:${castor.port}/dt/seed-dt`,
  })], { env: { ...process.env, NODE_EXTRA_CA_CERTS: castor.connection.caFile }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async call() {
      child.stdin.write('go\n');
      const { value } = await lines.next();
      return JSON.parse(value);
    },
    close() { child.stdin.end(); },
  };
}

const castorCli = async (args) => {
  const r = await cli(home, args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r;
};

test('cause #1: a subscription Owner gets 403 naming the cause; the fix works on the very next call', async () => {
  const a = app(AZURE_CLI);
  try {
    const denied = await a.call();
    assert.equal(denied.ok, false);
    assert.equal(denied.name, 'RestError');
    assert.equal(denied.statusCode, 403);
    assert.match(denied.message, /seed cause #1/);
    assert.match(denied.message, /control-plane role/);
    assert.match(denied.message, /castor dt role-assignment create --dt-name seed-dt --assignee admin@castor\.local --role "Azure Digital Twins Data Reader"/);

    const fix = await castorCli(['dt', 'role-assignment', 'create', '--dt-name', 'seed-dt', '--assignee', ADMIN,
      '--role', 'Azure Digital Twins Data Owner', '-o', 'json']);
    assert.match(JSON.stringify(fix.json), /bcd981a7-7f74-457b-83e1-cceb9e632ffe/);
    const ok = await a.call();
    assert.deepEqual(ok, { ok: true, count: 0 }, 'the same app, same token, right after the fix');

    // Undo it, and fix it again the way the 2020 troubleshooting page says.
    await castorCli(['dt', 'role-assignment', 'delete', '--dt-name', 'seed-dt', '--assignee', ADMIN, '-o', 'none']);
    assert.equal((await a.call()).statusCode, 403);
    const legacy = await castorCli(['dt', 'role-assignment', 'create', '--dt-name', 'seed-dt', '--assignee', ADMIN,
      '--role', 'Azure Digital Twins Owner (Preview)']);
    assert.match(legacy.stderr + legacy.stdout, /Azure Digital Twins Data Owner/, 'says which role the legacy name became');
    assert.equal((await a.call()).ok, true);
  } finally {
    a.close();
  }
});

test('cause #2: an app registration without the ADT permission; castor names it and the fix works', async () => {
  // admin keeps the Data Owner role from the test above: RBAC is not the problem here.
  const created = await castorCli(['ad', 'app', 'create', '--display-name', 'seed-app', '--is-fallback-public-client', 'true']);
  const appId = created.json.appId;
  await castorCli(['ad', 'sp', 'create', '--id', appId, '-o', 'none']);

  // Never asked for the permission: like Entra, the token service refuses at sign-in.
  const never = app(appId);
  const refused = await never.call();
  never.close();
  assert.equal(refused.ok, false);
  assert.match(refused.message, /AADSTS650057/);

  // Asked, consented, then dropped from the registration: the user still gets a token, without
  // Read.Write, and the data plane refuses it with cause #2.
  await castorCli(['ad', 'app', 'permission', 'add', '--id', appId, '--api', ADT_APP, '--api-permissions', `${READ_WRITE_ID}=Scope`, '-o', 'none']);
  await castorCli(['ad', 'app', 'permission', 'admin-consent', '--id', appId, '-o', 'none']);
  await castorCli(['ad', 'app', 'update', '--id', appId, '--required-resource-accesses',
    JSON.stringify([{ resourceAppId: '00000003-0000-0000-c000-000000000000', resourceAccess: [{ id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' }] }, { resourceAppId: ADT_APP, resourceAccess: [] }]), '-o', 'none']);
  const dropped = app(appId);
  const denied = await dropped.call();
  dropped.close();
  assert.equal(denied.statusCode, 403, JSON.stringify(denied));
  assert.match(denied.message, /seed cause #2/);
  assert.match(denied.message, new RegExp(`castor ad app permission add --id ${appId} --api ${ADT_APP} --api-permissions ${READ_WRITE_ID}=Scope`));

  // The fix the message gives, then a fresh token.
  await castorCli(['ad', 'app', 'permission', 'add', '--id', appId, '--api', ADT_APP, '--api-permissions', `${READ_WRITE_ID}=Scope`, '-o', 'none']);
  await castorCli(['ad', 'app', 'permission', 'admin-consent', '--id', appId, '-o', 'none']);
  const fixed = app(appId);
  const ok = await fixed.call();
  fixed.close();
  assert.equal(ok.ok, true, JSON.stringify(ok));
});
