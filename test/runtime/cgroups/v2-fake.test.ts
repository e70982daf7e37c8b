// cgroup v2 against a fake unified tree: controller enabling, conversions, files written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openCgroup, toDockerStats } from '../../../src/runtime/cgroups/index.ts';
import { fakeV2, type FakeHost } from './fake-cgroupfs.ts';

function host(t: { after: (fn: () => void) => void }, opts?: Parameters<typeof fakeV2>[0]): FakeHost {
  const h = fakeV2(opts);
  t.after(() => h.cleanup());
  return h;
}

function open(h: FakeHost, path: string | undefined = '/dray/c1') {
  return openCgroup({ path, id: 'c1', fsRoot: h.fsRoot, procRoot: h.procRoot });
}

test('v2 paths: absolute under the root, relative under our own cgroup', (t) => {
  const h = host(t, { own: '/user.slice/session-1.scope' });
  assert.equal(open(h).mode, 'v2');
  assert.equal(open(h).paths[''], join(h.fsRoot, 'dray/c1'));
  assert.equal(open(h, 'x/c1').paths[''], join(h.fsRoot, 'user.slice/session-1.scope/x/c1'));
  assert.equal(openCgroup({ path: undefined, id: 'c1', fsRoot: h.fsRoot, procRoot: h.procRoot }).paths[''], join(h.fsRoot, 'user.slice/session-1.scope/c1'));
});

test('v2 create enables the offered controllers in every ancestor, then makes the leaf', (t) => {
  const h = host(t, { controllers: 'cpu io memory pids' });
  const cg = open(h);
  cg.create();
  assert.equal(h.read('cgroup.subtree_control'), '+cpu +io +memory +pids');
  assert.ok(existsSync(join(h.fsRoot, 'dray/c1')));
  // Already enabled ones are not written again.
  h.write('cgroup.subtree_control', 'cpu io memory pids');
  h.addCgroup('dray');
  h.write('dray/cgroup.controllers', 'memory pids');
  h.write('dray/cgroup.subtree_control', 'memory');
  cg.create();
  assert.equal(h.read('cgroup.subtree_control'), 'cpu io memory pids');
  assert.equal(h.read('dray/cgroup.subtree_control'), '+pids');
});

test('v2 memory: memory.max, swap as the swap-only difference, memory.low; v1-only fields warn', (t) => {
  const h = host(t);
  h.addCgroup('dray/c1');
  const cg = open(h);
  const r = cg.set({ memory: { limit: 64 << 20, swap: 96 << 20, reservation: 32 << 20, swappiness: 0, disableOOMKiller: true } });
  assert.equal(h.read('dray/c1/memory.max'), String(64 << 20));
  assert.equal(h.read('dray/c1/memory.swap.max'), String(32 << 20));
  assert.equal(h.read('dray/c1/memory.low'), String(32 << 20));
  assert.match(r.warnings.join('|'), /swappiness.*\|.*disableOOMKiller/);
  const order = cg.plan({ memory: { limit: 1 << 20, swap: 1 << 20 } }).writes.map((w) => [w.file.split('/').pop(), w.value]);
  assert.deepEqual(order, [['memory.swap.max', '0'], ['memory.max', '1048576']]);
  cg.set({ memory: { limit: -1 } });
  assert.equal(h.read('dray/c1/memory.max'), 'max');
  assert.equal(h.read('dray/c1/memory.swap.max'), 'max');
  assert.throws(() => cg.plan({ memory: { swap: 1 << 20 } }), /without a memory limit/);
  assert.throws(() => cg.set({ memory: { limit: 1024, checkBeforeUpdate: true } }), /current usage 3145728/);
});

