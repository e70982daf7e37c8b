// Cgroup statistics in one neutral shape: the JSON of runc's `events --stats`
// (libcontainer's types.Stats, same field names), read from either v1 or v2
// files. docker-stats.ts maps it onto the Docker Engine API's stats object.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readKeyed, readNumber, readOpt } from './fsio.ts';

/** What an unlimited limit reads as (runc reports math.MaxUint64). */
export const UNLIMITED = 2 ** 64 - 1;

export interface MemoryEntry {
  limit: number;
  usage: number;
  max: number;
  failcnt: number;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface HugetlbStats {
  usage: number;
  max: number;
  failcnt: number;
}

export interface CgroupStats {
  cpu: {
    usage: { total: number; percpu?: number[]; percpu_kernel?: number[]; percpu_user?: number[]; kernel: number; user: number };
    throttling: { periods: number; throttled_periods: number; throttled_time: number };
  };
  memory: {
    cache: number;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    /** memory.stat as the kernel names its keys (v1 or v2 names). */
    raw: Record<string, number>;
  };
  pids: { current: number; /** 0: no limit (as runc) */ limit: number };
  blkio: { ioServiceBytesRecursive: BlkioEntry[]; ioServicedRecursive: BlkioEntry[] };
  /** keyed by page size, "2MB" */
  hugetlb: Record<string, HugetlbStats>;
  /** OOM kills seen by this cgroup (memory.oom_control or memory.events). */
  oom_kill: number;
}

const num = (file: string): number => {
  const v = readNumber(file);
  return v === null ? UNLIMITED : (v ?? 0);
};

const emptyEntry = (): MemoryEntry => ({ limit: 0, usage: 0, max: 0, failcnt: 0 });

function numberList(file: string): number[] | undefined {
  const s = readOpt(file);
  if (!s) return undefined;
  return s.split(/\s+/).map(Number);
}

/** Hugetlb sizes present in a directory: files hugetlb.<size>.<suffix>. */
function hugetlbSizes(dir: string | undefined, suffix: string): string[] {
  if (!dir) return [];
  try {
    // The sizes are whatever the kernel offers on this machine.
    return readdirSync(dir).flatMap((f) => {
      const m = new RegExp(`^hugetlb\\.([0-9]+[KMG]B)\\.${suffix.replace('.', '\\.')}$`).exec(f);
      return m && m[1] ? [m[1]] : [];
    });
  } catch {
    return [];
  }
}

function v1Blkio(dir: string, name: string): BlkioEntry[] {
  // CFQ's files, then BFQ's, then the throttling layer's (always there): the first with data.
  for (const prefix of ['blkio.', 'blkio.bfq.', 'blkio.throttle.']) {
    const s = readOpt(join(dir, prefix + name));
    if (!s) continue;
    const out: BlkioEntry[] = [];
    for (const line of s.split('\n')) {
      const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim());
      if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3] ?? '', value: Number(m[4]) });
    }
    if (out.length) return out;
  }
  return [];
}

