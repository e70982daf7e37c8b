// One behavioural check per config.json feature not covered elsewhere:
// personality, sysctl, domainname, time namespace offsets, oomScoreAdj,
// ioPriority, devices, rro and bundle-relative bind mounts, --no-pivot,
// --preserve-fds, a session keyring of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needsRoot } from '../support/root.ts';
import { makeBundle, RUNC, type TestBundle } from './bundle.ts';

describe('dray-runc config.json features', needsRoot, () => {
  let b: TestBundle;
  before(() => { b = makeBundle(); });
  after(() => b.cleanup());
  const run = (args: string[], edit?: Parameters<TestBundle['configure']>[1], flags: string[] = [], id = 'cfg') => {
    b.configure(args, edit);
    const r = b.runc(['run', ...flags, id]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };

  it('personality LINUX32', () => {
    assert.equal(run(['uname', '-m']), 'x86_64\n');
    assert.equal(run(['uname', '-m'], (s) => { s.linux!.personality = { domain: 'LINUX32' }; }), 'i686\n');
  });

  it('sysctls, domainname', () => {
    const out = run(['cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/kernel/domainname'], (s) => {
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
      s.domainname = 'dray.example';
    });
    assert.equal(out, '1\ndray.example\n');
  });

  it('a time namespace with offsets', () => {
    const out = run(['cat', '/proc/uptime'], (s) => {
      s.linux!.namespaces!.push({ type: 'time' });
      s.linux!.timeOffsets = { boottime: { secs: 10_000_000, nanosecs: 0 }, monotonic: { secs: 5 } };
    });
    assert.ok(Number(out.split(' ')[0]) > 10_000_000, out);
  });

  it('oomScoreAdj and ioPriority', () => {
    const out = run(['sh', '-c', 'cat /proc/self/oom_score_adj; ionice -p $$'], (s) => {
      s.process!.oomScoreAdj = 523;
      s.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE' };
    });
    const [oom, io] = out.trim().split('\n');
    assert.equal(oom, '523');
    assert.match(io!, /idle/);
  });

  it('linux.devices are created with their type, numbers and mode', () => {
    const out = run(['stat', '-c', '%F %t %T %a', '/dev/fuse'], (s) => {
      s.linux!.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o640, uid: 0, gid: 0 }];
    });
    assert.equal(out, 'character special file a e5 640\n');
  });

  it('bundle-relative bind sources, rro and ro binds', () => {
    mkdirSync(join(b.dir, 'data'), { recursive: true });
    writeFileSync(join(b.dir, 'data/file'), 'from the bundle');
    const out = run(['sh', '-c', 'cat /data/file; echo; touch /data/x 2>&1; touch /ro/x 2>&1; true'], (s) => {
      s.mounts!.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'rro'] });
      s.mounts!.push({ destination: '/ro', type: 'bind', source: join(b.dir, 'data'), options: ['bind', 'ro'] });
    });
    const lines = out.trim().split('\n');
    assert.equal(lines[0], 'from the bundle');
    assert.match(lines[1]!, /Read-only file system/);
    assert.match(lines[2]!, /Read-only file system/);
  });

  it('--no-pivot runs the container with MS_MOVE + chroot', () => {
    assert.equal(run(['cat', '/etc/passwd'], undefined, ['--no-pivot']), readFileSync(join(b.rootfs, 'etc/passwd'), 'utf8'));
  });

  it('--preserve-fds passes fds 3.. through; nothing else leaks', () => {
    b.configure(['sh', '-c', 'cat <&3; ls /proc/self/fd | sort -n | tr "\\n" " "']);
    const file = join(b.dir, 'fd3');
    writeFileSync(file, 'through fd 3\n');
    const fd = openSync(file, 'r');
    const out = join(b.dir, 'out');
    const outFd = openSync(out, 'w');
    try {
      const r = spawnSync(RUNC, ['--root', b.root, 'run', '--preserve-fds', '1', 'pfd'], { cwd: b.dir, stdio: ['ignore', outFd, 'inherit', fd] });
      assert.equal(r.status, 0);
    } finally {
      closeSync(fd);
      closeSync(outFd);
    }
    // 0-2 stdio, 3 the preserved file, and the fd ls itself opens for /proc/self/fd.
    assert.equal(readFileSync(out, 'utf8'), 'through fd 3\n0 1 2 3 4 ');
  });

  it('joins a session keyring of its own unless --no-new-keyring', () => {
    const ring = run(['sh', '-c', 'grep -c "_ses.cfg" /proc/keys || true'], (s) => { s.linux!.maskedPaths = []; });
    assert.equal(ring, '1\n');
    // Another id: the first run's keyring lingers in /proc/keys until the kernel's key GC runs.
    const none = run(['sh', '-c', 'grep -c "_ses.cfgnk" /proc/keys || true'], (s) => { s.linux!.maskedPaths = []; }, ['--no-new-keyring'], 'cfgnk');
    assert.equal(none, '0\n');
  });

  it('cgroupsPath absolute and relative; the cgroup is gone after delete', () => {
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.includes(':pids:'))!.split(':')[2]!;
    for (const [path, want] of [[`/dray-runc-test/abs-${process.pid}`, `/dray-runc-test/abs-${process.pid}`], [`rel-${process.pid}`, `${own === '/' ? '' : own}/rel-${process.pid}`]] as const) {
      b.configure(['sleep', '100'], (s) => { s.linux!.cgroupsPath = path; });
      assert.equal(b.runc(['run', '-d', 'cgp'], {}).status, 0);
      const pid = JSON.parse(b.runc(['state', 'cgp']).stdout).pid as number;
      const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.includes(':pids:'))!;
      assert.equal(line.split(':')[2], want);
      assert.equal(b.runc(['delete', '-f', 'cgp']).status, 0);
      assert.ok(!existsSync(`/sys/fs/cgroup/pids${want}`), 'removed');
    }
    // The absolute path's parent, made by create in every hierarchy: ours to remove.
    for (const h of readdirSync('/sys/fs/cgroup')) {
      try { rmdirSync(`/sys/fs/cgroup/${h}/dray-runc-test`); } catch { /* not there, or not a hierarchy */ }
    }
    assert.ok(!existsSync('/sys/fs/cgroup/pids/dray-runc-test'));
  });
});