test('v2 cpu: shares to weight, cpu.max forms, burst, idle, cpuset; realtime refused', (t) => {
  const h = host(t);
  h.addCgroup('dray/c1');
  const cg = open(h);
  cg.set({ cpu: { shares: 1024, quota: 50000, period: 100000, burst: 5000, idle: 0, cpus: '0-1', mems: '0' } });
  assert.equal(h.read('dray/c1/cpu.weight'), '39');
  assert.equal(h.read('dray/c1/cpu.max'), '50000 100000');
  assert.equal(h.read('dray/c1/cpu.max.burst'), '5000');
  assert.equal(h.read('dray/c1/cpu.idle'), '0');
  assert.equal(h.read('dray/c1/cpuset.cpus'), '0-1');
  assert.equal(h.read('dray/c1/cpuset.mems'), '0');
  const max = (cpu: object) => cg.plan({ cpu }).writes.find((w) => w.file.endsWith('cpu.max'))?.value;
  assert.equal(max({ quota: -1 }), 'max');
  assert.equal(max({ period: 20000 }), 'max 20000');
  assert.equal(max({ quota: 30000 }), '30000');
  assert.equal(max({ shares: 2 }), undefined);
  assert.equal(cg.plan({ cpu: { shares: 2 } }).writes[0]?.value, '1');
  assert.equal(cg.plan({ cpu: { shares: 262144 } }).writes[0]?.value, '10000');
  assert.throws(() => cg.plan({ cpu: { realtimeRuntime: 1000 } }), /not supported on cgroup v2/);
});

test('v2 io: weight converted for io.weight, raw for BFQ; io.max throttles with 0 as max', (t) => {
  const h = host(t);
  h.addCgroup('dray/c1');
  const cg = open(h);
  const p = cg.plan({
    blockIO: {
      weight: 500, leafWeight: 20, weightDevice: [{ major: 8, minor: 0, weight: 1000 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 0 }],
    },
  });
  assert.deepEqual(p.writes.map((w) => [w.file.split('/').pop(), w.value]), [
    ['io.weight', 'default 4950'], ['io.weight', '8:0 10000'], ['io.max', '8:0 rbps=1048576'], ['io.max', '8:0 wiops=max'],
  ]);
  assert.match(p.warnings.join(), /leafWeight/);
  h.write('dray/c1/io.bfq.weight', 'default 100');
  const bfq = cg.plan({ blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 1000 }] } });
  assert.deepEqual(bfq.writes.map((w) => [w.file.split('/').pop(), w.value]), [['io.bfq.weight', '500'], ['io.bfq.weight', '8:0 1000']]);
});

test('v2 pids, hugetlb, unified; network refused; missing files are clear errors', (t) => {
  const h = host(t);
  h.addCgroup('dray/c1', { without: ['cpu.idle'] });
  const cg = open(h);
  cg.set({ pids: { limit: 10 }, hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }], unified: { 'memory.high': '50000000', 'cgroup.max.depth': '3' } });
  assert.equal(h.read('dray/c1/pids.max'), '10');
  assert.equal(h.read('dray/c1/hugetlb.2MB.max'), '2097152');
  assert.equal(h.read('dray/c1/memory.high'), '50000000');
  assert.equal(h.read('dray/c1/cgroup.max.depth'), '3');
  assert.throws(() => cg.set({ unified: { 'memory.nonexistent': '1' } }), /"memory.nonexistent" is not a file of this cgroup/);
  assert.throws(() => cg.set({ network: { classID: 1 } }), /does not exist on cgroup v2/);
  assert.throws(() => cg.set({ hugepageLimits: [{ pageSize: '1GB', limit: 1 }] }), /1GB is not supported/);
  assert.throws(() => cg.set({ cpu: { idle: 1 } }), /cpu.idle, which this cgroup lacks/);
  // Nothing from a failed set was written.
  assert.throws(() => cg.set({ pids: { limit: 20 }, unified: { 'memory.nonexistent': '1' } }));
  assert.equal(h.read('dray/c1/pids.max'), '10');
});

test('v2 devices: planned as a device state for the eBPF filter; a fake tree gets a warning, not a program', (t) => {
  const h = host(t);
  h.addCgroup('dray/c1');
  const cg = open(h);
  const p = cg.plan({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }] });
  assert.deepEqual(p.devices, { defaultAllow: false, exceptions: [{ type: 'c', major: 1, minor: 3, access: 7 }] });
  assert.deepEqual(p.writes, []);
  assert.match(cg.set({ devices: [{ allow: true, access: 'rwm' }] }).warnings.join(), /not attached/);
});

