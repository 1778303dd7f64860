// cli_framework.test.mjs — the castor client's behaviour that needs no sign-in: help, usage
// errors, where it finds the server, TLS trust and an unreachable server, as a user sees them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { startCastor, stopCastor } from './lib/castor.js';
import { cli, clientHome, serverArgs } from './cli_helpers.mjs';

let castor;
before(async () => { castor = await startCastor(); });
after(async () => { if (castor) await stopCastor(castor); });

// Every command path reachable from `castor --help`, by walking the generated help.
async function commandTree(home) {
  const top = await cli(home, ['--help']);
  const groups = [...top.stdout.split('Client commands:')[1].matchAll(/^ {4}(\S+)\s+:/gm)].map((m) => m[1]);
  const commands = [];
  const walk = async (path) => {
    const r = await cli(home, [...path, '--help']);
    assert.equal(r.code, 0, `castor ${path.join(' ')} --help: ${r.stderr}`);
    if (r.stdout.startsWith('Command')) { commands.push(path.join(' ')); return; }
    const subs = r.stdout.split('Subgroups:')[1]?.split('Commands:')[0] ?? '';
    const cmds = r.stdout.split('Commands:')[1] ?? '';
    for (const m of (subs + cmds).matchAll(/^ {4}(\S+)\s+:/gm)) await walk([...path, m[1]]);
  };
  for (const g of groups) await walk([g]);
  return commands;
}

test('castor --help lists the server and every client group; each level has help', async () => {
  const home = clientHome();
  const r = await cli(home, ['--help']);
  assert.equal(r.code, 0);
  for (const g of ['serve', 'version', 'login', 'logout', 'account', 'ad', 'cloud-config'])
    assert.match(r.stdout, new RegExp(`^ {4}${g} +: `, 'm'), g);
  const none = await cli(home, []);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /usage: castor <command>/);
  const ad = await cli(home, ['ad', 'app', 'permission', '--help']);
  assert.match(ad.stdout, /castor ad app permission : /);
  for (const v of ['add', 'grant', 'admin-consent']) assert.match(ad.stdout, new RegExp(`^ {4}${v} +: `, 'm'));
  const cmd = await cli(home, ['ad', 'app', 'permission', 'add', '--help']);
  assert.match(cmd.stdout, /--api-permissions ID=TYPE +\[Required\] :/);
  assert.match(cmd.stdout, /Examples\n {4}castor ad app permission add --id <appId> --api 0b07f429-9f4b-4714-9392-cc5e8e80c8b0/);
});

test('docs/cli.md documents exactly the commands that exist', async () => {
  const home = clientHome();
  const commands = await commandTree(home);
  assert.ok(commands.length >= 20, `found ${commands.length} commands`);
  const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^### `castor ([^`]+)`/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), [...commands].sort());
  for (const c of commands) {
    const section = doc.split(`### \`castor ${c}\``)[1].split('\n### ')[0];
    assert.match(section, new RegExp('```[\\s\\S]*castor ' + c.replace(/[-]/g, '\\-')), `${c} has an example`);
  }
});

test('an unknown flag, a missing value or a missing required flag exits 2 and says so', async () => {
  const home = clientHome();
  const bogus = await cli(home, ['account', 'show', '--bogus']);
  assert.equal(bogus.code, 2);
  assert.equal(bogus.stderr, "castor account show: unrecognized argument '--bogus'. See 'castor account show --help'.\n");
  const req = await cli(home, ['ad', 'user', 'create', '--display-name', 'Bob']);
  assert.equal(req.code, 2);
  assert.match(req.stderr, /the following arguments are required: --user-principal-name/);
  const val = await cli(home, ['login', '-u']);
  assert.equal(val.code, 2);
  assert.match(val.stderr, /argument --username: expected one argument \(USER\)/);
  const word = await cli(home, ['ad', 'application']);
  assert.equal(word.code, 2);
  assert.match(word.stderr, /'application' is not in the 'castor ad' command group/);
  const out = await cli(home, ['account', 'show', '-o', 'yaml']);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /invalid choice: 'yaml'/);
  const sp = await cli(home, ['login', '--service-principal', '-u', 'x']);
  assert.equal(sp.code, 2);
  assert.match(sp.stderr, /--service-principal needs --username APP_ID and --password SECRET/);
});

