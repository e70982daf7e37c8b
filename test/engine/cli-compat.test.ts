// drayd driven by the real docker CLI 28 and 20.10, compared with the real
// dockerd (harness) running the same commands on the same busybox image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from '../support/root.ts';
import { execCommand, waitUntil, type DockerdPeer, type DockerCli } from '../harness/index.ts';
import { join } from 'node:path';
import type { Drayd } from './support/drayd.ts';
import { startDaemonPair, type DaemonPair } from './support/pair.ts';

let dray: Drayd;
let real: DockerdPeer;
let pair: DaemonPair | undefined;
const CLIS: DockerCli[] = ['v28', 'v20'];

interface Side { name: string; run(args: string[], cli?: DockerCli, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> }
let sides: Side[] = [];

before(async () => {
  if (needsRoot.skip) return;
  pair = await startDaemonPair();
  ({ dray, real } = pair);
  sides = [
    { name: 'drayd', run: (a, cli = 'v28', input) => dray.dockerResult(a, { cli, ...(input !== undefined ? { input } : {}) }) },
    { name: 'dockerd', run: (a, cli = 'v28', input) => real.dockerResult(a, { cli, ...(input !== undefined ? { input } : {}) }) },
  ];
});

after(async () => {
  await pair?.stop();
});

/** Runs the same command on both daemons; returns [drayd, dockerd]. */
async function both(args: string[], cli: DockerCli = 'v28', input?: string): Promise<{ code: number | null; stdout: string; stderr: string }[]> {
  return Promise.all(sides.map((s) => s.run(args, cli, input)));
}

test('run in the foreground: output, exit codes, env, workdir, user, entrypoint', needsRoot, async () => {
  for (const cli of CLIS) {
    const cases: string[][] = [
      ['run', '--rm', 'busybox', 'echo', 'hi'],
      ['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'],
      ['run', '--rm', '-e', 'FOO=bar', '-w', '/tmp', '-u', 'nobody', 'busybox', 'sh', '-c', 'echo $FOO; pwd; id; echo $HOME'],
      ['run', '--rm', '--entrypoint', '/bin/echo', 'busybox', 'a', 'b'],
      ['run', '--rm', 'busybox', 'sh', '-c', 'env | sort | grep -v HOSTNAME'],
      ['run', '--rm', '-u', '1234:5678', 'busybox', 'id'],
      ['run', '--rm', 'busybox', 'sh', '-c', 'cat /proc/self/status | grep -E "^Cap(Prm|Eff|Bnd)|^Seccomp:|^NoNewPrivs"'],
      ['run', '--rm', '--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', '--security-opt', 'no-new-privileges', 'busybox', 'sh', '-c', 'grep -E "^Cap(Eff|Bnd)|^NoNewPrivs" /proc/self/status'],
      ['run', '--rm', '--read-only', 'busybox', 'sh', '-c', 'touch /x 2>&1; echo $?'],
      ['run', '--rm', 'busybox', 'sh', '-c', 'cat /proc/kcore 2>&1 | head -c 20; mount | grep -E " /(proc/sys|dev/shm|sys) " | cut -d" " -f2-4'],
      ['run', '--rm', 'busybox', 'nonexistent-command'],
      // a missing WORKDIR is made at start (0755)
      ['run', '--rm', '-w', '/made/by/start', 'busybox', 'sh', '-c', 'pwd; ls -ld . | cut -c1-10'],
    ];
    for (const args of cases) {
      const [d, r] = await both(args, cli);
      assert.equal(d!.code, r!.code, `${cli} ${args.join(' ')}: exit code (drayd stderr: ${d!.stderr})`);
      assert.equal(d!.stdout, r!.stdout, `${cli} ${args.join(' ')}: stdout`);
    }
  }
});

test('run -i passes stdin; --rm leaves nothing', needsRoot, async () => {
  for (const cli of CLIS) {
    const [d, r] = await both(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], cli, 'hello\nworld\n');
    assert.equal(d!.stdout, 'hello\nworld\ndone\n');
    assert.equal(d!.stdout, r!.stdout);
  }
  assert.equal((await dray.docker(['ps', '-aq'])).trim(), '');
});

