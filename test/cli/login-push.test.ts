// login/logout write and remove config.json credentials as docker does, and
// push/pull send them (X-Registry-Auth) to a registry that requires them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from '../support/root.ts';
import { DOCKER_CLI, execCommand, startDockerd, startRegistry, type DockerdPeer, type RegistryPeer } from '../harness/index.ts';
import { testImage } from '../images/index.ts';

const DRAY = new URL('../../bin/dray', import.meta.url).pathname;
const creds = { username: 'dray', password: 's3cret pass' };
let d: DockerdPeer;
let reg: RegistryPeer;

before(async () => {
  if (needsRoot.skip) return;
  const busybox = await testImage('busybox');
  d = await startDockerd();
  reg = await startRegistry({ auth: creds });
  await d.docker(['load', '-i', busybox.dockerArchive]);
  await d.docker(['tag', 'busybox', `${reg.host}/auth/bb:1`]);
});
after(() => { d?.stop(); reg?.stop(); });

const dray = (args: string[], input?: string): ReturnType<typeof execCommand> => execCommand(DRAY, args, { env: d.cliEnv, input });
const docker = (args: string[], input?: string): ReturnType<typeof execCommand> => execCommand(DOCKER_CLI.v28, args, { env: d.cliEnv, input });

test('login, push and pull with credentials, logout; failures as docker', needsRoot, async () => {
  const config = join(d.cliEnv.DOCKER_CONFIG!, 'config.json');
  // Without credentials the registry refuses the push, for both CLIs alike.
  const [dk0, dr0] = [await docker(['push', `${reg.host}/auth/bb:1`]), await dray(['push', `${reg.host}/auth/bb:1`])];
  assert.equal(dr0.code, dk0.code);
  assert.notEqual(dr0.code, 0);
  assert.equal(dr0.stderr, dk0.stderr);

  const bad = await dray(['login', '-u', creds.username, '--password-stdin', reg.host], 'wrong\n');
  const badDocker = await docker(['login', '-u', creds.username, '--password-stdin', reg.host], 'wrong\n');
  assert.equal(bad.code, badDocker.code);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /^Error response from daemon: .*401 Unauthorized/);

  const ok = await dray(['login', '-u', creds.username, '--password-stdin', reg.host], `${creds.password}\n`);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'Login Succeeded\n');
  const stored = JSON.parse(readFileSync(config, 'utf8'));
  assert.equal(Buffer.from(stored.auths[reg.host].auth, 'base64').toString(), `${creds.username}:${creds.password}`);
  assert.equal(statSync(config).mode & 0o777, 0o600);
  // docker's CLI reads what dray wrote: both push with it.
  const push = await dray(['push', `${reg.host}/auth/bb:1`]);
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /^1: digest: sha256:[0-9a-f]{64} size: \d+$/m);
  assert.equal((await docker(['push', `${reg.host}/auth/bb:1`])).code, 0);
  await d.docker(['rmi', `${reg.host}/auth/bb:1`]);
  const pull = await dray(['pull', `${reg.host}/auth/bb:1`]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, /Status: Downloaded newer image/);

  const out = await dray(['logout', reg.host]);
  assert.equal(out.stdout, `Removing login credentials for ${reg.host}\n`);
  assert.equal(JSON.parse(readFileSync(config, 'utf8')).auths[reg.host], undefined);
  assert.equal((await dray(['logout', reg.host])).stdout, `Not logged in to ${reg.host}\n`);
  const denied = await dray(['pull', `${reg.host}/auth/bb:1`]);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /no basic auth credentials|unauthorized/);
});

test('a broken config.json is a clear error, not a stack trace', needsRoot, async () => {
  const dir = join(d.dir, 'broken-config');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), '{"auths": [1,2]}');
  const r = await execCommand(DRAY, ['--config', dir, 'pull', `${reg.host}/auth/bb:1`], { env: d.cliEnv });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^loading config file .*config\.json: "auths" is not an object\n$/);
});

test('login on a terminal prompts for the user and the password (not echoed)', needsRoot, async () => {
  const config = join(d.cliEnv.DOCKER_CONFIG!, 'config.json');
  // The answers come after pauses: typed before the prompt sets the terminal up, they could be lost.
  const r = await execCommand('sh', ['-c', `(sleep 2; printf '${creds.username}\\r'; sleep 1; printf '${creds.password}\\r') | script -qec "${DRAY} login ${reg.host}" /dev/null`], { env: d.cliEnv, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /Username: dray\r?\n/);
  assert.match(r.stdout, /Password: \r?\n/);
  assert.doesNotMatch(r.stdout, /s3cret/);
  assert.match(r.stdout, /Login Succeeded/);
  const stored = JSON.parse(readFileSync(config, 'utf8'));
  assert.equal(Buffer.from(stored.auths[reg.host].auth, 'base64').toString(), `${creds.username}:${creds.password}`);
  assert.equal((await dray(['logout', reg.host])).code, 0);
  // Without a terminal and without -p, it says why it cannot ask.
  const noTty = await dray(['login', reg.host]);
  assert.deepEqual([noTty.code, noTty.stderr], [1, 'Error: Cannot perform an interactive login from a non TTY device\n']);
});
