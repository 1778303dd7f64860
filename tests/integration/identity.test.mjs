// identity.test.mjs — the unmodified @azure/identity credentials sign in to castor and get ADT
// tokens with the claims the data plane relies on; discovery documents as MSAL needs them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCastor, stopCastor, request, GUID, tempDir } from './lib/castor.js';
import {
  AZURE_CLI, ADT_SCOPE, ADMIN, ADMIN_PW, claims, adminGraphToken, graph, newApp, runClient,
  completeDeviceCode, form,
} from './lib/identity.js';

let castor, admin, tid;
before(async () => {
  castor = await startCastor();
  tid = castor.connection.tenantId;
  admin = await adminGraphToken(castor);
});
after(async () => { if (castor) await stopCastor(castor); });

test('openid-configuration: issuer and endpoints on the host:port the client used', async () => {
  for (const t of [tid, 'common', 'organizations', 'castor.local']) {
    const r = await request(castor, 'GET', `/${t}/v2.0/.well-known/openid-configuration`);
    assert.equal(r.status, 200, r.text);
    for (const k of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri', 'device_authorization_endpoint'])
      assert.ok(r.json[k].startsWith(castor.url), `${k}=${r.json[k]}`);
  }
  const v1 = await request(castor, 'GET', `/${tid}/.well-known/openid-configuration`);
  assert.equal(v1.json.issuer, `${castor.url}/${tid}/`);
  const adfs = await request(castor, 'GET', '/adfs/.well-known/openid-configuration');
  assert.equal(adfs.json.token_endpoint, `${castor.url}/adfs/oauth2/token`);
  const keys = await request(castor, 'GET', `/${tid}/discovery/v2.0/keys`);
  assert.equal(keys.json.keys[0].kty, 'RSA');
  assert.ok(keys.json.keys[0].kid && keys.json.keys[0].n && keys.json.keys[0].e);
  const inst = await request(castor, 'GET', `/common/discovery/instance?api-version=1.1&authorization_endpoint=${castor.url}/${tid}/oauth2/v2.0/authorize`);
  assert.match(inst.json.tenant_discovery_endpoint, new RegExp(`/${tid}/v2.0/.well-known/openid-configuration$`));
});

test('ClientSecretCredential gets an app-only ADT token', async () => {
  const { app, sp, secret } = await newApp(castor, admin);
  const { lines, stderr } = await runClient(castor, { kind: 'secret', clientId: app.appId, secret, scopes: [[ADT_SCOPE]] });
  assert.ok(lines[0].token, JSON.stringify(lines) + stderr);
  const c = claims(lines[0].token);
  assert.equal(c.aud, 'https://digitaltwins.azure.net');
  assert.equal(c.iss, `${castor.url}/${tid}/`);
  assert.equal(c.tid, tid);
  assert.equal(c.appid, app.appId);
  assert.equal(c.oid, sp.id);
  assert.equal(c.idtyp, 'app');
  assert.equal(c.appidacr, '1');
  assert.equal(c.scp, undefined);
  assert.ok(c.exp - c.iat >= 3600 - 1);
});

test('ClientCertificateCredential (PS256 assertion with x5t#S256) gets an ADT token', async () => {
  const dir = tempDir('castor-cert-');
  const key = join(dir, 'key.pem'), crt = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt,
    '-days', '2', '-subj', '/CN=castor-test-app'], { stdio: 'ignore' });
  const der = execFileSync('openssl', ['x509', '-in', crt, '-outform', 'DER']);
  writeFileSync(join(dir, 'both.pem'), readFileSync(key, 'utf8') + readFileSync(crt, 'utf8'));
  const { app, sp } = await newApp(castor, admin);
  const p = await graph(castor, admin, 'PATCH', `/applications/${app.id}`, {
    keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: der.toString('base64') }],
  });
  assert.equal(p.status, 204, p.text);
  const { lines, stderr } = await runClient(castor, { kind: 'certificate', clientId: app.appId, certificatePath: join(dir, 'both.pem'), scopes: [[ADT_SCOPE]] });
  assert.ok(lines[0].token, JSON.stringify(lines) + stderr);
  const c = claims(lines[0].token);
  assert.equal(c.oid, sp.id);
  assert.equal(c.appidacr, '2');
});

test('UsernamePasswordCredential (Azure CLI client) gets a delegated ADT token with Read.Write, then ARM via refresh', async () => {
  const { lines, stderr } = await runClient(castor, {
    kind: 'password', clientId: AZURE_CLI, username: ADMIN, password: ADMIN_PW,
    scopes: [[ADT_SCOPE], [ADT_SCOPE], ['https://management.azure.com/.default']],
  });
  assert.equal(lines.length, 3, JSON.stringify(lines) + stderr);
  const c = claims(lines[0].token);
  assert.equal(c.aud, 'https://digitaltwins.azure.net');
  assert.equal(c.upn, ADMIN);
  assert.equal(c.idtyp, 'user');
  assert.equal(c.scp, 'Read.Write');
  assert.equal(c.appid, AZURE_CLI);
  assert.match(c.oid, GUID);
  assert.equal(lines[1].token, lines[0].token, 'the second call is served from the SDK cache');
  const arm = claims(lines[2].token);
  assert.equal(arm.aud, 'https://management.azure.com/');
  assert.equal(arm.scp, 'user_impersonation');
  assert.equal(arm.oid, c.oid);
});

