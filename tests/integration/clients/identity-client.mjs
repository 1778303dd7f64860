// identity-client.mjs — runs one unmodified @azure/identity credential against castor and
// prints one JSON line per token: {"token": ..., "expiresOn": ...}. Run with
// NODE_EXTRA_CA_CERTS=<dataDir>/ca.pem (node reads it only at start). The configuration comes
// as JSON in argv[2]: {kind, authorityHost, tenantId, clientId, secret?, certificatePath?,
// username?, password?, scopes: [[...], ...]}. DeviceCodeCredential prints
// {"userCode": ...} first; the test completes the code through the verification page.
import {
  ClientSecretCredential, ClientCertificateCredential, UsernamePasswordCredential,
  DeviceCodeCredential,
} from '@azure/identity';

const cfg = JSON.parse(process.argv[2]);
const opts = { authorityHost: cfg.authorityHost, disableInstanceDiscovery: true };
let cred;
switch (cfg.kind) {
  case 'secret':
    cred = new ClientSecretCredential(cfg.tenantId, cfg.clientId, cfg.secret, opts);
    break;
  case 'certificate':
    cred = new ClientCertificateCredential(cfg.tenantId, cfg.clientId,
      { certificatePath: cfg.certificatePath }, opts);
    break;
  case 'password':
    cred = new UsernamePasswordCredential(cfg.tenantId, cfg.clientId, cfg.username, cfg.password, opts);
    break;
  case 'device':
    cred = new DeviceCodeCredential({
      tenantId: cfg.tenantId, clientId: cfg.clientId, ...opts,
      userPromptCallback: (info) => {
        process.stdout.write(JSON.stringify({ userCode: info.userCode, uri: info.verificationUri }) + '\n');
      },
    });
    break;
  default:
    throw new Error(`unknown kind ${cfg.kind}`);
}
try {
  for (const scopes of cfg.scopes) {
    const t = await cred.getToken(scopes);
    process.stdout.write(JSON.stringify({ token: t.token, expiresOn: t.expiresOnTimestamp }) + '\n');
  }
} catch (e) {
  process.stdout.write(JSON.stringify({ error: e.name, message: e.message }) + '\n');
  process.exitCode = 1;
}
