// cgroup v1 against a fake tree: which files get which values, in which order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openCgroup, reopenCgroup, detectCgroupMode, containerCgroupMounts, CgroupError } from '../../../src/runtime/cgroups/index.ts';
import { fakeV1, fakeV2, type FakeHost } from './fake-cgroupfs.ts';

function host(t: { after: (fn: () => void) => void }, opts?: Parameters<typeof fakeV1>[0]): FakeHost {
  const h = fakeV1(opts);
  t.after(() => h.cleanup());
  return h;
}

function open(h: FakeHost, path: string | undefined = '/dray-test-c1', id = 'c1') {
  return openCgroup({ path, id, fsRoot: h.fsRoot, procRoot: h.procRoot });
}

test('detectCgroupMode tells v1, hybrid and v2 trees apart', (t) => {
  const v1 = host(t);
  const hy = host(t, { hybrid: true });
  const v2 = fakeV2();
  t.after(() => v2.cleanup());
  assert.equal(detectCgroupMode(v1.fsRoot), 'v1');
  assert.equal(detectCgroupMode(hy.fsRoot), 'hybrid');
  assert.equal(detectCgroupMode(v2.fsRoot), 'v2');
  assert.throws(() => detectCgroupMode(join(v1.dir, 'nope')), CgroupError);
});

test('paths: absolute under each mount, cpu and cpuacct separate, systemd\'s named hierarchy joined', (t) => {
  const h = host(t, { hybrid: true });
  const cg = open(h, '/dray/c1');
  assert.equal(cg.mode, 'hybrid');
  assert.equal(cg.paths['cpu'], join(h.fsRoot, 'cpu/dray/c1'));
  assert.equal(cg.paths['cpuacct'], join(h.fsRoot, 'cpuacct/dray/c1'));
  assert.equal(cg.paths['memory'], join(h.fsRoot, 'memory/dray/c1'));
  assert.equal(cg.paths[''], join(h.fsRoot, 'unified/dray/c1'));
  assert.equal(cg.paths['name=systemd'], join(h.fsRoot, 'systemd/dray/c1'));
  assert.equal(Object.keys(cg.paths).includes('name=other'), false);
});

test('paths: relative ones hang under the caller\'s own cgroup per controller; absent means <id>', (t) => {
  const h = host(t, { own: { memory: '/process_api/abc', cpu: '/user.slice' } });
  const rel = open(h, 'sub/c1');
  assert.equal(rel.paths['memory'], join(h.fsRoot, 'memory/process_api/abc/sub/c1'));
  assert.equal(rel.paths['cpu'], join(h.fsRoot, 'cpu/user.slice/sub/c1'));
  assert.equal(rel.paths['pids'], join(h.fsRoot, 'pids/sub/c1'));
  const dflt = openCgroup({ path: undefined, id: 'myid', fsRoot: h.fsRoot, procRoot: h.procRoot });
  assert.equal(dflt.paths['memory'], join(h.fsRoot, 'memory/process_api/abc/myid'));
  // ".." never climbs above the start.
  const evil = open(h, '../../../../etc/x');
  assert.equal(evil.paths['memory'], join(h.fsRoot, 'memory/process_api/abc/etc/x'));
  const evilAbs = open(h, '/../../etc');
  assert.equal(evilAbs.paths['pids'], join(h.fsRoot, 'pids/etc'));
});

test('paths: a combined cpu,cpuacct mount gives both the same directory; a container\'s mount root is stripped', (t) => {
  const h = host(t, { hierarchies: ['cpu,cpuacct', 'memory'], own: { cpu: '/docker/xyz/inner', memory: '/docker/xyz/inner' }, mountRoot: '/docker/xyz' });
  const cg = open(h, 'c1');
  assert.equal(cg.paths['cpu'], join(h.fsRoot, 'cpu,cpuacct/inner/c1'));
  assert.equal(cg.paths['cpuacct'], cg.paths['cpu']);
  assert.equal(cg.paths['memory'], join(h.fsRoot, 'memory/inner/c1'));
});

