// arm-endpoint-client.mjs — drives castor's event endpoints with the unmodified
// @azure/arm-digitaltwins 3.3.0 (digitalTwinsEndpoint) and prints one JSON line per step, as
// arm-client.mjs does. Configuration as JSON in argv[2]: {authorityHost, tenantId,
// subscriptionId, clientId, username, password, group, instance, topicEndpoint, key}.
import { UsernamePasswordCredential } from '@azure/identity';
import { AzureDigitalTwinsManagementClient } from '@azure/arm-digitaltwins';

const cfg = JSON.parse(process.argv[2]);
const cred = new UsernamePasswordCredential(cfg.tenantId, cfg.clientId, cfg.username, cfg.password,
  { authorityHost: cfg.authorityHost, disableInstanceDiscovery: true });
const client = new AzureDigitalTwinsManagementClient(cred, cfg.subscriptionId, {
  endpoint: cfg.authorityHost, credentialScopes: ['https://management.azure.com/.default'],
});
const poll = { updateIntervalInMs: 50 };
const ep = client.digitalTwinsEndpoint;

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

const eventGrid = { endpointType: 'EventGrid', topicEndpoint: cfg.topicEndpoint, accessKey1: cfg.key };
await step('createEventGrid', () => ep.beginCreateOrUpdateAndWait(cfg.group, cfg.instance, 'sdk-eg',
  { properties: eventGrid }, poll));
await step('replaceEventGrid', () => ep.beginCreateOrUpdateAndWait(cfg.group, cfg.instance, 'SDK-EG',
  { properties: { ...eventGrid, accessKey2: `${cfg.key}-2` } }, poll));
// The SDK's serializer knows EventGrid/EventHub/ServiceBus only: for any other endpointType it
// sends the common properties alone, so castor sees a webhook without its endpointUri.
await step('createWebhook', () => ep.beginCreateOrUpdateAndWait(cfg.group, cfg.instance, 'sdk-hook',
  { properties: { endpointType: 'webhook', endpointUri: 'https://hooks.example/x' } }, poll));
await step('createEventHub', () => ep.beginCreateOrUpdateAndWait(cfg.group, cfg.instance, 'sdk-hub',
  { properties: { endpointType: 'EventHub', connectionStringPrimaryKey: 'Endpoint=sb://x/;SharedAccessKey=y' } }, poll));
await step('createBadName', () => ep.beginCreateOrUpdateAndWait(cfg.group, cfg.instance, '123',
  { properties: eventGrid }, poll));
await step('get', () => ep.get(cfg.group, cfg.instance, 'sdk-eg'));
await step('list', async () => all(ep.list(cfg.group, cfg.instance)));
await step('delete', async () => (await ep.beginDeleteAndWait(cfg.group, cfg.instance, 'sdk-eg', poll)) ?? null);
await step('getDeleted', () => ep.get(cfg.group, cfg.instance, 'sdk-eg'));
await step('listAfterDelete', async () => (await all(ep.list(cfg.group, cfg.instance))).map((e) => e.name));
