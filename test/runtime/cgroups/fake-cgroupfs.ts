// Fake cgroup trees for unit tests: a temp dir laid out like /sys/fs/cgroup
// (v1 with one directory per hierarchy, or v2 unified) plus a fake /proc with
// self/mountinfo and self/cgroup. The kernel would create a new cgroup's files
// on mkdir; here `addCgroup` lays them down with the kernel's initial values.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAX64 = '9223372036854771712';

export const V1_FILES: Record<string, Record<string, string>> = {
  cpu: {
    'cpu.shares': '1024', 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1', 'cpu.cfs_burst_us': '0',
    'cpu.rt_period_us': '1000000', 'cpu.rt_runtime_us': '0', 'cpu.idle': '0',
    'cpu.stat': 'nr_periods 7\nnr_throttled 3\nthrottled_time 123456\n',
  },
  cpuacct: {
    'cpuacct.usage': '5000000', 'cpuacct.usage_percpu': '3000000 2000000 ', 'cpuacct.usage_user': '4000000',
    'cpuacct.usage_sys': '1000000', 'cpuacct.usage_percpu_user': '2500000 1500000', 'cpuacct.usage_percpu_sys': '500000 500000',
    'cpuacct.stat': 'user 400\nsystem 100\n',
  },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '' },
  memory: {
    'memory.limit_in_bytes': MAX64, 'memory.memsw.limit_in_bytes': MAX64, 'memory.soft_limit_in_bytes': MAX64,
    'memory.usage_in_bytes': '1048576', 'memory.max_usage_in_bytes': '2097152', 'memory.failcnt': '4',
    'memory.memsw.usage_in_bytes': '1048576', 'memory.memsw.max_usage_in_bytes': '2097152', 'memory.memsw.failcnt': '0',
    'memory.kmem.usage_in_bytes': '0', 'memory.kmem.limit_in_bytes': MAX64, 'memory.kmem.max_usage_in_bytes': '0', 'memory.kmem.failcnt': '0',
    'memory.swappiness': '60', 'memory.use_hierarchy': '1',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    'memory.stat': 'cache 4096\nrss 8192\nswap 0\ntotal_cache 4096\n',
  },
  devices: { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm' },
  freezer: { 'freezer.state': 'THAWED' },
  blkio: {
    'blkio.bfq.weight': '100', 'blkio.bfq.weight_device': 'default 100',
    'blkio.throttle.read_bps_device': '', 'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '', 'blkio.throttle.write_iops_device': '',
    'blkio.bfq.io_service_bytes_recursive': '',
    'blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 12288\nTotal 12288\n',
    'blkio.throttle.io_serviced_recursive': '8:0 Read 1\n8:0 Write 2\n8:0 Total 3\nTotal 3\n',
  },
  pids: { 'pids.max': 'max', 'pids.current': '2' },
  hugetlb: { 'hugetlb.2MB.limit_in_bytes': MAX64, 'hugetlb.2MB.usage_in_bytes': '0', 'hugetlb.2MB.max_usage_in_bytes': '0', 'hugetlb.2MB.failcnt': '0' },
  net_cls: { 'net_cls.classid': '0' },
  net_prio: { 'net_prio.ifpriomap': 'lo 0' },
};

export const V2_FILES: Record<string, string> = {
  'cgroup.procs': '', 'cgroup.freeze': '0', 'cgroup.type': 'domain', 'cgroup.max.depth': 'max', 'cgroup.max.descendants': 'max',
  'memory.max': 'max', 'memory.swap.max': 'max', 'memory.low': '0', 'memory.high': 'max', 'memory.current': '3145728', 'memory.peak': '4194304',
  'memory.swap.current': '0', 'memory.events': 'low 0\nhigh 0\nmax 2\noom 0\noom_kill 0\n',
  'memory.stat': 'anon 1048576\nfile 2097152\nkernel 0\n',
  'cpu.weight': '100', 'cpu.max': 'max 100000', 'cpu.max.burst': '0', 'cpu.idle': '0',
  'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n',
  'cpuset.cpus': '', 'cpuset.mems': '', 'pids.max': 'max', 'pids.current': '1',
  'io.weight': 'default 100', 'io.max': '', 'io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
  'hugetlb.2MB.max': 'max', 'hugetlb.2MB.current': '0', 'hugetlb.2MB.events': 'max 0\n',
};

export interface FakeHost {
  dir: string;
  fsRoot: string;
  procRoot: string;
  /** Lays down a new cgroup's files as the kernel would on mkdir (relative to each hierarchy). */
  addCgroup(rel: string, opts?: { without?: string[] }): void;
  read(rel: string): string;
  write(rel: string, value: string): void;
  cleanup(): void;
}