test('paths: the systemd driver\'s slice:prefix:name is refused clearly; bad ids too', (t) => {
  const h = host(t);
  assert.throws(() => open(h, 'system.slice:docker:abc'), /systemd cgroup driver is not supported/);
  for (const bad of ['../x', '..', '.', 'a/b', '', 'a b']) assert.throws(() => openCgroup({ path: undefined, id: bad, fsRoot: h.fsRoot, procRoot: h.procRoot }), /invalid container id/, bad);
  assert.equal(openCgroup({ path: undefined, id: '_x.y+z-1', fsRoot: h.fsRoot, procRoot: h.procRoot }).paths['pids'], join(h.fsRoot, 'pids/_x.y+z-1'));
  assert.throws(() => open(h, '/'), /cgroup root/);
});

test('create initializes cpuset.cpus/mems from the parents, level by level', (t) => {
  const h = host(t);
  h.addCgroup('a');
  h.addCgroup('a/c1');
  const cg = open(h, '/a/c1');
  cg.create();
  assert.equal(h.read('cpuset/a/cpuset.cpus'), '0-1');
  assert.equal(h.read('cpuset/a/c1/cpuset.cpus'), '0-1');
  assert.equal(h.read('cpuset/a/c1/cpuset.mems'), '0');
  assert.equal(cg.exists(), true);
});

test('apply writes the pid to every hierarchy; bad pids are refused', (t) => {
  const h = host(t, { hybrid: true });
  h.addCgroup('dray-test-c1');
  const cg = open(h);
  cg.create();
  cg.apply(4242);
  for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'unified', 'systemd']) {
    assert.equal(h.read(`${c}/dray-test-c1/cgroup.procs`), '4242', c);
  }
  assert.throws(() => cg.apply(0), /invalid pid/);
  assert.deepEqual(cg.pids(), [4242]);
});

test('memory: limit, memsw (ordered by growth), reservation, swappiness, OOM killer, kernel ignored', (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1');
  const cg = open(h);
  const grow = cg.plan({ memory: { limit: 1 << 20, swap: 2 << 20, reservation: 1 << 19, swappiness: 10, disableOOMKiller: true, kernel: 5 } });
  // memsw first: the current limit (max) is not below 2M, so memory goes first here.
  assert.deepEqual(grow.writes.map((w) => [w.file.split('/').pop(), w.value]), [
    ['memory.limit_in_bytes', '1048576'],
    ['memory.memsw.limit_in_bytes', '2097152'],
    ['memory.soft_limit_in_bytes', '524288'],
    ['memory.swappiness', '10'],
    ['memory.oom_control', '1'],
  ]);
  assert.match(grow.warnings.join(), /kernel/);
  const res = cg.set({ memory: { limit: 1 << 20, swap: 2 << 20 } });
  assert.deepEqual(res.warnings, []);
  assert.equal(h.read('memory/dray-test-c1/memory.limit_in_bytes'), '1048576');
  assert.equal(h.read('memory/dray-test-c1/memory.memsw.limit_in_bytes'), '2097152');
  // Growing past the current memory limit: memsw must be raised first.
  const up = cg.plan({ memory: { limit: 8 << 20, swap: 16 << 20 } });
  assert.deepEqual(up.writes.map((w) => w.file.split('/').pop()), ['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes']);
  // Unlimited memory with swap unset means both unlimited.
  const unl = cg.plan({ memory: { limit: -1 } });
  assert.deepEqual(unl.writes.map((w) => [w.file.split('/').pop(), w.value]), [['memory.memsw.limit_in_bytes', '-1'], ['memory.limit_in_bytes', '-1']]);
});

