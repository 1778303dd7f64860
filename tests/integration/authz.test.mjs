// authz.test.mjs — data-plane access control over HTTP: 401 for every bad token, 403 with the
// seed's causes and their fixes, role changes effective on the next request, the propagation
// simulation and Azure's empty-body compatibility mode. Principal × route matrix for the
// principals the bootstrap admin can stand in for; the directory-backed ones (groups, apps,
// third-party clients) are in authz-directory.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, createHmac, generateKeyPairSync, createPublicKey, randomUUID } from 'node:crypto';
import { startCastor, stopCastor, request, storeSql } from './lib/castor.js';
import { userToken, ADT_SCOPE, ARM_SCOPE, ROLE, arm, scopes, createInstance, assignRole, claims, dp, bearer } from './lib/azure.js';

import { ROUTES, DT } from './lib/routes.js';

let c; let armTok; let adtTok; let oid; let inst; let inst2; let customRole;
before(async () => {
  c = await startCastor();
  armTok = await userToken(c, ARM_SCOPE);
  adtTok = await userToken(c, ADT_SCOPE);
  oid = claims(adtTok).oid;
  inst = await createInstance(c, armTok, 'adt1');
  inst2 = await createInstance(c, armTok, 'adt2');
  // A custom role: everything on the data plane except writing twins.
  customRole = randomUUID();
  const s = scopes(c);
  const r = await arm(c, armTok, 'PUT', `${s.sub}/providers/Microsoft.Authorization/roleDefinitions/${customRole}`, {
    properties: {
      roleName: 'Twins all but writes', type: 'CustomRole', description: 'test',
      permissions: [{ actions: [], notActions: [], dataActions: ['Microsoft.DigitalTwins/*'], notDataActions: ['Microsoft.DigitalTwins/digitaltwins/write'] }],
      assignableScopes: [s.sub],
    },
  });
  assert.ok(r.status === 201 || r.status === 200, r.text);
});
after(async () => { if (c) await stopCastor(c); });

const call = (token, [method, path, , body], name = 'adt1') => dp(c, token, method, `/dt/${name}${path}`, body);

// Runs every route with token; `granted(action)` says which the principal holds.
async function matrix(token, granted, cause) {
  for (const route of ROUTES) {
    const r = await call(token, route);
    const action = DT + route[2];
    if (granted(action)) {
      assert.ok(r.status !== 401 && r.status !== 403, `${route[0]} ${route[1]} should pass authorization, got ${r.status} ${r.text}`);
    } else {
      assert.equal(r.status, 403, `${route[0]} ${route[1]}: ${r.text}`);
      assert.equal(r.json.error.code, 'Forbidden');
      assert.equal(r.headers['x-ms-error-code'], 'Forbidden');
      assert.equal(r.json.error.innererror.dataAction, action);
      if (cause) assert.equal(r.json.error.innererror.code, cause, `${route[1]}: ${r.json.error.message}`);
    }
  }
}

function jwt(header, payload, signer) {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${h}.${p}.${signer ? signer(`${h}.${p}`) : ''}`;
}

function castorKey() {
  const out = storeSql(c.dataDir, "SELECT kid || '|' || private_pem FROM signing_keys WHERE state = 'current'");
  const bar = out.indexOf('|');
  return { kid: out.slice(0, bar), pem: out.slice(bar + 1).trim() };
}

test('401 for every kind of bad token, on every route, with WWW-Authenticate', async () => {
  const good = claims(adtTok);
  const header = JSON.parse(Buffer.from(adtTok.split('.')[0], 'base64url').toString());
  const { kid, pem } = castorKey();
  const sign = (data) => createSign('RSA-SHA256').update(data).sign(pem).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pub = createPublicKey(pem).export({ type: 'spki', format: 'pem' });
  const cases = {
    'no token': [null, 'missing'],
    garbage: ['not-a-jwt', 'malformed'],
    'alg none': [jwt({ alg: 'none', typ: 'JWT' }, good), 'algorithm'],
    'HS256 signed with the public key': [jwt({ alg: 'HS256', typ: 'JWT', kid }, good, (d) => createHmac('sha256', pub).update(d).digest('base64url')), 'algorithm'],
    'unknown kid': [jwt({ ...header, kid: 'nope' }, good, (d) => createSign('RSA-SHA256').update(d).sign(stranger.privateKey).toString('base64url')), 'unknown_key'],
    'bad signature': [adtTok.slice(0, -6) + (adtTok.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'), 'bad_signature'],
    expired: [jwt({ ...header, kid }, { ...good, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }, sign), 'expired'],
    'not yet valid': [jwt({ ...header, kid }, { ...good, iat: now, nbf: now + 3600, exp: now + 7200 }, sign), 'not_yet_valid'],
    'wrong audience (an ARM token)': [armTok, 'audience'],
    'another tenant': [jwt({ ...header, kid }, { ...good, tid: randomUUID(), iss: `https://localhost:${c.port}/${randomUUID()}/v2.0` }, sign), 'tenant'],
  };
  for (const [name, [token, reason]] of Object.entries(cases)) {
    for (const route of ROUTES) {
      const r = await call(token, route);
      assert.equal(r.status, 401, `${name}: ${route[0]} ${route[1]} -> ${r.status} ${r.text}`);
      assert.equal(r.json.error.code, 'Unauthorized');
      assert.match(r.headers['www-authenticate'], /^Bearer /);
      assert.equal(r.json.error.innererror.tokenProblem, reason, `${name}: ${r.json.error.message}`);
    }
  }
});

