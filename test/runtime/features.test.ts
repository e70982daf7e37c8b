// dray-runc beyond the basic lifecycle: exec, the console socket, hooks,
// seccomp, cgroups (limits, OOM in events, pause/resume, update, ps),
// features.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { native } from '../../src/common/native.ts';
import { needsRoot } from '../support/root.ts';
import { makeBundle, RUNC, type TestBundle } from './bundle.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The one message (and its fds) a peer sent on an accepted, paused socket. */
async function recvWithFds(peer: net.Socket, max: number): Promise<{ data: Buffer; fds: number[] }> {
  // net.Socket keeps its fd in the private handle; there is no public accessor.
  const fd = (peer as unknown as { _handle: { fd: number } })._handle.fd;
  for (let i = 0; i < 500; i++) {
    try { return native().recvFds(fd, max); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await sleep(10);
    }
  }
  throw new Error('nothing came over the socket');
}

describe('dray-runc exec, console, hooks, seccomp, cgroups', needsRoot, () => {
  let b: TestBundle;
  before(() => { b = makeBundle(); });
  after(() => b.cleanup());
  const status = (id: string): string => {
    const r = b.runc(['state', id]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).status as string;
  };

  it('exec joins the container: namespaces, cgroup, args/env/cwd/user, exit status, --detach with --pid-file', async () => {
    b.configure(['sleep', '1000'], (s) => { s.hostname = 'exec-host'; s.process!.env!.push('BASE=1'); });
    assert.equal(b.runc(['run', '-d', 'ex']).status, 0);
    try {
      const r = b.runc(['exec', '--env', 'EXTRA=2', '--cwd', '/tmp', '--user', '1000:1001', 'ex', 'sh', '-c', 'hostname; echo $BASE$EXTRA; pwd; id -u; id -g; cat /proc/1/cmdline | tr "\\0" " "']);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.trim()), ['exec-host', '12', '/tmp', '1000', '1001', 'sleep 1000']);
      assert.equal(b.runc(['exec', 'ex', 'sh', '-c', 'exit 5']).status, 5);
      const inCgroup = b.runc(['exec', 'ex', 'cat', '/proc/self/cgroup']);
      assert.match(inCgroup.stdout, /pids:\/$/m, 'in the container cgroup (namespace root)');
      const pidFile = join(b.dir, 'exec.pid');
      assert.equal(b.runc(['exec', '-d', '--pid-file', pidFile, 'ex', 'sleep', '77']).status, 0);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'sleep\x0077\x00');
      const pids = JSON.parse(b.runc(['ps', '--format', 'json', 'ex']).stdout) as number[];
      assert.ok(pids.includes(pid), 'ps lists the exec process');
      assert.match(b.runc(['ps', 'ex']).stdout, /sleep 77/);
      const proc = join(b.dir, 'process.json');
      writeFileSync(proc, JSON.stringify({ args: ['sh', '-c', 'echo from-process-json $X'], env: ['X=y'], cwd: '/', user: { uid: 0, gid: 0 } }));
      assert.equal(b.runc(['exec', '--process', proc, 'ex']).stdout, 'from-process-json y\n');
    } finally {
      b.runc(['delete', '-f', 'ex']);
    }
    const gone = b.runc(['exec', 'ex', 'true']);
    assert.notEqual(gone.status, 0);
  });

  it('sends the pty master over --console-socket', async () => {
    const sockPath = join(b.dir, 'console.sock');
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((r) => server.listen(sockPath, r));
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    try {
      b.configure(['sh', '-c', 'tty; stty size; echo pty-ok'], (s) => { s.process!.terminal = true; s.process!.consoleSize = { height: 33, width: 99 }; });
      const c = b.runc(['create', '--console-socket', sockPath, 'tty']);
      assert.equal(c.status, 0, c.stderr);
      const peer = await accepted;
      const got = await recvWithFds(peer, 256);
      assert.ok(got);
      assert.match(got.data.toString(), /^\/dev\/pts\/\d+$/);
      assert.equal(b.runc(['start', 'tty']).status, 0);
      const master = got.fds[0]!;
      let text = '';
      const buf = Buffer.alloc(4096);
      for (let i = 0; i < 100 && !text.includes('pty-ok'); i++) {
        try { const n = readSync(master, buf); if (n === 0) break; text += buf.subarray(0, n).toString(); } catch { break; }
      }
      closeSync(master);
      peer.destroy();
      assert.match(text, /\/dev\/pts\/0/);
      assert.match(text, /33 99/);
      assert.match(text, /pty-ok/);
    } finally {
      server.close();
      b.runc(['delete', '-f', 'tty']);
    }
  });

  it('run and exec in the foreground with a terminal proxy the pty themselves (no --console-socket); /dev/console is the pty', () => {
    b.configure(['sh', '-c', 'tty; read x; echo "got:$x"; stat -c "%t %T" /dev/console; exit 4'], (s) => { s.process!.terminal = true; });
    const r = b.runc(['run', 'fgtty'], { input: 'typed-in\n' });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/0\r\n/);
    assert.match(r.stdout, /got:typed-in/);
    assert.match(r.stdout, /^88 0\r$/m, '/dev/console is the pty (136:0)');
    assert.ok(!existsSync(join(b.root, 'fgtty')));
    b.configure(['sleep', '100']);
    assert.equal(b.runc(['run', '-d', 'fgexec']).status, 0);
    try {
      const e = b.runc(['exec', '-t', 'fgexec', 'sh', '-c', 'tty; read x; echo "exec-got:$x"; exit 6'], { input: 'more\n' });
      assert.equal(e.status, 6, e.stderr);
      assert.match(e.stdout, /\/dev\/pts\/\d+\r\n/); // the pty may echo the input first
      assert.match(e.stdout, /exec-got:more/);
    } finally {
      b.runc(['delete', '-f', 'fgexec']);
    }
  });

  it('runs hooks in order with the state on stdin; a failing prestart hook leaves nothing', () => {
    const log = join(b.dir, 'hooks.log');
    rmSync(log, { force: true });
    const hook = (stage: string) => ({ path: '/bin/sh', args: ['sh', '-c', `read s; echo "${stage} $s" >> ${log}`] });
    b.configure(['true'], (s) => {
      s.root!.readonly = false;
      s.hooks = {
        prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], createContainer: [hook('createContainer')],
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'read s; echo "startContainer $s" > /tmp/start-hook']}],
        poststart: [hook('poststart')], poststop: [hook('poststop')],
      };
    });
    const r = b.runc(['run', 'hk']);
    assert.equal(r.status, 0, r.stderr);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop']);
    const state = (l: string) => JSON.parse(l.slice(l.indexOf(' ') + 1)) as { id: string; status: string; pid?: number; bundle: string };
    assert.equal(state(lines[0]!).id, 'hk');
    assert.equal(state(lines[0]!).status, 'creating');
    assert.ok(state(lines[0]!).pid! > 0);
    assert.equal(state(lines[0]!).bundle, b.dir);
    assert.equal(state(lines[4]!).status, 'stopped');
    const inside = readFileSync(join(b.rootfs, 'tmp/start-hook'), 'utf8');
    assert.match(inside, /^startContainer \{.*"id":"hk"/);
    rmSync(join(b.rootfs, 'tmp/start-hook'));

    b.configure(['true'], (s) => { s.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }] }; });
    const bad = b.runc(['run', 'hk2']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /prestart hook #1 .* exit status 3/);
    assert.ok(!existsSync(join(b.root, 'hk2')));
    b.configure(['true'], (s) => { s.hooks = { createContainer: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] }; });
    const slow = b.runc(['run', 'hk3']);
    assert.match(slow.stderr, /createContainer hook #1 .* timed out after 1s/);
    assert.ok(!existsSync(join(b.root, 'hk3')));
  });

  it('a seccomp rule returns its errno', () => {
    const script = ['sh', '-c', 'mkdir /tmp/sc-dir 2>&1; rmdir /tmp/sc-dir 2>/dev/null; true'];
    const edit = (withRule: boolean) => (s: ReturnType<TestBundle['spec']>) => {
      s.root!.readonly = false;
      s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
        syscalls: withRule ? [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] : [],
      };
    };
    b.configure(script, edit(true));
    assert.match(b.runc(['run', 'sc']).stdout, /Permission denied/);
    b.configure(script, edit(false));
    assert.equal(b.runc(['run', 'sc']).stdout, '');
  });

  it('SCMP_ACT_NOTIFY: the listener fd and the container process state go to listenerPath', async () => {
    const sock = join(b.dir, 'notify.sock');
    rmSync(sock, { force: true });
    b.configure(['sh', '-c', 'mkdir /tmp/notified 2>&1; echo after'], (s) => {
      s.root!.readonly = false;
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: sock, listenerMetadata: 'agent-meta',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] };
    });
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((r) => server.listen(sock, r));
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    // Asynchronously: the container's mkdir waits on the agent (us) until we let go of the fd.
    const child = spawn(RUNC, ['--root', b.root, 'run', 'notify'], { cwd: b.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    try {
      const peer = await Promise.race([accepted, exited.then(() => { throw new Error(`dray-runc exited first: ${err}`); })]);
      const got = await recvWithFds(peer, 65536);
      assert.ok(got);
      assert.equal(got.fds.length, 1);
      const payload = JSON.parse(got.data.toString()) as { fds: string[]; pid: number; metadata: string; state: { id: string; pid: number } };
      assert.deepEqual(payload.fds, ['seccompFd']);
      assert.equal(payload.metadata, 'agent-meta');
      assert.equal(payload.state.id, 'notify');
      assert.equal(payload.pid, payload.state.pid);
      closeSync(got.fds[0]!); // no agent answers: the notified syscall fails with ENOSYS
      peer.destroy();
      assert.equal(await exited, 0, err);
      assert.match(out, /Function not implemented\nafter\n$/);
    } finally {
      server.close();
      child.kill('SIGKILL');
    }
  });

  it('a memory limit kills the process that exceeds it and events reports the OOM', async () => {
    b.configure(['sh', '-c', 'sleep 1; dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 100'], (s) => {
      s.linux!.resources = { memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 } };
    });
    assert.equal(b.runc(['run', '-d', 'mem']).status, 0);
    const ev = spawn(RUNC, ['--root', b.root, 'events', '--interval', '200ms', 'mem'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    ev.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      for (let i = 0; i < 300 && !out.includes('"type":"oom"'); i++) await sleep(50);
      const types = out.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { type: string }).type);
      assert.ok(types.includes('oom'), `events printed ${out}`);
      assert.ok(types.includes('stats'));
      const stats = JSON.parse(b.runc(['events', '--stats', 'mem']).stdout) as { type: string; data: { memory: { usage: { limit: number } } } };
      assert.equal(stats.type, 'stats');
      assert.equal(stats.data.memory.usage.limit, 16 * 1024 * 1024);
    } finally {
      ev.kill();
      b.runc(['delete', '-f', 'mem']);
    }
  });

  it('pause and resume freeze the cgroup; update changes limits', () => {
    b.configure(['sleep', '1000'], (s) => { s.linux!.resources = { pids: { limit: 50 } }; });
    assert.equal(b.runc(['run', '-d', 'pz']).status, 0);
    try {
      assert.equal(b.runc(['pause', 'pz']).status, 0);
      assert.equal(status('pz'), 'paused');
      const pid = JSON.parse(b.runc(['state', 'pz']).stdout).pid as number;
      assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /State:\s+[DS]/);
      assert.notEqual(b.runc(['delete', 'pz']).status, 0);
      assert.equal(b.runc(['resume', 'pz']).status, 0);
      assert.equal(status('pz'), 'running');
      assert.notEqual(b.runc(['resume', 'pz']).status, 0);
      assert.equal(b.runc(['exec', 'pz', 'cat', '/sys/fs/cgroup/pids/pids.max']).stdout, '50\n');
      assert.equal(b.runc(['update', '--pids-limit', '7', 'pz']).status, 0);
      assert.equal(b.runc(['exec', 'pz', 'cat', '/sys/fs/cgroup/pids/pids.max']).stdout, '7\n');
      const res = join(b.dir, 'res.json');
      writeFileSync(res, JSON.stringify({ memory: { limit: 64 * 1024 * 1024 } }));
      assert.equal(b.runc(['update', '-r', res, 'pz']).status, 0);
      assert.equal(b.runc(['exec', 'pz', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']).stdout, `${64 * 1024 * 1024}\n`);
      const stdin = b.runc(['update', '--resources', '-', 'pz'], { input: JSON.stringify({ pids: { limit: 9 } }) });
      assert.equal(stdin.status, 0, stdin.stderr);
      assert.equal(b.runc(['exec', 'pz', 'cat', '/sys/fs/cgroup/pids/pids.max']).stdout, '9\n');
      assert.notEqual(b.runc(['update', '--memory', 'lots', 'pz']).status, 0);
    } finally {
      b.runc(['delete', '-f', 'pz']);
    }
  });

  it('features and --version answer; --systemd-cgroup is refused clearly', () => {
    const f = JSON.parse(b.runc(['features']).stdout) as { ociVersionMax: string; linux: { namespaces: string[]; seccomp: { enabled: boolean } } };
    assert.equal(f.ociVersionMax, '1.2.0');
    assert.ok(f.linux.namespaces.includes('user'));
    assert.equal(f.linux.seccomp.enabled, true);
    assert.match(b.runc(['--version']).stdout, /^dray-runc version .*\nspec: 1\.2\.0\n/);
    const sd = b.runc(['--systemd-cgroup', 'list']);
    assert.notEqual(sd.status, 0);
    assert.match(sd.stderr, /systemd-cgroup is not supported/);
  });
});

