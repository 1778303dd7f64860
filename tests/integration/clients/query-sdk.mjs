// query-sdk.mjs — runs the query suite's cases (query/expected.json) through the unmodified
// @azure/digital-twins-core queryTwins, page by page, and compares each answer with the
// expected rows written out there. Also the error forms an SDK user meets.
// Usage: CASTOR_DT_ENDPOINT=... CASTOR_DT_TOKEN=... node query-sdk.mjs results|errors
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DigitalTwinsClient } from '@azure/digital-twins-core';

const here = dirname(fileURLToPath(import.meta.url));
const token = process.env.CASTOR_DT_TOKEN;
const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600e3 }) };
const client = new DigitalTwinsClient(process.env.CASTOR_DT_ENDPOINT, credential);

// Whole documents carry server-made ETags and times: compare them by identity.
function norm(v) {
  if (Array.isArray(v)) return v.map(norm);
  if (v === null || typeof v !== 'object') return v;
  if (typeof v.$dtId === 'string' && v.$metadata && typeof v.$metadata.$model === 'string' && typeof v.$etag === 'string') return `twin:${v.$dtId}`;
  if (typeof v.$relationshipId === 'string' && typeof v.$sourceId === 'string' && typeof v.$etag === 'string') return `rel:${v.$sourceId}/${v.$relationshipId}`;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
}

async function run(c) {
  const pages = [];
  const iter = c.pageSize ? client.queryTwins(c.query, c.pageSize) : client.queryTwins(c.query);
  for await (const page of iter.byPage()) pages.push(page);
  return pages;
}

async function results() {
  const { cases } = JSON.parse(readFileSync(join(here, '..', 'query', 'expected.json'), 'utf8'));
  const failures = [];
  let checked = 0;
  for (const c of cases) {
    try {
      const pages = await run(c);
      const rows = pages.flatMap((p) => p.value || []).map((r) => JSON.stringify(norm(r)));
      assert.equal(pages.at(-1).continuationToken ?? null, null, 'the last page has no token');
      const size = c.pageSize || 100;
      pages.slice(0, -1).forEach((p, i) => assert.equal(p.value.length, size, `page ${i + 1} holds ${p.value.length} rows, not ${size}`));
      if (c.top !== undefined) {
        const want = Math.min(c.top, c.rows.length);
        assert.equal(rows.length, want, `TOP returned ${rows.length} rows`);
        assert.equal(new Set(rows).size, rows.length, 'TOP rows are distinct');
        for (const r of rows) assert.ok(c.rows.includes(r), `TOP row ${r} is not a match`);
      } else {
        assert.deepEqual(rows.sort(), c.rows);
      }
      checked++;
    } catch (e) {
      failures.push(`${c.name}: ${c.query}\n    ${String(e.message).split('\n').slice(0, 12).join('\n    ')}`);
    }
  }
  console.log(`${checked} of ${cases.length} query cases matched their expected results`);
  if (failures.length) {
    console.log(failures.join('\n'));
    process.exit(1);
  }
}

async function rejects(q, code, phrase, pageSize) {
  try {
    for await (const page of client.queryTwins(q, pageSize).byPage()) void page;
  } catch (e) {
    assert.equal(e.statusCode, 400, `${q}: ${e.statusCode} ${e.message}`);
    assert.equal(e.code, code, `${q}: ${e.code} ${e.message}`);
    if (phrase) assert.ok(e.message.includes(phrase), `${q}: message "${e.message}" lacks "${phrase}"`);
    return;
  }
  assert.fail(`${q} was accepted`);
}

async function errors() {
  await rejects('SELECT * FROM (SELECT * FROM DIGITALTWINS)', 'SqlQueryError', 'position');
  await rejects('SELECT * FROM DIGITALTWINS WHERE', 'SqlQueryError', 'position 33');
  await rejects("SELECT * FROM DIGITALTWINS T JOIN C RELATED T.contains WHERE T.$dtId = 'x'", 'SqlQueryError', 'SELECT *');
  await rejects('SELECT C FROM DIGITALTWINS T JOIN C RELATED T.contains', 'SqlQueryError', '$dtId');
  await rejects("SELECT * FROM RELATIONSHIPS R JOIN C RELATED R.x WHERE R.$dtId = 'x'", 'SqlQueryError');
  await rejects("SELECT B FROM DIGITALTWINS MATCH (A)-[r*2]->(B) WHERE A.$dtId = 'x'", 'SqlQueryError', 'hop');
  await rejects('SELECT * FROM DIGITALTWINS WHERE FOO(name)', 'SqlQueryError');
  await rejects(`SELECT * FROM DIGITALTWINS WHERE name IN [${Array.from({ length: 101 }, (_, i) => `'${i}'`).join(',')}]`, 'SqlQueryError');
  await rejects(`SELECT * FROM DIGITALTWINS WHERE ${Array.from({ length: 52 }, (_, i) => `a = ${i}`).join(' AND ')}`, 'SqlQueryError');
  await rejects(`SELECT * FROM DIGITALTWINS WHERE name = '${'x'.repeat(8000)}'`, 'SqlQueryError');
  console.log('error forms: ok');
}

const scenarios = { results, errors };
await scenarios[process.argv[2]]();
