// pg_outage.test.mjs — PostgreSQL killed under castor (docs/postgres.md): while the database
// is down castor answers 503 with a message that says so, it recovers by itself when the
// database returns, and nothing it acknowledged is lost. A cluster of its own, started
// without --fast (a crash must not lose a commit PostgreSQL acknowledged). Runs under
// CASTOR_TEST_STORE=postgres (make integration-pg).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chmodSync } from 'node:fs';
import { startNode, stopCastor, request, tempDir, TEST_STORE } from './lib/castor.js';
import { userToken, ARM_SCOPE, arm, scopes } from './lib/azure.js';

const here = dirname(fileURLToPath(import.meta.url));
const pgTmp = resolve(here, '..', '..', 'scripts', 'pg-tmp');
const skip = TEST_STORE !== 'postgres' ? 'needs CASTOR_TEST_STORE=postgres (make integration-pg)' : false;
let c; let cluster;

before(async () => {
  if (skip) return;
  const parent = tempDir('castor-pgout-');
  chmodSync(parent, 0o711);
  cluster = join(parent, 'cluster');
  execFileSync(pgTmp, ['start', cluster], { stdio: 'ignore' });
  const url = execFileSync(pgTmp, ['createdb', cluster, 'outage'], { encoding: 'utf8' }).trim();
  // One process, also under make integration-scale: what is asserted is castor's own answer
  // (503 and why), not what nginx in front makes of a node's failure (its 502 page).
  c = await startNode({ args: ['--store', url] });
});
after(async () => {
  if (c) await stopCastor(c);
  if (cluster) execFileSync(pgTmp, ['stop', cluster], { stdio: 'ignore' });
});

test('kill -9 of the postmaster: 503 saying why, recovery on its own, nothing acknowledged lost', { skip }, async () => {
  const tok = await userToken(c, ARM_SCOPE);
  const s = scopes(c, 'before-crash');
  let r = await arm(c, tok, 'PUT', s.group, { location: 'westus2' });
  assert.ok(r.status === 201 || r.status === 200, r.text);

  execFileSync(pgTmp, ['crash', cluster]);
  r = await request(c, 'GET', '/readyz');
  assert.equal(r.status, 503, r.text);
  assert.match(r.text, /PostgreSQL/);
  r = await arm(c, tok, 'GET', s.group);
  assert.equal(r.status, 503, r.text);

  execFileSync(pgTmp, ['restart', cluster]);
  r = await request(c, 'GET', '/readyz');
  assert.equal(r.status, 200, r.text);
  r = await arm(c, tok, 'GET', s.group);
  assert.equal(r.status, 200, `the group acknowledged before the crash: ${r.text}`);
  const after = scopes(c, 'after-crash');
  r = await arm(c, tok, 'PUT', after.group, { location: 'westus2' });
  assert.ok(r.status === 201 || r.status === 200, r.text);
});
