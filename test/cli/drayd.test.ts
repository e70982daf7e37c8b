// dray against drayd: the same commands through dray and the docker CLI 28
// against one drayd, outputs compared modulo IDs and times. Covers what
// drayd serves today; commands drayd answers 501 for must fail alike.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from '../support/root.ts';
import { execCommand, DOCKER_CLI, startRegistry, type RegistryPeer } from '../harness/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImage } from '../images/index.ts';
import { startDrayd, type Drayd } from '../engine/support/drayd.ts';
import { CLIS, comparer, DRAY } from './support/compare.ts';

let d: Drayd;
let reg: RegistryPeer;
let work: string;
before(async () => {
  if (needsRoot.skip) return;
  const busybox = await testImage('busybox');
  d = await startDrayd();
  reg = await startRegistry();
  work = mkdtempSync(join(tmpdir(), 'dray-cli-drayd-'));
  await d.docker(['load', '-i', busybox.dockerArchive]);
});
after(async () => {
  await d?.stop();
  reg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const { run, same } = comparer(() => d.cliEnv);

test('drayd: version, info, images, history, system df', needsRoot, async () => {
  const versions = await Promise.all(CLIS.map((c) => run(c, ['version'])));
  const server = (s: string): string => s.slice(s.indexOf('\nServer:'));
  assert.equal(versions[1]!.code, 0, versions[1]!.stderr);
  assert.equal(server(versions[1]!.stdout), server(versions[0]!.stdout));
  await same(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}']);
  await same(['info', '--format', '{{.Containers}} {{.Images}} {{.OSType}}']);
  await same(['images']);
  await same(['images', '-q']);
  await same(['history', 'busybox']);
  await same(['system', 'df']);
});

test('drayd: run foreground, -d, ps, logs, exec, inspect, top, lifecycle, rm -f', needsRoot, async () => {
  await same(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { stderr: true });
  await same(['run', '--rm', '-e', 'A=1', '-w', '/tmp', '-u', '1000', '--entrypoint', 'sh', 'busybox', '-c', 'echo $A; pwd; id -u'], { stderr: true });
  await same(['run', '--rm', '-i', 'busybox', 'cat'], { input: 'stdin through drayd\n' });
  for (const cli of CLIS) {
    const r = await run(cli, ['run', '-d', '--name', `${cli}-cli-d`, '-l', 'k=v', 'busybox', 'sh', '-c', 'echo started; sleep 600']);
    assert.equal(r.code, 0, r.stderr);
  }
  await same(['ps', '--filter', 'name={cli}-cli-d']);
  await same(['ps', '-a', '-q', '--filter', 'name={cli}-cli-d']);
  await same(['ps', '--filter', 'name={cli}-cli-d', '--format', '{{.Names}} {{.Label "k"}} {{.State}} {{.Command}}']);
  for (const cli of CLIS) {
    for (let i = 0; i < 50 && !(await d.dockerResult(['logs', `${cli}-cli-d`])).stdout.includes('started'); i++) await new Promise((r) => setTimeout(r, 100));
  }
  await same(['logs', '{cli}-cli-d'], { stderr: true });
  await same(['logs', '--tail', '1', '-t', '{cli}-cli-d'], { stderr: true });
  await same(['exec', '-u', '1000', '{cli}-cli-d', 'id', '-u'], { stderr: true });
  await same(['exec', '{cli}-cli-d', 'sh', '-c', 'exit 5']);
  await same(['exec', '-d', '{cli}-cli-d', 'true']);
  await same(['inspect', '-f', '{{.State.Status}} {{.Config.Cmd}} {{index .Config.Labels "k"}}', '{cli}-cli-d']);
  await same(['top', '{cli}-cli-d'], { normalize: (s) => s.split('\n').map((l) => l.split(/\s+/).filter((_w, i) => i === 0 || i >= 7).join(' ')).join('\n') });
  await same(['pause', '{cli}-cli-d'], { stderr: true });
  await same(['unpause', '{cli}-cli-d'], { stderr: true });
  await same(['rename', '{cli}-cli-d', '{cli}-cli-d2'], { stderr: true });
  await same(['kill', '{cli}-cli-d2'], { stderr: true });
  await same(['wait', '{cli}-cli-d2']);
  await same(['start', '{cli}-cli-d2'], { stderr: true });
  await same(['stop', '-t', '1', '{cli}-cli-d2'], { stderr: true });
  await same(['rm', '-f', '{cli}-cli-d2'], { stderr: true });
  await same(['rm', '-f', '{cli}-cli-d2'], { stderr: true });
  await same(['logs', 'no-such-container'], { stderr: true });
});

test('drayd: exec -it and run -it under a pty', needsRoot, async () => {
  for (const cli of CLIS) {
    const bin = cli === 'docker' ? DOCKER_CLI.v28 : DRAY;
    const r = await execCommand('script', ['-qec', `${bin} run --rm -it busybox sh -c 'tty; exit 2'`, '/dev/null'], { env: d.cliEnv, timeoutMs: 60_000 });
    assert.equal(r.code, 2, `${cli}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /\/dev\/pts\/0/);
  }
});

test('drayd: tag, push, rmi, pull through a registry; save and load; what drayd does not serve fails alike', needsRoot, async () => {
  // Layers push concurrently: their lines may come in any order.
  const sorted = (s: string): string => s.split('\n').sort().join('\n').replace(/digest: sha256:[0-9a-f]{64} size: \d+/, 'digest');
  await same(['tag', 'busybox', `${reg.host}/{cli}/bb:1`], { stderr: true });
  await same(['push', `${reg.host}/{cli}/bb:1`], { stderr: true, normalize: (s) => sorted(s.replace(/Mounted from X\/bb/g, 'Pushed')) });
  await same(['rmi', `${reg.host}/{cli}/bb:1`], { stderr: true });
  await same(['pull', `${reg.host}/{cli}/bb:1`], { stderr: true, normalize: sorted });
  await same(['images', '--format', '{{.Repository}}:{{.Tag}}', `${reg.host}/{cli}/bb`]);
  for (const cli of CLIS) {
    const file = join(work, `${cli}.tar`);
    assert.equal((await run(cli, ['save', '-o', file, 'busybox'])).code, 0);
    const load = await run(cli, ['load', '-i', file]);
    assert.deepEqual([load.code, load.stdout], [0, 'Loaded image: busybox:latest\n']);
  }
  await same(['run', '-d', '--name', '{cli}-cli-x', 'busybox', 'sleep', '60']);
  await same(['export', '-o', join(work, 'x.tar'), '{cli}-cli-x'], { stderr: true });
  await same(['rm', '-f', '{cli}-cli-x']);
});