interface V1Options {
  /** v1 hierarchies, each one mount; "cpu,cpuacct" makes a combined one. */
  hierarchies?: string[];
  /** the caller's own cgroup per controller (default "/"). */
  own?: Record<string, string>;
  /** add a v2 mount at <root>/unified (hybrid). */
  hybrid?: boolean;
  /** mount root per hierarchy (as inside a container). */
  mountRoot?: string;
}

function base(prefix: string): { dir: string; fsRoot: string; procRoot: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const fsRoot = join(dir, 'cgroup');
  const procRoot = join(dir, 'proc');
  mkdirSync(join(procRoot, 'self'), { recursive: true });
  mkdirSync(fsRoot);
  return { dir, fsRoot, procRoot };
}

function put(dir: string, files: Record<string, string>, without: string[] = []): void {
  mkdirSync(dir, { recursive: true });
  for (const [f, v] of Object.entries(files)) if (!without.includes(f)) writeFileSync(join(dir, f), v);
}

export function fakeV1(opts: V1Options = {}): FakeHost {
  const b = base('dray-cgv1-');
  const hier = opts.hierarchies ?? ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'];
  const mountRoot = opts.mountRoot ?? '/';
  const mi: string[] = [];
  const cg: string[] = [];
  hier.forEach((h, i) => {
    const mp = join(b.fsRoot, h);
    for (const c of h.split(',')) put(mp, { 'cgroup.procs': '', ...(V1_FILES[c] ?? {}) });
    // The root cpuset has the machine's cpus and mems.
    if (h.split(',').includes('cpuset')) put(mp, { 'cpuset.cpus': '0-1', 'cpuset.mems': '0' });
    mi.push(`${30 + i} 25 0:${40 + i} ${mountRoot} ${mp} rw,nosuid,nodev,noexec,relatime shared:${i} - cgroup cgroup rw,${h}`);
    cg.push(`${i + 1}:${h}:${opts.own?.[h.split(',')[0] ?? ''] ?? '/'}`);
  });
  mi.push(`99 25 0:99 / ${join(b.fsRoot, 'systemd')} rw - cgroup cgroup rw,xattr,name=systemd`);
  mi.push(`97 25 0:97 / ${join(b.fsRoot, 'other')} rw - cgroup cgroup rw,name=other`);
  put(join(b.fsRoot, 'systemd'), { 'cgroup.procs': '' });
  if (opts.hybrid) {
    put(join(b.fsRoot, 'unified'), { 'cgroup.controllers': '', 'cgroup.subtree_control': '', 'cgroup.procs': '' });
    mi.push(`98 25 0:98 / ${join(b.fsRoot, 'unified')} rw - cgroup2 cgroup2 rw,nsdelegate`);
    cg.push(`0::${opts.own?.[''] ?? '/'}`);
  }
  // An unrelated mount, to be skipped.
  mi.unshift(`22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw`);
  writeFileSync(join(b.procRoot, 'self', 'mountinfo'), mi.join('\n') + '\n');
  writeFileSync(join(b.procRoot, 'self', 'cgroup'), cg.join('\n') + '\n');
  return {
    ...b,
    addCgroup(rel, o = {}) {
      for (const h of hier) {
        const files: Record<string, string> = { 'cgroup.procs': '' };
        for (const c of h.split(',')) Object.assign(files, V1_FILES[c] ?? {});
        put(join(b.fsRoot, h, rel), files, o.without);
      }
      put(join(b.fsRoot, 'systemd', rel), { 'cgroup.procs': '' });
      if (opts.hybrid) put(join(b.fsRoot, 'unified', rel), { 'cgroup.procs': '', 'cgroup.events': 'populated 0\nfrozen 0\n' });
    },
    read: (rel) => readFileSync(join(b.fsRoot, rel), 'utf8'),
    write: (rel, v) => writeFileSync(join(b.fsRoot, rel), v),
    cleanup: () => rmSync(b.dir, { recursive: true, force: true }),
  };
}

export function fakeV2(opts: { own?: string; controllers?: string } = {}): FakeHost {
  const b = base('dray-cgv2-');
  put(b.fsRoot, {
    'cgroup.controllers': opts.controllers ?? 'cpuset cpu io memory hugetlb pids rdma misc',
    'cgroup.subtree_control': '', 'cgroup.procs': '',
  });
  writeFileSync(join(b.procRoot, 'self', 'mountinfo'), `22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 25 0:26 / ${b.fsRoot} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n`);
  writeFileSync(join(b.procRoot, 'self', 'cgroup'), `0::${opts.own ?? '/'}\n`);
  return {
    ...b,
    addCgroup(rel, o = {}) {
      put(join(b.fsRoot, rel), V2_FILES, o.without);
    },
    read: (rel) => readFileSync(join(b.fsRoot, rel), 'utf8'),
    write: (rel, v) => writeFileSync(join(b.fsRoot, rel), v),
    cleanup: () => rmSync(b.dir, { recursive: true, force: true }),
  };
}
