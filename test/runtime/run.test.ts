// dray-runc run/create/start/state/kill/delete on the busybox bundle:
// what the container sees (namespaces, mounts, identity, limits) and what
// bad input leaves behind (nothing).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needsRoot } from '../support/root.ts';
import { makeBundle, RUNC, stateEntries, type TestBundle } from './bundle.ts';

describe('dray-runc run', needsRoot, () => {
  let b: TestBundle;
  before(() => { b = makeBundle(); });
  after(() => b.cleanup());

  const run = (args: string[], edit?: Parameters<TestBundle['configure']>[1], id = 'c1') => {
    b.configure(args, edit);
    return b.runc(['run', id]);
  };

  it('prints what the container writes and leaves no state', () => {
    const r = run(['echo', 'Hello from a Dray container']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'Hello from a Dray container\n');
    assert.equal(r.status, 0);
    assert.deepEqual(stateEntries(b.root), []);
  });

  it('returns the exit status of the container', () => {
    assert.equal(run(['sh', '-c', 'exit 7']).status, 7);
    assert.equal(run(['true']).status, 0);
  });

  it('runs in its own pid, uts, ipc, net and mount namespaces with the hostname set', () => {
    const r = run(['sh', '-c', 'echo $$; hostname; for n in pid uts ipc net mnt; do readlink /proc/self/ns/$n; done'], (s) => { s.hostname = 'dray-test'; });
    const [pid, host, ...ns] = r.stdout.trim().split('\n');
    assert.equal(pid, '1');
    assert.equal(host, 'dray-test');
    for (const line of ns) {
      const type = line.split(':')[0]!;
      assert.notEqual(line, execFileSync('readlink', [`/proc/self/ns/${type}`], { encoding: 'utf8' }).trim(), type);
    }
  });

  it('sets args, env, cwd, user, umask, rlimits and no_new_privs', () => {
    const r = run(['sh', '-c', 'echo $FOO; pwd; id -u; id -g; id -G; umask; ulimit -n; grep NoNewPrivs /proc/self/status'], (s) => {
      s.process!.env!.push('FOO=bar baz');
      s.process!.cwd = '/tmp';
      s.process!.user = { uid: 1000, gid: 1001, additionalGids: [5, 7], umask: 0o027 };
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 777, hard: 888 }];
      s.process!.noNewPrivileges = true;
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.trim()), ['bar baz', '/tmp', '1000', '1001', '1001 5 7', '0027', '777', 'NoNewPrivs:\t1']);
  });

  it('a dropped capability makes the privileged call fail', () => {
    const script = ['sh', '-c', 'touch /dev/shm/f && chown 1:1 /dev/shm/f && echo chowned'];
    const withCap = run(script, (s) => {
      const c = ['CAP_CHOWN'];
      s.process!.capabilities = { bounding: c, effective: c, permitted: c };
    });
    assert.equal(withCap.stdout, 'chowned\n', withCap.stderr);
    const without = run(script, (s) => {
      const c = ['CAP_KILL'];
      s.process!.capabilities = { bounding: c, effective: c, permitted: c };
    });
    assert.notEqual(without.status, 0);
    assert.match(without.stderr, /Operation not permitted/);
    const caps = run(['grep', 'CapBnd', '/proc/self/status'], (s) => {
      s.process!.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
    });
    assert.equal(caps.stdout, 'CapBnd:\t0000000000000020\n');
  });

  it('masked paths read empty and read-only paths refuse writes', () => {
    const r = run(['sh', '-c', 'wc -c < /etc/passwd; ls /home | wc -l; touch /tmp/x 2>&1; touch /root/y && echo root-writable'], (s) => {
      s.root!.readonly = false;
      s.linux!.maskedPaths = ['/etc/passwd', '/home'];
      s.linux!.readonlyPaths = ['/tmp'];
      s.process!.user = { uid: 0, gid: 0 };
    });
    const lines = r.stdout.trim().split('\n').map((l) => l.trim());
    assert.equal(lines[0], '0');
    assert.equal(lines[1], '0');
    assert.match(lines[2]!, /Read-only file system/);
    assert.equal(lines[3], 'root-writable');
    assert.ok(readFileSync(join(b.rootfs, 'etc/passwd'), 'utf8').length > 0, 'the host file is untouched');
    rmSync(join(b.rootfs, 'root/y'));
  });

  it('a read-only root refuses writes', () => {
    const r = run(['sh', '-c', 'touch /x 2>&1; echo done'], (s) => { s.root!.readonly = true; });
    assert.match(r.stdout, /Read-only file system/);
    assert.ok(!existsSync(join(b.rootfs, 'x')));
  });

  it('maps uids and gids in a user namespace', () => {
    const r = run(['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u'], (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    });
    assert.equal(r.status, 0, r.stderr);
    const f = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.deepEqual(f, ['0 100000 65536', '0 200000 65536', '0']);
  });

  it('shares a joined network namespace', () => {
    const ns = `dray-rt-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      const want = `net:[${statSync(`/run/netns/${ns}`).ino}]`;
      const r = run(['readlink', '/proc/self/ns/net'], (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/run/netns/${ns}` } : n));
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), want);
      const own = run(['readlink', '/proc/self/ns/net']);
      assert.match(own.stdout, /^net:\[\d+\]$/m);
      assert.notEqual(own.stdout.trim(), want);
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });

  it('a cwd through an inherited fd never lands outside the rootfs (CVE-2024-21626 class)', () => {
    let caught = 0;
    for (let fd = 3; fd <= 10; fd++) {
      const r = run(['pwd'], (s) => { s.process!.cwd = `/proc/self/fd/${fd}`; });
      if (r.status === 0) assert.doesNotMatch(r.stdout, /dray-runtime|\/run\/|\(unreachable\)/, `fd ${fd}: ${r.stdout}`);
      else assert.match(r.stderr, /cwd|chdir/, `fd ${fd}`);
      if (/outside the container's root/.test(r.stderr)) caught++;
    }
    // The executor holds a host directory fd (the exec fifo's) until exec: reaching it is refused.
    assert.ok(caught >= 1, 'a host directory reached through an fd was refused');
  });

  it('resolves mount destinations inside the rootfs, never through a symlink out of it', () => {
    const hostDir = mkdtempSync(join(tmpdir(), 'dray-escape-'));
    const link = join(b.rootfs, 'escape');
    symlinkSync(`../../../../../../..${hostDir}`, link);
    try {
      const r = run(['sh', '-c', 'grep " /escape/m\\| /tmp/dray-escape" /proc/mounts | cut -d" " -f2,3'], (s) => {
        s.mounts!.push({ destination: '/escape/m', type: 'tmpfs', source: 'tmpfs' });
        s.root!.readonly = false;
      });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readdirSync(hostDir), [], 'nothing made in the host directory');
      assert.match(r.stdout, /tmpfs/);
    } finally {
      rmSync(link);
      rmSync(join(b.rootfs, hostDir), { recursive: true, force: true });
      rmSync(hostDir, { recursive: true, force: true });
    }
  });
});