test('run -d, ps, logs, inspect, exec, top, stop, rm', needsRoot, async () => {
  const script = 'i=0; while true; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.2; done';
  for (const s of [dray, real] as const) {
    await s.docker(['run', '-d', '--name', 'bg', '--label', 'k=v', 'busybox', 'sh', '-c', script]);
  }
  try {
    for (const s of [dray, real]) {
      await waitUntil('a few log lines', async () => (await s.docker(['logs', 'bg'])).split('\n').length > 4, 10_000);
    }
    for (const cli of CLIS) {
      const [dps, rps] = await both(['ps', '--filter', 'label=k=v', '--format', '{{.Names}} {{.Image}} {{.Command}} {{.State}}'], cli);
      assert.equal(dps!.stdout, rps!.stdout);
      assert.match(dps!.stdout, /^bg busybox "sh -c .* running\n$/);
      const [dl] = await both(['logs', '--tail', '4', 'bg'], cli);
      assert.equal((dl!.stdout + dl!.stderr).split('\n').filter(Boolean).length, 4);
      assert.match(dl!.stdout, /^line \d+\nline \d+\n$/);
      assert.match(dl!.stderr, /^err \d+\nerr \d+\n$/);
      const [dt] = await both(['logs', '-t', '--tail', '2', 'bg'], cli);
      assert.match(dt!.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line \d+\n$/);
      const fmt = '{{.State.Status}} {{.State.Running}} {{.Config.Image}} {{json .Config.Cmd}} {{.HostConfig.RestartPolicy.Name}} {{.Name}} {{.Config.Labels.k}}';
      const [di, ri] = await both(['inspect', '--format', fmt, 'bg'], cli);
      assert.equal(di!.stdout, ri!.stdout);
      const [de, re] = await both(['exec', '-u', 'nobody', '-e', 'X=1', '-w', '/tmp', 'bg', 'sh', '-c', 'id; pwd; echo $X; exit 4'], cli);
      assert.equal(de!.code, 4);
      assert.equal(de!.code, re!.code);
      assert.equal(de!.stdout, re!.stdout);
      const [dx, rx] = await both(['exec', '-i', 'bg', 'cat'], cli, 'via stdin\n');
      assert.equal(dx!.stdout, 'via stdin\n');
      assert.equal(dx!.stdout, rx!.stdout);
      const [dd] = await both(['exec', '-d', 'bg', 'sh', '-c', 'echo detached > /tmp/d'], cli);
      assert.equal(dd!.code, 0);
      await waitUntil('detached exec ran', async () => (await dray.docker(['exec', 'bg', 'cat', '/tmp/d'])).trim() === 'detached', 5000);
    }
    const top = await dray.docker(['top', 'bg']);
    assert.match(top, /^UID\s+PID\s+PPID/);
    assert.match(top, /sh -c i=0/);
    const [ds, rs] = await both(['stop', '-t', '1', 'bg']);
    assert.equal(ds!.stdout, rs!.stdout);
    const [dw, rw] = await both(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}', 'bg']);
    assert.equal(dw!.stdout, 'exited 137 false\n');
    assert.equal(dw!.stdout, rw!.stdout);
    const [dp] = await both(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}} {{.Status}}']);
    assert.match(dp!.stdout, /^bg Exited \(137\) /);
  } finally {
    await Promise.all([dray.dockerResult(['rm', '-f', 'bg']), real.dockerResult(['rm', '-f', 'bg'])]);
  }
});

