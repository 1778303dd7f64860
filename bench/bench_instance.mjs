// bench_instance.mjs — what every twin bench does first on a running castor: an instance named
// 'bench', the signed-in administrator made its Azure Digital Twins Data Owner, a keep-alive
// caller for its data plane, and the Sensor model (temperature, name, a 'feeds' relationship).
import https from 'node:https';

export const SENSOR = 'dtmi:bench:Sensor;1';
const SENSOR_MODEL = { '@id': SENSOR, '@type': 'Interface', '@context': 'dtmi:dtdl:context;3', contents: [
  { '@type': 'Property', name: 'temperature', schema: 'double' }, { '@type': 'Property', name: 'name', schema: 'string' },
  { '@type': 'Relationship', name: 'feeds', properties: [{ '@type': 'Property', name: 'since', schema: 'string' }] }] };

// A Sensor twin's body.
export const sensorTwin = (i) => JSON.stringify({ $metadata: { $model: SENSOR }, temperature: i, name: `sensor ${i}` });

// Resolves to { armTok, tok, inst, agent, call }: call(method, path, body, type) sends one
// request to /dt/bench<path> and resolves to { status, text }. sockets bounds the requests in
// flight; the role assignment is waited for (tries x pauseMs: a castor under callgrind is slow).
// The caller destroys agent when done.
export async function benchInstance(c, { sockets = 64, tries = 100, pauseMs = 100 } = {}) {
  // Imported here, not above: the benches name their castor (CASTOR_BINARY) before the harness
  // is loaded.
  const az = await import('../tests/integration/lib/azure.js');
  const armTok = await az.userToken(c, az.ARM_SCOPE);
  const tok = await az.userToken(c, az.ADT_SCOPE);
  const inst = await az.createInstance(c, armTok, 'bench');
  await az.assignRole(c, armTok, inst, az.ROLE.dataOwner, az.claims(tok).oid);
  const agent = new https.Agent({ keepAlive: true, maxSockets: sockets, ca: c.ca });
  const call = (method, path, body, type = 'application/json') => new Promise((res, rej) => {
    const u = new URL(`${c.url}/dt/bench${path}${path.includes('?') ? '&' : '?'}api-version=2022-05-31`);
    const req = https.request(u, { method, agent, headers: { authorization: `Bearer ${tok}`, 'content-type': type } }, (r) => {
      let t = ''; r.on('data', (d) => { t += d; }); r.on('end', () => res({ status: r.statusCode, text: t }));
    });
    req.on('error', rej);
    if (body) req.write(body);
    req.end();
  });
  for (let i = 0; i < tries; i++) { if ((await call('GET', '/models')).status === 200) break; await new Promise((r) => setTimeout(r, pauseMs)); }
  const r = await call('POST', '/models', JSON.stringify([SENSOR_MODEL]));
  if (r.status !== 201) throw new Error(r.text);
  return { armTok, tok, inst, agent, call };
}