test('v2 freeze/thaw through cgroup.freeze, waiting on cgroup.events', async (t) => {
  const h = host(t);
  h.addCgroup('dray/c1', { without: ['cgroup.events'] });
  const cg = open(h);
  await cg.freeze();
  assert.equal(h.read('dray/c1/cgroup.freeze'), '1');
  assert.equal(cg.state(), 'frozen');
  await cg.thaw();
  assert.equal(cg.state(), 'thawed');
  // With cgroup.events present, a freeze that never completes is an error and is undone.
  h.write('dray/c1/cgroup.events', 'populated 1\nfrozen 0\n');
  await assert.rejects(cg.freeze(), /did not freeze/);
  assert.equal(h.read('dray/c1/cgroup.freeze'), '0');
});

test('v2 killAll with SIGKILL uses cgroup.kill when the kernel has it', async (t) => {
  const h = host(t);
  h.addCgroup('dray/c1');
  h.write('dray/c1/cgroup.kill', '');
  await open(h).killAll('SIGKILL');
  assert.equal(h.read('dray/c1/cgroup.kill'), '1');
});

test('v2 stats map to runc\'s shape and to Docker\'s', (t) => {
  const h = host(t);
  h.addCgroup('dray/c1');
  h.write('dray/c1/memory.max', '67108864');
  h.write('dray/c1/memory.swap.max', '0');
  h.write('dray/c1/pids.max', '100');
  const cg = open(h);
  const s = cg.stats();
  assert.deepEqual(s.cpu.usage, { total: 1500000, kernel: 500000, user: 1000000 });
  assert.deepEqual(s.cpu.throttling, { periods: 4, throttled_periods: 1, throttled_time: 20000 });
  assert.deepEqual(s.memory.usage, { usage: 3145728, limit: 67108864, max: 4194304, failcnt: 2 });
  assert.equal(s.memory.swap.limit, 67108864);
  assert.equal(s.memory.cache, 2097152);
  assert.deepEqual(s.pids, { current: 1, limit: 100 });
  assert.deepEqual(s.blkio.ioServiceBytesRecursive, [{ major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 8192 }]);
  assert.deepEqual(s.blkio.ioServicedRecursive.map((e) => e.value), [1, 2]);
  assert.deepEqual(s.hugetlb['2MB'], { usage: 0, max: 18446744073709551615, failcnt: 0 });
  const d = toDockerStats(s, 'v2');
  assert.equal(d.cpu_stats.cpu_usage.total_usage, 1500000);
  assert.equal(d.memory_stats.usage, 3145728);
  assert.equal(d.memory_stats.stats['anon'], 1048576);
  assert.equal(d.blkio_stats.io_service_bytes_recursive?.[0]?.op, 'read');
  assert.deepEqual(d.pids_stats, { current: 1, limit: 100 });
});

test('v2 onOom wakes on memory.events changes', async (t) => {
  const h = host(t);
  h.addCgroup('dray/c1');
  const cg = open(h);
  const seen: number[] = [];
  // An interval longer than the test: only the inotify watch can notice.
  const stop = cg.onOom((n) => seen.push(n), { intervalMs: 600_000 });
  t.after(stop);
  h.write('dray/c1/memory.events', 'low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n');
  for (let i = 0; i < 300 && !seen.length; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, [1]);
  h.write('dray/c1/memory.events', 'low 0\nhigh 0\nmax 9\noom 3\noom_kill 3\n');
  for (let i = 0; i < 300 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, [1, 3]);
});

test('v2 destroy removes the leaf and its children', async (t) => {
  const h = host(t);
  h.addCgroup('dray/c1');
  h.addCgroup('dray/c1/sub');
  const cg = open(h);
  await cg.destroy();
  assert.equal(existsSync(join(h.fsRoot, 'dray/c1')), false);
  assert.equal(existsSync(join(h.fsRoot, 'dray')), true);
});