test('names: conflicts, generated names, rename, prefix resolution; errors as Docker', needsRoot, async () => {
  await dray.docker(['create', '--name', 'n1', 'busybox', 'true']);
  await real.docker(['create', '--name', 'n1', 'busybox', 'true']);
  try {
    const [d, r] = await both(['create', '--name', 'n1', 'busybox', 'true']);
    assert.equal(d!.code, r!.code);
    const norm = (s: string) => s.replace(/[0-9a-f]{64}/g, 'ID');
    assert.equal(norm(d!.stderr), norm(r!.stderr));
    const [dm, rm] = await both(['inspect', 'nosuch']);
    assert.equal(dm!.code, rm!.code);
    assert.equal(dm!.stderr, rm!.stderr);
    const [drm, rrm] = await both(['rm', 'nosuch']);
    assert.equal(drm!.stderr, rrm!.stderr);
    await dray.docker(['rename', 'n1', 'n2']);
    const id = (await dray.docker(['inspect', '--format', '{{.Id}}', 'n2'])).trim();
    assert.equal((await dray.docker(['inspect', '--format', '{{.Name}}', id.slice(0, 6)])).trim(), '/n2');
    const gen = (await dray.docker(['create', 'busybox', 'true'])).trim();
    assert.match((await dray.docker(['inspect', '--format', '{{.Name}}', gen])).trim(), /^\/[a-z]+_[a-z]+\d?$/);
    await dray.docker(['rm', gen]);
  } finally {
    await Promise.all([dray.dockerResult(['rm', '-f', 'n1', 'n2']), real.dockerResult(['rm', '-f', 'n1'])]);
  }
});

test('wait, kill, restart policy, pause/unpause', needsRoot, async () => {
  const [d] = await both(['run', '-d', '--name', 'waiter', 'busybox', 'sh', '-c', 'sleep 0.3; exit 7']);
  assert.equal(d!.code, 0);
  try {
    const [dw, rw] = await both(['wait', 'waiter']);
    assert.equal(dw!.stdout, '7\n');
    assert.equal(dw!.stdout, rw!.stdout);
  } finally {
    await Promise.all([dray.dockerResult(['rm', '-f', 'waiter']), real.dockerResult(['rm', '-f', 'waiter'])]);
  }
  await dray.docker(['run', '-d', '--name', 'pauser', 'busybox', 'sh', '-c', 'trap "exit 143" TERM; while true; do sleep 0.1; done']);
  try {
    await dray.docker(['pause', 'pauser']);
    assert.equal((await dray.docker(['inspect', '--format', '{{.State.Status}}', 'pauser'])).trim(), 'paused');
    const [dk] = await both(['kill', 'nosuch']);
    assert.equal(dk!.code, 1);
    await dray.docker(['unpause', 'pauser']);
    assert.equal((await dray.docker(['inspect', '--format', '{{.State.Status}}', 'pauser'])).trim(), 'running');
    await dray.docker(['kill', '-s', 'TERM', 'pauser']);
    assert.equal((await dray.docker(['wait', 'pauser'])).trim(), '143');
  } finally {
    await dray.dockerResult(['rm', '-f', 'pauser']);
  }
  await dray.docker(['run', '-d', '--name', 'restarter', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 1']);
  try {
    await waitUntil('two restarts then stop', async () => (await dray.docker(['inspect', '--format', '{{.RestartCount}} {{.State.Status}}', 'restarter'])).trim() === '2 exited', 20_000);
  } finally {
    await dray.dockerResult(['rm', '-f', 'restarter']);
  }
});

test('kill -9 of drayd: containers keep running, state and logs survive', needsRoot, async () => {
  await dray.docker(['run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done']);
  assert.equal((await dray.dockerResult(['run', '--name', 'done', 'busybox', 'sh', '-c', 'exit 5'])).code, 5);
  try {
    const pid = (await dray.docker(['inspect', '--format', '{{.State.Pid}}', 'survivor'])).trim();
    await dray.kill9();
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(Number(pid) > 0);
    process.kill(Number(pid), 0); // still alive without drayd
    await dray.restart();
    assert.equal((await dray.docker(['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', 'survivor'])).trim(), `running ${pid}`);
    assert.equal((await dray.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'done'])).trim(), 'exited 5');
    const n1 = (await dray.docker(['logs', 'survivor'])).split('\n').length;
    await waitUntil('logs continue', async () => (await dray.docker(['logs', 'survivor'])).split('\n').length > n1 + 2, 10_000);
    // the re-adopted container still stops and reports its exit
    await dray.docker(['stop', '-t', '0', 'survivor']);
    assert.equal((await dray.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'survivor'])).trim(), 'exited 137');
  } finally {
    await dray.dockerResult(['rm', '-f', 'survivor', 'done']);
  }
});

