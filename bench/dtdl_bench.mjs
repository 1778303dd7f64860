// dtdl_bench.mjs — the official @azure/dtdl-parser (1.0.0-beta.2, from tests/integration's
// node_modules) on the same files as dtdl_bench.c: every interface as one parse() call.
// Prints "<interfaces> <median ms>".  node bench/dtdl_bench.mjs FOLDER [RUNS]
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, '..', 'tests', 'integration', 'package.json'));
const { createParser, ModelParsingOption } = require('@azure/dtdl-parser');

const walk = (d) => readdirSync(d).sort().flatMap((n) => {
  const p = join(d, n);
  return statSync(p).isDirectory() ? walk(p) : n.endsWith('.json') ? [p] : [];
});
const texts = walk(process.argv[2]).map((p) => readFileSync(p, 'utf8').replace(/^\uFEFF/, ''));
const runs = Number(process.argv[3] || 5);
const ms = [];
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  await createParser(ModelParsingOption.None).parse(texts);
  ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
ms.sort((a, b) => a - b);
console.log(`${texts.length} ${ms[Math.floor(runs / 2)].toFixed(3)}`);
