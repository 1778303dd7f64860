// graph.mjs — the query suite's fixed graph, RealEstateCore-shaped: 4 buildings, 5 levels each,
// 30 rooms per level (Room, ConferenceRoom, Office, Hallway, Bathroom), 4 sensors per room
// (temperature, humidity, occupancy, and a second temperature sensor on every third room),
// plus 12 castor Wing twins with array properties and relationship properties. Deterministic:
// the same twins, values and relationships every run (a fixed LCG, no clock, no Math.random).
import { M } from './rec.mjs';

function lcg(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

export function buildGraph({ buildings = 4, levels = 5, rooms = 30 } = {}) {
  const rnd = lcg(20240601);
  const twins = [];
  const rels = [];
  const comps = (extra = {}) => ({ area: { $metadata: {} }, capacity: { $metadata: {} }, occupancy: { $metadata: {} },
    temperature: { $metadata: {} }, humidity: { $metadata: {} }, CO2: { $metadata: {} }, ...extra });
  const capComp = () => ({ categorizationProperties: { $metadata: {} } });
  const rel = (src, name, tgt, props = {}) => rels.push({ $relationshipId: `${name}-${tgt}`, $sourceId: src, $targetId: tgt, $relationshipName: name, ...props });
  const roomModels = [M.room, M.conference, M.office, M.hallway, M.bathroom];
  for (let b = 1; b <= buildings; b++) {
    const bid = `B${b}`;
    const bt = { $dtId: bid, $metadata: { $model: M.building }, name: `Building ${b}`, personCapacity: 500 * b,
      customTags: b % 2 ? { green: true, leed: b === 1 } : {}, externalIds: { erp: `ERP-${1000 + b}` },
      ...comps({ address: { $metadata: {}, city: b <= 2 ? 'Stockholm' : 'Malmö', country: 'Sweden', postalCode: `1${b}0 00` } }) };
    if (b === 4) bt.name = "Building 4 'Annex'";
    twins.push(bt);
    for (let l = 0; l < levels; l++) {
      const lid = `${bid}-L${l}`;
      twins.push({ $dtId: lid, $metadata: { $model: M.level }, name: `Level ${l}`, levelNumber: l, ...comps() });
      rel(bid, 'hasPart', lid);
      rel(lid, 'isPartOf', bid);
      for (let r = 0; r < rooms; r++) {
        const rid = `${lid}-R${String(r).padStart(2, '0')}`;
        const model = roomModels[r % roomModels.length];
        const t = { $dtId: rid, $metadata: { $model: model }, name: `Room ${b}.${l}.${r}`,
          ...comps({ area: { $metadata: {}, grossArea: 10 + ((b * 7 + l * 3 + r) % 40) } }) };
        if (r % 4 !== 3) t.personCapacity = 2 + ((b + l * 2 + r) % 19);
        if (r % 5 === 1) t.personOccupancy = Math.floor(rnd() * 10);
        if (r % 7 === 0) t.customTags = { window: true, corner: r % 14 === 0 };
        if (r % 6 === 2) t.externalIds = { bms: `BMS-${b}${l}${r}` };
        if (r % 9 === 4) t.temperature = { $metadata: {}, temperatureSetpoint: 19 + (r % 5) + 0.5 };
        twins.push(t);
        rel(lid, 'hasPart', rid);
        rel(rid, 'isPartOf', lid);
        const sensors = [['T', M.temperature], ['H', M.humidity], ['O', M.occupancy]];
        if (r % 3 === 0) sensors.push(['T2', M.temperature]);
        for (const [suffix, sm] of sensors) {
          const sid = `${rid}-${suffix}`;
          const s = { $dtId: sid, $metadata: { $model: sm }, name: `${suffix} sensor ${rid}`, ...capComp() };
          if (sm !== M.occupancy && (b + l + r) % 8 !== 0)
            s.lastValue = sm === M.temperature ? Math.round((16 + rnd() * 12) * 10) / 10 : Math.round(20 + rnd() * 60);
          if (suffix === 'T' && r % 10 === 0) s.lastValueTime = `2024-0${1 + (l % 9)}-1${b}T08:00:00Z`;
          twins.push(s);
          rel(rid, 'hasCapability', sid);
          if (suffix !== 'O') rel(sid, 'isCapabilityOf', rid);
        }
      }
    }
  }
  for (let w = 1; w <= 12; w++) {
    const wid = `W${String(w).padStart(2, '0')}`;
    const t = { $dtId: wid, $metadata: { $model: M.wing }, name: `Wing ${w}`,
      floors: [w % 3, (w % 3) + 1, w], labels: w % 2 ? ['north', 'lab'] : ['south'] };
    if (w % 4 !== 0) t.open = w % 3 !== 0;
    twins.push(t);
  }
  for (let w = 1; w < 12; w++) {
    const props = { distance: w * 10 };
    if (w % 3 !== 0) props.accessible = w % 2 === 1;
    rel(`W${String(w).padStart(2, '0')}`, 'connectsTo', `W${String(w + 1).padStart(2, '0')}`, props);
  }
  rel('W12', 'connectsTo', 'W01', { distance: 5, accessible: true }); // a cycle
  rel('W01', 'connectsTo', 'W05', { distance: 40 });
  return { twins, rels };
}