test('memory: checkBeforeUpdate refuses a limit below usage and writes nothing', (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1');
  const cg = open(h);
  assert.throws(() => cg.set({ memory: { limit: 4096, checkBeforeUpdate: true }, pids: { limit: 3 } }), /below the cgroup's current usage 1048576/);
  assert.equal(h.read('pids/dray-test-c1/pids.max'), 'max');
  cg.set({ memory: { limit: 4 << 20, checkBeforeUpdate: true } });
  assert.equal(h.read('memory/dray-test-c1/memory.limit_in_bytes'), String(4 << 20));
});

test('memory: without swap accounting, swap is skipped with a warning', (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1', { without: ['memory.memsw.limit_in_bytes'] });
  const p = open(h).plan({ memory: { limit: 1 << 20, swap: 2 << 20 } });
  assert.deepEqual(p.writes.map((w) => w.file.split('/').pop()), ['memory.limit_in_bytes']);
  assert.match(p.warnings.join(), /swap accounting/);
});

test('cpu: shares, period before quota, burst, realtime, idle, cpuset', (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1');
  const cg = open(h);
  cg.set({ cpu: { shares: 512, quota: 50000, period: 100000, burst: 1000, realtimePeriod: 1000000, realtimeRuntime: 950000, idle: 1, cpus: '1', mems: '0' } });
  const want: Record<string, string> = {
    'cpu/dray-test-c1/cpu.shares': '512', 'cpu/dray-test-c1/cpu.cfs_quota_us': '50000', 'cpu/dray-test-c1/cpu.cfs_period_us': '100000',
    'cpu/dray-test-c1/cpu.cfs_burst_us': '1000', 'cpu/dray-test-c1/cpu.rt_period_us': '1000000', 'cpu/dray-test-c1/cpu.rt_runtime_us': '950000',
    'cpu/dray-test-c1/cpu.idle': '1', 'cpuset/dray-test-c1/cpuset.cpus': '1', 'cpuset/dray-test-c1/cpuset.mems': '0',
  };
  for (const [f, v] of Object.entries(want)) assert.equal(h.read(f), v, f);
  const order = cg.plan({ cpu: { quota: -1, period: 20000 } }).writes.map((w) => [w.file.split('/').pop(), w.value]);
  assert.deepEqual(order, [['cpu.cfs_period_us', '20000'], ['cpu.cfs_quota_us', '-1']]);
});

test('pids: a limit, -1 as max, 0 as unset', (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1');
  const cg = open(h);
  cg.set({ pids: { limit: 7 } });
  assert.equal(h.read('pids/dray-test-c1/pids.max'), '7');
  cg.set({ pids: { limit: -1 } });
  assert.equal(h.read('pids/dray-test-c1/pids.max'), 'max');
  assert.deepEqual(cg.plan({ pids: { limit: 0 } }).writes, []);
});

test('blkio: BFQ weight when CFQ is gone, per-device weight, throttles; leaf weight needs its file', (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1');
  const cg = open(h);
  const p = cg.plan({
    blockIO: {
      weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 500 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }], throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 0 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 200 }],
    },
  });
  assert.deepEqual(p.writes.map((w) => [w.file.split('/').pop(), w.value]), [
    ['blkio.bfq.weight', '300'], ['blkio.bfq.weight_device', '8:0 500'],
    ['blkio.throttle.read_bps_device', '8:0 1048576'], ['blkio.throttle.write_bps_device', '8:16 0'],
    ['blkio.throttle.read_iops_device', '8:0 100'], ['blkio.throttle.write_iops_device', '8:0 200'],
  ]);
  assert.throws(() => cg.plan({ blockIO: { leafWeight: 100 } }), /blkio.leaf_weight/);
});

