// The same commands through dray and through the docker CLI 28, against the
// same real dockerd from the harness: outputs compared modulo IDs, names we
// chose per CLI, and times; exit codes compared exactly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsRoot } from '../support/root.ts';
import { DOCKER_CLI, execCommand, startDockerd, startRegistry, type DockerdPeer, type ExecResult, type RegistryPeer } from '../harness/index.ts';
import { CLIS, comparer, DRAY, norm, type Cli } from './support/compare.ts';
import { testImage } from '../images/index.ts';

let d: DockerdPeer;
let reg: RegistryPeer;
let work: string;

before(async () => {
  if (needsRoot.skip) return;
  const busybox = await testImage('busybox');
  d = await startDockerd();
  reg = await startRegistry();
  work = mkdtempSync(join(tmpdir(), 'dray-cli-compat-'));
  await d.docker(['load', '-i', busybox.dockerArchive]);
});

after(() => {
  d?.stop();
  reg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Waits (bounded) until the container's log holds text. */
async function waitLogs(name: string, text: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await d.dockerResult(['logs', name]);
    if ((r.stdout + r.stderr).includes(text)) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${name}: no "${text}" in its log`);
}
const { run, same } = comparer(() => d.cliEnv);

test('run in the foreground: output streams, exit status, -e -w -u --entrypoint, --rm', needsRoot, async () => {
  await same(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { stderr: true });
  await same(['run', '--rm', '-e', 'A=1', '-e', 'B=two words', '-w', '/tmp', '-u', '1000:1000', '--entrypoint', 'sh', 'busybox', '-c', 'echo $A $B; pwd; id'], { stderr: true });
  await same(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'from stdin\n', stderr: true });
  // Options after the image belong to the command.
  await same(['run', '--rm', 'busybox', 'ls', '-d', '/etc']);
  await same(['run', '--name', '{cli}-cli-fg', 'busybox', 'true']);
  await same(['ps', '-a', '--filter', 'name={cli}-cli-fg', '--format', '{{.Names}} {{.Image}} {{.Command}} {{.Status}}']);
  await same(['rm', '{cli}-cli-fg']);
  for (const cli of CLIS) assert.equal((await d.docker(['ps', '-aq', '--filter', `name=${cli}-cli-fg`])).trim(), '');
});

test('run -d, ps (table, -q, --filter, --format, --no-trunc, -s), logs, inspect --format, top, stats', needsRoot, async () => {
  for (const cli of CLIS) {
    const r = await run(cli, ['run', '-d', '--name', `${cli}-cli-bg`, '-p', '127.0.0.1::80', '-l', 'k=v', 'busybox', 'sh', '-c', 'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; sleep 600']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  }
  const ports = (s: string): string => s.replace(/127\.0\.0\.1:\d+(->|-\\u003e)/g, '127.0.0.1:<port>->');
  await same(['ps', '--filter', 'name={cli}-cli-bg'], { normalize: ports });
  await same(['ps', '-a', '--no-trunc', '-s', '--filter', 'label=k=v', '--filter', 'name={cli}-cli-bg'], { normalize: ports });
  await same(['ps', '-q', '--filter', 'name={cli}-cli-bg']);
  await same(['ps', '--filter', 'name={cli}-cli-bg', '--format', 'table {{.Names}}\t{{.Labels}}\t{{.State}}\t{{.Networks}}\t{{.Mounts}}']);
  await same(['ps', '--filter', 'name={cli}-cli-bg', '--format', '{{json .}}'], { normalize: (s) => ports(s).replace(/"CreatedAt":"[^"]*"/, '').replace(/"Size":"[^"]*"/, '') });
  await same(['container', 'ls', '--filter', 'name={cli}-cli-bg', '--format', '{{.ID}}']);
  for (const cli of CLIS) await waitLogs(`${cli}-cli-bg`, 'three');
  await same(['logs', '{cli}-cli-bg'], { stderr: true });
  await same(['logs', '--tail', '1', '{cli}-cli-bg'], { stderr: true });
  const ts = await same(['logs', '-t', '--tail', '2', '{cli}-cli-bg'], { stderr: true });
  assert.match(ts.stdout + ts.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (two|three)$/m);
  await same(['inspect', '--format', '{{.State.Status}} {{.Config.Cmd}} {{json .Config.Labels}} {{index .Config.Labels "k"}} {{range .Config.Env}}{{.}};{{end}} {{upper .HostConfig.NetworkMode}}', '{cli}-cli-bg']);
  await same(['container', 'inspect', '-f', '{{len .Config.Cmd}} {{.Config.Image}} {{join .Config.Cmd "|"}}', '{cli}-cli-bg']);
  await same(['inspect', 'no-such-thing'], { stderr: true });
  await same(['port', '{cli}-cli-bg'], { normalize: (s) => s.replace(/:\d+$/gm, ':<port>') });
  await same(['top', '{cli}-cli-bg'], { normalize: (s) => s.split('\n').map((l) => l.split(/\s+/).filter((_w, i) => i === 0 || i >= 7).join(' ')).join('\n') });
  const statsHead = async (cli: Cli): Promise<string> => {
    const r = await run(cli, ['stats', '--no-stream', `${cli}-cli-bg`]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, new RegExp(`^[0-9a-f]{12}\\s+${cli}-cli-bg\\s+\\d+\\.\\d\\d%\\s+[\\d.]+[KMG]?i?B / [\\d.]+[KMG]iB\\s+\\d+\\.\\d\\d%\\s+\\S+ / \\S+\\s+\\S+ / \\S+\\s+1$`));
    return lines[0]!.replace(/ {2,}/g, '  ');
  };
  assert.equal(await statsHead('dray'), await statsHead('docker'));
  for (const cli of CLIS) await d.docker(['rm', '-f', `${cli}-cli-bg`]);
});

test('logs -f follows a bounded container to its end', needsRoot, async () => {
  for (const cli of CLIS) await d.docker(['run', '-d', '--name', `${cli}-cli-follow`, 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.3; done']);
  await same(['logs', '-f', '{cli}-cli-follow'], { stderr: true });
  await same(['wait', '{cli}-cli-follow']);
  await same(['rm', '{cli}-cli-follow']);
});

test('exec: -u, -d, exit codes, -e/-w, and -it under a pty', needsRoot, async () => {
  for (const cli of CLIS) await d.docker(['run', '-d', '--name', `${cli}-cli-exec`, 'busybox', 'sleep', '600']);
  await same(['exec', '-u', '1000', '{cli}-cli-exec', 'id'], { stderr: true });
  await same(['exec', '-e', 'X=1', '-w', '/etc', '{cli}-cli-exec', 'sh', '-c', 'echo $X; pwd; exit 4'], { stderr: true });
  await same(['exec', '-d', '{cli}-cli-exec', 'sh', '-c', 'echo bg > /tmp/bg']);
  await same(['exec', '-i', '{cli}-cli-exec', 'cat'], { input: 'piped\n' });
  await same(['exec', 'no-such-container', 'true'], { stderr: true });
  // -it through a real terminal: script(1) gives the CLI a pty; the shell's output comes back through it.
  for (const cli of CLIS) {
    const bin = cli === 'docker' ? DOCKER_CLI.v28 : DRAY;
    const r = await execCommand('script', ['-qec', `${bin} exec -it ${cli}-cli-exec sh -c 'tty; echo in-tty; exit 6'`, '/dev/null'], { env: d.cliEnv, timeoutMs: 60_000 });
    assert.equal(r.code, 6, `${cli}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /\/dev\/pts\/\d+\r*\n/);
    assert.match(r.stdout, /in-tty/);
  }
  for (const cli of CLIS) await d.docker(['rm', '-f', `${cli}-cli-exec`]);
});

