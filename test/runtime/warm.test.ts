// The warm runtime server (src/runtime/warm/server.ts, native/launcher/warm.c):
// once a call has started it, create and run need no Node start, the
// executor stays the calling launcher's child, and whatever the server does
// not do exactly as the CLI reaches the CLI. NODE_OPTIONS with an unknown
// flag makes any Node start of the caller fail (the server, started with
// a clean environment, is unaffected): a call that succeeds under it was
// served warm.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needsRoot } from '../support/root.ts';
import { makeBundle, RUNC, warmServers, type TestBundle } from './bundle.ts';

const NO_NODE = { ...process.env, NODE_OPTIONS: '--dray-no-such-flag' };
const COLD = { ...process.env, DRAY_RUNC_NO_WARM: '1' };
const sleep = (ms: number): void => { spawnSync('sleep', [String(ms / 1000)]); };

describe('dray-runc warm runtime server', needsRoot, () => {
  let b: TestBundle;
  before(() => { b = makeBundle(); });
  after(() => b.cleanup());

  const ok = (r: { status: number | null; stderr: string }) => assert.equal(r.status, 0, r.stderr);
  const sockets = (): string[] => readdirSync(b.root).filter((n) => n.startsWith('dray-runc@warm-'));
  /** A first call starts the server (and is served by the CLI); wait until it answers. */
  const warmUp = (): void => {
    b.configure(['true']);
    for (let i = 0; i < 100; i++) {
      if (b.runc(['run', `warm${i}`], { env: NO_NODE }).status === 0) return;
      ok(b.runc(['run', `cold${i}`]));
      sleep(50);
    }
    assert.fail('the warm server never answered');
  };

  it('run and create without Node; stdio, exit status, pid file and a relative bundle are the caller\'s', () => {
    warmUp();
    b.configure(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    const r = b.runc(['run', 'st'], { env: NO_NODE });
    assert.deepEqual([r.status, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
    b.configure(['sleep', '1000']);
    ok(b.runc(['create', '--bundle', '.', '--pid-file', 'pid', 'cr'], { env: NO_NODE }));
    const st = JSON.parse(b.runc(['state', 'cr'], { env: NO_NODE }).stdout) as { pid: number; status: string; bundle: string };
    assert.deepEqual([st.status, st.bundle, readFileSync(join(b.dir, 'pid'), 'utf8')], ['created', b.dir, String(st.pid)]);
    ok(b.runc(['start', 'cr'], { env: NO_NODE }));
    ok(b.runc(['delete', '--force', 'cr'], { env: NO_NODE }));
  });

  it('the executor is the calling launcher\'s child; the launcher forwards signals to the container', async () => {
    warmUp();
    b.configure(['sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.05; done']);
    const out = openSync(join(b.dir, 'tree.out'), 'w');
    const child = spawn(RUNC, ['--root', b.root, 'run', 'tree'], { cwd: b.dir, env: NO_NODE, stdio: ['ignore', out, out] });
    closeSync(out);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      let pid = 0;
      for (let i = 0; i < 500 && !pid; i++) {
        const s = b.runc(['state', 'tree']);
        if (s.status === 0 && JSON.parse(s.stdout).status === 'running') pid = JSON.parse(s.stdout).pid as number;
        else sleep(10);
      }
      assert.ok(pid, readFileSync(join(b.dir, 'tree.out'), 'utf8'));
      const ppid = (p: number): number => Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      const executor = ppid(pid);
      assert.match(readFileSync(`/proc/${executor}/cmdline`, 'utf8'), /dray-executor/);
      assert.equal(ppid(executor), child.pid);
      child.kill('SIGTERM');
      assert.equal(await exited, 7);
      assert.ok(!existsSync(join(b.root, 'tree')));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('runs hooks with the caller\'s stdout, stderr and cwd; falls back for a terminal to proxy; errors read as the CLI\'s, in --log too', () => {
    warmUp();
    b.configure(['echo', 'main'], (s) => {
      s.hooks = {
        prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo pre; echo rel > pre.out'] }],
        poststart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo post-start'] }],
        poststop: [{ path: '/bin/sh', args: ['sh', '-c', 'echo post-stop >&2'] }],
      };
    });
    const lines = (t: string): string[] => t.split('\n').filter(Boolean).sort();
    const hot = b.runc(['run', 'hk'], { env: NO_NODE });
    ok(hot);
    assert.equal(readFileSync(join(b.dir, 'pre.out'), 'utf8'), 'rel\n');
    const viaCli = b.runc(['run', 'hk'], { env: COLD });
    ok(viaCli);
    assert.deepEqual([lines(hot.stdout), lines(hot.stderr)], [lines(viaCli.stdout), lines(viaCli.stderr)]);
    assert.deepEqual([lines(hot.stdout), lines(hot.stderr)], [['main', 'post-start', 'pre'], ['post-stop']]);
    b.configure(['true'], (s) => { s.process!.terminal = true; });
    assert.match(b.runc(['run', 'tty'], { env: NO_NODE }).stderr, /dray-no-such-flag/);
    b.configure(['true'], (s) => { (s.process as { cwd?: unknown }).cwd = 'relative'; });
    const log = join(b.dir, 'log.json');
    const warm = b.runc(['--log', 'log.json', '--log-format', 'json', 'run', 'bad'], { env: NO_NODE });
    const cold = b.runc(['run', 'bad'], { env: COLD });
    assert.notEqual(warm.status, 0);
    assert.deepEqual([warm.status, warm.stderr, warm.stdout], [cold.status, cold.stderr, cold.stdout]);
    const logged = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').at(-1)!) as { level: string; msg: string };
    assert.equal(`dray-runc: ${logged.msg}\n`, warm.stderr);
    assert.equal(logged.level, 'error');
    assert.ok(!existsSync(join(b.root, 'bad')));
    b.configure(['sleep', '1000']);
    ok(b.runc(['create', 'dup'], { env: NO_NODE }));
    const twice = b.runc(['create', 'dup'], { env: NO_NODE });
    assert.deepEqual([twice.status, twice.stderr], [b.runc(['create', 'dup'], { env: COLD }).status, b.runc(['create', 'dup'], { env: COLD }).stderr]);
    assert.match(twice.stderr, /exists/);
    ok(b.runc(['delete', '--force', 'dup']));
  });

  it('exec --detach (a shim\'s exec) without Node; foreground exec and stdin processes fall back; errors read as the CLI\'s', () => {
    warmUp();
    b.configure(['sleep', '1000'], (s) => { s.root!.readonly = false; });
    ok(b.runc(['run', '--detach', 'ex'], { env: NO_NODE }));
    try {
      const init = JSON.parse(b.runc(['state', 'ex']).stdout).pid as number;
      ok(b.runc(['exec', '--detach', '--pid-file', 'exec.pid', 'ex', 'sh', '-c', 'echo warm exec > /tmp/by-exec'], { env: NO_NODE }));
      const pid = Number(readFileSync(join(b.dir, 'exec.pid'), 'utf8'));
      assert.ok(pid > 0);
      // the shell creates the file, then writes: wait for both
      const written = (f: string): boolean => existsSync(f) && readFileSync(f, 'utf8').endsWith('\n');
      const file = `/proc/${init}/root/tmp/by-exec`;
      for (let i = 0; i < 300 && !written(file); i++) sleep(10);
      assert.equal(readFileSync(file, 'utf8'), 'warm exec\n');
      // a process file, relative to the caller's cwd
      writeFileSync(join(b.dir, 'proc.json'), JSON.stringify({ args: ['sh', '-c', 'id -u > /tmp/as-user'], cwd: '/', user: { uid: 1234, gid: 1234 }, env: ['PATH=/bin'] }));
      ok(b.runc(['exec', '--detach', '--process', 'proc.json', 'ex'], { env: NO_NODE }));
      for (let i = 0; i < 300 && !written(`/proc/${init}/root/tmp/as-user`); i++) sleep(10);
      assert.equal(readFileSync(`/proc/${init}/root/tmp/as-user`, 'utf8'), '1234\n');
      // the foreground (its output and status are the CLI's) and --process - go to Node
      assert.match(b.runc(['exec', 'ex', 'true'], { env: NO_NODE }).stderr, /dray-no-such-flag/);
      assert.match(b.runc(['exec', '--detach', '--process', '-', 'ex'], { env: NO_NODE }).stderr, /dray-no-such-flag/);
      const warm = b.runc(['exec', '--detach', 'nope', 'true'], { env: NO_NODE });
      const cold = b.runc(['exec', '--detach', 'nope', 'true'], { env: COLD });
      assert.notEqual(warm.status, 0);
      assert.deepEqual([warm.status, warm.stderr], [cold.status, cold.stderr]);
    } finally {
      ok(b.runc(['delete', '--force', 'ex']));
    }
  });

  it('serves concurrent calls', async () => {
    warmUp();
    b.configure(['sh', '-c', 'echo $(hostname)']);
    const runs = Array.from({ length: 6 }, (_, i) => new Promise<[number | null, string]>((resolve) => {
      const file = join(b.dir, `par${i}.out`);
      const fd = openSync(file, 'w');
      const c = spawn(RUNC, ['--root', b.root, 'run', `par${i}`], { cwd: b.dir, env: NO_NODE, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      c.on('exit', (code) => resolve([code, readFileSync(file, 'utf8')]));
    }));
    const got = await Promise.all(runs);
    for (const [code, out] of got) assert.equal(code, 0, out);
    assert.deepEqual(readdirSync(b.root).filter((n) => n.startsWith('par')), []);
  });

  it('its socket is root\'s alone; it leaves when idle', () => {
    warmUp();
    const [sock] = sockets();
    assert.ok(sock);
    assert.equal(statSync(join(b.root, sock)).mode & 0o777, 0o600);
    const probe = spawnSync(process.execPath, ['-e', `require('net').connect(${JSON.stringify(join(b.root, sock))}).on('error', (e) => { console.log(e.code); }).on('connect', () => { console.log('connected'); process.exit(0); })`],
      { uid: 65534, gid: 65534, encoding: 'utf8', cwd: '/' });
    assert.equal(probe.stdout.trim(), 'EACCES', probe.stderr);
    for (let i = 0; i < 150 && (warmServers(b.root).length || sockets().length); i++) sleep(100);
    assert.deepEqual([warmServers(b.root), sockets()], [[], []]);
  });
});
