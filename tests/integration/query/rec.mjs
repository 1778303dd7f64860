// rec.mjs — the RealEstateCore (REC 3.3, DTDL v2 snapshot) interfaces the query suite's graph
// uses, with every interface they reference, in upload batches whose dependencies come first.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SHARED = process.env.CASTOR_SHARED || resolve(here, '../../../../shared');
export const REC_DIR = join(SHARED, 'ontologies/realestatecore/dtdlv2-snapshot/Ontology');
export const recAvailable = () => existsSync(REC_DIR);

export const REC = (area, name) => `dtmi:digitaltwins:rec_3_3:${area}:${name};1`;
export const M = {
  space: REC('core', 'Space'), building: REC('core', 'Building'), level: REC('core', 'Level'),
  room: REC('core', 'Room'), conference: REC('building', 'ConferenceRoom'), office: REC('building', 'Office'),
  hallway: REC('building', 'Hallway'), bathroom: REC('building', 'Bathroom'),
  capability: REC('core', 'Capability'), sensor: REC('core', 'Sensor'), quantity: REC('device', 'QuantitySensor'),
  temperature: REC('device', 'TemperatureSensor'), humidity: REC('device', 'HumiditySensor'),
  occupancy: REC('device', 'OccupancySensor'),
  wing: 'dtmi:castor:test:Wing;1',
};

function files(dir, out = []) {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) files(p, out); else if (f.endsWith('.json')) out.push(p);
  }
  return out;
}

// A DTDL v3 interface of castor's own, for what REC has none of: array properties
// (ARRAY_CONTAINS) and relationship properties.
export const WING = {
  '@id': M.wing, '@type': 'Interface', '@context': 'dtmi:dtdl:context;3', displayName: 'Wing',
  contents: [
    { '@type': 'Property', name: 'name', schema: 'string' },
    { '@type': 'Property', name: 'floors', schema: { '@type': 'Array', elementSchema: 'integer' } },
    { '@type': 'Property', name: 'labels', schema: { '@type': 'Array', elementSchema: 'string' } },
    { '@type': 'Property', name: 'open', schema: 'boolean' },
    { '@type': 'Relationship', name: 'connectsTo',
      properties: [{ '@type': 'Property', name: 'distance', schema: 'integer' },
        { '@type': 'Property', name: 'accessible', schema: 'boolean' }] },
  ],
};

// Upload batches: the closure of the roots over every DTMI an interface mentions.
export function recBatches() {
  const byId = new Map();
  for (const f of files(REC_DIR)) {
    const d = JSON.parse(readFileSync(f, 'utf8').replace(/^\uFEFF/, ''));
    byId.set(d['@id'], d);
  }
  const refs = (d) => [...new Set((JSON.stringify(d).match(/dtmi:digitaltwins:[A-Za-z0-9_:]+;1/g) || []))].filter((x) => x !== d['@id'] && byId.has(x));
  const need = new Set();
  const stack = [M.building, M.level, M.conference, M.office, M.hallway, M.bathroom, M.room, M.temperature, M.humidity, M.occupancy];
  while (stack.length) {
    const id = stack.pop();
    if (need.has(id)) continue;
    need.add(id);
    stack.push(...refs(byId.get(id)));
  }
  // Topological levels: an interface goes after everything it mentions (cycles share a batch).
  const batches = [];
  const done = new Set();
  let left = [...need].sort();
  while (left.length) {
    let ready = left.filter((id) => refs(byId.get(id)).every((r) => done.has(r) || !need.has(r)));
    if (!ready.length) ready = left; // a reference cycle: upload the rest together
    for (let i = 0; i < ready.length; i += 200) batches.push(ready.slice(i, i + 200).map((id) => byId.get(id)));
    ready.forEach((id) => done.add(id));
    left = left.filter((id) => !done.has(id));
  }
  batches.push([WING]);
  return batches;
}
