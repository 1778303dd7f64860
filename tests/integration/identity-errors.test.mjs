// identity-errors.test.mjs — every "bad input" of the identity issue answers as Entra does:
// HTTP status, error, AADSTS code first in error_description, error_codes, trace and
// correlation ids, timestamp. Also bearer refusals on Graph, and secrets never in the log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startCastor, stopCastor, request } from './lib/castor.js';
import {
  AZURE_CLI, ADT_APP, READ_WRITE, ADT_SCOPE, ADMIN, ADMIN_PW, claims, form, token,
  adminGraphToken, graph, newApp, completeDeviceCode,
} from './lib/identity.js';

let castor, admin, tid;
before(async () => {
  castor = await startCastor();
  tid = castor.connection.tenantId;
  admin = await adminGraphToken(castor);
});
after(async () => { if (castor) await stopCastor(castor); });

function entra(r, status, error, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.error, error, r.text);
  assert.ok(r.json.error_description.startsWith(`AADSTS${code}: `), r.json.error_description);
  assert.deepEqual(r.json.error_codes, [code]);
  assert.ok(r.json.trace_id && r.json.correlation_id && r.json.timestamp);
}

const ropc = (extra = {}) => ({ grant_type: 'password', client_id: AZURE_CLI, username: ADMIN, password: ADMIN_PW, scope: ADT_SCOPE, ...extra });

test('unknown tenant: 400 invalid_request AADSTS90002', async () => {
  const r = await form(castor, '/nosuch.example/oauth2/v2.0/token', ropc());
  entra(r, 400, 'invalid_request', 90002);
  const d = await request(castor, 'GET', '/nosuch.example/v2.0/.well-known/openid-configuration');
  entra(d, 400, 'invalid_tenant', 90002);
});

test('missing grant_type: AADSTS900144; unknown grant: AADSTS70003', async () => {
  entra(await token(castor, { client_id: AZURE_CLI }), 400, 'invalid_request', 900144);
  entra(await token(castor, { grant_type: 'magic', client_id: AZURE_CLI }), 400, 'unsupported_grant_type', 70003);
});

test('unknown client: 400 unauthorized_client AADSTS700016', async () => {
  const r = await token(castor, { grant_type: 'client_credentials', client_id: '11111111-2222-3333-4444-555555555555', client_secret: 'x', scope: ADT_SCOPE });
  entra(r, 400, 'unauthorized_client', 700016);
});

test('wrong secret: 401 invalid_client AADSTS7000215; expired secret AADSTS7000222; none AADSTS7000218', async () => {
  const { app } = await newApp(castor, admin);
  entra(await token(castor, { grant_type: 'client_credentials', client_id: app.appId, client_secret: 'wrong', scope: ADT_SCOPE }), 401, 'invalid_client', 7000215);
  const old = await graph(castor, admin, 'POST', `/applications/${app.id}/addPassword`, {
    passwordCredential: { startDateTime: '2020-01-01T00:00:00Z', endDateTime: '2021-01-01T00:00:00Z' },
  });
  entra(await token(castor, { grant_type: 'client_credentials', client_id: app.appId, client_secret: old.json.secretText, scope: ADT_SCOPE }), 401, 'invalid_client', 7000222);
  entra(await token(castor, { grant_type: 'client_credentials', client_id: app.appId, scope: ADT_SCOPE }), 401, 'invalid_client', 7000218);
});

test('removePassword revokes the secret', async () => {
  const { app, secret } = await newApp(castor, admin);
  const a = await graph(castor, admin, 'GET', `/applications/${app.id}`);
  const keyId = a.json.passwordCredentials[0].keyId;
  assert.equal(a.json.passwordCredentials[0].secretText, null, 'secrets are shown once');
  assert.equal((await graph(castor, admin, 'POST', `/applications/${app.id}/removePassword`, { keyId })).status, 204);
  entra(await token(castor, { grant_type: 'client_credentials', client_id: app.appId, client_secret: secret, scope: ADT_SCOPE }), 401, 'invalid_client', 7000215);
});