test('with no server configured anywhere, the error says how to name one', async () => {
  const home = clientHome();
  const r = await cli(home, ['login', '-u', 'a@b.c', '-p', 'x']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ERROR: no castor server is configured: pass --server https:\/\/HOST:PORT/);
});

test('a server that is down is named, with where its address came from', async () => {
  const home = clientHome();
  const port = await new Promise((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
  const r = await cli(home, ['login', '-u', 'a@b.c', '-p', 'x', '--server', `https://127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^ERROR: cannot reach the castor server at https://127\\.0\\.0\\.1:${port} \\(.*\\)\\. Is \`castor serve\` running there\\? The address came from --server`));
  const env = await cli(home, ['account', 'get-access-token'], { env: { CASTOR_URL: `https://127.0.0.1:${port}` } });
  assert.equal(env.code, 1);
  assert.match(env.stderr, /Please run 'castor login'|cannot reach/);
});

test('a server whose certificate the CA file does not vouch for is refused', async () => {
  const home = clientHome();
  const r = await cli(home, ['login', '-u', 'a@b.c', '-p', 'x', '--server', castor.url, '--ca-file', '/etc/ssl/certs/ca-certificates.crt']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ERROR: the server at https:\/\/localhost:\d+ presented a TLS certificate that \/etc\/ssl\/certs\/ca-certificates\.crt does not trust \(.*\)\. Pass --ca-file with the ca\.pem/);
  const missing = await cli(home, ['login', '-u', 'a@b.c', '-p', 'x', '--server', castor.url, '--ca-file', '/nonexistent/ca.pem']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'ERROR: cannot read the CA file /nonexistent/ca.pem: No such file or directory\n');
});

test('commands run beside castor-data/ find the server through connection.json', async () => {
  const home = clientHome();
  mkdirSync(join(home.dir, 'castor-data'));
  writeFileSync(join(home.dir, 'castor-data', 'connection.json'), JSON.stringify(castor.connection));
  const r = await cli(home, ['cloud-config']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.endpoints.activeDirectory, `${castor.url}/adfs`);
  assert.equal(r.json.endpoints.resourceManager, `${castor.url}/`);
  assert.equal(r.json.endpoints.microsoftGraphResourceId, `${castor.url}/`);
  // The environment beats the file; a flag beats the environment.
  const env = await cli(home, ['cloud-config'], { env: { CASTOR_URL: 'https://elsewhere:1' } });
  assert.equal(env.json.endpoints.activeDirectory, 'https://elsewhere:1/adfs');
  const flag = await cli(home, ['cloud-config', '--server', 'https://flag:2'], { env: { CASTOR_URL: 'https://elsewhere:1' } });
  assert.equal(flag.json.endpoints.activeDirectory, 'https://flag:2/adfs');
});

test('signed-out commands ask for castor login', async () => {
  const home = clientHome();
  const show = await cli(home, ['account', 'show', ...serverArgs(castor)]);
  assert.equal(show.code, 1);
  assert.equal(show.stderr, "ERROR: Please run 'castor login' to setup account.\n");
  const users = await cli(home, ['ad', 'user', 'list', ...serverArgs(castor)]);
  assert.equal(users.code, 1);
  assert.equal(users.stderr, "ERROR: Please run 'castor login' to setup account.\n");
  const out = await cli(home, ['logout']);
  assert.equal(out.code, 1);
  assert.equal(out.stderr, 'ERROR: There are no active accounts.\n');
});
