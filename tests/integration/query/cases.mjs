// cases.mjs — the query suite: each case is a query and an ORACLE, plain JavaScript over the
// generated graph that answers the same question without any query engine. make_expected.mjs
// runs the oracles once and writes expected.json; the test compares castor's answers (through
// the unmodified SDK) with that file, never with anything castor computes.
//
// Rows are normalized before comparison: a twin document becomes "twin:<$dtId>", a relationship
// document "rel:<$sourceId>/<$relationshipId>" (documents carry server-made ETags and times).
import { M } from './rec.mjs';

const B = M.building, L = M.level, ROOM = M.room, CONF = M.conference, OFF = M.office, TEMP = M.temperature,
  HUM = M.humidity, OCC = M.occupancy;

export function oracle(g, ancestors) {
  const byId = new Map(g.twins.map((t) => [t.$dtId, t]));
  const T = g.twins;
  const tw = (t) => `twin:${t.$dtId}`;
  const rl = (r) => `rel:${r.$sourceId}/${r.$relationshipId}`;
  const isOf = (t, m, exact) => (exact ? t.$metadata.$model === m : ancestors(t.$metadata.$model).includes(m));
  const get = (o, path) => path.split('.').reduce((v, k) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v[k] : undefined), o);
  const num = (v) => typeof v === 'number';
  const out = (id, name) => g.rels.filter((r) => r.$sourceId === id && (!name || r.$relationshipName === name));
  const inc = (id, name) => g.rels.filter((r) => r.$targetId === id && (!name || r.$relationshipName === name));
  const count = (n) => [{ COUNT: n }];
  const ids = (list) => list.map(tw);
  // Paths from start over edges (dir 'out' | 'in' | 'any', names or null), never reusing a
  // relationship, of min..max hops: the set of end twins.
  const walk = (start, dir, names, min, max) => {
    const ends = new Set();
    const go = (at, used, d) => {
      if (d >= min) ends.add(at);
      if (d === max) return;
      for (const r of g.rels) {
        if (names && !names.includes(r.$relationshipName)) continue;
        const key = rl(r);
        if (used.has(key)) continue;
        const nexts = [];
        if ((dir === 'out' || dir === 'any') && r.$sourceId === at) nexts.push(r.$targetId);
        if ((dir === 'in' || dir === 'any') && r.$targetId === at) nexts.push(r.$sourceId);
        for (const n of nexts) go(n, new Set([...used, key]), d + 1);
      }
    };
    go(start, new Set(), 0);
    return [...ends];
  };
  const rooms = T.filter((t) => isOf(t, ROOM));
  const sensors = T.filter((t) => isOf(t, M.sensor));
  const cases = [
    // ---- SELECT / FROM / COUNT / TOP ----
    ['count all twins', 'SELECT COUNT() FROM DIGITALTWINS', () => count(T.length)],
    ['count all relationships', 'SELECT COUNT() FROM RELATIONSHIPS', () => count(g.rels.length)],
    ['star by $dtId, no alias', "SELECT * FROM DIGITALTWINS WHERE $dtId = 'B1'", () => ['twin:B1']],
    ['star by $dtId, alias', "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'B2-L3'", () => ['twin:B2-L3']],
    ['lower-case keywords', "select * from digitaltwins t where t.$dtId = 'B1-L0-R00'", () => ['twin:B1-L0-R00']],
    ['collection projection with IN', "SELECT T FROM DIGITALTWINS T WHERE T.$dtId IN ['B1', 'B3', 'nope']", () => [{ T: 'twin:B1' }, { T: 'twin:B3' }]],
    ['missing id is empty', "SELECT * FROM DIGITALTWINS WHERE $dtId = 'b1'", () => []],
    ['TOP(5) whole twins', `SELECT TOP(5) FROM DIGITALTWINS WHERE IS_OF_MODEL('${TEMP}')`, () => ids(T.filter((t) => isOf(t, TEMP))), { top: 5 }],
    ['TOP with a projection', "SELECT TOP(3) T.$dtId FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 'B1-L0-R0')", () => T.filter((t) => t.$dtId.startsWith('B1-L0-R0')).map((t) => ({ $dtId: t.$dtId })), { top: 3 }],
    ['TOP larger than the result', "SELECT TOP(50) FROM DIGITALTWINS T WHERE T.$dtId IN ['W01', 'W02']", () => ['twin:W01', 'twin:W02']],
    ['property projection omits undefined', `SELECT name, personCapacity FROM DIGITALTWINS WHERE IS_OF_MODEL('${L}') AND STARTSWITH($dtId, 'B1-')`, () => T.filter((t) => t.$metadata.$model === L && t.$dtId.startsWith('B1-')).map((t) => ({ name: t.name }))],
    ['AS aliases', "SELECT T.name AS n, T.levelNumber AS lvl FROM DIGITALTWINS T WHERE T.$dtId IN ['B1-L0', 'B1-L4']", () => [{ n: 'Level 0', lvl: 0 }, { n: 'Level 4', lvl: 4 }]],
    ['component property projection', `SELECT T.address.city AS city, T.name FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${B}')`, () => T.filter((t) => t.$metadata.$model === B).map((t) => ({ city: t.address.city, name: t.name }))],
    ['map projection', "SELECT T.customTags FROM DIGITALTWINS T WHERE T.$dtId IN ['B1', 'B2', 'B3']", () => ['B1', 'B2', 'B3'].map((id) => ({ customTags: byId.get(id).customTags }))],
    ['array projection', "SELECT W.floors, W.labels FROM DIGITALTWINS W WHERE W.$dtId = 'W07'", () => [{ floors: byId.get('W07').floors, labels: byId.get('W07').labels }]],
    ['system property projections', "SELECT T.$dtId, T.$metadata.$model FROM DIGITALTWINS T WHERE T.$dtId = 'B1-L0'", () => [{ $dtId: 'B1-L0', $model: L }]],
    ['projection mixing collection and property', "SELECT T.name AS label, T FROM DIGITALTWINS T WHERE T.$dtId = 'W02'", () => [{ label: 'Wing 2', T: 'twin:W02' }]],
    // ---- IS_OF_MODEL ----
    ['IS_OF_MODEL building', `SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('${B}')`, () => ids(T.filter((t) => isOf(t, B)))],
    ['IS_OF_MODEL Space (ancestor)', `SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('${M.space}')`, () => count(T.filter((t) => isOf(t, M.space)).length)],
    ['IS_OF_MODEL Room includes subtypes', `SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('${ROOM}')`, () => count(rooms.length)],
    ['IS_OF_MODEL Room exact', `SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('${ROOM}', exact)`, () => count(T.filter((t) => t.$metadata.$model === ROOM).length)],
    ['IS_OF_MODEL Capability with alias', `SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${M.capability}')`, () => count(sensors.length)],
    ['IS_OF_MODEL QuantitySensor (abstract middle)', `SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('${M.quantity}')`, () => count(T.filter((t) => isOf(t, M.quantity)).length)],
    ['IS_OF_MODEL exact on an abstract model', `SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('${M.quantity}', exact)`, () => count(0)],
    ['IS_OF_MODEL unknown model', "SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:example:nothing;1')", () => count(0)],
    ['IS_OF_MODEL older version matches', `SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('${M.wing.replace(';1', ';0')}')`, () => count(T.filter((t) => t.$metadata.$model === M.wing).length)],
    ['IS_OF_MODEL newer version does not', `SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('${M.wing.replace(';1', ';2')}')`, () => count(0)],
    ['IS_OF_MODEL exact + property filter', `SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${OFF}', exact) AND T.personCapacity > 15`, () => T.filter((t) => t.$metadata.$model === OFF && num(t.personCapacity) && t.personCapacity > 15).map((t) => ({ $dtId: t.$dtId }))],
    ['$metadata.$model equality', `SELECT COUNT() FROM DIGITALTWINS T WHERE T.$metadata.$model = '${CONF}'`, () => count(T.filter((t) => t.$metadata.$model === CONF).length)],
    // ---- comparisons and type semantics ----
    ['greater than', 'SELECT COUNT() FROM DIGITALTWINS WHERE personCapacity > 10', () => count(T.filter((t) => num(t.personCapacity) && t.personCapacity > 10).length)],
    ['greater or equal', 'SELECT COUNT() FROM DIGITALTWINS WHERE personCapacity >= 10', () => count(T.filter((t) => num(t.personCapacity) && t.personCapacity >= 10).length)],
    ['less than', 'SELECT COUNT() FROM DIGITALTWINS T WHERE T.personCapacity < 5', () => count(T.filter((t) => num(t.personCapacity) && t.personCapacity < 5).length)],
    ['less or equal', 'SELECT COUNT() FROM DIGITALTWINS T WHERE T.personCapacity <= 5', () => count(T.filter((t) => num(t.personCapacity) && t.personCapacity <= 5).length)],
    ['equal number', 'SELECT T.$dtId FROM DIGITALTWINS T WHERE T.personCapacity = 20', () => T.filter((t) => t.personCapacity === 20).map((t) => ({ $dtId: t.$dtId }))],
    ['not equal only where defined', 'SELECT COUNT() FROM DIGITALTWINS T WHERE T.personCapacity != 5', () => count(T.filter((t) => num(t.personCapacity) && t.personCapacity !== 5).length)],
    ['integer equals double literal', 'SELECT COUNT() FROM DIGITALTWINS T WHERE T.personCapacity = 12.0', () => count(T.filter((t) => t.personCapacity === 12).length)],
    ['literal on the left', 'SELECT COUNT() FROM DIGITALTWINS T WHERE 10 < T.personCapacity', () => count(T.filter((t) => num(t.personCapacity) && t.personCapacity > 10).length)],
    ['double comparison', 'SELECT COUNT() FROM DIGITALTWINS T WHERE T.lastValue >= 25.5', () => count(T.filter((t) => num(t.lastValue) && t.lastValue >= 25.5).length)],
    ['negative literal', 'SELECT COUNT() FROM DIGITALTWINS T WHERE T.lastValue > -5', () => count(T.filter((t) => num(t.lastValue)).length)],
    ['exponent literal', 'SELECT COUNT() FROM DIGITALTWINS T WHERE T.personCapacity < 1.5e1', () => count(T.filter((t) => num(t.personCapacity) && t.personCapacity < 15).length)],
    ['string vs number is false', "SELECT COUNT() FROM DIGITALTWINS T WHERE T.personCapacity = '12'", () => count(0)],
    ['number vs string is false', 'SELECT COUNT() FROM DIGITALTWINS T WHERE T.name = 12', () => count(0)],
    ['bool vs string is false', "SELECT COUNT() FROM DIGITALTWINS T WHERE T.customTags.window = 'true'", () => count(0)],
    ['bool equality', 'SELECT COUNT() FROM DIGITALTWINS T WHERE T.customTags.window = true', () => count(T.filter((t) => get(t, 'customTags.window') === true).length)],
    ['bool false equality', 'SELECT T.$dtId FROM DIGITALTWINS T WHERE T.customTags.corner = false AND STARTSWITH(T.$dtId, \'B2-L1\')', () => T.filter((t) => get(t, 'customTags.corner') === false && t.$dtId.startsWith('B2-L1')).map((t) => ({ $dtId: t.$dtId }))],
    ['bool not equal, defined only', 'SELECT W.$dtId FROM DIGITALTWINS W WHERE W.open != true', () => T.filter((t) => t.open === false).map((t) => ({ $dtId: t.$dtId }))],
    ['NOT keeps undefined out', 'SELECT COUNT() FROM DIGITALTWINS T WHERE NOT T.personCapacity < 10', () => count(T.filter((t) => num(t.personCapacity) && !(t.personCapacity < 10)).length)],
    ['string ordering', "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.name > 'Wing 5' AND IS_OF_MODEL(T, 'dtmi:castor:test:Wing;1')", () => T.filter((t) => t.$metadata.$model === M.wing && t.name > 'Wing 5').map((t) => ({ $dtId: t.$dtId }))],
    ['case-sensitive strings', "SELECT COUNT() FROM DIGITALTWINS T WHERE T.name = 'building 1'", () => count(0)],
    ['case-sensitive property names', "SELECT COUNT() FROM DIGITALTWINS T WHERE T.Name = 'Building 1'", () => count(0)],
    ['escaped quote in a literal', "SELECT * FROM DIGITALTWINS WHERE name = 'Building 4 \\'Annex\\''", () => ['twin:B4']],
    ['injection text is only a value', "SELECT COUNT() FROM DIGITALTWINS WHERE name = 'x\\' OR \\'1\\'=\\'1'", () => count(0)],
    ['escaped identifier', "SELECT * FROM DIGITALTWINS WHERE [[name]] = 'Building 2'", () => ['twin:B2']],
    // ---- maps and components ----
    ['map entry value', "SELECT * FROM DIGITALTWINS T WHERE T.externalIds.erp = 'ERP-1003'", () => ['twin:B3']],
    ['IS_DEFINED map entry', 'SELECT * FROM DIGITALTWINS WHERE IS_DEFINED(customTags.green)', () => ids(T.filter((t) => get(t, 'customTags.green') !== undefined))],
    ['NOT IS_DEFINED map entry with value test', "SELECT T.$dtId FROM DIGITALTWINS T WHERE NOT IS_DEFINED(T.customTags.window) AND T.externalIds.bms = 'BMS-1012'", () => T.filter((t) => get(t, 'customTags.window') === undefined && get(t, 'externalIds.bms') === 'BMS-1012').map((t) => ({ $dtId: t.$dtId }))],
    ['component property compare', 'SELECT COUNT() FROM DIGITALTWINS T WHERE T.area.grossArea > 45', () => count(T.filter((t) => num(get(t, 'area.grossArea')) && get(t, 'area.grossArea') > 45).length)],
    ['component property equality', 'SELECT T.$dtId FROM DIGITALTWINS T WHERE T.temperature.temperatureSetpoint = 21.5', () => T.filter((t) => get(t, 'temperature.temperatureSetpoint') === 21.5).map((t) => ({ $dtId: t.$dtId }))],
    ['component city', "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.address.city = 'Malmö'", () => T.filter((t) => get(t, 'address.city') === 'Malmö').map((t) => ({ $dtId: t.$dtId }))],
    // ---- type functions ----
    ['IS_DEFINED property', 'SELECT COUNT() FROM DIGITALTWINS WHERE IS_DEFINED(personOccupancy)', () => count(T.filter((t) => t.personOccupancy !== undefined).length)],
    ['NOT IS_DEFINED with IS_OF_MODEL', `SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${ROOM}') AND NOT IS_DEFINED(T.personCapacity)`, () => count(rooms.filter((t) => t.personCapacity === undefined).length)],
    ['IS_NULL is never true for stored twins', 'SELECT COUNT() FROM DIGITALTWINS T WHERE IS_NULL(T.name)', () => count(0)],
    ['IS_NULL of a missing property is false', 'SELECT COUNT() FROM DIGITALTWINS T WHERE IS_NULL(T.nothing)', () => count(0)],
    ['IS_BOOL', 'SELECT COUNT() FROM DIGITALTWINS T WHERE IS_BOOL(T.customTags.corner)', () => count(T.filter((t) => typeof get(t, 'customTags.corner') === 'boolean').length)],
    ['IS_NUMBER', 'SELECT COUNT() FROM DIGITALTWINS T WHERE IS_NUMBER(T.lastValue)', () => count(T.filter((t) => num(t.lastValue)).length)],
    ['IS_STRING', 'SELECT COUNT() FROM DIGITALTWINS T WHERE IS_STRING(T.lastValueTime)', () => count(T.filter((t) => typeof t.lastValueTime === 'string').length)],
    ['IS_STRING of a number', 'SELECT COUNT() FROM DIGITALTWINS T WHERE IS_STRING(T.personCapacity)', () => count(0)],
    ['IS_PRIMITIVE of a map', 'SELECT COUNT() FROM DIGITALTWINS T WHERE IS_PRIMITIVE(T.customTags)', () => count(0)],
    ['IS_PRIMITIVE of a bool', 'SELECT COUNT() FROM DIGITALTWINS T WHERE IS_PRIMITIVE(T.open)', () => count(T.filter((t) => typeof t.open === 'boolean').length)],
    ['IS_OBJECT', 'SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OBJECT(T.customTags) AND NOT IS_DEFINED(T.customTags.green)', () => count(T.filter((t) => t.customTags && typeof t.customTags === 'object' && t.customTags.green === undefined).length)],
    ['IS_OBJECT of a string', 'SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OBJECT(T.name)', () => count(0)],
    // ---- string functions ----
    ['STARTSWITH $dtId', "SELECT T.$dtId FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 'B2-L1-R1')", () => T.filter((t) => t.$dtId.startsWith('B2-L1-R1')).map((t) => ({ $dtId: t.$dtId }))],
    ['STARTS_WITH spelling', "SELECT COUNT() FROM DIGITALTWINS T WHERE STARTS_WITH(T.name, 'Level')", () => count(T.filter((t) => t.name.startsWith('Level')).length)],
    ['ENDSWITH', "SELECT COUNT() FROM DIGITALTWINS T WHERE ENDSWITH(T.$dtId, '-T2')", () => count(T.filter((t) => t.$dtId.endsWith('-T2')).length)],
    ['ENDS_WITH with a quote', "SELECT * FROM DIGITALTWINS T WHERE ENDS_WITH(T.name, '\\'Annex\\'')", () => ['twin:B4']],
    ['CONTAINS', "SELECT COUNT() FROM DIGITALTWINS T WHERE CONTAINS(T.name, 'sensor B3-L2')", () => count(T.filter((t) => t.name.includes('sensor B3-L2')).length)],
    ['CONTAINS on a number is not true', "SELECT COUNT() FROM DIGITALTWINS T WHERE CONTAINS(T.personCapacity, '1')", () => count(0)],
    ['STARTSWITH with LIKE characters', "SELECT COUNT() FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 'B_-%')", () => count(0)],
    // ---- IN / NIN ----
    ['IN numbers', 'SELECT T.$dtId FROM DIGITALTWINS T WHERE T.levelNumber IN [0, 4] AND STARTSWITH(T.$dtId, \'B1\')', () => ['B1-L0', 'B1-L4'].map((id) => ({ $dtId: id }))],
    ['NIN numbers, defined only', 'SELECT COUNT() FROM DIGITALTWINS T WHERE T.levelNumber NIN [0, 1, 2]', () => count(T.filter((t) => num(t.levelNumber) && ![0, 1, 2].includes(t.levelNumber)).length)],
    ['NIN ids with IS_OF_MODEL', `SELECT * FROM DIGITALTWINS T WHERE T.$dtId NIN ['B1', 'B2'] AND IS_OF_MODEL(T, '${B}')`, () => ['twin:B3', 'twin:B4']],
    ['IN mixed types', "SELECT COUNT() FROM DIGITALTWINS T WHERE T.personCapacity IN ['3', 3, true]", () => count(T.filter((t) => t.personCapacity === 3).length)],
    ['IN strings on a property', "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.name IN ['Wing 3', 'Wing 11', 'Level 9']", () => [{ $dtId: 'W03' }, { $dtId: 'W11' }]],
    // ---- logic ----
    ['AND OR parentheses', `SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${ROOM}') AND (T.personCapacity > 18 OR T.personOccupancy >= 8)`, () => count(rooms.filter((t) => (num(t.personCapacity) && t.personCapacity > 18) || (num(t.personOccupancy) && t.personOccupancy >= 8)).length)],
    ['OR of ids', "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'W01' OR T.$dtId = 'W12'", () => ['twin:W01', 'twin:W12']],
    ['NOT of a parenthesized OR', `SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${L}') AND NOT (T.levelNumber = 0 OR T.levelNumber = 1)`, () => count(T.filter((t) => t.$metadata.$model === L && ![0, 1].includes(t.levelNumber)).length)],
    // ---- ARRAY_CONTAINS ----
    ['ARRAY_CONTAINS integer', 'SELECT W.$dtId FROM DIGITALTWINS W WHERE ARRAY_CONTAINS(W.floors, 2)', () => T.filter((t) => Array.isArray(t.floors) && t.floors.includes(2)).map((t) => ({ $dtId: t.$dtId }))],
    ['ARRAY_CONTAINS string', "SELECT COUNT() FROM DIGITALTWINS W WHERE ARRAY_CONTAINS(W.labels, 'lab')", () => count(T.filter((t) => Array.isArray(t.labels) && t.labels.includes('lab')).length)],
    ['ARRAY_CONTAINS type mismatch', "SELECT COUNT() FROM DIGITALTWINS W WHERE ARRAY_CONTAINS(W.floors, '2')", () => count(0)],
    // ---- FROM RELATIONSHIPS ----
    ['relationships of a source', "SELECT * FROM RELATIONSHIPS R WHERE R.$sourceId = 'B1'", () => g.rels.filter((r) => r.$sourceId === 'B1').map(rl)],
    ['relationships unaliased', "SELECT * FROM RELATIONSHIPS WHERE $sourceId IN ['W03', 'W04']", () => g.rels.filter((r) => ['W03', 'W04'].includes(r.$sourceId)).map(rl)],
    ['count relationships by name', "SELECT COUNT() FROM RELATIONSHIPS R WHERE R.$relationshipName = 'hasCapability'", () => count(g.rels.filter((r) => r.$relationshipName === 'hasCapability').length)],
    ['relationship targets projected', "SELECT R.$targetId FROM RELATIONSHIPS R WHERE R.$sourceId = 'B2-L0-R05'", () => out('B2-L0-R05').map((r) => ({ $targetId: r.$targetId }))],
    ['relationship properties', "SELECT R.$relationshipId, R.distance, R.accessible FROM RELATIONSHIPS R WHERE R.$relationshipName = 'connectsTo' AND R.distance > 50", () => g.rels.filter((r) => r.distance > 50).map((r) => { const o = { $relationshipId: r.$relationshipId, distance: r.distance }; if (r.accessible !== undefined) o.accessible = r.accessible; return o; })],
    ['relationship bool property', 'SELECT COUNT() FROM RELATIONSHIPS R WHERE R.accessible = false', () => count(g.rels.filter((r) => r.accessible === false).length)],
    ['relationships into a twin', "SELECT R FROM RELATIONSHIPS R WHERE R.$targetId = 'B3-L2'", () => inc('B3-L2').map((r) => ({ R: rl(r) }))],
    // ---- JOIN ----
    ['JOIN one hop', "SELECT L FROM DIGITALTWINS B JOIN L RELATED B.hasPart WHERE B.$dtId = 'B2'", () => out('B2', 'hasPart').map((r) => ({ L: `twin:${r.$targetId}` }))],
    ['JOIN with target filter', "SELECT B, L FROM DIGITALTWINS B JOIN L RELATED B.hasPart WHERE B.$dtId = 'B2' AND L.levelNumber >= 3", () => out('B2', 'hasPart').filter((r) => byId.get(r.$targetId).levelNumber >= 3).map((r) => ({ B: 'twin:B2', L: `twin:${r.$targetId}` }))],
    ['JOIN anchored on the target', "SELECT B FROM DIGITALTWINS B JOIN L RELATED B.hasPart WHERE L.$dtId = 'B3-L2'", () => inc('B3-L2', 'hasPart').map((r) => ({ B: `twin:${r.$sourceId}` }))],
    ['two JOINs with IS_OF_MODEL', `SELECT R.$dtId FROM DIGITALTWINS B JOIN L RELATED B.hasPart JOIN R RELATED L.hasPart WHERE B.$dtId = 'B1' AND IS_OF_MODEL(R, '${CONF}')`, () => out('B1', 'hasPart').flatMap((a) => out(a.$targetId, 'hasPart')).filter((r) => byId.get(r.$targetId).$metadata.$model === CONF).map((r) => ({ $dtId: r.$targetId }))],
    ['three JOINs, COUNT', `SELECT COUNT() FROM DIGITALTWINS B JOIN L RELATED B.hasPart JOIN R RELATED L.hasPart JOIN S RELATED R.hasCapability WHERE B.$dtId = 'B2' AND IS_OF_MODEL(S, '${TEMP}') AND S.lastValue > 25`, () => count(out('B2', 'hasPart').flatMap((a) => out(a.$targetId, 'hasPart')).flatMap((b) => out(b.$targetId, 'hasCapability')).filter((r) => { const s = byId.get(r.$targetId); return isOf(s, TEMP) && num(s.lastValue) && s.lastValue > 25; }).length)],
    ['JOIN with relationship alias', "SELECT W2, E FROM DIGITALTWINS W JOIN W2 RELATED W.connectsTo E WHERE W.$dtId = 'W01'", () => out('W01', 'connectsTo').map((r) => ({ W2: `twin:${r.$targetId}`, E: rl(r) }))],
    ['JOIN relationship property filter and projection', "SELECT W2.name AS target, E.distance FROM DIGITALTWINS W JOIN W2 RELATED W.connectsTo E WHERE W.$dtId = 'W01' AND E.distance > 15", () => out('W01', 'connectsTo').filter((r) => r.distance > 15).map((r) => ({ target: byId.get(r.$targetId).name, distance: r.distance }))],
    ['JOIN is inner', "SELECT S, X FROM DIGITALTWINS S JOIN X RELATED S.hasPart WHERE S.$dtId = 'B1-L0-R00-T'", () => []],
    ['JOIN anchored by IN, COUNT', "SELECT COUNT() FROM DIGITALTWINS L JOIN R RELATED L.hasPart WHERE L.$dtId IN ['B1-L0', 'B2-L0']", () => count(out('B1-L0', 'hasPart').length + out('B2-L0', 'hasPart').length)],
    ['JOIN anchored by OR', "SELECT L.$dtId FROM DIGITALTWINS B JOIN L RELATED B.hasPart WHERE (B.$dtId = 'B1' OR B.$dtId = 'B4') AND L.levelNumber = 2", () => [{ $dtId: 'B1-L2' }, { $dtId: 'B4-L2' }]],
    ['JOIN sensors of a room', "SELECT S.$dtId, S.lastValue FROM DIGITALTWINS R JOIN S RELATED R.hasCapability WHERE R.$dtId = 'B1-L2-R03' AND IS_DEFINED(S.lastValue)", () => out('B1-L2-R03', 'hasCapability').map((r) => byId.get(r.$targetId)).filter((s) => s.lastValue !== undefined).map((s) => ({ $dtId: s.$dtId, lastValue: s.lastValue }))],
    ['five JOINs along a chain', 'SELECT A.$dtId AS a, F.$dtId AS f FROM DIGITALTWINS A JOIN B1 RELATED A.connectsTo JOIN C RELATED B1.connectsTo JOIN D RELATED C.connectsTo JOIN E RELATED D.connectsTo JOIN F RELATED E.connectsTo WHERE A.$dtId = \'W01\'', () => {
      const rows = [];
      const step = (id) => out(id, 'connectsTo').map((r) => r.$targetId);
      for (const b of step('W01')) for (const c of step(b)) for (const d of step(c)) for (const e of step(d)) for (const f of step(e)) rows.push({ a: 'W01', f });
      return rows;
    }],
    // ---- MATCH ----
    ['MATCH one hop', "SELECT B, L FROM DIGITALTWINS MATCH (B)-[:hasPart]->(L) WHERE B.$dtId = 'B1'", () => out('B1', 'hasPart').map((r) => ({ B: 'twin:B1', L: `twin:${r.$targetId}` }))],
    ['MATCH two hops exactly', `SELECT R FROM DIGITALTWINS MATCH (B)-[:hasPart*2]->(R) WHERE B.$dtId = 'B1' AND IS_OF_MODEL(R, '${CONF}')`, () => walk('B1', 'out', ['hasPart'], 2, 2).filter((id) => byId.get(id).$metadata.$model === CONF).map((id) => ({ R: `twin:${id}` }))],
    ['MATCH three hops over two names, COUNT', "SELECT COUNT() FROM DIGITALTWINS MATCH (B)-[:hasPart|hasCapability*3]->(S) WHERE B.$dtId = 'B2'", () => count(walk('B2', 'out', ['hasPart', 'hasCapability'], 3, 3).length)],
    ['MATCH up to three hops, any name', "SELECT X.$dtId FROM DIGITALTWINS MATCH (B)-[*..3]->(X) WHERE B.$dtId = 'B3-L1'", () => walk('B3-L1', 'out', null, 1, 3).map((id) => ({ $dtId: id }))],
    ['MATCH backwards', "SELECT R FROM DIGITALTWINS MATCH (S)<-[:hasCapability]-(R) WHERE S.$dtId = 'B1-L1-R05-T'", () => inc('B1-L1-R05-T', 'hasCapability').map((r) => ({ R: `twin:${r.$sourceId}` }))],
    ['MATCH with filter on the far node', "SELECT S.$dtId FROM DIGITALTWINS MATCH (R)-[:hasCapability]->(S) WHERE R.$dtId IN ['B1-L1-R05', 'B2-L0-R00'] AND S.lastValue > 20", () => ['B1-L1-R05', 'B2-L0-R00'].flatMap((id) => out(id, 'hasCapability')).map((r) => byId.get(r.$targetId)).filter((s) => num(s.lastValue) && s.lastValue > 20).map((s) => ({ $dtId: s.$dtId }))],
    ['MATCH any direction', "SELECT X.$dtId FROM DIGITALTWINS MATCH (W)-[:connectsTo]-(X) WHERE W.$dtId = 'W05'", () => walk('W05', 'any', ['connectsTo'], 1, 1).map((id) => ({ $dtId: id }))],
    ['MATCH range with exclusive lower bound', "SELECT X.$dtId FROM DIGITALTWINS MATCH (W)-[:connectsTo*1..3]->(X) WHERE W.$dtId = 'W01'", () => walk('W01', 'out', ['connectsTo'], 2, 3).map((id) => ({ $dtId: id }))],
    ['MATCH upper bound only', "SELECT X.$dtId FROM DIGITALTWINS MATCH (W)-[:connectsTo*..2]->(X) WHERE W.$dtId = 'W10'", () => walk('W10', 'out', ['connectsTo'], 1, 2).map((id) => ({ $dtId: id }))],
    ['MATCH any direction range', "SELECT COUNT() FROM DIGITALTWINS MATCH (W)-[:connectsTo*..3]-(X) WHERE W.$dtId = 'W03'", () => count(walk('W03', 'any', ['connectsTo'], 1, 3).length)],
    ['MATCH relationship variable', "SELECT X.$dtId, e.distance FROM DIGITALTWINS MATCH (W)-[e:connectsTo]->(X) WHERE W.$dtId = 'W01' AND e.distance = 40", () => [{ $dtId: 'W05', distance: 40 }]],
    ['MATCH relationship variable projected whole', "SELECT e FROM DIGITALTWINS MATCH (W)-[e]->(X) WHERE W.$dtId = 'W12'", () => out('W12').map((r) => ({ e: rl(r) }))],
    ['MATCH chained pattern', `SELECT R.$dtId AS room, S.$dtId AS sensor FROM DIGITALTWINS MATCH (L)-[:hasPart]->(R)-[:hasCapability]->(S) WHERE L.$dtId = 'B4-L2' AND IS_OF_MODEL(S, '${HUM}')`, () => out('B4-L2', 'hasPart').flatMap((a) => out(a.$targetId, 'hasCapability')).filter((r) => isOf(byId.get(r.$targetId), HUM)).map((r) => ({ room: r.$sourceId, sensor: r.$targetId }))],
    ['MATCH anchored in the middle', "SELECT B.$dtId AS b, R.$dtId AS r FROM DIGITALTWINS MATCH (B)-[:hasPart]->(L)-[:hasPart]->(R) WHERE L.$dtId = 'B2-L3' AND R.personCapacity > 15", () => out('B2-L3', 'hasPart').filter((r) => { const x = byId.get(r.$targetId); return num(x.personCapacity) && x.personCapacity > 15; }).map((r) => ({ b: 'B2', r: r.$targetId }))],
    ['MATCH left arrows chained', "SELECT L.$dtId FROM DIGITALTWINS MATCH (S)<-[:hasCapability]-(R)<-[:hasPart]-(L) WHERE S.$dtId = 'B3-L3-R09-T2'", () => [{ $dtId: 'B3-L3' }]],
    ['MATCH single node', "SELECT A FROM DIGITALTWINS MATCH (A) WHERE A.$dtId = 'W03'", () => [{ A: 'twin:W03' }]],
    ['MATCH around a cycle', "SELECT COUNT() FROM DIGITALTWINS MATCH (W)-[:connectsTo*..10]->(X) WHERE W.$dtId = 'W12'", () => count(walk('W12', 'out', ['connectsTo'], 1, 10).length)],
    ['MATCH unnamed middle node', `SELECT COUNT() FROM DIGITALTWINS MATCH (B)-[:hasPart]->()-[:hasPart]->(R) WHERE B.$dtId = 'B4' AND IS_OF_MODEL(R, '${OFF}')`, () => count(walk('B4', 'out', ['hasPart'], 2, 2).filter((id) => byId.get(id).$metadata.$model === OFF).length)],
    ['MATCH with a pinned far node', "SELECT B.$dtId FROM DIGITALTWINS MATCH (B)-[:hasPart*2]->(R) WHERE R.$dtId = 'B2-L4-R20'", () => [{ $dtId: 'B2' }]],
    ['MATCH with occupancy sensors', `SELECT COUNT() FROM DIGITALTWINS MATCH (L)-[:hasPart]->(R)-[:hasCapability]->(S) WHERE L.$dtId IN ['B1-L0', 'B1-L1'] AND IS_OF_MODEL(S, '${OCC}') AND IS_OF_MODEL(R, '${ROOM}', exact)`, () => count(['B1-L0', 'B1-L1'].flatMap((l) => out(l, 'hasPart')).filter((r) => byId.get(r.$targetId).$metadata.$model === ROOM).flatMap((r) => out(r.$targetId, 'hasCapability')).filter((r) => isOf(byId.get(r.$targetId), OCC)).length)],
    // ---- paging (the SDK follows continuationToken; every page but the last is full) ----
    ['paged: temperature sensors by 97', `SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${TEMP}')`, () => T.filter((t) => isOf(t, TEMP)).map((t) => ({ $dtId: t.$dtId })), { pageSize: 97 }],
    ['paged: every twin by 1000', 'SELECT * FROM DIGITALTWINS', () => ids(T), { pageSize: 1000 }],
    ['paged: TOP(120) by 50', `SELECT TOP(120) FROM DIGITALTWINS WHERE IS_OF_MODEL('${HUM}')`, () => ids(T.filter((t) => isOf(t, HUM))), { pageSize: 50, top: 120 }],
    ['paged: JOIN rows by 7', "SELECT L, R FROM DIGITALTWINS L JOIN R RELATED L.hasPart WHERE L.$dtId IN ['B1-L0', 'B1-L1']", () => ['B1-L0', 'B1-L1'].flatMap((l) => out(l, 'hasPart')).map((r) => ({ L: `twin:${r.$sourceId}`, R: `twin:${r.$targetId}` })), { pageSize: 7 }],
    ['paged: MATCH rows by 13', "SELECT B, R FROM DIGITALTWINS MATCH (B)-[:hasPart*2]->(R) WHERE B.$dtId = 'B3'", () => walk('B3', 'out', ['hasPart'], 2, 2).map((id) => ({ B: 'twin:B3', R: `twin:${id}` })), { pageSize: 13 }],
    ['paged: relationships by 500', 'SELECT * FROM RELATIONSHIPS', () => g.rels.map(rl), { pageSize: 500 }],
    ['paged: default page size', `SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${L}')`, () => T.filter((t) => t.$metadata.$model === L).map((t) => ({ $dtId: t.$dtId })), { pageSize: 0 }],
  ];
  return cases;
}
