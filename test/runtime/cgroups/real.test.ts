// The cgroup manager on this machine's real cgroups (v1 here, v2 on most
// hosts: the checks are written for both). Every cgroup is named dray-test-*
// and removed afterwards, processes included, even when a test fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroupMode, openCgroup, reopenCgroup, toDockerStats, type CgroupManager } from '../../../src/runtime/cgroups/index.ts';
import { needsRoot } from '../../support/root.ts';

const mode = (() => {
  try {
    return detectCgroupMode();
  } catch {
    return undefined;
  }
})();
const v2 = mode === 'v2';
const opts = { skip: needsRoot.skip || (mode === undefined ? 'no cgroup filesystem' : false) };
let seq = 0;

async function until(cond: () => boolean, what: string, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A fresh cgroup, created; destroyed (after killing what is left in it) when the test ends. */
function cgroup(t: { after: (fn: () => Promise<void>) => void }, path?: string): CgroupManager {
  const name = `dray-test-${process.pid}-${++seq}`;
  const cg = openCgroup({ path: path === undefined ? `/${name}` : path.replace('NAME', name), id: name });
  t.after(async () => {
    if (cg.state() === 'frozen') await cg.thaw();
    for (const pid of cg.exists() ? cg.pids() : []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    await until(() => !cg.exists() || cg.pids().length === 0, 'the cgroup to empty');
    await cg.destroy();
  });
  cg.create();
  return cg;
}

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `sh -c script` paused on a read, moves it into cg, then lets it run. */
function runIn(cg: CgroupManager, script: string): Proc {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  // 'close', not 'exit': 'exit' can come before the last stdout data is read.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  cg.apply(child.pid as number);
  child.stdin?.write('go\n');
  return { child, out: () => out, err: () => err, exited };
}

function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '';
}

const file = (cg: CgroupManager, v1ctrl: string, v1name: string, v2name: string): string =>
  v2 ? join(cg.paths[''] as string, v2name) : join(cg.paths[v1ctrl] as string, v1name);

test('a process joins the cgroup, a memory limit lands in the kernel, destroy leaves nothing', opts, async (t) => {
  const cg = cgroup(t);
  const p = runIn(cg, 'echo ready; read x');
  await until(() => p.out().includes('ready'), 'the process');
  assert.deepEqual(cg.pids(), [p.child.pid]);
  assert.deepEqual(reopenCgroup(JSON.parse(JSON.stringify(cg.saved()))).pids(), [p.child.pid]);
  const inner = v2 ? cg.paths[''] : cg.paths['memory'];
  const line = readFileSync(`/proc/${p.child.pid}/cgroup`, 'utf8').split('\n').find((l) => (v2 ? l.startsWith('0::') : /:memory:/.test(l)));
  assert.ok(inner?.endsWith(line?.split(':')[2] ?? '?'), `${line} vs ${inner}`);
  cg.set({ memory: { limit: 64 << 20 } });
  assert.equal(readFileSync(file(cg, 'memory', 'memory.limit_in_bytes', 'memory.max'), 'utf8').trim(), String(64 << 20));
  p.child.stdin?.end('\n');
  await p.exited;
  await cg.destroy();
  assert.equal(cg.exists(), false);
  for (const dir of Object.values(cg.paths)) assert.equal(existsSync(dir), false, dir);
});

test('a process over the memory limit is OOM-killed and the OOM watch fires', opts, async (t) => {
  const cg = cgroup(t);
  cg.set({ memory: { limit: 32 << 20, swap: 32 << 20 } });
  const seen: number[] = [];
  const stop = cg.onOom((n) => seen.push(n), { intervalMs: 20 });
  t.after(async () => stop());
  assert.equal(cg.oomKillCount(), 0);
  // tail keeps the whole newline-free stream in memory: 300 MB is far past 32 MB.
  const p = runIn(cg, 'head -c 300000000 /dev/zero | tail >/dev/null; echo "tail status $?"');
  await p.exited;
  assert.match(p.out(), /tail status 137/);
  await until(() => seen.length > 0, 'the OOM watch');
  assert.ok((seen[0] ?? 0) >= 1);
  assert.ok(cg.oomKillCount() >= 1);
  assert.ok(cg.stats().oom_kill >= 1);
});

test('pids.limit refuses forks beyond it', opts, async (t) => {
  const cg = cgroup(t);
  cg.set({ pids: { limit: 4 } });
  // dash gives up on the script at the first refused fork.
  const p = runIn(cg, 'for i in 1 2 3 4 5 6; do sleep 30 & done; wait');
  await until(() => /fork|Resource temporarily unavailable/i.test(p.err()), 'a refused fork');
  assert.ok(cg.pids().length <= 4, `${cg.pids().length} processes`);
  assert.equal(cg.stats().pids.limit, 4);
  await cg.killAll('SIGKILL');
  // SIGKILL: killAll returns once the cgroup is empty, so it can be removed at once.
  assert.deepEqual(cg.pids(), []);
  await cg.destroy();
  await p.exited;
});

test('freeze stops the processes, thaw resumes them', opts, async (t) => {
  const cg = cgroup(t);
  const p = runIn(cg, 'while read l; do echo "got $l"; done');
  cg.set({ pids: { limit: 10 } });
  await cg.freeze();
  assert.equal(cg.state(), 'frozen');
  if (v2) assert.match(readFileSync(join(cg.paths[''] as string, 'cgroup.events'), 'utf8'), /frozen 1/);
  else {
    assert.equal(readFileSync(join(cg.paths['freezer'] as string, 'freezer.state'), 'utf8').trim(), 'FROZEN');
    assert.equal(procState(p.child.pid as number), 'D');
  }
  await cg.thaw();
  assert.equal(cg.state(), 'thawed');
  p.child.stdin?.write('one\n');
  await until(() => p.out().includes('got one'), 'the thawed process to answer');
  p.child.stdin?.end();
  await p.exited;
});

test('killAll signals every process in the cgroup', opts, async (t) => {
  const cg = cgroup(t);
  const p = runIn(cg, 'sleep 60 & sleep 60 & echo started; wait');
  await until(() => p.out().includes('started') && cg.pids().length === 3, 'three processes');
  await cg.killAll('SIGTERM');
  assert.equal(cg.state(), 'thawed');
  const r = await p.exited;
  assert.equal(r.signal, 'SIGTERM');
  await until(() => cg.pids().length === 0, 'every process to exit');
});

test('stats report the work done inside the cgroup', opts, async (t) => {
  const cg = cgroup(t);
  cg.set({ pids: { limit: 20 }, memory: { limit: 256 << 20 } });
  const p = runIn(cg, 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; x=$(head -c 4000000 /dev/zero | tr "\\0" a); echo ready; read y');
  await until(() => p.out().includes('ready'), 'the work');
  const s = cg.stats();
  assert.ok(s.cpu.usage.total > 0, 'cpu total');
  assert.ok(s.cpu.usage.user + s.cpu.usage.kernel > 0, 'cpu user+kernel');
  assert.ok(s.memory.usage.usage > 0, 'memory usage');
  assert.equal(s.memory.usage.limit, 256 << 20);
  assert.deepEqual(s.pids, { current: 1, limit: 20 });
  if (!v2) assert.equal(s.cpu.usage.percpu?.length, Number(readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split('-')[1] ?? 0) + 1);
  const d = toDockerStats(s, mode ?? 'v1');
  assert.equal(d.memory_stats.usage, s.memory.usage.usage);
  assert.equal(d.cpu_stats.cpu_usage.total_usage, s.cpu.usage.total);
  p.child.stdin?.end('\n');
  await p.exited;
});

test('a relative cgroupsPath is created under our own cgroup', opts, async (t) => {
  const cg = cgroup(t, 'NAME');
  const key = v2 ? '' : 'memory';
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => (v2 ? l.startsWith('0::') : /:memory:/.test(l)))?.split(':')[2] ?? '/';
  const dir = cg.paths[key] as string;
  assert.ok(dir.includes(join(own, 'dray-test-')), `${dir} is not under ${own}`);
  assert.ok(existsSync(dir));
});

test('cpuset: a cpu list is applied and the process is pinned to it', opts, async (t) => {
  const cg = cgroup(t);
  cg.set({ cpu: { cpus: '0', shares: 512 } });
  const p = runIn(cg, 'grep Cpus_allowed_list /proc/self/status');
  await p.exited;
  assert.match(p.out(), /Cpus_allowed_list:\s+0\n/);
});

test('device rules deny what they do not allow', { skip: opts.skip || (v2 ? 'v2 device filter: see devices-bpf.test.ts' : false) }, async (t) => {
  const cg = cgroup(t);
  cg.set({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 5, access: 'r' }] });
  const p = runIn(cg, 'head -c 3 /dev/zero | wc -c; echo x > /dev/zero || echo "write refused"; cat /dev/full || echo "full refused"');
  await p.exited;
  assert.match(p.out(), /^3\nwrite refused\nfull refused\n$/);
  assert.match(p.err(), /Operation not permitted/);
});

