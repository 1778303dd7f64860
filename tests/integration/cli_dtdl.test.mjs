// cli_dtdl.test.mjs — `castor dtdl validate` as a user runs it, offline (no server, no sign-in):
// model sources given bare after the command (FILE|DIR, one or more), with --models, or both,
// and the verdicts and exit codes each form gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, clientHome } from './cli_helpers.mjs';

const iface = (id, extra = {}) => JSON.stringify({ '@context': 'dtmi:dtdl:context;3', '@id': id, '@type': 'Interface', ...extra });

// A folder of two models that belong together (B extends A), and a model C outside it that
// extends B, so C is valid only when validated together with the folder.
function models() {
  const home = clientHome();
  const dir = join(home.dir, 'Ontology');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'A.json'), iface('dtmi:ex:A;1'));
  writeFileSync(join(dir, 'sub', 'B.json'), iface('dtmi:ex:B;1', { extends: 'dtmi:ex:A;1' }));
  writeFileSync(join(home.dir, 'C.json'), iface('dtmi:ex:C;1', { extends: 'dtmi:ex:B;1' }));
  return home;
}

test('castor dtdl validate takes files and folders bare, like --models, and both together', async () => {
  const home = models();
  for (const args of [['Ontology'], ['--models', 'Ontology'], ['Ontology/A.json', 'Ontology/sub/B.json']]) {
    const r = await cli(home, ['dtdl', 'validate', ...args]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.json.length, 1);
    assert.equal(r.json[0].valid, true);
    assert.equal(r.json[0].models, 2);
  }
  // Sources add up whichever way they are given: C resolves only with the folder.
  for (const args of [['Ontology', 'C.json'], ['C.json', '--models', 'Ontology'], ['Ontology', '-o', 'json', 'C.json']]) {
    const r = await cli(home, ['dtdl', 'validate', ...args]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.json[0].models, 3, args.join(' '));
  }
});

test('castor dtdl validate FILE alone reports what is missing and exits 1; no source exits 2', async () => {
  const home = models();
  const r = await cli(home, ['dtdl', 'validate', 'C.json']);
  assert.equal(r.code, 1);
  assert.equal(r.json[0].valid, false);
  assert.equal(r.json[0].errors[0].code, 'unresolvedReference');
  assert.match(r.stderr, /1 of the model sets is invalid/);
  const each = await cli(home, ['dtdl', 'validate', '--each', 'Ontology/A.json', 'C.json']);
  assert.equal(each.code, 1);
  assert.deepEqual(each.json.map((v) => v.valid), [true, false]);
  const none = await cli(home, ['dtdl', 'validate']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /required: --models \(or FILE\|DIR\|JSON without the flag\)/);
  const missing = await cli(home, ['dtdl', 'validate', 'nowhere.json']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nowhere\.json/);
});
