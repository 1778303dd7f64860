// cli_identity.test.mjs — the castor client signing in to a real castor (password, device code
// completed through the server's verification page, service principal), getting tokens, and
// managing the directory with `castor ad …`. Skips itself while the server has no token
// endpoint (before the identity plane is merged).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import { startCastor, stopCastor, GUID } from './lib/castor.js';
import { cli, clientHome, serverArgs, claims, identityReady, graphReady, armReady, ADT, ADT_APP, READ_WRITE_ID, ADMIN, ADMIN_PW } from './cli_helpers.mjs';

let castor;
let ready = false;
let graph = false;
let admin; // a signed-in admin home, shared by the ad tests
before(async () => {
  castor = await startCastor();
  ready = await identityReady(castor);
  graph = ready && await graphReady(castor);
  if (ready) {
    admin = clientHome();
    const r = await cli(admin, ['login', '-u', ADMIN, '-p', ADMIN_PW, ...serverArgs(castor)]);
    if (r.code !== 0) throw new Error(`admin login failed: ${r.stderr}`);
  }
});
after(async () => { if (castor) await stopCastor(castor); });

const ARM_APP = '797f4846-ba00-4fd7-ba43-dac1f8f63013';
const ARM_SCOPE_ID = '41094075-9dad-400e-a0bd-54e686782033';
const skipUnlessReady = (t) => { if (!ready) { t.skip('the server has no token endpoint yet (identity plane not merged)'); return true; } return false; };
const skipUnlessGraph = (t) => { if (!graph) { t.skip('the server serves no Graph /v1.0/users yet'); return true; } return false; };

// An ad command as the admin; asserts success and returns the parsed output.
async function ad(args) {
  const r = await cli(admin, ['ad', ...args]);
  assert.equal(r.code, 0, `castor ad ${args.join(' ')}: ${r.stderr}`);
  return r.json;
}

test('login with a password: az-shaped account list, 0600 token cache, config saved', async (t) => {
  if (skipUnlessReady(t)) return;
  const home = clientHome();
  const r = await cli(home, ['login', '-u', ADMIN, '-p', ADMIN_PW, ...serverArgs(castor)]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Array.isArray(r.json));
  if (await armReady(castor)) {
    const acct = r.json.find((a) => a.isDefault);
    assert.ok(acct, 'one subscription is the default');
    assert.equal(acct.tenantId, castor.connection.tenantId);
    assert.equal(acct.id, castor.connection.subscriptionId);
    assert.deepEqual(acct.user, { name: ADMIN, type: 'user' });
  } else {
    // Without the resource manager (and no connection.json here) no subscription is known.
    assert.deepEqual(r.json, []);
    assert.match(r.stderr, /WARNING: signed in, but the account sees no subscription on https:\/\/localhost:\d+/);
  }
  assert.equal(statSync(join(home.config, 'tokens.json')).mode & 0o777, 0o600);
  assert.equal(statSync(home.config).mode & 0o777, 0o700);
  const cfg = JSON.parse(readFileSync(join(home.config, 'config.json'), 'utf8'));
  assert.equal(cfg.server, castor.url);
  assert.equal(cfg.tenantId, castor.connection.tenantId);
  // Later commands need no --server: config.json names it.
  const show = await cli(home, ['account', 'show']);
  assert.equal(show.code, 0, show.stderr);
  assert.equal(show.json.user.name, ADMIN);
  assert.equal(show.json.tenantId, castor.connection.tenantId);
  const table = await cli(home, ['account', 'show', '-o', 'table']);
  assert.match(table.stdout, /^Name +Id +TenantId +EnvironmentName\n/);
});

