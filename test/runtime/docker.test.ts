// Real dockerd (Debian's 20.10, started by the harness on its own folders)
// with dray-runc as its default runtime, driven by the real docker CLI.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'node:http';
import { DOCKER_CLI, execCommand, freePort, startDockerd, waitUntil, type DockerdPeer } from '../harness/index.ts';
import { testImage } from '../images/index.ts';
import { needsRoot } from '../support/root.ts';
import { RUNC } from './bundle.ts';

describe('dockerd on dray-runc', needsRoot, () => {
  let d: DockerdPeer;
  before(async () => {
    d = await startDockerd({ runtimes: { dray: RUNC }, defaultRuntime: 'dray' });
    await d.docker(['load', '-i', (await testImage('busybox')).dockerArchive]);
  });
  after(() => d?.stop());
  const sh = (script: string, flags: string[] = []) => d.docker(['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]);

  it('runs with dray-runc: run --rm echo, and the runtime docker names is ours', async () => {
    assert.equal(await d.docker(['run', '--rm', 'busybox', 'echo', 'hello from dray-runc']), 'hello from dray-runc\n');
    const info = await d.docker(['info', '--format', '{{.DefaultRuntime}}']);
    assert.equal(info.trim(), 'dray');
    const r = await d.dockerResult(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3);
  });

  it('run -t gets a pty', async () => {
    assert.equal(await d.docker(['run', '--rm', '-t', 'busybox', 'tty']), '/dev/pts/0\r\n');
  });

  it('run -it and exec -it work under a real terminal', async () => {
    // script(1) gives the docker CLI a pty of its own, as a user's terminal would.
    const it1 = await execCommand('script', ['-qec', `${DOCKER_CLI.v20} run --rm -it busybox sh -c 'tty; read x; echo "got:$x"'`, '/dev/null'],
      { env: d.cliEnv, input: 'typed\n', timeoutMs: 60000 });
    assert.match(it1.stdout, /\/dev\/pts\/0/);
    assert.match(it1.stdout, /got:typed/);
    await d.docker(['run', '-d', '--name', 'itx', 'busybox', 'sleep', '600']);
    try {
      const it2 = await execCommand('script', ['-qec', `${DOCKER_CLI.v20} exec -it itx sh -c 'tty; read x; echo "exec-got:$x"'`, '/dev/null'],
        { env: d.cliEnv, input: 'more\n', timeoutMs: 60000 });
      assert.match(it2.stdout, /\/dev\/pts\/\d+/);
      assert.match(it2.stdout, /exec-got:more/);
    } finally {
      await d.dockerResult(['rm', '-f', 'itx']);
    }
  });

  it('run -d, exec and exec -t, top, stats, kill -s HUP, pause/unpause, update, stop', async () => {
    await d.docker(['run', '-d', '--name', 'bg', 'busybox', 'sh', '-c', 'trap "echo got HUP" HUP; while true; do sleep 0.1; done']);
    try {
      assert.equal(await d.docker(['exec', 'bg', 'echo', 'exec works']), 'exec works\n');
      assert.equal(await d.docker(['exec', '-t', 'bg', 'tty']), '/dev/pts/0\r\n');
      assert.match(await d.docker(['top', 'bg']), /while true/);
      assert.match(await d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'bg']), /^bg \d+\n$/);
      await d.docker(['kill', '-s', 'HUP', 'bg']);
      await waitUntil('the HUP trap', async () => (await d.docker(['logs', 'bg'])).includes('got HUP'), 10000);
      await d.docker(['pause', 'bg']);
      assert.equal((await d.docker(['inspect', '-f', '{{.State.Paused}}', 'bg'])).trim(), 'true');
      await d.docker(['unpause', 'bg']);
      assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'bg'])).trim(), 'running');
      await d.docker(['update', '--memory', '64m', '--memory-swap', '128m', 'bg']);
      assert.equal(await d.docker(['exec', 'bg', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']), `${64 * 1024 * 1024}\n`);
      // pid 1 ignores SIGTERM it has no handler for: stop must fall back to SIGKILL after the timeout.
      await d.docker(['stop', '-t', '1', 'bg']);
      assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'bg'])).trim(), 'exited');
    } finally {
      await d.dockerResult(['rm', '-f', 'bg']);
    }
  });

  it('--memory, --cpus, --pids-limit reach the cgroup', async () => {
    const out = await sh('cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max',
      ['--memory', '32m', '--cpus', '0.5', '--pids-limit', '20']);
    assert.deepEqual(out.trim().split('\n'), [String(32 * 1024 * 1024), '50000', '20']);
  });

  it('--cap-drop ALL, --read-only, --user, no-new-privileges, --network none', async () => {
    const caps = await d.dockerResult(['run', '--rm', '--cap-drop', 'ALL', 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status; chown 1 /tmp']);
    assert.match(caps.stdout, /CapEff:\s+0000000000000000/);
    assert.notEqual(caps.code, 0);
    assert.match(await sh('touch /x 2>&1; true', ['--read-only']), /Read-only file system/);
    assert.equal(await sh('id -u; id -g', ['--user', '1000:1000']), '1000\n1000\n');
    assert.match(await sh('grep NoNewPrivs /proc/self/status', ['--security-opt', 'no-new-privileges']), /NoNewPrivs:\s+1/);
    const ifaces = await sh('cat /proc/net/dev | tail -n +3 | cut -d: -f1', ['--network', 'none']);
    assert.deepEqual(ifaces.trim().split('\n').map((l) => l.trim()), ['lo']);
  });

  it('the default bridge network gives the container an address and a route', async () => {
    const out = await sh('ip -4 addr show eth0; ip route');
    assert.match(out, /inet \d+\.\d+\.\d+\.\d+\//);
    assert.match(out, /default via/);
  });

  it('the nginx image answers on a published port', async () => {
    const nginx = await testImage('nginx');
    await d.docker(['load', '-i', nginx.dockerArchive]);
    const port = await freePort();
    await d.docker(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, nginx.ref]);
    try {
      let body = '';
      await waitUntil('nginx to answer', () => new Promise<boolean>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => { b += c.toString(); });
          res.on('end', () => { body = b; resolve(res.statusCode === 200); });
        });
        req.on('error', () => resolve(false));
        req.end();
      }), 60000);
      assert.match(body, /nginx/i);
    } finally {
      await d.dockerResult(['rm', '-f', 'web']);
    }
  });
});