test('kill -9 of drayd\'s dray-containerd: drayd starts it again; containers keep running, exec, stop and exits work', needsRoot, async () => {
  const { readFileSync } = await import('node:fs');
  const supPid = (): number => Number(readFileSync(join(dray.execRoot, 'containerd', 'containerd.pid'), 'utf8').trim());
  await dray.docker(['run', '-d', '--name', 'outlives', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done']);
  await dray.docker(['run', '-d', '--name', 'exits-meanwhile', 'busybox', 'sh', '-c', 'sleep 1; exit 7']);
  // a live attach session, open across the restart
  const { spawn } = await import('node:child_process');
  const attach = spawn('/usr/local/bin/docker', ['attach', '--no-stdin', 'outlives'], { env: dray.cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  attach.stdout.on('data', (b: Buffer) => { seen += b.toString(); });
  try {
    await waitUntil('attached output', async () => /tick \d+/.test(seen), 10_000);
    const pid = Number((await dray.docker(['inspect', '--format', '{{.State.Pid}}', 'outlives'])).trim());
    const old = supPid();
    process.kill(old, 'SIGKILL');
    await waitUntil('a new dray-containerd', async () => { try { const p = supPid(); return p !== old && (process.kill(p, 0), true); } catch { return false; } }, 20_000);
    process.kill(pid, 0); // the container never stopped
    // the attach session goes on: drayd attached again to the new dray-containerd
    const mark = seen.length;
    await waitUntil('attach continues after the restart', async () => /tick \d+/.test(seen.slice(mark)), 20_000);
    assert.equal(attach.exitCode, null, 'the attach session is still open');
    // the exit that happened while no supervisor ran reaches drayd through the re-adopted shim
    await waitUntil('exit recorded', async () => (await dray.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'exits-meanwhile'])).trim() === 'exited 7', 20_000);
    assert.equal((await dray.docker(['exec', 'outlives', 'echo', 'still here'])), 'still here\n');
    await dray.docker(['stop', '-t', '0', 'outlives']);
    assert.equal((await dray.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'outlives'])).trim(), 'exited 137');
    assert.equal(await dray.docker(['run', '--rm', 'busybox', 'echo', 'new one']), 'new one\n');
  } finally {
    attach.kill('SIGKILL');
    await dray.dockerResult(['rm', '-f', 'outlives', 'exits-meanwhile']);
  }
});

test('create: Env merged as dockerd merges it (the user\'s entries first, then the image\'s not overridden)', needsRoot, async () => {
  // through the API: the CLI itself reorders -e values
  const { request } = await import('node:http');
  const post = (socketPath: string, path: string, body: object): Promise<string> => new Promise((resolve, reject) => {
    const r = request({ socketPath, method: 'POST', path, headers: { 'content-type': 'application/json' } }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => { b += c; });
      res.on('end', () => resolve(b));
    });
    r.on('error', reject);
    r.end(JSON.stringify(body));
  });
  const out: string[] = [];
  for (const [sock, side] of [[dray.socket, sides[0]!], [real.socket, sides[1]!]] as const) {
    const { Id: id } = JSON.parse(await post(sock, '/v1.41/containers/create', { Image: 'busybox', Cmd: ['true'], Env: ['ZED=1', 'ALPHA=2', 'ZED=3'] })) as { Id: string };
    out.push((await side.run(['inspect', '--format', '{{json .Config.Env}}', id])).stdout);
    await side.run(['rm', id]);
  }
  assert.equal(out[0], out[1]);
  assert.match(out[0]!, /^\["ZED=1","ALPHA=2","ZED=3","PATH=/);
});

test('ps: PORTS and NETWORKS columns as dockerd shows them (published, exposed only, stopped)', needsRoot, async () => {
  const out: string[] = [];
  for (const s of sides) {
    const id = (await s.run(['run', '-d', '-p', '127.0.0.1::80', '--expose', '81', 'busybox', 'sleep', '300'])).stdout.trim();
    const row = (await s.run(['ps', '--filter', `id=${id}`, '--format', '{{.Ports}}|{{.Networks}}'])).stdout;
    await s.run(['stop', '-t', '0', id]);
    const stopped = (await s.run(['ps', '-a', '--filter', `id=${id}`, '--format', '{{.Ports}}|{{.Networks}}'])).stdout;
    await s.run(['rm', id]);
    out.push((row + stopped).replace(/127\.0\.0\.1:\d+->/g, '127.0.0.1:N->'));
  }
  assert.equal(out[0], out[1]);
  assert.equal(out[0], '81/tcp, 127.0.0.1:N->80/tcp|bridge\n|bridge\n');
});

