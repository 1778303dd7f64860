// arm-client.mjs — drives castor's resource manager with the unmodified
// @azure/arm-digitaltwins 3.3.0 and prints one JSON line per step: {"step": name, ...result}
// or {"step": name, "error": {statusCode, code, message}}. Run with
// NODE_EXTRA_CA_CERTS=<dataDir>/ca.pem (node reads it only at start). Configuration as JSON in
// argv[2]: {authorityHost, tenantId, subscriptionId, clientId, username, password, group,
// names: [...], mode?: 'reader'}.
import { UsernamePasswordCredential } from '@azure/identity';
import { AzureDigitalTwinsManagementClient } from '@azure/arm-digitaltwins';

const cfg = JSON.parse(process.argv[2]);
const cred = new UsernamePasswordCredential(cfg.tenantId, cfg.clientId, cfg.username, cfg.password,
  { authorityHost: cfg.authorityHost, disableInstanceDiscovery: true });
const client = new AzureDigitalTwinsManagementClient(cred, cfg.subscriptionId, {
  endpoint: cfg.authorityHost, credentialScopes: ['https://management.azure.com/.default'],
});
const poll = { updateIntervalInMs: 50 };

const out = (step, value) => process.stdout.write(`${JSON.stringify({ step, ...value })}\n`);
async function step(name, fn) {
  try {
    out(name, { result: await fn() });
  } catch (e) {
    out(name, { error: { statusCode: e.statusCode, code: e.code, message: e.message } });
  }
}
async function all(iter) {
  const items = [];
  for await (const x of iter) items.push(x);
  return items;
}
const slim = (i) => ({
  id: i.id, name: i.name, type: i.type, location: i.location, tags: i.tags,
  provisioningState: i.provisioningState, hostName: i.hostName, publicNetworkAccess: i.publicNetworkAccess,
});

if (cfg.mode === 'reader') {
  // A principal that may read but not write: reads work, writes throw ARM's RestError.
  await step('readerGet', async () => slim(await client.digitalTwins.get(cfg.group, cfg.names[0])));
  await step('readerList', async () => (await all(client.digitalTwins.listByResourceGroup(cfg.group))).map((i) => i.name));
  await step('readerCreate', async () => slim(await client.digitalTwins.beginCreateOrUpdateAndWait(cfg.group, 'reader-new',
    { location: 'westus2' }, poll)));
  await step('readerUpdate', async () => slim(await client.digitalTwins.beginUpdateAndWait(cfg.group, cfg.names[0],
    { tags: { x: 'y' } }, poll)));
  await step('readerDelete', async () => client.digitalTwins.beginDeleteAndWait(cfg.group, cfg.names[0], poll) ?? null);
  process.exit(0);
}

const [first, ...rest] = cfg.names;
await step('checkNameAvailability', () => client.digitalTwins.checkNameAvailability('westus2',
  { name: first, type: 'Microsoft.DigitalTwins/digitalTwinsInstances' }));
await step('create', async () => slim(await client.digitalTwins.beginCreateOrUpdateAndWait(cfg.group, first,
  { location: 'westus2', tags: { env: 'test' } }, poll)));
for (const n of rest) {
  await step(`create:${n}`, async () => slim(await client.digitalTwins.beginCreateOrUpdateAndWait(cfg.group, n,
    { location: 'westus2' }, poll)));
}
await step('checkNameTaken', () => client.digitalTwins.checkNameAvailability('westus2',
  { name: first, type: 'Microsoft.DigitalTwins/digitalTwinsInstances' }));
await step('checkNameInvalid', () => client.digitalTwins.checkNameAvailability('westus2',
  { name: '-bad-', type: 'Microsoft.DigitalTwins/digitalTwinsInstances' }));
await step('get', async () => slim(await client.digitalTwins.get(cfg.group, first)));
await step('getMissing', async () => slim(await client.digitalTwins.get(cfg.group, 'no-such-instance')));
await step('list', async () => (await all(client.digitalTwins.list())).map(slim));
await step('listPages', async () => {
  const pages = [];
  for await (const page of client.digitalTwins.list().byPage()) pages.push(page.map((i) => i.name));
  return pages;
});
await step('listByResourceGroup', async () => (await all(client.digitalTwins.listByResourceGroup(cfg.group))).map(slim));
await step('update', async () => slim(await client.digitalTwins.beginUpdateAndWait(cfg.group, first,
  { tags: { env: 'prod', team: 'twins' } }, poll)));
await step('createBadName', async () => slim(await client.digitalTwins.beginCreateOrUpdateAndWait(cfg.group, 'a_b',
  { location: 'westus2' }, poll)));
await step('operations', async () => (await all(client.operations.list())).length);
await step('delete', async () => client.digitalTwins.beginDeleteAndWait(cfg.group, first, poll) ?? null);
await step('getDeleted', async () => slim(await client.digitalTwins.get(cfg.group, first)));
await step('listAfterDelete', async () => (await all(client.digitalTwins.listByResourceGroup(cfg.group))).map((i) => i.name));
