// The cgroup library's entry point: dray-runc, dray-containerd and drayd
// import only from here.
import { CgroupError } from './errors.ts';
import { onCgroupFs } from './fsio.ts';
import type { CgroupManager, SavedCgroup } from './manager.ts';
import { cgroupMounts, detectCgroupMode, ownCgroups, type CgroupMode } from './mode.ts';
import { posix } from 'node:path';
import { cgroupDir, parseCgroupsPath } from './paths.ts';
import { V1Cgroup } from './v1.ts';
import { V2Cgroup } from './v2.ts';

export { CgroupError } from './errors.ts';
export { detectCgroupMode, type CgroupMode } from './mode.ts';
export { parseCgroupsPath } from './paths.ts';
export { validateResources } from './resources.ts';
export type * from './resources.ts';
export type { CgroupManager, CgroupPlan, FreezerState, OomWatchOptions, SavedCgroup } from './manager.ts';
export type { CgroupStats, MemoryEntry, BlkioEntry, HugetlbStats } from './stats.ts';
export { UNLIMITED } from './stats.ts';
export { toDockerStats, type DockerCgroupStats } from './docker-stats.ts';
export { containerCgroupMounts, type CgroupMountLayout } from './mounts.ts';
export { sharesToWeight, blkioWeightToIoWeight, swapToV2 } from './convert.ts';

export interface OpenCgroupOptions {
  /** linux.cgroupsPath from config.json; see paths.ts for the rules. */
  path: string | undefined;
  /** the container id: the cgroup's name when path is absent. */
  id: string;
  /** default /sys/fs/cgroup */
  fsRoot?: string;
  /** default /proc (its self/mountinfo and self/cgroup are read) */
  procRoot?: string;
  /** skips detection (tests, or a caller that already knows) */
  mode?: CgroupMode;
}

/** Resolves where the container's cgroup lives; touches nothing (call create()). */
export function openCgroup(opts: OpenCgroupOptions): CgroupManager {
  const fsRoot = opts.fsRoot ?? '/sys/fs/cgroup';
  const procRoot = opts.procRoot ?? '/proc';
  const mode = opts.mode ?? detectCgroupMode(fsRoot);
  const p = parseCgroupsPath(opts.path, opts.id);
  const mounts = cgroupMounts(fsRoot, procRoot);
  const own = ownCgroups(procRoot);
  const fake = !onCgroupFs(fsRoot) && !mounts.some((m) => onCgroupFs(m.mountpoint));
  if (mode === 'v2') {
    const h = mounts.find((m) => m.version === 2 && m.mountpoint === fsRoot) ?? { controllers: [], mountpoint: fsRoot, root: '/', version: 2 as const };
    return new V2Cgroup(fsRoot, cgroupDir(h, p, own.get('')), fake);
  }
  const paths: Record<string, string> = {};
  const mountpoints: Record<string, string> = {};
  for (const h of mounts) {
    if (h.version === 2) {
      // Hybrid: join the (controller-less) unified hierarchy too, as runc does,
      // so tools that look there (and cgroup.events) see the container.
      if (mode === 'hybrid') {
        paths[''] = cgroupDir(h, p, own.get(''));
        mountpoints[''] = h.mountpoint;
      }
      continue;
    }
    for (const c of h.controllers) {
      // Of the named hierarchies only systemd's is joined (as runc does): on a
      // v1 systemd host it is how systemd tracks processes, so a container
      // left in the daemon's unit would die with it.
      if (c.startsWith('name=') && c !== 'name=systemd') continue;
      paths[c] = cgroupDir(h, p, own.get(c));
      mountpoints[c] = h.mountpoint;
    }
  }
  if (!Object.keys(paths).length) throw new CgroupError(`no cgroup v1 hierarchy is mounted under ${fsRoot}`);
  return new V1Cgroup(mode, paths, mountpoints, fake);
}

/** Opens the cgroup recorded by saved() (a state file is external input: checked). */
export function reopenCgroup(input: unknown): CgroupManager {
  const bad = (why: string): never => {
    throw new CgroupError(`saved cgroup state is invalid: ${why}`);
  };
  if (typeof input !== 'object' || input === null) return bad('not an object');
  const s = input as Partial<SavedCgroup>;
  if (s.mode !== 'v1' && s.mode !== 'v2' && s.mode !== 'hybrid') return bad(`mode ${JSON.stringify(s.mode)}`);
  if (typeof s.paths !== 'object' || s.paths === null || typeof s.mountpoints !== 'object' || s.mountpoints === null) return bad('paths');
  const paths: Record<string, string> = {};
  const mountpoints: Record<string, string> = {};
  for (const [c, dir] of Object.entries(s.paths)) {
    const mp = s.mountpoints[c];
    if (typeof dir !== 'string' || typeof mp !== 'string' || !posix.isAbsolute(mp) || posix.normalize(dir) !== dir || !dir.startsWith(mp + '/')) {
      return bad(`${c || 'unified'}: ${JSON.stringify(dir)} is not a directory under ${JSON.stringify(mp)}`);
    }
    paths[c] = dir;
    mountpoints[c] = mp;
  }
  const first = Object.values(mountpoints)[0];
  if (first === undefined) return bad('no paths');
  const fake = !onCgroupFs(first);
  if (s.mode === 'v2') {
    if (!paths[''] || Object.keys(paths).length !== 1) return bad('v2 has exactly one path');
    return new V2Cgroup(first, paths[''], fake);
  }
  return new V1Cgroup(s.mode, paths, mountpoints, fake);
}