test('unknown resource: 400 invalid_resource AADSTS500011', async () => {
  const { app, secret } = await newApp(castor, admin);
  entra(await token(castor, { grant_type: 'client_credentials', client_id: app.appId, client_secret: secret, scope: 'https://nothing.example/.default' }), 400, 'invalid_resource', 500011);
});

test('wrong password AADSTS50126, unknown user AADSTS50034, lockout AADSTS50053 after repeated failures', async () => {
  const u = await graph(castor, admin, 'POST', '/users', { userPrincipalName: 'lock@castor.local', displayName: 'Lock', mailNickname: 'lock', passwordProfile: { password: 'Lock-Me-Pw-1' } });
  assert.equal(u.status, 201, u.text);
  entra(await token(castor, ropc({ username: 'nobody@castor.local' })), 400, 'invalid_grant', 50034);
  for (let i = 0; i < 9; i++) entra(await token(castor, ropc({ username: 'lock@castor.local', password: 'bad' })), 400, 'invalid_grant', 50126);
  entra(await token(castor, ropc({ username: 'lock@castor.local', password: 'bad' })), 400, 'invalid_grant', 50053);
  // Locked: even the right password is refused for now.
  entra(await token(castor, ropc({ username: 'lock@castor.local', password: 'Lock-Me-Pw-1' })), 400, 'invalid_grant', 50053);
});

test('disabled user: AADSTS50057, and its existing tokens are refused by bearer checks', async () => {
  await graph(castor, admin, 'POST', '/users', { userPrincipalName: 'dis@castor.local', displayName: 'Dis', mailNickname: 'dis', passwordProfile: { password: 'Disabled-Pw-1' } });
  const ok = await token(castor, ropc({ username: 'dis@castor.local', password: 'Disabled-Pw-1', scope: 'https://graph.microsoft.com/.default' }));
  assert.equal(ok.status, 200);
  assert.equal((await graph(castor, ok.json.access_token, 'GET', '/me')).status, 200);
  const p = await graph(castor, admin, 'PATCH', '/users/dis@castor.local', { accountEnabled: false });
  assert.equal(p.status, 204, p.text);
  entra(await token(castor, ropc({ username: 'dis@castor.local', password: 'Disabled-Pw-1' })), 400, 'invalid_grant', 50057);
  const me = await graph(castor, ok.json.access_token, 'GET', '/me');
  assert.equal(me.status, 401);
});

