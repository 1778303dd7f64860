// make_expected.mjs — writes expected.json: every case's answer by its oracle (cases.mjs) over
// the fixed graph (graph.mjs). Run by hand when a case or the graph changes; review the diff.
import { writeFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGraph } from './graph.mjs';
import { oracle } from './cases.mjs';
import { REC_DIR, WING } from './rec.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// Model ancestry straight from the ontology files' `extends`.
const ext = new Map([[WING['@id'], []]]);
const walkDir = (d) => readdirSync(d).forEach((f) => {
  const p = join(d, f);
  if (statSync(p).isDirectory()) return walkDir(p);
  const m = JSON.parse(readFileSync(p, 'utf8').replace(/^\uFEFF/, ''));
  ext.set(m['@id'], [].concat(m.extends || []));
});
walkDir(REC_DIR);
const ancestors = (id) => [id, ...(ext.get(id) || []).flatMap(ancestors)];
const g = buildGraph();
const canon = (rows) => rows.map((r) => JSON.stringify(r)).sort();
const cases = oracle(g, ancestors).map(([name, query, fn, opts = {}]) => ({ name, query, ...opts, rows: canon(fn()) }));
const names = new Set(cases.map((c) => c.name));
if (names.size !== cases.length) throw new Error('duplicate case names');
writeFileSync(join(here, 'expected.json'), `${JSON.stringify({ twins: g.twins.length, relationships: g.rels.length, cases }, null, 1)}\n`);
console.log(`${cases.length} cases, ${g.twins.length} twins, ${g.rels.length} relationships`);