test('get-access-token: ADT token with Read.Write for castor\'s own client, by resource or scope', async (t) => {
  if (skipUnlessReady(t)) return;
  const r = await cli(admin, ['account', 'get-access-token', '--resource', ADT]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.tokenType, 'Bearer');
  assert.equal(r.json.tenant, castor.connection.tenantId);
  assert.match(r.json.expiresOn, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  assert.ok(r.json.expires_on > Date.now() / 1000 + 600);
  const c = claims(r.json.accessToken);
  assert.ok([ADT, `${ADT}/`, ADT_APP].includes(c.aud), `aud ${c.aud}`);
  assert.equal(c.tid, castor.connection.tenantId);
  assert.ok(c.scp.split(' ').includes('Read.Write'), `scp ${c.scp}`);
  assert.equal(c.upn ?? c.preferred_username ?? c.unique_name, ADMIN);
  // A second call is served from the cache: the same token.
  const again = await cli(admin, ['account', 'get-access-token', '--scope', `${ADT}/.default`]);
  assert.equal(again.json.accessToken, r.json.accessToken);
  const arm = await cli(admin, ['account', 'get-access-token', '-o', 'tsv']);
  assert.equal(arm.code, 0, arm.stderr);
  const armClaims = claims(arm.stdout.split('\t')[0]);
  assert.ok(/management/.test(armClaims.aud) || armClaims.aud.startsWith(castor.url), `ARM aud ${armClaims.aud}`);
});

test('a token close to expiry is renewed with the refresh token', async (t) => {
  if (skipUnlessReady(t)) return;
  const home = clientHome();
  assert.equal((await cli(home, ['login', '-u', ADMIN, '-p', ADMIN_PW, ...serverArgs(castor)])).code, 0);
  const first = await cli(home, ['account', 'get-access-token', '--resource', ADT]);
  const path = join(home.config, 'tokens.json');
  const session = JSON.parse(readFileSync(path, 'utf8'));
  const rt = session.refreshToken;
  session.tokens[`${ADT}/.default`].expiresOn = Math.floor(Date.now() / 1000) + 60; // inside the 5-minute skew
  writeFileSync(path, JSON.stringify(session));
  await new Promise((r) => setTimeout(r, 1100)); // a new iat
  const second = await cli(home, ['account', 'get-access-token', '--resource', ADT, '--debug']);
  assert.equal(second.code, 0, second.stderr);
  assert.notEqual(second.json.accessToken, first.json.accessToken);
  assert.match(second.stderr, /grant_type=refresh_token/);
  assert.ok(!second.stderr.includes(rt), '--debug never shows the refresh token');
  assert.ok(!second.stderr.includes(second.json.accessToken), '--debug never shows the access token');
  assert.ok(second.json.expires_on > Date.now() / 1000 + 600);
});

test('a wrong password shows the server\'s AADSTS message and exits 1', async (t) => {
  if (skipUnlessReady(t)) return;
  const home = clientHome();
  const r = await cli(home, ['login', '-u', ADMIN, '-p', 'not-the-password', ...serverArgs(castor), '--debug']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ERROR: AADSTS50126: /m);
  assert.ok(!r.stderr.includes('not-the-password'), 'the password never reaches the terminal');
  assert.match(r.stderr, /password=<redacted>/);
  const unknown = await cli(home, ['login', '-u', 'nobody@castor.local', '-p', 'x', ...serverArgs(castor)]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^ERROR: AADSTS\d+: /m);
});

// Submits the HTML forms of the verification page until none is left: the user code, then
// the user's name and password, then any confirmation.
async function completeDeviceLogin(pageUrl, userCode, username, password) {
  const ca = castor.ca;
  const fetchText = (url, method = 'GET', body) => new Promise((res, rej) => {
    const u = new URL(url);
    const req = https.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, ca, agent: false,
      headers: body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {} }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, text: Buffer.concat(chunks).toString(), location: r.headers.location }));
    });
    req.on('error', rej);
    if (body) req.write(body);
    req.end();
  });
  let page = await fetchText(pageUrl);
  let url = pageUrl;
  for (let step = 0; step < 4; step++) {
    if (page.location) { url = new URL(page.location, url).href; page = await fetchText(url); }
    const form = page.text.match(/<form[^>]*>([\s\S]*?)<\/form>/i);
    if (!form) return page;
    const action = (form[0].match(/action="([^"]*)"/i) || [, url])[1].replace(/&amp;/g, '&');
    const fields = new URLSearchParams();
    for (const m of form[1].matchAll(/<input[^>]*>/gi)) {
      const name = (m[0].match(/name="([^"]*)"/i) || [])[1];
      if (!name) continue;
      const type = ((m[0].match(/type="([^"]*)"/i) || [])[1] || 'text').toLowerCase();
      const value = ((m[0].match(/value="([^"]*)"/i) || [])[1] || '').replace(/&amp;/g, '&');
      if (type === 'password') fields.set(name, password);
      else if (/code/i.test(name) && type !== 'hidden') fields.set(name, userCode);
      else if (/user|login|email|upn|name/i.test(name) && type !== 'hidden') fields.set(name, username);
      else if (type === 'submit') { if (!fields.has(name)) fields.set(name, value); }
      else fields.set(name, value);
    }
    url = new URL(action, url).href;
    page = await fetchText(url, 'POST', fields.toString());
    if (page.status >= 400) throw new Error(`verification page answered ${page.status}: ${page.text.slice(0, 300)}`);
  }
  return page;
}

test('login --use-device-code prints the code and URL, and finishes once the page is completed', async (t) => {
  if (skipUnlessReady(t)) return;
  const home = clientHome();
  let done = false;
  let started;
  const seen = new Promise((res) => { started = res; });
  const run = cli(home, ['login', '--use-device-code', ...serverArgs(castor)], {
    onStderr: (text) => {
      const url = text.match(/(https:\/\/[^\s"]+[^\s".,])/);
      const code = text.match(/code\s+"?([A-Za-z0-9-]{4,})/);
      if (url && code && !done) { done = true; started({ url: url[1], code: code[1] }); }
    },
  });
  const { url, code } = await Promise.race([seen, run.then((r) => { throw new Error(`login ended first: ${r.stderr}`); })]);
  assert.ok(url.startsWith(castor.url), `verification URL ${url} is on this castor`);
  await completeDeviceLogin(url, code, ADMIN, ADMIN_PW);
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  const show = await cli(home, ['account', 'show']);
  assert.deepEqual(show.json.user, { name: ADMIN, type: 'user' });
  const tok = await cli(home, ['account', 'get-access-token', '--resource', ADT]);
  assert.ok(claims(tok.json.accessToken).scp.includes('Read.Write'));
});

test('service principal: app, secret, sp, then login --service-principal gets an app-only token', async (t) => {
  if (skipUnlessGraph(t)) return;
  const app = await ad(['app', 'create', '--display-name', 'cli-sp-app']);
  assert.match(app.appId, GUID);
  const sp = await ad(['sp', 'create', '--id', app.appId]);
  assert.equal(sp.appId, app.appId);
  const cred = await ad(['app', 'credential', 'reset', '--id', app.appId]);
  assert.equal(cred.appId, app.appId);
  assert.equal(cred.tenant, castor.connection.tenantId);
  assert.ok(cred.password.length >= 16);
  const home = clientHome();
  const login = await cli(home, ['login', '--service-principal', '-u', app.appId, '-p', cred.password,
    '--tenant', castor.connection.tenantId, ...serverArgs(castor)]);
  assert.equal(login.code, 0, login.stderr);
  const show = await cli(home, ['account', 'show']);
  assert.deepEqual(show.json.user, { name: app.appId, type: 'servicePrincipal' });
  const tok = await cli(home, ['account', 'get-access-token', '--resource', ADT]);
  assert.equal(tok.code, 0, tok.stderr);
  const c = claims(tok.json.accessToken);
  assert.equal(c.appid ?? c.azp, app.appId);
  assert.equal(c.oid, sp.id);
  assert.equal(c.scp, undefined, 'app-only tokens carry no scp');
  const bad = await cli(clientHome(), ['login', '--service-principal', '-u', app.appId, '-p', 'wrong-secret',
    '--tenant', castor.connection.tenantId, ...serverArgs(castor)]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^ERROR: AADSTS7000215: /m);
});

test('ad user create, list, show', async (t) => {
  if (skipUnlessGraph(t)) return;
  const u = await ad(['user', 'create', '--display-name', 'Bob Cli', '--user-principal-name', 'bob.cli@castor.local', '--password', 'Bob-Cli-Pw-12345']);
  assert.match(u.id, GUID);
  assert.equal(u.userPrincipalName, 'bob.cli@castor.local');
  assert.ok(!JSON.stringify(u).includes('Bob-Cli-Pw-12345'));
  const byUpn = await ad(['user', 'show', '--id', 'bob.cli@castor.local']);
  assert.equal(byUpn.id, u.id);
  const list = await ad(['user', 'list', '--upn', 'bob.cli@castor.local']);
  assert.deepEqual(list.map((x) => x.id), [u.id]);
  const table = await cli(admin, ['ad', 'user', 'list', '-o', 'table']);
  assert.match(table.stdout, /^DisplayName +Id +UserPrincipalName\n/);
  assert.match(table.stdout, /bob\.cli@castor\.local/);
  const missing = await cli(admin, ['ad', 'user', 'show', '--id', 'nobody@castor.local']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^ERROR: \(Request_ResourceNotFound\) /);
  // The new user can sign in.
  const home = clientHome();
  const login = await cli(home, ['login', '-u', 'bob.cli@castor.local', '-p', 'Bob-Cli-Pw-12345', ...serverArgs(castor)]);
  assert.equal(login.code, 0, login.stderr);
});

test('ad group create (idempotent) and member add', async (t) => {
  if (skipUnlessGraph(t)) return;
  const u = await ad(['user', 'create', '--display-name', 'Carol', '--user-principal-name', 'carol.cli@castor.local', '--password', 'Carol-Pw-12345']);
  const g = await ad(['group', 'create', '--display-name', 'twins-ops-cli', '--mail-nickname', 'twinsopscli']);
  assert.match(g.id, GUID);
  const again = await ad(['group', 'create', '--display-name', 'twins-ops-cli', '--mail-nickname', 'twinsopscli']);
  assert.equal(again.id, g.id);
  const add = await cli(admin, ['ad', 'group', 'member', 'add', '--group', 'twins-ops-cli', '--member-id', u.id]);
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stdout, '');
  const nogroup = await cli(admin, ['ad', 'group', 'member', 'add', '--group', 'no-such-group', '--member-id', u.id]);
  assert.equal(nogroup.code, 1);
  assert.equal(nogroup.stderr, "ERROR: No group matches the name of 'no-such-group'\n");
});

test('ad app create, show, list, update, permission add/grant/admin-consent, sp show', async (t) => {
  if (skipUnlessGraph(t)) return;
  const app = await ad(['app', 'create', '--display-name', 'cli-twins-client', '--is-fallback-public-client', 'true',
    '--public-client-redirect-uris', 'http://localhost']);
  assert.match(app.appId, GUID);
  assert.equal(app.displayName, 'cli-twins-client');
  const shown = await ad(['app', 'show', '--id', app.appId]);
  assert.equal(shown.id, app.id);
  const byOid = await ad(['app', 'show', '--id', app.id]);
  assert.equal(byOid.appId, app.appId);
  const listed = await ad(['app', 'list', '--display-name', 'cli-twins']);
  assert.ok(listed.some((a) => a.appId === app.appId));
  const upd = await cli(admin, ['ad', 'app', 'update', '--id', app.appId, '--web-redirect-uris', 'https://localhost:5001/signin']);
  assert.equal(upd.code, 0, upd.stderr);
  assert.deepEqual((await ad(['app', 'show', '--id', app.appId])).web.redirectUris, ['https://localhost:5001/signin']);

  const add = await cli(admin, ['ad', 'app', 'permission', 'add', '--id', app.appId, '--api', ADT_APP, '--api-permissions', `${READ_WRITE_ID}=Scope`]);
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stderr, /WARNING: Invoking `castor ad app permission grant --id .* --api 0b07f429/);
  const after = await ad(['app', 'show', '--id', app.appId]);
  assert.deepEqual(after.requiredResourceAccess, [{ resourceAppId: ADT_APP, resourceAccess: [{ id: READ_WRITE_ID, type: 'Scope' }] }]);
  // Adding it twice does not duplicate it.
  await cli(admin, ['ad', 'app', 'permission', 'add', '--id', app.appId, '--api', ADT_APP, '--api-permissions', `${READ_WRITE_ID}=Scope`]);
  assert.equal((await ad(['app', 'show', '--id', app.appId])).requiredResourceAccess[0].resourceAccess.length, 1);

  const sp = await ad(['sp', 'create', '--id', app.appId]);
  assert.deepEqual((await ad(['sp', 'show', '--id', app.appId])).id, sp.id);
  const grant = await ad(['app', 'permission', 'grant', '--id', app.appId, '--api', ADT_APP, '--scope', 'Read.Write']);
  assert.equal(grant.clientId, sp.id);
  assert.equal(grant.consentType, 'AllPrincipals');
  assert.equal(grant.scope, 'Read.Write');
  // `castor login` asks for the resource manager, so the client declares it too; admin consent
  // then grants every declared delegated permission (ARM's user_impersonation here).
  const armAdd = await cli(admin, ['ad', 'app', 'permission', 'add', '--id', app.appId, '--api', ARM_APP, '--api-permissions', `${ARM_SCOPE_ID}=Scope`]);
  assert.equal(armAdd.code, 0, armAdd.stderr);
  const consent = await cli(admin, ['ad', 'app', 'permission', 'admin-consent', '--id', app.appId]);
  assert.equal(consent.code, 0, consent.stderr);

  // The consented third-party client now gets Read.Write for a user (password grant).
  const home = clientHome();
  const login = await cli(home, ['login', '-u', ADMIN, '-p', ADMIN_PW, ...serverArgs(castor)], { env: { CASTOR_CLIENT_ID: app.appId } });
  assert.equal(login.code, 0, login.stderr);
  const tok = await cli(home, ['account', 'get-access-token', '--resource', ADT], { env: { CASTOR_CLIENT_ID: app.appId } });
  assert.equal(tok.code, 0, tok.stderr);
  assert.equal(claims(tok.json.accessToken).appid ?? claims(tok.json.accessToken).azp, app.appId);
  assert.ok(claims(tok.json.accessToken).scp.split(' ').includes('Read.Write'));

  const nope = await cli(admin, ['ad', 'app', 'show', '--id', '00000000-0000-0000-0000-00000000abcd']);
  assert.equal(nope.code, 1);
  assert.match(nope.stderr, /^ERROR: \(Request_ResourceNotFound\) /);
});

test('logout forgets the tokens', async (t) => {
  if (skipUnlessReady(t)) return;
  const home = clientHome();
  assert.equal((await cli(home, ['login', '-u', ADMIN, '-p', ADMIN_PW, ...serverArgs(castor)])).code, 0);
  const out = await cli(home, ['logout']);
  assert.equal(out.code, 0, out.stderr);
  const show = await cli(home, ['account', 'show']);
  assert.equal(show.code, 1);
  assert.equal(show.stderr, "ERROR: Please run 'castor login' to setup account.\n");
});