test('consent: unconsented third-party app gets AADSTS65001, undeclared resource AADSTS650057, consent granted gives Read.Write', async () => {
  const { app, sp } = await newApp(castor, admin, { isFallbackPublicClient: true });
  const asApp = (extra) => token(castor, ropc({ client_id: app.appId, ...extra }));
  entra(await asApp(), 400, 'invalid_client', 650057);
  await graph(castor, admin, 'PATCH', `/applications/${app.id}`, { requiredResourceAccess: [{ resourceAppId: ADT_APP, resourceAccess: [{ id: READ_WRITE, type: 'Scope' }] }] });
  const r = await asApp();
  entra(r, 400, 'invalid_grant', 65001);
  const adt = await graph(castor, admin, 'GET', `/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${ADT_APP}'`)}`);
  const g = await graph(castor, admin, 'POST', '/oauth2PermissionGrants', { clientId: sp.id, consentType: 'AllPrincipals', principalId: null, resourceId: adt.json.value[0].id, scope: 'Read.Write' });
  assert.equal(g.status, 201, g.text);
  const t = await asApp();
  assert.equal(t.status, 200, t.text);
  assert.equal(claims(t.json.access_token).scp, 'Read.Write');
  // Seed cause #2: the registration drops the permission, the grant stays: no Read.Write.
  await graph(castor, admin, 'PATCH', `/applications/${app.id}`, { requiredResourceAccess: [] });
  const t2 = await asApp();
  assert.equal(t2.status, 200, t2.text);
  assert.equal(claims(t2.json.access_token).scp, undefined);
});

test('refresh tokens rotate; reuse is refused (AADSTS70008) and revokes the family (AADSTS50173)', async () => {
  const first = await token(castor, ropc({ scope: `${ADT_SCOPE} offline_access` }));
  const rt1 = first.json.refresh_token;
  const second = await token(castor, { grant_type: 'refresh_token', client_id: AZURE_CLI, refresh_token: rt1, scope: 'https://management.azure.com/.default' });
  assert.equal(second.status, 200, second.text);
  assert.notEqual(second.json.refresh_token, rt1);
  entra(await token(castor, { grant_type: 'refresh_token', client_id: AZURE_CLI, refresh_token: rt1, scope: ADT_SCOPE }), 400, 'invalid_grant', 70008);
  entra(await token(castor, { grant_type: 'refresh_token', client_id: AZURE_CLI, refresh_token: second.json.refresh_token, scope: ADT_SCOPE }), 400, 'invalid_grant', 50173);
  entra(await token(castor, { grant_type: 'refresh_token', client_id: AZURE_CLI, refresh_token: 'garbage', scope: ADT_SCOPE }), 400, 'invalid_grant', 9002313);
});

test('device code: pending AADSTS70016, declined, bad code; URN grant alias works', async () => {
  const dc = await form(castor, `/${tid}/oauth2/v2.0/devicecode`, { client_id: AZURE_CLI, scope: `${ADT_SCOPE} openid profile offline_access` });
  assert.equal(dc.status, 200, dc.text);
  const poll = { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: AZURE_CLI, device_code: dc.json.device_code };
  entra(await token(castor, poll), 400, 'authorization_pending', 70016);
  const done = await completeDeviceCode(castor, dc.json.user_code);
  assert.equal(done.status, 200);
  const ok = await token(castor, poll);
  assert.equal(ok.status, 200, ok.text);
  assert.ok(ok.json.id_token && ok.json.client_info);
  entra(await token(castor, poll), 400, 'invalid_grant', 70000);
  const dc2 = await form(castor, `/${tid}/oauth2/v2.0/devicecode`, { client_id: AZURE_CLI, scope: ADT_SCOPE });
  await completeDeviceCode(castor, dc2.json.user_code, undefined, undefined, 'decline');
  entra(await token(castor, { grant_type: 'device_code', client_id: AZURE_CLI, device_code: dc2.json.device_code }), 400, 'authorization_declined', 70020);
  const bad = await form(castor, '/devicelogin', { code: 'NOPE-NOPE' });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /not valid/);
});

test('device code: an expired code is AADSTS70019 (server with --device-code-lifetime 1)', async () => {
  const short = await startCastor({ args: ['--device-code-lifetime', '1'] });
  try {
    const t = short.connection.tenantId;
    const dc = await form(short, `/${t}/oauth2/v2.0/devicecode`, { client_id: AZURE_CLI, scope: ADT_SCOPE });
    assert.equal(dc.status, 200, dc.text);
    assert.equal(dc.json.expires_in, 1);
    await new Promise((r) => setTimeout(r, 2100));
    entra(await token(short, { grant_type: 'device_code', client_id: AZURE_CLI, device_code: dc.json.device_code }), 400, 'expired_token', 70019);
  } finally {
    await stopCastor(short);
  }
});

test('authorization code + PKCE: sign-in page, code, bad verifier AADSTS501481, right verifier works', async () => {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const q = new URLSearchParams({ client_id: AZURE_CLI, response_type: 'code', redirect_uri: 'http://localhost:9999/cb', scope: `${ADT_SCOPE} openid offline_access`, state: 's1', code_challenge: challenge, code_challenge_method: 'S256' });
  const page = await request(castor, 'GET', `/${tid}/oauth2/v2.0/authorize?${q}`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<form/);
  const noPkce = new URLSearchParams(q);
  noPkce.delete('code_challenge');
  const np = await request(castor, 'GET', `/${tid}/oauth2/v2.0/authorize?${noPkce}`);
  assert.equal(np.status, 302);
  assert.match(np.headers.location, /error=invalid_request/);
  const signin = await form(castor, `/${tid}/oauth2/v2.0/authorize`, { ...Object.fromEntries(q), username: ADMIN, password: ADMIN_PW });
  assert.equal(signin.status, 302, signin.text);
  const loc = new URL(signin.headers.location);
  assert.equal(loc.searchParams.get('state'), 's1');
  const code = loc.searchParams.get('code');
  const redeem = (v) => token(castor, { grant_type: 'authorization_code', client_id: AZURE_CLI, code, redirect_uri: 'http://localhost:9999/cb', code_verifier: v });
  entra(await redeem('x'.repeat(43)), 400, 'invalid_grant', 501481);
  // The code was burnt by the failed attempt, as Entra does: a fresh one works.
  const signin2 = await form(castor, `/${tid}/oauth2/v2.0/authorize`, { ...Object.fromEntries(q), username: ADMIN, password: ADMIN_PW });
  const code2 = new URL(signin2.headers.location).searchParams.get('code');
  const ok = await token(castor, { grant_type: 'authorization_code', client_id: AZURE_CLI, code: code2, redirect_uri: 'http://localhost:9999/cb', code_verifier: verifier });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(claims(ok.json.access_token).scp, 'Read.Write');
});

test('malformed client assertion: AADSTS50027', async () => {
  const { app } = await newApp(castor, admin);
  entra(await token(castor, { grant_type: 'client_credentials', client_id: app.appId, scope: ADT_SCOPE, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'not.a.jwt' }), 400, 'invalid_request', 50027);
});

test('unknown form fields (telemetry, claims, client_info) are accepted', async () => {
  const r = await token(castor, ropc({ 'x-client-SKU': 'msal.js.node', client_info: '1', claims: '{"access_token":{"xms_cc":{"values":["cp1"]}}}' }));
  assert.equal(r.status, 200, r.text);
});

test('bearer refusals on Graph: missing, malformed, bad signature, wrong audience', async () => {
  assert.equal((await request(castor, 'GET', '/v1.0/me')).status, 401);
  assert.equal((await request(castor, 'GET', '/v1.0/me', { headers: { authorization: 'Bearer abc' } })).status, 401);
  const parts = admin.split('.');
  const forged = [parts[0], Buffer.from(JSON.stringify({ ...claims(admin), oid: '00000000-0000-0000-0000-000000000001' })).toString('base64url'), parts[2]].join('.');
  const f = await request(castor, 'GET', '/v1.0/me', { headers: { authorization: `Bearer ${forged}` } });
  assert.equal(f.status, 401);
  assert.equal(f.json.error.code, 'InvalidAuthenticationToken');
  const adt = await token(castor, ropc());
  const w = await request(castor, 'GET', '/v1.0/me', { headers: { authorization: `Bearer ${adt.json.access_token}` } });
  assert.equal(w.status, 401);
  assert.match(w.json.error.message, /audience/);
});

test('an ordinary user cannot create users (403 Authorization_RequestDenied)', async () => {
  await graph(castor, admin, 'POST', '/users', { userPrincipalName: 'plain@castor.local', displayName: 'Plain', mailNickname: 'plain', passwordProfile: { password: 'Plain-User-Pw-1' } });
  const t = await token(castor, ropc({ username: 'plain@castor.local', password: 'Plain-User-Pw-1', scope: 'https://graph.microsoft.com/.default' }));
  const r = await graph(castor, t.json.access_token, 'POST', '/users', { userPrincipalName: 'x@castor.local', displayName: 'x', passwordProfile: { password: 'Whatever-Pw-1' } });
  assert.equal(r.status, 403);
  assert.equal(r.json.error.code, 'Authorization_RequestDenied');
});

test('a user changes only what it owns: 403 on what another owns, nothing changed; 404 for what is not there', async () => {
  await graph(castor, admin, 'POST', '/users', { userPrincipalName: 'notowner@castor.local', displayName: 'Not Owner', mailNickname: 'notowner', passwordProfile: { password: 'Not-Owner-Pw-1' } });
  const t = await token(castor, ropc({ username: 'notowner@castor.local', password: 'Not-Owner-Pw-1', scope: 'https://graph.microsoft.com/.default' }));
  const user = t.json.access_token;
  const { app, sp } = await newApp(castor, admin);
  const group = (await graph(castor, admin, 'POST', '/groups', { displayName: 'owned', mailNickname: 'owned' })).json;
  const me = (await graph(castor, user, 'GET', '/me')).json;
  const refused = [
    ['PATCH', `/applications/${app.id}`, { displayName: 'taken' }],
    ['POST', `/applications/${app.id}/addPassword`, { passwordCredential: {} }],
    ['POST', `/applications/${app.id}/removePassword`, { keyId: '11111111-2222-3333-4444-555555555555' }],
    ['DELETE', `/applications/${app.id}`],
    ['POST', '/servicePrincipals', { appId: app.appId }],
    ['PATCH', `/servicePrincipals/${sp.id}`, { accountEnabled: false }],
    ['DELETE', `/servicePrincipals/${sp.id}`],
    ['POST', `/groups/${group.id}/members/$ref`, { '@odata.id': `https://x/v1.0/directoryObjects/${me.id}` }],
    ['DELETE', `/groups/${group.id}/members/${me.id}/$ref`],
    ['DELETE', `/groups/${group.id}`],
  ];
  for (const [method, path, body] of refused) {
    const r = await graph(castor, user, method, path, body);
    assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
    assert.equal(r.json.error.code, 'Authorization_RequestDenied');
  }
  const a = await graph(castor, admin, 'GET', `/applications/${app.id}`);
  assert.equal(a.json.displayName, app.displayName);
  assert.equal(a.json.passwordCredentials.length, 1);
  assert.equal((await graph(castor, admin, 'GET', `/servicePrincipals/${sp.id}`)).json.accountEnabled, true);
  assert.equal((await graph(castor, admin, 'GET', `/groups/${group.id}`)).status, 200);
  const nothing = '99999999-8888-7777-6666-555555555555';
  for (const [method, path] of [['PATCH', `/applications/${nothing}`], ['DELETE', `/servicePrincipals/${nothing}`], ['DELETE', `/groups/${nothing}`]]) {
    const r = await graph(castor, user, method, path, method === 'PATCH' ? {} : undefined);
    assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
    assert.equal(r.json.error.code, 'Request_ResourceNotFound');
    assert.ok(r.json.error.message.includes(nothing), r.json.error.message);
  }
  const own = (await graph(castor, user, 'POST', '/applications', { displayName: 'mine' })).json;
  assert.equal((await graph(castor, user, 'PATCH', `/applications/${own.id}`, { displayName: 'still mine' })).status, 204);
  assert.equal((await graph(castor, user, 'GET', `/applications/${own.id}`)).json.displayName, 'still mine');
});