/** The whole disk under /var/tmp as "major:minor" (throttles apply to disks, not partitions), or undefined. */
function diskOfVarTmp(): { major: number; minor: number } | undefined {
  const dev = statSync('/var/tmp').dev;
  const major = Number((BigInt(dev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));
  if (major === 0) return undefined; // overlay, tmpfs: no block device
  const sys = `/sys/dev/block/${major}:${minor}`;
  if (!existsSync(sys)) return undefined;
  const disk = existsSync(`${sys}/partition`) ? readFileSync(`${sys}/../dev`, 'utf8').trim() : `${major}:${minor}`;
  const [ma, mi] = disk.split(':').map(Number);
  return { major: ma as number, minor: mi as number };
}

test('block I/O throttles land in the kernel and direct I/O is accounted per device', opts, async (t) => {
  const disk = diskOfVarTmp();
  if (!disk) return t.skip('/var/tmp is not on a block device');
  const cg = cgroup(t);
  const rate = 100 << 20;
  cg.set({ blockIO: { throttleWriteBpsDevice: [{ ...disk, rate }], throttleReadBpsDevice: [{ ...disk, rate }] } });
  const dev = `${disk.major}:${disk.minor}`;
  if (v2) assert.match(readFileSync(join(cg.paths[''] as string, 'io.max'), 'utf8'), new RegExp(`^${dev} rbps=${rate} wbps=${rate}`, 'm'));
  else assert.equal(readFileSync(join(cg.paths['blkio'] as string, 'blkio.throttle.write_bps_device'), 'utf8').trim(), `${dev} ${rate}`);
  const f = `/var/tmp/dray-test-${process.pid}-io`;
  t.after(async () => rmSync(f, { force: true }));
  // Direct I/O: the page cache would hand the writes to the flusher, outside the cgroup.
  const p = runIn(cg, `dd if=/dev/zero of=${f} bs=4096 count=64 oflag=direct 2>&1 && dd if=${f} of=/dev/null bs=4096 iflag=direct 2>&1`);
  const r = await p.exited;
  assert.equal(r.code, 0, p.out());
  const bytes = cg.stats().blkio.ioServiceBytesRecursive.filter((e) => e.major === disk.major && e.minor === disk.minor);
  assert.ok((bytes.find((e) => e.op === 'Write')?.value ?? 0) >= 262144, JSON.stringify(bytes));
  assert.ok((bytes.find((e) => e.op === 'Read')?.value ?? 0) >= 262144, JSON.stringify(bytes));
  assert.ok(cg.stats().blkio.ioServicedRecursive.some((e) => e.op === 'Write' && e.value >= 64));
});

test('destroy gives up, after bounded retries, on a cgroup that still has a process; works once it is gone', opts, async (t) => {
  const cg = cgroup(t);
  const p = runIn(cg, 'echo ready; read x');
  await until(() => p.out().includes('ready'), 'the process');
  await assert.rejects(cg.destroy(), /cannot remove cgroup .*EBUSY/);
  assert.equal(cg.exists(), true);
  p.child.kill('SIGKILL');
  await p.exited;
  await cg.destroy();
  assert.equal(cg.exists(), false);
});
