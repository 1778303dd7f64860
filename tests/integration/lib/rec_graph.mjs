// rec_graph.mjs — a RealEstateCore twin graph, generated deterministically from a seed: buildings,
// their levels, rooms and zones on each level, equipment in the rooms, sensors on equipment and
// rooms, joined by the ontology's own relationships (hasPart/isPartOf, locatedIn/isLocationOf,
// hasCapability/isCapabilityOf). Every twin's model, component and property, and every
// relationship's name and target, is checked against the ontology while it is generated, so the
// graph is valid REC by construction (the generator throws otherwise).
//
//   import { recOntologyDir, loadRecModels, recGraph } from './lib/rec_graph.mjs';
//   const dir = recOntologyDir();            // null when ../shared (CASTOR_SHARED) is absent
//   const models = loadRecModels(dir);       // the 767 interfaces, BOMs stripped
//   const g = recGraph(models, { seed: 7 }); // {twins, relationships, counts}
//
// twins are PUT bodies with $dtId added ({$dtId, $metadata: {$model}, props, components});
// relationships are {$relationshipId, $sourceId, $targetId, $relationshipName, props}. The same
// seed and sizes give the same graph, byte for byte (used by the query engine's results test).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const REC = 'dtmi:digitaltwins:rec_3_3:';

// The REC v3 Ontology folder under CASTOR_SHARED (default ../shared next to the repo), or null.
export function recOntologyDir() {
  const shared = process.env.CASTOR_SHARED || resolve(here, '..', '..', '..', '..', 'shared');
  const dir = join(shared, 'ontologies', 'realestatecore', 'Ontology');
  return existsSync(dir) ? dir : null;
}

// Every .json file of a folder tree, parsed (BOMs stripped), in path order.
export function readModelTree(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...readModelTree(p));
    else if (name.endsWith('.json')) out.push(JSON.parse(readFileSync(p, 'utf8').replace(/^\uFEFF/, '')));
  }
  return out;
}

// The REC interfaces of an Ontology folder (recOntologyDir()).
export const loadRecModels = readModelTree;

// mulberry32: a small PRNG whose sequence depends only on the seed.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const types = (c) => [].concat(c['@type']);

// The ontology as a lookup: ancestors, and contents including inherited ones.
function index(models) {
  const byId = new Map(models.map((m) => [m['@id'], m]));
  const ancestors = new Map();
  const anc = (id) => {
    if (ancestors.has(id)) return ancestors.get(id);
    const m = byId.get(id);
    if (!m) throw new Error(`rec_graph: ${id} is not in the ontology`);
    const set = new Set([id]);
    for (const e of [].concat(m.extends ?? [])) if (typeof e === 'string') for (const x of anc(e)) set.add(x);
    ancestors.set(id, set);
    return set;
  };
  const contents = (id) => [...anc(id)].flatMap((a) => byId.get(a).contents ?? []);
  const descendants = (base) => models.map((m) => m['@id']).filter((id) => anc(id).has(base)).sort();
  return { byId, anc, contents, descendants };
}