test('secrets and passwords never appear in the log', async () => {
  const { app, secret } = await newApp(castor, admin);
  await token(castor, { grant_type: 'client_credentials', client_id: app.appId, client_secret: secret, scope: ADT_SCOPE });
  const log = castor.stderr() + castor.stdout();
  assert.ok(!log.includes(secret));
  assert.ok(!log.includes(ADMIN_PW));
});

test('Graph: removing a member names what is missing — the group, or the membership', async () => {
  const tok = await adminGraphToken(castor);
  const ghost = '11111111-2222-3333-4444-555555555555';
  const noGroup = await graph(castor, tok, 'DELETE', `/groups/${ghost}/members/${ghost}/$ref`);
  assert.equal(noGroup.status, 404);
  assert.equal(noGroup.json.error.code, 'Request_ResourceNotFound');
  assert.match(noGroup.json.error.message, new RegExp(ghost));
  const g = await graph(castor, tok, 'POST', '/groups', { displayName: 'rm-test', mailEnabled: false, mailNickname: 'rm-test', securityEnabled: true });
  assert.equal(g.status, 201, g.text);
  const noMember = await graph(castor, tok, 'DELETE', `/groups/${g.json.id}/members/${ghost}/$ref`);
  assert.equal(noMember.status, 404);
  assert.match(noMember.json.error.message, new RegExp(ghost));
  assert.doesNotMatch(noMember.json.error.message, new RegExp(g.json.id));
});
