// arm_az.test.mjs — runs sh/arm_az.sh: Debian's real Azure CLI 2.45 against castor's resource
// manager (cloud registered from `castor cloud-config`, az login -u/-p, az group|resource,
// az role assignment list --all/create/list/delete, role assignment PUT/GET/DELETE through
// az rest with every api-version az sends, a non-Owner refused with ARM's exact
// AuthorizationFailed message). Skipped when /usr/bin/az is not installed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCastor, stopCastor, CASTOR_BINARY } from './lib/castor.js';

const here = dirname(fileURLToPath(import.meta.url));
const haveAz = existsSync('/usr/bin/az') && existsSync('/usr/bin/python3');
let c;
before(async () => { if (haveAz) c = await startCastor(); });
after(async () => { if (c) await stopCastor(c); });

test('the real az CLI manages groups, instances and role assignments; a non-Owner is refused',
  { skip: !haveAz && 'no /usr/bin/az (Debian package azure-cli)', timeout: 300000 }, async () => {
    const { code, stdout, stderr } = await new Promise((resolve) => {
      execFile('bash', [join(here, 'sh', 'arm_az.sh')], {
        env: {
          ...process.env, CASTOR_BIN: CASTOR_BINARY, CASTOR_URL: c.url, CASTOR_CA: c.connection.caFile,
          SUB: c.connection.subscriptionId, TENANT: c.connection.tenantId, ADMIN_PW: 'Castor-Test-Pw-1',
        },
        timeout: 280000,
        maxBuffer: 16 << 20,
      }, (e, so, se) => resolve({ code: e ? e.code ?? 1 : 0, stdout: so, stderr: se }));
    });
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /arm_az\.sh: all checks passed/);
    assert.ok((stdout.match(/^ok - /gm) || []).length >= 60, stdout);
  });