test('DeviceCodeCredential completed through the verification page', async () => {
  const { lines, stderr } = await runClient(castor, { kind: 'device', clientId: AZURE_CLI, scopes: [[ADT_SCOPE]] },
    async (line) => {
      if (!line.userCode) return;
      assert.equal(line.uri, `${castor.url}/devicelogin`);
      const done = await completeDeviceCode(castor, line.userCode);
      assert.equal(done.status, 200, done.text);
      assert.match(done.text, /You have signed in/);
    });
  const tok = lines.find((l) => l.token);
  assert.ok(tok, JSON.stringify(lines) + stderr);
  const c = claims(tok.token);
  assert.equal(c.upn, ADMIN);
  assert.equal(c.scp, 'Read.Write');
});

test('groups and nested groups appear in tokens (transitive)', async () => {
  const u = await graph(castor, admin, 'POST', '/users', {
    userPrincipalName: 'grp-user@castor.local', displayName: 'Grp', mailNickname: 'grp',
    passwordProfile: { password: 'Grp-User-Pw-1' }, accountEnabled: true,
  });
  assert.equal(u.status, 201, u.text);
  const inner = await graph(castor, admin, 'POST', '/groups', { displayName: 'inner', mailNickname: 'inner', mailEnabled: false, securityEnabled: true });
  const outer = await graph(castor, admin, 'POST', '/groups', { displayName: 'outer', mailNickname: 'outer', mailEnabled: false, securityEnabled: true });
  for (const [g, m] of [[inner.json.id, u.json.id], [outer.json.id, inner.json.id]]) {
    const r = await graph(castor, admin, 'POST', `/groups/${g}/members/$ref`, { '@odata.id': `${castor.url}/v1.0/directoryObjects/${m}` });
    assert.equal(r.status, 204, r.text);
  }
  const { lines } = await runClient(castor, { kind: 'password', clientId: AZURE_CLI, username: 'grp-user@castor.local', password: 'Grp-User-Pw-1', scopes: [[ADT_SCOPE]] });
  const c = claims(lines[0].token);
  assert.deepEqual([...c.groups].sort(), [inner.json.id, outer.json.id].sort());
});

test('client_credentials signs a fresh token per grant by default; --token-reuse hands the same one back until the directory changes', async () => {
  const ccOn = (c, t, app, secret) => form(c, `/${t}/oauth2/v2.0/token`, { grant_type: 'client_credentials', client_id: app.appId, client_secret: secret, scope: 'https://graph.microsoft.com/.default' });
  const { app, secret } = await newApp(castor, admin);
  const a = await ccOn(castor, tid, app, secret);
  const b = await ccOn(castor, tid, app, secret);
  assert.equal(a.status, 200, a.text);
  assert.notEqual(a.json.access_token, b.json.access_token, 'each grant is signed afresh, as in Entra');
  assert.notEqual(claims(a.json.access_token).uti, claims(b.json.access_token).uti);

  const reuse = await startCastor({ args: ['--token-reuse', '300'] });
  try {
    const rt = reuse.connection.tenantId;
    const radmin = await adminGraphToken(reuse);
    const { app: rapp, sp: rsp, secret: rsecret } = await newApp(reuse, radmin);
    // The reused token is kept by the node that signed it (make integration-scale: several
    // nodes behind nginx), so the grants go to one node; the directory change below goes
    // through nginx, and that node must notice it even when another node made it.
    const one = reuse.cluster?.nodes[0] ?? reuse;
    const first = await ccOn(one, rt, rapp, rsecret);
    const again = await ccOn(one, rt, rapp, rsecret);
    assert.equal(again.json.access_token, first.json.access_token, 'reused within --token-reuse');
    assert.ok(again.json.expires_in <= first.json.expires_in);
    const wrong = await form(one, `/${rt}/oauth2/v2.0/token`, { grant_type: 'client_credentials', client_id: rapp.appId, client_secret: 'not-the-secret', scope: 'https://graph.microsoft.com/.default' });
    assert.equal(wrong.status, 401, 'the client still authenticates before any reuse');
    const graphSp = await graph(reuse, radmin, 'GET', `/servicePrincipals?$filter=${encodeURIComponent("appId eq '00000003-0000-0000-c000-000000000000'")}`);
    const ra = await graph(reuse, radmin, 'POST', `/servicePrincipals/${rsp.id}/appRoleAssignments`, {
      principalId: rsp.id, resourceId: graphSp.json.value[0].id, appRoleId: '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9',
    });
    assert.equal(ra.status, 201, ra.text);
    const changed = await ccOn(one, rt, rapp, rsecret);
    assert.notEqual(changed.json.access_token, first.json.access_token);
    assert.deepEqual(claims(changed.json.access_token).roles, ['Application.ReadWrite.All']);
  } finally {
    await stopCastor(reuse);
  }
});

test('app-only tokens carry roles from app role assignments, also right after a change', async () => {
  const { app, sp, secret } = await newApp(castor, admin);
  const cc = () => form(castor, `/${tid}/oauth2/v2.0/token`, { grant_type: 'client_credentials', client_id: app.appId, client_secret: secret, scope: 'https://graph.microsoft.com/.default' });
  const before = await cc();
  assert.equal(claims(before.json.access_token).roles, undefined);
  const graphSp = await graph(castor, admin, 'GET', `/servicePrincipals?$filter=${encodeURIComponent("appId eq '00000003-0000-0000-c000-000000000000'")}`);
  const a = await graph(castor, admin, 'POST', `/servicePrincipals/${sp.id}/appRoleAssignments`, {
    principalId: sp.id, resourceId: graphSp.json.value[0].id, appRoleId: '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9',
  });
  assert.equal(a.status, 201, a.text);
  const after = await cc();
  assert.deepEqual(claims(after.json.access_token).roles, ['Application.ReadWrite.All']);
  // With that role the service principal administers applications through Graph.
  const created = await graph(castor, after.json.access_token, 'POST', '/applications', { displayName: 'made-by-sp' });
  assert.equal(created.status, 201, created.text);
});
