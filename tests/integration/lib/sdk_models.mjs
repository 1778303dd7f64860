// sdk_models.mjs — runs steps against castor through the UNMODIFIED @azure/digital-twins-core
// in its own node process (NODE_EXTRA_CA_CERTS is read only at start, so the parent test
// spawns this with it set). Input (env SDK_STEPS): [{op, args}]; output on stdout: one JSON
// array with {ok, value} or {ok:false, statusCode, code, message} per step.
import { DigitalTwinsClient } from '@azure/digital-twins-core';
import { readModelTree } from './rec_graph.mjs';

const endpoint = process.env.SDK_ENDPOINT;
const token = process.env.SDK_TOKEN;
// A TokenCredential handing out the token `castor account get-access-token` gave the test.
const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600e3 }) };
const client = new DigitalTwinsClient(endpoint, credential);


// Batches of at most `max`, each model after what it extends or uses as a component.
function batches(models, max) {
  const byId = new Map(models.map((m) => [m['@id'], m]));
  const deps = (m) => {
    const d = new Set();
    const ext = m.extends ? [].concat(m.extends) : [];
    for (const e of ext) if (typeof e === 'string') d.add(e);
    for (const c of m.contents || []) {
      const t = [].concat(c['@type']);
      if (t.includes('Component') && typeof c.schema === 'string') d.add(c.schema);
    }
    return [...d].filter((x) => byId.has(x));
  };
  const done = new Set();
  const order = [];
  const visit = (m) => {
    if (done.has(m['@id'])) return;
    done.add(m['@id']);
    for (const d of deps(m)) visit(byId.get(d));
    order.push(m);
  };
  models.forEach(visit);
  const out = [];
  for (let i = 0; i < order.length; i += max) out.push(order.slice(i, i + max));
  return out;
}

const ops = {
  createModels: async (models) => (await client.createModels(models)).map((m) => m.id),
  createModelsRaw: async (models) => client.createModels(models),
  getModel: async (id, includeModelDefinition) => client.getModel(id, !!includeModelDefinition),
  decomissionModel: async (id) => { await client.decomissionModel(id); return null; },
  deleteModel: async (id) => { await client.deleteModel(id); return null; },
  // 1.1.0's signature is positional: listModels(dependenciesFor, includeModelDefinition).
  listModels: async (deps, includeDef = false, maxPageSize) => {
    const ids = [];
    let pages = 0;
    const it = client.listModels(deps, includeDef).byPage(maxPageSize ? { maxPageSize } : undefined);
    for await (const page of it) {
      pages++;
      for (const m of page.value ?? page) ids.push({ id: m.id, hasModel: !!m.model, decommissioned: m.decommissioned });
    }
    return { pages, ids };
  },
  uploadFolder: async (dir, max) => {
    const bs = batches(readModelTree(dir), max);
    let n = 0;
    for (const b of bs) n += (await client.createModels(b)).length;
    return { batches: bs.length, created: n, largest: Math.max(...bs.map((b) => b.length)) };
  },
};

const results = [];
for (const { op, args = [] } of JSON.parse(process.env.SDK_STEPS)) {
  try {
    results.push({ ok: true, value: await ops[op](...args) });
  } catch (e) {
    results.push({ ok: false, statusCode: e.statusCode, code: e.code, message: e.message, details: e.details });
  }
}
process.stdout.write(JSON.stringify(results));