// Builds the graph. Sizes default to about 1,900 twins and 3,800 relationships.
export function recGraph(models, { seed = 1, buildings = 3, levels = 5, rooms = 10, zones = 2, equipment = 3, sensorsPerEquipment = 2, sensorsPerRoom = 1 } = {}) {
  const rnd = prng(seed);
  const pick = (list) => list[Math.floor(rnd() * list.length)];
  const ont = index(models);
  const kinds = {
    building: [`${REC}core:Building;1`],
    level: [`${REC}core:Level;1`],
    room: ont.descendants(`${REC}core:Room;1`),
    zone: ont.descendants(`${REC}core:Zone;1`),
    equipment: ont.descendants(`${REC}asset:Equipment;1`),
    sensor: ont.descendants(`${REC}core:Sensor;1`),
  };
  for (const [k, v] of Object.entries(kinds)) if (!v.length || !ont.byId.has(v[0])) throw new Error(`rec_graph: no ${k} models`);
  const twins = [];
  const relationships = [];
  const modelOf = new Map();
  const has = (model, name, kind) => ont.contents(model).find((c) => c.name === name && types(c).includes(kind));

  const twin = (id, kind, props) => {
    const model = pick(kinds[kind]);
    const t = { $dtId: id, $metadata: { $model: model } };
    for (const [name, value] of Object.entries(props)) {
      if (!has(model, name, 'Property')) throw new Error(`rec_graph: ${model} has no property ${name}`);
      t[name] = value;
    }
    // Every component the model declares (inherited too), as ADT requires on create.
    for (const c of ont.contents(model)) if (types(c).includes('Component')) t[c.name] = { $metadata: {} };
    twins.push(t);
    modelOf.set(id, model);
    return id;
  };
  // A relationship the source's model declares, to a target its declaration allows.
  const rel = (source, name, target, props = {}) => {
    const decl = has(modelOf.get(source), name, 'Relationship');
    if (!decl) throw new Error(`rec_graph: ${modelOf.get(source)} has no relationship ${name}`);
    if (decl.target && !ont.anc(modelOf.get(target)).has(decl.target))
      throw new Error(`rec_graph: ${name} from ${source} may not target ${modelOf.get(target)}`);
    relationships.push({ $relationshipId: `${name}-${target}`, $sourceId: source, $targetId: target, $relationshipName: name, ...props });
  };
  // Both directions, as REC models containment and location.
  const link = (child, up, parent, down) => { rel(child, up, parent); rel(parent, down, child); };
  const tag = () => ({ generator: `rec_graph/${seed}` });

  for (let b = 0; b < buildings; b++) {
    const bid = twin(`building-${b}`, 'building', { name: `Building ${b}`, externalIds: tag(), personCapacity: 200 + Math.floor(rnd() * 800) });
    for (let l = 0; l < levels; l++) {
      const lid = twin(`${bid}-level-${l}`, 'level', { name: `Level ${l}`, levelNumber: l });
      link(lid, 'isPartOf', bid, 'hasPart');
      for (let z = 0; z < zones; z++) {
        const zid = twin(`${lid}-zone-${z}`, 'zone', { name: `Zone ${b}.${l}.${z}` });
        link(zid, 'isPartOf', lid, 'hasPart');
      }
      for (let r = 0; r < rooms; r++) {
        const rid = twin(`${lid}-room-${r}`, 'room', { name: `Room ${b}.${l}.${r}`, personCapacity: 1 + Math.floor(rnd() * 40), customTags: { occupied: rnd() < 0.5 } });
        link(rid, 'isPartOf', lid, 'hasPart');
        for (let s = 0; s < sensorsPerRoom; s++) {
          const sid = twin(`${rid}-sensor-${s}`, 'sensor', { name: `Room sensor ${s}`, externalIds: tag() });
          link(sid, 'isCapabilityOf', rid, 'hasCapability');
        }
        for (let e = 0; e < equipment; e++) {
          const eid = twin(`${rid}-equipment-${e}`, 'equipment', { name: `Equipment ${e}`, serialNumber: `SN-${seed}-${twins.length}`, weight: Math.round(rnd() * 5000) / 10 });
          link(eid, 'locatedIn', rid, 'isLocationOf');
          for (let s = 0; s < sensorsPerEquipment; s++) {
            const sid = twin(`${eid}-sensor-${s}`, 'sensor', { name: `Sensor ${s}`, lastValueTime: '2024-05-01T12:00:00Z' });
            link(sid, 'isCapabilityOf', eid, 'hasCapability');
          }
        }
      }
    }
  }
  return { twins, relationships, counts: { twins: twins.length, relationships: relationships.length, models: new Set(modelOf.values()).size } };
}

// The graph-comparable form of what GET returns: without $etag, and $metadata reduced to $model
// (ADT stamps lastUpdateTime on every property; the generator cannot know those times).
export function comparable(doc) {
  if (Array.isArray(doc)) return doc.map(comparable);
  if (!doc || typeof doc !== 'object') return doc;
  const out = {};
  for (const k of Object.keys(doc).sort()) {
    if (k === '$etag') continue;
    if (k === '$metadata') { out.$metadata = doc.$metadata.$model ? { $model: doc.$metadata.$model } : {}; continue; }
    out[k] = comparable(doc[k]);
  }
  return out;
}