test('hugetlb and network: clear errors when the controller is not mounted; writes when it is', (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1');
  const cg = open(h);
  assert.throws(() => cg.set({ hugepageLimits: [{ pageSize: '2MB', limit: 1 << 21 }] }), /hugetlb cgroup controller, which is not mounted/);
  assert.throws(() => cg.set({ network: { classID: 0x100001 } }), /net_cls cgroup controller, which is not mounted/);
  assert.throws(() => cg.set({ network: { priorities: [{ name: 'eth0', priority: 5 }] } }), /net_prio/);
  // Empty sections (Docker sends some) need no controller.
  const bare = host(t, { hierarchies: ['memory'] });
  bare.addCgroup('dray-test-c1');
  assert.deepEqual(open(bare).set({ blockIO: {}, network: {}, hugepageLimits: [], cpu: {}, devices: [], memory: {} }).warnings, []);
  assert.throws(() => open(bare).set({ blockIO: { weight: 100 } }), /blkio cgroup controller, which is not mounted/);

  const full = host(t, { hierarchies: ['memory', 'hugetlb', 'net_cls', 'net_prio'] });
  full.addCgroup('dray-test-c1');
  const cg2 = open(full);
  cg2.set({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }], network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }] } });
  assert.equal(full.read('hugetlb/dray-test-c1/hugetlb.2MB.limit_in_bytes'), '4194304');
  assert.equal(full.read('net_cls/dray-test-c1/net_cls.classid'), '1048577');
  assert.equal(full.read('net_prio/dray-test-c1/net_prio.ifpriomap'), 'eth0 5');
  assert.throws(() => cg2.plan({ hugepageLimits: [{ pageSize: '1GB', limit: 0 }] }), /1GB is not supported/);
});

test('devices: Docker\'s deny-all-then-allow list becomes deny "a" and allow lines', (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1');
  const cg = open(h);
  const p = cg.plan({
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 136, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 1, access: 'rw' },
      { allow: false, type: 'c', major: 5, minor: 1, access: 'w' },
    ],
  });
  assert.deepEqual(p.writes.map((w) => [w.file.split('/').pop(), w.value]), [
    ['devices.deny', 'a'], ['devices.allow', 'c 1:3 rwm'], ['devices.allow', 'c 136:* rwm'], ['devices.allow', 'c 5:1 r'],
  ]);
  const allowAll = cg.plan({ devices: [{ allow: true, access: 'rwm' }, { allow: false, type: 'b', major: 8, minor: 0, access: 'w' }] });
  assert.deepEqual(allowAll.writes.map((w) => [w.file.split('/').pop(), w.value]), [['devices.allow', 'a'], ['devices.deny', 'b 8:0 w']]);
});

test('unified on v1 is an error; rdma is ignored with a warning', (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1');
  const cg = open(h);
  assert.throws(() => cg.set({ unified: { 'memory.high': '1M' } }), /needs cgroup v2/);
  assert.deepEqual(cg.set({ unified: {} }).warnings, []);
  assert.match(cg.set({ rdma: { mlx5_0: { hcaHandles: 3 } } }).warnings.join(), /rdma/);
});

