// seed-az.test.mjs — runs sh/seed_az.sh: the seed's cause #1 and its fix with Debian's real
// Azure CLI (az rest for the data plane). Skipped when /usr/bin/az is not installed.
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

test('the seed with the real az: 403 naming cause #1, then the fix works on the next call',
  { skip: !haveAz && 'no /usr/bin/az (Debian package azure-cli)', timeout: 300000 }, async () => {
    const { code, stdout, stderr } = await new Promise((resolve) => {
      execFile('bash', [join(here, 'sh', 'seed_az.sh')], {
        env: { ...process.env, CASTOR_BIN: CASTOR_BINARY, CASTOR_URL: c.url, CASTOR_CA: c.connection.caFile,
          SUB: c.connection.subscriptionId, ADMIN_PW: 'Castor-Test-Pw-1' },
        timeout: 280000, maxBuffer: 16 << 20,
      }, (e, so, se) => resolve({ code: e ? e.code ?? 1 : 0, stdout: so, stderr: se }));
    });
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /seed_az\.sh: all checks passed/);
  });
