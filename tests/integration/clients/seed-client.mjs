// seed-client.mjs — the seed's application: the UNMODIFIED @azure/identity
// UsernamePasswordCredential and @azure/digital-twins-core DigitalTwinsClient, one credential
// and one client for the whole run (as an app holds them). Each line on stdin ("go") makes one
// listModels call; each answer is one JSON line on stdout: {ok, count} or {ok:false, name,
// statusCode, code, message}. Configuration as JSON in argv[2]: {authorityHost, tenantId,
// clientId, username, password, endpoint}. Run with NODE_EXTRA_CA_CERTS=<dataDir>/ca.pem.
import { UsernamePasswordCredential } from '@azure/identity';
import { DigitalTwinsClient } from '@azure/digital-twins-core';
import { createInterface } from 'node:readline';

const cfg = JSON.parse(process.argv[2]);
const credential = new UsernamePasswordCredential(cfg.tenantId, cfg.clientId, cfg.username, cfg.password,
  { authorityHost: cfg.authorityHost, disableInstanceDiscovery: true });
const client = new DigitalTwinsClient(cfg.endpoint, credential);

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'go') continue;
  try {
    let count = 0;
    for await (const m of client.listModels()) { void m; count++; }
    process.stdout.write(JSON.stringify({ ok: true, count }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, name: e.name, statusCode: e.statusCode, code: e.code, message: e.message }) + '\n');
  }
}