test('validation: unknown fields and out-of-range values name the field and write nothing', (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1');
  const cg = open(h);
  const bad: [unknown, RegExp][] = [
    [{ memroy: {} }, /unknown field "memroy"/],
    [{ memory: { limit: -5 } }, /memory.limit: -5 is out of range/],
    [{ memory: { limit: 1.5 } }, /must be an integer/],
    [{ memory: { limit: 2 << 20, swap: 1 << 20 } }, /must be >= the memory limit/],
    [{ memory: { swappiness: 101 } }, /swappiness: 101 is out of range/],
    [{ cpu: { shares: 1 } }, /shares: 1 is out of range \[2, 262144\]/],
    [{ cpu: { quota: 500 } }, /below the kernel's minimum/],
    [{ cpu: { period: 5 } }, /period: 5 is out of range/],
    [{ cpu: { cpus: '0-a' } }, /not a list/],
    [{ cpu: { cpus: '3-1' } }, /not a list/],
    [{ blockIO: { weight: 5 } }, /weight: 5 is out of range \[10, 1000\]/],
    [{ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }, /pageSize: must look like "2MB"/],
    [{ devices: [{ allow: true, type: 'x' }] }, /type: must be "a", "b" or "c"/],
    [{ devices: [{ allow: true, access: 'rwx' }] }, /access/],
    [{ devices: [{ type: 'c' }] }, /allow: required boolean/],
    [{ pids: {} }, /pids.limit: must be an integer/],
    [{ unified: { '../x': '1' } }, /not a cgroup file name/],
    [{ unified: { 'cgroup.procs': '1' } }, /managed by the runtime/],
    [{ network: { priorities: [{ name: 'a b', priority: 1 }] } }, /not an interface name/],
    ['nope', /linux.resources: must be an object/],
  ];
  for (const [r, re] of bad) assert.throws(() => cg.set(typeof r === 'object' ? { pids: { limit: 9 }, ...r } : r), re, JSON.stringify(r));
  assert.equal(h.read('pids/dray-test-c1/pids.max'), 'max');
  // Docker's "no swappiness" (-1 as uint64) and its all-zero sections write nothing.
  const dockerDefaults = JSON.parse('{"memory":{"swappiness":18446744073709551615,"disableOOMKiller":false},"cpu":{"shares":0,"quota":0,"period":0,"realtimeRuntime":0,"realtimePeriod":0,"cpus":"","mems":""},"pids":{"limit":0},"blockIO":{"weight":0}}');
  assert.deepEqual(cg.plan(dockerDefaults).writes, []);
  assert.deepEqual(cg.plan({ memory: { swappiness: -1 } }).writes, []);
  // A rounded 2^63-1 from JSON.parse is clamped, not refused.
  assert.deepEqual(cg.plan(JSON.parse('{"memory":{"limit":9223372036854775807}}')).writes.map((w) => w.value), ['9223372036854775807']);
});

test('freeze/thaw/state through freezer.state', async (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1');
  const cg = open(h);
  assert.equal(cg.state(), 'thawed');
  await cg.freeze();
  assert.equal(h.read('freezer/dray-test-c1/freezer.state'), 'FROZEN');
  assert.equal(cg.state(), 'frozen');
  await cg.thaw();
  assert.equal(cg.state(), 'thawed');
});

test('stats: v1 files map to runc\'s stats shape', (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1');
  h.write('pids/dray-test-c1/pids.max', '50');
  h.write('memory/dray-test-c1/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
  const s = open(h).stats();
  assert.equal(s.cpu.usage.total, 5000000);
  assert.deepEqual(s.cpu.usage.percpu, [3000000, 2000000]);
  assert.equal(s.cpu.usage.user, 4000000);
  assert.equal(s.cpu.usage.kernel, 1000000);
  assert.deepEqual(s.cpu.throttling, { periods: 7, throttled_periods: 3, throttled_time: 123456 });
  assert.deepEqual(s.memory.usage, { usage: 1048576, max: 2097152, limit: 9223372036854771712, failcnt: 4 });
  assert.equal(s.memory.cache, 4096);
  assert.equal(s.memory.raw['rss'], 8192);
  assert.deepEqual(s.pids, { current: 2, limit: 50 });
  assert.deepEqual(s.blkio.ioServiceBytesRecursive.slice(0, 2), [{ major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 8192 }]);
  assert.equal(s.blkio.ioServicedRecursive.length, 3);
  assert.equal(s.oom_kill, 2);
});

test('destroy removes the cgroup subtree in every hierarchy and nothing else', async (t) => {
  const h = host(t, { hybrid: true });
  h.addCgroup('dray-test-c1');
  h.addCgroup('dray-test-c1/child');
  h.addCgroup('other');
  const cg = open(h);
  await cg.destroy();
  for (const c of ['cpu', 'memory', 'pids', 'unified', 'systemd']) {
    assert.equal(existsSync(join(h.fsRoot, c, 'dray-test-c1')), false, c);
    assert.equal(existsSync(join(h.fsRoot, c, 'other')), true, c);
  }
  assert.equal(cg.exists(), false);
  await cg.destroy(); // idempotent
  assert.ok(readdirSync(join(h.fsRoot, 'memory')).includes('memory.stat'));
});

test('onOom fires when memory.oom_control\'s oom_kill rises', async (t) => {
  const h = host(t);
  h.addCgroup('dray-test-c1');
  const cg = open(h);
  const seen: number[] = [];
  const stop = cg.onOom((n) => seen.push(n), { intervalMs: 10 });
  t.after(stop);
  h.write('memory/dray-test-c1/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
  for (let i = 0; i < 200 && !seen.length; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, [1]);
  assert.equal(cg.oomKillCount(), 1);
});

test('saved() round-trips through reopenCgroup (JSON), and tampered state is refused', (t) => {
  const h = host(t, { hybrid: true, own: { memory: '/process_api/abc' } });
  h.addCgroup('process_api/abc/c1');
  h.addCgroup('c1'); // pids: our own cgroup there is the root
  const cg = open(h, 'c1');
  const saved = JSON.parse(JSON.stringify(cg.saved()));
  const again = reopenCgroup(saved);
  assert.deepEqual(again.paths, cg.paths);
  assert.equal(again.mode, 'hybrid');
  again.set({ pids: { limit: 5 } });
  assert.equal(h.read('pids/c1/pids.max'), '5');
  const v2 = fakeV2();
  t.after(() => v2.cleanup());
  const cg2 = openCgroup({ path: '/x/c1', id: 'c1', fsRoot: v2.fsRoot, procRoot: v2.procRoot });
  assert.deepEqual(reopenCgroup(cg2.saved()).saved(), cg2.saved());
  const evil = structuredClone(saved);
  evil.paths.memory = evil.mountpoints.memory + '/../../etc';
  assert.throws(() => reopenCgroup(evil), /saved cgroup state is invalid/);
  assert.throws(() => reopenCgroup({ ...saved, mode: 'v3' }), /mode/);
  assert.throws(() => reopenCgroup({ ...saved, paths: { memory: '/etc' } }), /not a directory under/);
  assert.throws(() => reopenCgroup(null), /not an object/);
});

test('the container\'s cgroup mount layout: one bind per hierarchy, symlinks for combined ones', (t) => {
  const h = host(t, { hierarchies: ['cpu,cpuacct', 'memory', 'net_cls,net_prio'], hybrid: true });
  const layout = containerCgroupMounts(open(h, '/d/c1').saved());
  assert.deepEqual(layout.binds, [
    { name: 'cpu,cpuacct', source: join(h.fsRoot, 'cpu,cpuacct/d/c1') },
    { name: 'memory', source: join(h.fsRoot, 'memory/d/c1') },
    { name: 'net_cls,net_prio', source: join(h.fsRoot, 'net_cls,net_prio/d/c1') },
    { name: 'systemd', source: join(h.fsRoot, 'systemd/d/c1') },
    { name: 'unified', source: join(h.fsRoot, 'unified/d/c1') },
  ]);
  assert.deepEqual(layout.symlinks, [
    { name: 'cpu', target: 'cpu,cpuacct' }, { name: 'cpuacct', target: 'cpu,cpuacct' },
    { name: 'net_cls', target: 'net_cls,net_prio' }, { name: 'net_prio', target: 'net_cls,net_prio' },
  ]);
  const v2 = fakeV2();
  t.after(() => v2.cleanup());
  const cg2 = openCgroup({ path: '/d/c1', id: 'c1', fsRoot: v2.fsRoot, procRoot: v2.procRoot });
  assert.deepEqual(containerCgroupMounts(cg2.saved()), { binds: [{ name: '', source: join(v2.fsRoot, 'd/c1') }], symlinks: [] });
});
