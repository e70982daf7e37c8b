// Which cgroup layout the host has, where each v1 hierarchy is mounted, and
// which cgroup the calling process is in. Read from files only (cgroupfs,
// /proc/self/mountinfo, /proc/self/cgroup), so a fake tree in a temp dir with
// a fake proc root exercises the same code as the real host.
import { join, posix } from 'node:path';
import { CgroupError } from './errors.ts';
import { exists, isDir, readOpt } from './fsio.ts';

/** 'hybrid': v1 controllers plus an (empty) v2 hierarchy, usually at <root>/unified; controllers behave as v1. */
export type CgroupMode = 'v1' | 'v2' | 'hybrid';

export function detectCgroupMode(fsRoot = '/sys/fs/cgroup'): CgroupMode {
  if (exists(join(fsRoot, 'cgroup.controllers'))) return 'v2';
  if (!isDir(fsRoot)) throw new CgroupError(`no cgroup filesystem at ${fsRoot}`);
  if (exists(join(fsRoot, 'unified', 'cgroup.controllers'))) return 'hybrid';
  return 'v1';
}

/** The v1 controllers this library knows (and creates a directory in, as runc joins every mounted one). */
export const V1_CONTROLLERS = [
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids',
  'hugetlb', 'net_cls', 'net_prio', 'perf_event', 'rdma', 'misc',
] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

export interface Hierarchy {
  /** v1 controllers bound to this mount (cpu and cpuacct may share one). */
  controllers: string[];
  mountpoint: string;
  /** the mount's root inside the hierarchy ("/" unless bind-mounted from a subtree, as in a container). */
  root: string;
  version: 1 | 2;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The cgroup mounts at or under fsRoot, from <procRoot>/self/mountinfo. */
export function cgroupMounts(fsRoot: string, procRoot: string): Hierarchy[] {
  const text = readOpt(join(procRoot, 'self', 'mountinfo'));
  if (text === undefined) throw new CgroupError(`cannot read ${join(procRoot, 'self', 'mountinfo')}`);
  const root = posix.normalize(fsRoot);
  const out: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 6 || f.length < sep + 4) continue;
    const fstype = f[sep + 1];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountpoint = unescapeMount(f[4] ?? '');
    if (mountpoint !== root && !mountpoint.startsWith(root + '/')) continue;
    if (seen.has(mountpoint)) continue;
    seen.add(mountpoint);
    const opts = (f[sep + 3] ?? '').split(',');
    const controllers = fstype === 'cgroup2' ? [] : opts.filter((o) => (V1_CONTROLLERS as readonly string[]).includes(o) || o.startsWith('name='));
    out.push({ controllers, mountpoint, root: unescapeMount(f[3] ?? '/'), version: fstype === 'cgroup2' ? 2 : 1 });
  }
  return out;
}

/** The calling process's cgroup per v1 controller ("" for the v2 hierarchy), from <procRoot>/self/cgroup. */
export function ownCgroups(procRoot: string): Map<string, string> {
  const text = readOpt(join(procRoot, 'self', 'cgroup'));
  if (text === undefined) throw new CgroupError(`cannot read ${join(procRoot, 'self', 'cgroup')}`);
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const path = m[2] ?? '/';
    if (m[1] === '') out.set('', path);
    else for (const c of (m[1] ?? '').split(',')) out.set(c, path);
  }
  return out;
}