test('a stale container record in dray-containerd (a crash between a start and its exit handling) does not block the next start', needsRoot, async () => {
  const { SupervisorClient } = await import('../../src/supervisor/client/index.ts');
  const id = (await dray.docker(['create', 'busybox', 'echo', 'fresh start'])).trim();
  const c = new SupervisorClient(`unix://${join(dray.execRoot, 'containerd', 'containerd.sock')}`, { namespace: 'moby' });
  try {
    await c.containers.create({ id, runtime: { name: 'dray' }, spec: { ociVersion: '1.0.2' } });
    assert.equal(await dray.docker(['start', '-a', id]), 'fresh start\n');
    await assert.rejects(c.containers.get(id), (e: { code?: number }) => e.code === 5, 'the record goes with the exit');
  } finally {
    c.close();
    await dray.dockerResult(['rm', '-f', id]);
  }
});

test('TTY: run -it and exec -it under a pty (script), attach to a running container', needsRoot, async () => {
  const env = { ...dray.cliEnv, TERM: 'xterm' };
  const { execCommand } = await import('../harness/index.ts');
  for (const cli of ['/usr/local/bin/docker', '/usr/bin/docker']) {
    const r = await execCommand('script', ['-qec', `${cli} run -it --rm busybox sh -c 'tty; echo "$TERM"; stty size; exit 3'`, '/dev/null'], { env, timeoutMs: 30_000 });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/0\r?\n/);
    assert.match(r.stdout, /xterm\r?\n/);
  }
  await dray.docker(['run', '-d', '--name', 'ttyexec', 'busybox', 'sleep', '60']);
  try {
    const r = await execCommand('script', ['-qec', `/usr/local/bin/docker exec -it ttyexec sh -c 'tty; exit 4'`, '/dev/null'], { env, timeoutMs: 30_000 });
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
  } finally {
    await dray.dockerResult(['rm', '-f', 'ttyexec']);
  }
  await dray.docker(['run', '-d', '--name', 'late', 'busybox', 'sh', '-c', 'sleep 1; echo late; exit 9']);
  try {
    const [d] = await Promise.all([dray.dockerResult(['attach', 'late'])]);
    assert.equal(d.stdout, 'late\n');
    assert.equal(d.code, 9);
  } finally {
    await dray.dockerResult(['rm', '-f', 'late']);
  }
});

test('--runtime: a named runtime runs the container (runc under dray-containerd); an unknown one is refused as dockerd refuses it', needsRoot, async () => {
  const [d, r] = await both(['run', '--rm', '--runtime', 'runc', 'busybox', 'echo', 'via runc']);
  assert.equal(d!.stdout, 'via runc\n');
  assert.equal(d!.stdout, r!.stdout);
  const [dn, rn] = await both(['run', '--rm', '--runtime', 'no-such-runtime', 'busybox', 'true']);
  assert.notEqual(dn!.code, 0);
  assert.equal(dn!.code, rn!.code);
  assert.equal(dn!.stderr, rn!.stderr);
  const id = (await dray.docker(['run', '-d', '--runtime', 'runc', 'busybox', 'sleep', '100'])).trim();
  try {
    assert.equal((await dray.docker(['inspect', '--format', '{{.HostConfig.Runtime}}', id])).trim(), 'runc');
    // runc's own state, under dray-containerd's root for runc in the engine's namespace
    const list = await execCommand('runc', ['--root', join(dray.execRoot, 'containerd', 'runtime', 'runc', 'moby'), 'list', '-q']);
    assert.match(list.stdout, new RegExp(`^${id}$`, 'm'));
    assert.equal((await dray.docker(['info', '--format', '{{.DefaultRuntime}}'])).trim(), 'dray');
    assert.match(await dray.docker(['info', '--format', '{{json .Runtimes}}']), /"runc":\{"path":"runc"/);
  } finally {
    await dray.docker(['rm', '-f', id]);
  }
});