export function statsV1(paths: Readonly<Record<string, string>>, oomKill: number): CgroupStats {
  const cpu = paths['cpu'];
  const acct = paths['cpuacct'];
  const mem = paths['memory'];
  const s: CgroupStats = {
    cpu: { usage: { total: 0, kernel: 0, user: 0 }, throttling: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory: { cache: 0, usage: emptyEntry(), swap: emptyEntry(), kernel: emptyEntry(), kernelTCP: emptyEntry(), raw: {} },
    pids: { current: 0, limit: 0 },
    blkio: { ioServiceBytesRecursive: [], ioServicedRecursive: [] },
    hugetlb: {},
    oom_kill: oomKill,
  };
  if (acct) {
    const u = s.cpu.usage;
    u.total = num(join(acct, 'cpuacct.usage'));
    const percpu = numberList(join(acct, 'cpuacct.usage_percpu'));
    if (percpu) u.percpu = percpu;
    const pk = numberList(join(acct, 'cpuacct.usage_percpu_sys'));
    if (pk) u.percpu_kernel = pk;
    const pu = numberList(join(acct, 'cpuacct.usage_percpu_user'));
    if (pu) u.percpu_user = pu;
    if (readOpt(join(acct, 'cpuacct.usage_user')) !== undefined) {
      u.user = num(join(acct, 'cpuacct.usage_user'));
      u.kernel = num(join(acct, 'cpuacct.usage_sys'));
    } else {
      // cpuacct.stat counts USER_HZ (100/s) ticks.
      const st = readKeyed(join(acct, 'cpuacct.stat'));
      u.user = (st['user'] ?? 0) * 1e7;
      u.kernel = (st['system'] ?? 0) * 1e7;
    }
  }
  if (cpu) {
    const st = readKeyed(join(cpu, 'cpu.stat'));
    s.cpu.throttling = { periods: st['nr_periods'] ?? 0, throttled_periods: st['nr_throttled'] ?? 0, throttled_time: st['throttled_time'] ?? 0 };
  }
  if (mem) {
    const entry = (prefix: string): MemoryEntry => ({
      usage: num(join(mem, `${prefix}.usage_in_bytes`)),
      max: num(join(mem, `${prefix}.max_usage_in_bytes`)),
      limit: num(join(mem, `${prefix}.limit_in_bytes`)),
      failcnt: num(join(mem, `${prefix}.failcnt`)),
    });
    s.memory.usage = entry('memory');
    s.memory.swap = entry('memory.memsw');
    s.memory.kernel = entry('memory.kmem');
    s.memory.kernelTCP = entry('memory.kmem.tcp');
    s.memory.raw = readKeyed(join(mem, 'memory.stat'));
    s.memory.cache = s.memory.raw['cache'] ?? 0;
  }
  if (paths['pids']) {
    s.pids.current = num(join(paths['pids'], 'pids.current'));
    const lim = readNumber(join(paths['pids'], 'pids.max'));
    s.pids.limit = lim ?? 0;
  }
  if (paths['blkio']) {
    s.blkio.ioServiceBytesRecursive = v1Blkio(paths['blkio'], 'io_service_bytes_recursive');
    s.blkio.ioServicedRecursive = v1Blkio(paths['blkio'], 'io_serviced_recursive');
  }
  const h = paths['hugetlb'];
  for (const size of hugetlbSizes(h, 'usage_in_bytes')) {
    if (!h) break;
    s.hugetlb[size] = {
      usage: num(join(h, `hugetlb.${size}.usage_in_bytes`)),
      max: num(join(h, `hugetlb.${size}.max_usage_in_bytes`)),
      failcnt: num(join(h, `hugetlb.${size}.failcnt`)),
    };
  }
  return s;
}

export function statsV2(dir: string, oomKill: number): CgroupStats {
  const cpuStat = readKeyed(join(dir, 'cpu.stat'));
  const raw = readKeyed(join(dir, 'memory.stat'));
  const events = readKeyed(join(dir, 'memory.events'));
  const usage = num(join(dir, 'memory.current'));
  const limit = num(join(dir, 'memory.max'));
  const swapUsage = num(join(dir, 'memory.swap.current'));
  const swapLimit = num(join(dir, 'memory.swap.max'));
  const s: CgroupStats = {
    cpu: {
      usage: { total: (cpuStat['usage_usec'] ?? 0) * 1000, kernel: (cpuStat['system_usec'] ?? 0) * 1000, user: (cpuStat['user_usec'] ?? 0) * 1000 },
      throttling: { periods: cpuStat['nr_periods'] ?? 0, throttled_periods: cpuStat['nr_throttled'] ?? 0, throttled_time: (cpuStat['throttled_usec'] ?? 0) * 1000 },
    },
    memory: {
      cache: raw['file'] ?? 0,
      usage: { usage, limit, max: num(join(dir, 'memory.peak')), failcnt: events['max'] ?? 0 },
      // As runc: v2 swap figures are reported as memory+swap, the v1 memsw meaning.
      swap: {
        usage: usage + swapUsage,
        limit: limit === UNLIMITED || swapLimit === UNLIMITED ? UNLIMITED : limit + swapLimit,
        max: 0,
        failcnt: 0,
      },
      kernel: emptyEntry(),
      kernelTCP: emptyEntry(),
      raw,
    },
    pids: { current: num(join(dir, 'pids.current')), limit: readNumber(join(dir, 'pids.max')) ?? 0 },
    blkio: { ioServiceBytesRecursive: [], ioServicedRecursive: [] },
    hugetlb: {},
    oom_kill: oomKill,
  };
  for (const line of (readOpt(join(dir, 'io.stat')) ?? '').split('\n')) {
    const m = /^(\d+):(\d+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const dev = { major: Number(m[1]), minor: Number(m[2]) };
    const kv = Object.fromEntries((m[3] ?? '').split(/\s+/).map((p) => p.split('=') as [string, string]));
    const add = (list: BlkioEntry[], key: string, op: string): void => {
      if (kv[key] !== undefined) list.push({ ...dev, op, value: Number(kv[key]) });
    };
    add(s.blkio.ioServiceBytesRecursive, 'rbytes', 'Read');
    add(s.blkio.ioServiceBytesRecursive, 'wbytes', 'Write');
    add(s.blkio.ioServicedRecursive, 'rios', 'Read');
    add(s.blkio.ioServicedRecursive, 'wios', 'Write');
  }
  for (const size of hugetlbSizes(dir, 'current')) {
    s.hugetlb[size] = {
      usage: num(join(dir, `hugetlb.${size}.current`)),
      max: num(join(dir, `hugetlb.${size}.max`)),
      failcnt: readKeyed(join(dir, `hugetlb.${size}.events`))['max'] ?? 0,
    };
  }
  return s;
}