describe('dray-runc lifecycle', needsRoot, () => {
  let b: TestBundle;
  before(() => { b = makeBundle(); });
  after(() => b.cleanup());

  const status = (id: string): string => JSON.parse(b.runc(['state', id]).stdout).status as string;

  it('create, state, start, kill, delete', () => {
    b.configure(['sleep', '1000']);
    const pidFile = join(b.dir, 'pid');
    const c = b.runc(['create', '--pid-file', pidFile, 'life']);
    assert.equal(c.status, 0, c.stderr);
    const st = JSON.parse(b.runc(['state', 'life']).stdout);
    assert.equal(st.status, 'created');
    assert.equal(st.id, 'life');
    assert.equal(String(st.pid), readFileSync(pidFile, 'utf8'));
    assert.match(readFileSync(`/proc/${st.pid}/cmdline`, 'utf8'), /dray-executor/);
    // CVE-2019-5736: the waiting process runs from a sealed memfd copy, never the file in bin/.
    assert.match(readlinkSync(`/proc/${st.pid}/exe`), /^\/memfd:dray-executor/);
    assert.equal(b.runc(['start', 'life']).status, 0);
    assert.equal(status('life'), 'running');
    assert.equal(readFileSync(`/proc/${st.pid}/cmdline`, 'utf8'), 'sleep\x001000\x00');
    const again = b.runc(['start', 'life']);
    assert.notEqual(again.status, 0);
    const list = JSON.parse(b.runc(['list', '--format', 'json']).stdout) as { id: string; status: string }[];
    assert.deepEqual(list.map((x) => [x.id, x.status]), [['life', 'running']]);
    assert.match(b.runc(['list']).stdout, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\nlife\s+\d+\s+running/);
    const busy = b.runc(['delete', 'life']);
    assert.notEqual(busy.status, 0);
    assert.match(busy.stderr, /not stopped/);
    assert.equal(b.runc(['kill', 'life', 'KILL']).status, 0);
    for (let i = 0; i < 500 && status('life') !== 'stopped'; i++) execFileSync('sleep', ['0.01']);
    assert.equal(status('life'), 'stopped');
    assert.equal(b.runc(['delete', 'life']).status, 0);
    assert.notEqual(b.runc(['state', 'life']).status, 0);
    assert.deepEqual(stateEntries(b.root), []);
  });

  it('delete --force removes a running container; run --detach leaves it running', () => {
    b.configure(['sleep', '1000']);
    assert.equal(b.runc(['run', '-d', 'det']).status, 0);
    assert.equal(status('det'), 'running');
    const pid = JSON.parse(b.runc(['state', 'det']).stdout).pid as number;
    assert.equal(b.runc(['delete', '--force', 'det']).status, 0);
    assert.ok(!existsSync(join(b.root, 'det')));
    assert.ok(!existsSync(`/proc/${pid}/cmdline`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'));
  });

  it('two verbs racing on one id: one create wins, one start wins', async () => {
    b.configure(['sleep', '100']);
    const spawnRunc = (args: string[]) => new Promise<number>((resolve) => {
      const c = spawn(RUNC, ['--root', b.root, ...args], { cwd: b.dir, stdio: 'ignore' });
      c.on('exit', (code) => resolve(code ?? 1));
    });
    const creates = await Promise.all([spawnRunc(['create', 'race']), spawnRunc(['create', 'race']), spawnRunc(['create', 'race'])]);
    assert.deepEqual(creates.filter((c) => c === 0).length, 1, `create exit codes ${creates}`);
    const starts = await Promise.all([spawnRunc(['start', 'race']), spawnRunc(['start', 'race'])]);
    assert.deepEqual(starts.filter((c) => c === 0).length, 1, `start exit codes ${starts}`);
    assert.equal(status('race'), 'running');
    const dels = await Promise.all([spawnRunc(['delete', '-f', 'race']), spawnRunc(['delete', '-f', 'race'])]);
    assert.ok(dels.includes(0));
    assert.ok(!existsSync(join(b.root, 'race')));
  });

  it('run in the foreground: a killed container gives 128+signal; signals sent to dray-runc reach the container', async () => {
    const runAsync = (id: string) => {
      const c = spawn(RUNC, ['--root', b.root, 'run', id], { cwd: b.dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const code = new Promise<number | null>((r) => c.on('exit', (n) => r(n)));
      return { c, code, out: () => out };
    };
    const waitRunning = async (id: string) => {
      for (let i = 0; i < 500; i++) {
        const r = b.runc(['state', id]);
        if (r.status === 0 && JSON.parse(r.stdout).status === 'running') return;
        await new Promise((res) => setTimeout(res, 10));
      }
      throw new Error(`${id} never ran`);
    };
    b.configure(['sleep', '100']);
    const k = runAsync('fg1');
    await waitRunning('fg1');
    assert.equal(b.runc(['kill', 'fg1', 'KILL']).status, 0);
    assert.equal(await k.code, 137);
    assert.ok(!existsSync(join(b.root, 'fg1')), 'run deletes the container after it exits');

    b.configure(['sh', '-c', 'trap "echo got-term; exit 3" TERM; echo ready; while true; do sleep 0.05; done']);
    const t = runAsync('fg2');
    await waitRunning('fg2');
    for (let i = 0; i < 200 && !t.out().includes('ready'); i++) await new Promise((res) => setTimeout(res, 10));
    t.c.kill('SIGTERM');
    assert.equal(await t.code, 3);
    assert.match(t.out(), /got-term/);
  });

  it('delete of a created container kills its waiting process', () => {
    b.configure(['true']);
    assert.equal(b.runc(['create', 'cr']).status, 0);
    assert.equal(b.runc(['delete', 'cr']).status, 0);
    assert.ok(!existsSync(join(b.root, 'cr')));
  });

  it('kill takes signal names and numbers and refuses bad ones', () => {
    b.configure(['sh', '-c', 'trap "echo got-hup" HUP; while true; do sleep 0.05; done']);
    assert.equal(b.runc(['run', '-d', 'sig']).status, 0);
    assert.equal(b.runc(['kill', 'sig', 'SIGHUP']).status, 0);
    const bad = b.runc(['kill', 'sig', 'SIGNOPE']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /invalid signal/);
    assert.equal(b.runc(['kill', '--all', 'sig', '9']).status, 0);
    for (let i = 0; i < 500 && status('sig') !== 'stopped'; i++) execFileSync('sleep', ['0.01']);
    assert.equal(b.runc(['delete', 'sig']).status, 0);
  });
});

describe('dray-runc bad input leaves nothing behind', needsRoot, () => {
  let b: TestBundle;
  before(() => { b = makeBundle(); });
  after(() => b.cleanup());

  const refuse = (edit: (s: ReturnType<TestBundle['spec']>) => void, pattern: RegExp, args = ['run', 'bad']) => {
    const s = b.spec();
    s.process!.terminal = false;
    s.process!.args = ['true'];
    edit(s);
    b.write(s);
    const logFile = join(b.dir, 'log.json');
    rmSync(logFile, { force: true });
    const r = b.runc(['--log', logFile, '--log-format', 'json', ...args]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    const last = JSON.parse(readFileSync(logFile, 'utf8').trim().split('\n').pop()!) as { level: string; msg: string; time: string };
    assert.equal(last.level, 'error');
    assert.match(last.msg, pattern);
    assert.ok(!existsSync(join(b.root, 'bad')), 'no state directory');
  };

  it('an unknown namespace type', () => refuse((s) => s.linux!.namespaces!.push({ type: 'bogus' }), /unknown namespace type "bogus"/));
  it('a missing rootfs', () => refuse((s) => { s.root!.path = 'nope'; }, /rootfs .* does not exist/));
  it('missing args', () => refuse((s) => { s.process!.args = []; }, /process\.args/));
  it('a hostname without a uts namespace', () => refuse((s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts'); }, /uts namespace/));
  it('a program that does not exist', () => refuse((s) => { s.process!.args = ['/no/such/program']; }, /no\/such\/program/));
  it('a bad mount', () => refuse((s) => { s.mounts!.push({ destination: '/mnt', type: 'nosuchfs', source: 'x' }); }, /mount x \(nosuchfs\) on \/mnt/));
  it('a bad id', () => refuse(() => {}, /invalid container id/, ['run', '../x']));
  it('a duplicate id', () => {
    b.configure(['sleep', '100']);
    assert.equal(b.runc(['create', 'dup']).status, 0);
    try {
      const r = b.runc(['create', 'dup']);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /container with id exists: dup/);
      assert.equal(JSON.parse(b.runc(['state', 'dup']).stdout).status, 'created');
    } finally {
      assert.equal(b.runc(['delete', '--force', 'dup']).status, 0);
    }
  });
});