test('the seed, cause #1: a subscription Owner is refused on every route, and told the fix', async () => {
  await matrix(adtTok, () => false, 'control-plane-role-only');
  const r = await call(adtTok, ROUTES[1]);
  assert.match(r.json.error.message, /seed cause #1/);
  assert.match(r.json.error.message, /castor dt role-assignment create --dt-name adt1 --assignee admin@castor\.local --role "Azure Digital Twins Data Reader"/);
  assert.match(r.json.error.message, /az dt role-assignment create/);
  assert.equal(r.json.error.innererror.principal.objectId, oid);
  assert.equal(r.json.error.innererror.assignments[0].role, 'Owner');
  assert.equal(r.json.error.innererror.assignments[0].reason, 'control-plane-only');
});

test('Data Reader reads but may not write; the change is effective on the next request', async () => {
  const s = scopes(c);
  const a = await assignRole(c, armTok, s.instance('adt1'), ROLE.dataReader, oid);
  // Data Reader's DataActions: every */read, and query/action (security.md §2).
  const readable = (action) => action.endsWith('/read') || action === `${DT}query/action`;
  await matrix(adtTok, readable, 'role-lacks-data-action');
  const r = await call(adtTok, ROUTES[7]); // PUT twin
  assert.match(r.json.error.message, /"Azure Digital Twins Data Owner"/);
  const del = await arm(c, armTok, 'DELETE', a);
  assert.ok(del.status === 200 || del.status === 204, del.text);
  const again = await call(adtTok, ROUTES[1]);
  assert.equal(again.status, 403);
});

test('Data Owner at the instance, its resource group or its subscription grants everything', async () => {
  const s = scopes(c);
  for (const scope of [s.instance('adt1'), s.group, s.sub]) {
    const a = await assignRole(c, armTok, scope, ROLE.dataOwner, oid);
    await matrix(adtTok, () => true);
    await arm(c, armTok, 'DELETE', a);
  }
});

test('Data Owner on another instance only: refused, and told the role is on another scope', async () => {
  const s = scopes(c);
  const a = await assignRole(c, armTok, s.instance('adt2'), ROLE.dataOwner, oid);
  await matrix(adtTok, () => false, 'assignment-on-another-scope');
  // ...while adt2 itself is open to it.
  const r = await call(adtTok, ROUTES[1], 'adt2');
  assert.ok(r.status !== 403 && r.status !== 401, r.text);
  await arm(c, armTok, 'DELETE', a);
});

test('a custom role with a NotDataActions carve-out grants all but the carved action', async () => {
  const s = scopes(c);
  const a = await assignRole(c, armTok, s.instance('adt1'), customRole, oid);
  await matrix(adtTok, (action) => action !== `${DT}digitaltwins/write`, 'removed-by-not-data-actions');
  await arm(c, armTok, 'DELETE', a);
});

test('unknown instance is 404 before any token check', async () => {
  const r = await dp(c, null, 'GET', '/dt/nope/models');
  assert.equal(r.status, 404);
});

test('--compat-empty-403 answers like Azure: 403, no body', async () => {
  const c2 = await startCastor({ args: ['--compat-empty-403'] });
  try {
    const t = await userToken(c2, ARM_SCOPE);
    await createInstance(c2, t, 'adt1');
    const d = await userToken(c2, ADT_SCOPE);
    const r = await dp(c2, d, 'GET', '/dt/adt1/models');
    assert.equal(r.status, 403);
    assert.equal(r.text, '');
    assert.equal(r.headers['content-length'], '0');
    assert.match(c2.stderr(), /"cause":"control-plane-role-only"/, 'the explanation is still logged');
  } finally {
    await stopCastor(c2);
  }
});

test('--rbac-propagation-delay holds a role change back and says when it lands', async () => {
  const c3 = await startCastor({ args: ['--rbac-propagation-delay', '3s'] });
  try {
    const t = await userToken(c3, ARM_SCOPE);
    const i = await createInstance(c3, t, 'adt1');
    const d = await userToken(c3, ADT_SCOPE);
    await assignRole(c3, t, i, ROLE.dataReader, claims(d).oid);
    const early = await dp(c3, d, 'GET', '/dt/adt1/models');
    assert.equal(early.status, 403);
    assert.match(early.json.error.message, /still propagating.*takes effect at/);
    assert.ok(early.json.error.innererror.roleChangePendingUntil);
    await new Promise((res) => setTimeout(res, 3500));
    const late = await dp(c3, d, 'GET', '/dt/adt1/models');
    assert.ok(late.status !== 403, late.text);
  } finally {
    await stopCastor(c3);
  }
});