test('run -it under a pty, and detach keys leave the container running', needsRoot, async () => {
  for (const cli of CLIS) {
    const bin = cli === 'docker' ? DOCKER_CLI.v28 : DRAY;
    const r = await execCommand('script', ['-qec', `${bin} run --rm -it busybox sh -c 'tty; exit 2'`, '/dev/null'], { env: d.cliEnv, timeoutMs: 60_000 });
    assert.equal(r.code, 2, `${cli}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /\/dev\/pts\/0/);
    // ctrl-p ctrl-q typed into the terminal: the CLI leaves, the container runs on.
    // The keys come after a pause: typed before the CLI sets the terminal raw, the line discipline would eat ctrl-q.
    const det = await execCommand('sh', ['-c', `(sleep 3; printf '\\020\\021') | script -qec "${bin} run -it --name ${cli}-cli-detach busybox sh -c 'echo ready; sleep 600'" /dev/null`], {
      env: d.cliEnv, timeoutMs: 60_000,
    });
    assert.equal(det.code, 0, `${cli}: ${det.stdout}${det.stderr}`);
    assert.match(det.stdout, /ready/);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', `${cli}-cli-detach`])).trim(), 'true');
    await d.docker(['rm', '-f', `${cli}-cli-detach`]);
  }
});

test('lifecycle: stop, start, restart, kill, pause/unpause, rename, update, wait, rm -f', needsRoot, async () => {
  for (const cli of CLIS) await d.docker(['run', '-d', '--name', `${cli}-cli-life`, 'busybox', 'sleep', '600']);
  await same(['pause', '{cli}-cli-life'], { stderr: true });
  await same(['ps', '--filter', 'name={cli}-cli-life', '--format', '{{.Status}}']);
  await same(['unpause', '{cli}-cli-life'], { stderr: true });
  await same(['update', '--cpu-shares', '512', '--pids-limit', '50', '{cli}-cli-life'], { stderr: true });
  await same(['inspect', '-f', '{{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}}', '{cli}-cli-life']);
  await same(['rename', '{cli}-cli-life', '{cli}-cli-life2'], { stderr: true });
  await same(['kill', '-s', 'KILL', '{cli}-cli-life2'], { stderr: true });
  await same(['wait', '{cli}-cli-life2']);
  await same(['start', '{cli}-cli-life2'], { stderr: true });
  await same(['restart', '-t', '1', '{cli}-cli-life2'], { stderr: true });
  await same(['stop', '-t', '1', '{cli}-cli-life2'], { stderr: true });
  await same(['ps', '-a', '--filter', 'name={cli}-cli-life2', '--format', '{{.Names}} {{.State}}']);
  await same(['start', '{cli}-cli-life2'], { stderr: true });
  await same(['rm', '{cli}-cli-life2'], { normalize: (s) => s, stderr: false });
  await same(['rm', '-f', '{cli}-cli-life2'], { stderr: true });
  await same(['rm', '-f', '{cli}-cli-life2'], { stderr: true });
  await same(['stop', 'no-such-container'], { stderr: true });
});

test('cp both ways, diff, export, commit, history', needsRoot, async () => {
  // Each container writes its hostname (its own ID, equal lengths: sizes are compared): with identical changes made within
  // one second, both commits would share a layer and rmi's output would depend on order.
  for (const cli of CLIS) await d.docker(['run', '-d', '--name', `${cli}-cli-fs`, 'busybox', 'sh', '-c', `mkdir -p /data/sub && echo hello > /data/sub/f && ln -s sub/f /data/link && hostname > /who && sleep 600`]);
  for (const cli of CLIS) {
    // cp waits for the files: the container makes them as it starts.
    for (let i = 0; i < 50 && (await d.dockerResult(['exec', `${cli}-cli-fs`, 'test', '-f', '/data/sub/f'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  }
  const local = join(work, 'cp');
  mkdirSync(local);
  writeFileSync(join(local, 'up.txt'), 'uploaded\n');
  mkdirSync(join(local, 'updir'));
  writeFileSync(join(local, 'updir', 'inner'), 'inner\n');
  for (const cli of CLIS) {
    const out = join(local, cli);
    mkdirSync(out);
    const runc = (a: string[]): Promise<ExecResult> => run(cli, a);
    assert.equal((await runc(['cp', `${cli}-cli-fs:/data`, out])).code, 0);
    assert.equal(readFileSync(join(out, 'data', 'sub', 'f'), 'utf8'), 'hello\n');
    assert.equal(readFileSync(join(out, 'data', 'link'), 'utf8'), 'hello\n');
    assert.equal((await runc(['cp', `${cli}-cli-fs:/data/sub/f`, join(out, 'renamed')])).code, 0);
    assert.equal(readFileSync(join(out, 'renamed'), 'utf8'), 'hello\n');
    assert.equal((await runc(['cp', `${cli}-cli-fs:/data/.`, join(out, 'contents')])).code, 0);
    assert.ok(existsSync(join(out, 'contents', 'sub', 'f')));
    assert.equal((await runc(['cp', join(local, 'up.txt'), `${cli}-cli-fs:/tmp/`])).code, 0);
    assert.equal((await runc(['cp', join(local, 'up.txt'), `${cli}-cli-fs:/tmp/new-name`])).code, 0);
    assert.equal((await runc(['cp', join(local, 'updir'), `${cli}-cli-fs:/tmp/`])).code, 0);
    assert.equal(await d.docker(['exec', `${cli}-cli-fs`, 'cat', '/tmp/up.txt', '/tmp/new-name', '/tmp/updir/inner']), 'uploaded\nuploaded\ninner\n');
  }
  await same(['cp', '{cli}-cli-fs:/no/such', join(work, 'x')], { stderr: true });
  await same(['diff', '{cli}-cli-fs'], { normalize: (s) => s.split('\n').sort().join('\n') });
  for (const cli of CLIS) {
    const tarFile = join(work, `${cli}.tar`);
    assert.equal((await run(cli, ['export', '-o', tarFile, `${cli}-cli-fs`])).code, 0);
    const list = await execCommand('tar', ['-tf', tarFile]);
    assert.match(list.stdout, /^data\/sub\/f$/m);
    assert.match(list.stdout, /^bin\/busybox$/m);
  }
  await same(['commit', '-m', 'snap', '{cli}-cli-fs', '{cli}-cli-img:1']);
  await same(['history', '{cli}-cli-img:1']);
  await same(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', '{cli}-cli-img:1']);
  await same(['run', '--rm', '{cli}-cli-img:1', 'cat', '/data/sub/f']);
  for (const cli of CLIS) await d.docker(['rm', '-f', `${cli}-cli-fs`]);
  await same(['rmi', '{cli}-cli-img:1']);
});

test('images, tag, push, rmi, pull (also by run), save and load, through the harness registry', needsRoot, async () => {
  await same(['images']);
  await same(['images', '--digests', '--no-trunc']);
  await same(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}} {{.Size}} {{.VirtualSize}}']);
  await same(['tag', 'busybox', `${reg.host}/{cli}/bb:1`], { stderr: true });
  await same(['images', `${reg.host}/{cli}/bb`]);
  await same(['push', `${reg.host}/{cli}/bb:1`], { stderr: true, normalize: (s) => s.replace(/digest: sha256:[0-9a-f]+ size: \d+/, 'digest').replace(/Mounted from X\/bb/, 'Pushed') });
  await same(['rmi', `${reg.host}/{cli}/bb:1`], { normalize: (s) => s.replace(/sha256:[0-9a-f]{64}/g, 'D') });
  await same(['pull', `${reg.host}/{cli}/bb:1`], { stderr: true });
  await same(['pull', '-q', `${reg.host}/{cli}/bb:1`]);
  await same(['rmi', `${reg.host}/{cli}/bb:1`], { normalize: (s) => s.replace(/sha256:[0-9a-f]{64}/g, 'D') });
  await same(['pull', `${reg.host}/{cli}/nothing:1`], { stderr: true });
  // run pulls a missing image first, saying so on stderr.
  for (const cli of CLIS) {
    const r = await run(cli, ['run', '--rm', `${reg.host}/${cli}/bb:1`, 'echo', 'pulled and ran']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'pulled and ran\n');
    assert.match(r.stderr, new RegExp(`^Unable to find image '${reg.host}/${cli}/bb:1' locally\n1: Pulling from ${cli}/bb\n`));
    await d.docker(['rmi', `${reg.host}/${cli}/bb:1`]);
  }
  // On a terminal, pull draws one line per layer and rewrites it in place (cursor up, clear line).
  // (A layer of its own, so that dockerd has to download it again.)
  await d.docker(['run', '--name', 'cli-tty-layer', 'busybox', 'sh', '-c', 'head -c 300000 /dev/urandom > /blob']);
  await d.docker(['commit', 'cli-tty-layer', `${reg.host}/tty/bb:1`]);
  await d.docker(['rm', 'cli-tty-layer']);
  await d.docker(['push', `${reg.host}/tty/bb:1`]);
  await d.docker(['rmi', `${reg.host}/tty/bb:1`]);
  const tty = await execCommand('script', ['-qec', `${DRAY} pull ${reg.host}/tty/bb:1`, '/dev/null'], { env: d.cliEnv, timeoutMs: 60_000 });
  assert.equal(tty.code, 0, tty.stdout);
  assert.match(tty.stdout, /\x1b\[1A\r?\x1b\[2K\r[0-9a-f]{12}: Pull complete/);
  assert.match(tty.stdout, /Status: Downloaded newer image for /);
  await d.docker(['rmi', `${reg.host}/tty/bb:1`]);
  for (const cli of CLIS) {
    const file = join(work, `${cli}-save.tar`);
    assert.equal((await run(cli, ['save', '-o', file, 'busybox'])).code, 0);
    const list = await execCommand('tar', ['-tf', file]);
    assert.match(list.stdout, /^manifest\.json$/m);
    await d.docker(['tag', 'busybox', `${cli}-cli-saved:1`]);
    const viaStdout = await execCommand('sh', ['-c', `${cli === 'docker' ? DOCKER_CLI.v28 : DRAY} save ${cli}-cli-saved:1 | tar -tf - | grep -c manifest.json`], { env: d.cliEnv });
    assert.equal(viaStdout.stdout.trim(), '1');
    await d.docker(['rmi', `${cli}-cli-saved:1`]);
  }
  await same(['load', '-i', join(work, 'docker-save.tar')], { stderr: true });
  await same(['load'], { input: readFileSync(join(work, 'dray-save.tar')), stderr: true });
});

test('system df, info, version, events --since/--until', needsRoot, async () => {
  await same(['system', 'df'], { normalize: (s) => s.replace(/\d+(\.\d+)?[kMG]?B( \(\d+%\))?/g, 'N') });
  for (const cli of CLIS) {
    const r = await run(cli, ['info']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Server:\n Containers: \d+\n  Running: \d+\n/m);
  }
  const serverPart = (s: string): string => s.slice(s.indexOf('\nServer:'));
  const infos = await Promise.all(CLIS.map((c) => run(c, ['info'])));
  const labels = (s: string): string[] => serverPart(s).split('\n').map((l) => l.replace(/:.*/, ''));
  assert.deepEqual(labels(infos[1]!.stdout), labels(infos[0]!.stdout));
  await same(['info', '--format', '{{.ServerVersion}} {{.Driver}} {{.NCPU}} {{json .Plugins.Volume}}']);
  const versions = await Promise.all(CLIS.map((c) => run(c, ['version'])));
  assert.equal(serverPart(versions[1]!.stdout), serverPart(versions[0]!.stdout));
  assert.match(versions[1]!.stdout, /^Client: Dray\n Version: +\d+\.\d+\.\d+\n API version: +1\.41 \(downgraded from 1\.50\)\n/);
  await same(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Os}}']);
  const since = String(Math.floor(Date.now() / 1000) - 1);
  await d.docker(['run', '--rm', '--name', 'cli-events', 'busybox', 'true']);
  const until = String(Math.floor(Date.now() / 1000) + 1);
  await same(['events', '--since', since, '--until', until, '--filter', 'container=cli-events']);
  await same(['events', '--since', since, '--until', until, '--filter', 'type=container', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}']);
  await same(['events', '--since', since, '--until', until, '--filter', 'container=cli-events', '--format', '{{json .}}']);
});

test('bad input: unknown commands and flags (125), wrong argument counts, daemon errors, 126/127', needsRoot, async () => {
  for (const cli of CLIS) {
    const r = await run(cli, ['run', '--no-such-flag', 'busybox']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^unknown flag: --no-such-flag\n/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  }
  const dray = (a: string[]): Promise<ExecResult> => run('dray', a);
  assert.deepEqual(await dray(['frobnicate']), { code: 125, signal: null, stdout: '', stderr: "dray: 'frobnicate' is not a dray command.\nSee 'dray --help'\n" });
  assert.deepEqual(await dray(['ps', '-x']), { code: 125, signal: null, stdout: '', stderr: "unknown shorthand flag: 'x' in -x\nSee 'dray ps --help'.\n" });
  assert.equal((await dray(['container', 'frob'])).code, 125);
  await same(['run'], { normalize: (s) => s });
  await same(['rm'], { normalize: (s) => s });
  await same(['run', 'busybox', 'no-such-binary'], { normalize: (s) => s });
  await same(['run', 'busybox', '/etc/passwd'], { normalize: (s) => s });
  await same(['run', '--name', '{cli}-cli-dup', '-d', 'busybox', 'sleep', '60']);
  for (const cli of CLIS) {
    const r = await run(cli, ['run', '--name', `${cli}-cli-dup`, 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`^${cli}: Error response from daemon: Conflict\\. The container name "/${cli}-cli-dup" is already in use`));
    await d.docker(['rm', '-f', `${cli}-cli-dup`]);
  }
  await d.docker(['container', 'prune', '-f']);
  await same(['logs', 'no-such-container'], { stderr: true });
  await same(['rmi', 'no-such-image'], { stderr: true });
  const help = await dray(['run', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage:  dray run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]/);
  assert.match(help.stdout, /  -e, --env list +Set environment variables/);
});

test('no daemon: a clear message naming Dray and how to start drayd; --help and the client version still work', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dray-cli-nodaemon-'));
  try {
    const env = { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: dir, DOCKER_HOST: `unix://${dir}/none.sock` };
    const ps = await execCommand(DRAY, ['ps'], { env });
    assert.equal(ps.code, 1);
    assert.equal(ps.stdout, '');
    assert.match(ps.stderr, new RegExp(`^Cannot connect to the Dray daemon at unix://${dir}/none.sock\\. Is the drayd daemon running\\?\nStart it with 'drayd'`));
    const v = await execCommand(DRAY, ['version'], { env });
    assert.equal(v.code, 1);
    assert.match(v.stdout, /^Client: Dray\n Version: /);
    assert.doesNotMatch(v.stdout, /Server:/);
    const help = await execCommand(DRAY, ['--help'], { env });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /unix:\/\/\/run\/dray\/dray\.sock/);
    // The default host is Dray's own socket.
    const def = await execCommand(DRAY, ['ps'], { env: { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: dir } });
    if (!existsSync('/run/dray/dray.sock')) assert.match(def.stderr, /^Cannot connect to the Dray daemon at unix:\/\/\/run\/dray\/dray\.sock\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


test('create then start -a, attach, run -t without a terminal, ps {{.Label}}, prune', needsRoot, async () => {
  await same(['create', '--name', '{cli}-cli-created', '-l', 'tier=web', 'busybox', 'sh', '-c', 'echo from created; exit 9']);
  await same(['ps', '-a', '--filter', 'name={cli}-cli-created', '--format', '{{.Names}} {{.Label "tier"}} {{.State}}']);
  await same(['start', '-a', '{cli}-cli-created'], { stderr: true });
  await same(['rm', '{cli}-cli-created']);
  // attach to a running container: its output until it exits, and its status.
  // Each container starts right before its CLI attaches (it must still be running then).
  const attached: ExecResult[] = [];
  for (const cli of CLIS) {
    await d.docker(['run', '-d', '--name', `${cli}-cli-attach`, 'busybox', 'sh', '-c', 'sleep 2; echo attached-out; echo attached-err >&2; exit 4']);
    attached.push(await run(cli, ['attach', `${cli}-cli-attach`]));
    await d.docker(['rm', '-f', `${cli}-cli-attach`]);
  }
  assert.deepEqual(attached[1], attached[0]);
  assert.deepEqual([attached[1]!.code, attached[1]!.stdout, attached[1]!.stderr], [4, 'attached-out\n', 'attached-err\n']);
  // -t without -i from a pipe: raw output (the container's pty turns \n into \r\n).
  const t = await same(['run', '--rm', '-t', 'busybox', 'sh', '-c', 'echo tty-out; tty'], { stderr: true });
  assert.match(t.stdout, /^tty-out\r\n\/dev\/pts\/0\r\n$/);
  for (const cli of CLIS) {
    for (let i = 0; i < 2; i++) await d.docker(['run', '--name', `${cli}-cli-prune-${i}`, 'busybox', 'true']);
    const r = await run(cli, ['container', 'prune', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(norm(r.stdout), 'Deleted Containers:\n<ID>\n<ID>\n\nTotal reclaimed space: 0B\n');
  }
  await same(['image', 'prune', '-f']);
  await same(['system', 'prune', '-f'], { normalize: (s) => s.replace(/Deleted Networks:\n(.*\n)*?\n/, '') });
});

test('--sig-proxy: a signal to the CLI reaches the container, whose status the CLI returns', needsRoot, async () => {
  const { spawn } = await import('node:child_process');
  for (const cli of CLIS) {
    const name = `${cli}-cli-sig`;
    const child = spawn(cli === 'docker' ? DOCKER_CLI.v28 : DRAY, ['run', '--rm', '--name', name, 'busybox', 'sh', '-c', 'trap "echo got TERM; exit 7" TERM; echo ready; while true; do sleep 0.1; done'], { env: d.cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 100 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /ready/, `${cli} never started`);
      child.kill('SIGTERM');
      assert.equal(await exited, 7, `${cli}: ${out}`);
      assert.match(out, /got TERM/);
    } finally {
      child.kill('SIGKILL');
      await d.dockerResult(['rm', '-f', name]);
    }
  }
});

test('network and volume commands: create, ls, inspect, connect/disconnect, rm, prune; errors as docker', needsRoot, async () => {
  // Each CLI makes and removes its own network and volume, so the state each sees is the same.
  const subnet = d.addressPool.replace(/0\/24$/, '64/28');
  for (const cli of CLIS) {
    const r = await run(cli, ['network', 'create', '--subnet', subnet, '--label', 'who=cli', `${cli}-cli-net`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    const ls = await run(cli, ['network', 'ls', '--filter', `name=${cli}-cli-net`, '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}} {{.Labels}} {{.Label "who"}}']);
    assert.equal(ls.stdout, `${cli}-cli-net bridge local false who=cli cli\n`);
    assert.equal((await run(cli, ['network', 'inspect', '-f', '{{.Name}} {{(index .IPAM.Config 0).Subnet}}', `${cli}-cli-net`])).stdout, `${cli}-cli-net ${subnet}\n`);
    await d.docker(['run', '-d', '--name', `${cli}-cli-netc`, 'busybox', 'sleep', '600']);
    assert.equal((await run(cli, ['network', 'connect', '--alias', 'al', `${cli}-cli-net`, `${cli}-cli-netc`])).code, 0);
    assert.match(await d.docker(['inspect', '-f', `{{json .NetworkSettings.Networks}}`, `${cli}-cli-netc`]), new RegExp(`"${cli}-cli-net"`));
    assert.equal((await run(cli, ['network', 'disconnect', `${cli}-cli-net`, `${cli}-cli-netc`])).code, 0);
    await d.docker(['rm', '-f', `${cli}-cli-netc`]);
    assert.equal((await run(cli, ['network', 'rm', `${cli}-cli-net`])).stdout, `${cli}-cli-net\n`);
  }
  await same(['network', 'ls']);
  await same(['network', 'ls', '-q', '--no-trunc']);
  await same(['network', 'ls', '--format', 'json'], { normalize: (s) => s.replace(/"CreatedAt":"[^"]*"/g, '') });
  await same(['network', 'inspect', 'no-such-net'], { stderr: true });
  await same(['network', 'rm', 'no-such-net', 'no-such-net2'], { stderr: true });
  await same(['network', 'prune', '-f']);
  await same(['volume', 'create', '--label', 'k=v', '{cli}-cli-vol']);
  await same(['volume', 'ls', '--filter', 'name={cli}-cli-vol']);
  await same(['volume', 'ls', '-q', '--filter', 'label=k=v']);
  await same(['volume', 'ls', '--filter', 'name={cli}-cli-vol', '--format', 'json'], { normalize: (s) => s.replace(/volumes\/\w+-cli-vol/, 'volumes/V') });
  await same(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Labels}}', '{cli}-cli-vol']);
  await same(['inspect', '--type', 'volume', '-f', '{{.Scope}}', '{cli}-cli-vol']);
  await same(['volume', 'inspect', 'no-such-vol'], { stderr: true });
  await same(['volume', 'rm', '{cli}-cli-vol'], { stderr: true });
  await same(['volume', 'rm', '{cli}-cli-vol'], { stderr: true });
  await same(['volume', 'prune', '-f']);
  await same(['container', 'inspect', 'no-such-container'], { stderr: true });
});
