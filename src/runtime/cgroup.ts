// The runtime's use of the cgroup library (src/runtime/cgroups/): a
// container's cgroup is opened from config.json at create, saved in its
// state, and reopened from there by later verbs; and what a `cgroup` mount
// in config.json becomes inside the container.
import { MS } from '../common/native.ts';
import { containerCgroupMounts, openCgroup, reopenCgroup, type CgroupManager, type SavedCgroup } from './cgroups/index.ts';
import type { PlanRecord } from './plan/encode.ts';
import type { ContainerRecord } from './state/store.ts';

export type { CgroupManager, SavedCgroup };

export function newCgroup(cgroupsPath: string | undefined, id: string): CgroupManager {
  return openCgroup({ path: cgroupsPath, id });
}

/** The container's cgroup from its state, or null for a container made without one. */
export function containerCgroup(rec: ContainerRecord): CgroupManager | null {
  return rec.cgroup ? reopenCgroup(rec.cgroup) : null;
}

/**
 * A config.json `cgroup` mount: a tmpfs with a bind of the container's own
 * directory per hierarchy (and links for combined ones) on v1, the one
 * directory on v2; read-only options apply to the binds, then the tmpfs.
 */
export function cgroupMountRecords(saved: SavedCgroup, dest: string, flags: number): PlanRecord[] {
  const layout = containerCgroupMounts(saved);
  const keep = flags & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME);
  if (saved.mode === 'v2') {
    const b = layout.binds[0]!;
    return [['mount', b.source, dest, '', MS.BIND | keep, 0, '', 0, 0, 0]];
  }
  const recs: PlanRecord[] = [['mount', 'tmpfs', dest, 'tmpfs', (keep & ~MS.RDONLY), 0, 'mode=755', 0, 0, 0]];
  for (const b of layout.binds) recs.push(['mount', b.source, `${dest}/${b.name}`, '', MS.BIND | keep, 0, '', 0, 0, 0]);
  for (const l of layout.symlinks) recs.push(['symlink', l.target, `${dest}/${l.name}`]);
  if (keep & MS.RDONLY) recs.push(['mount', '', dest, '', MS.REMOUNT | keep, 0, '', 0, 0, 0]);
  return recs;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Removes a container's cgroup once its processes are gone. A killed init
 * whose parent (a subreaper, or init) has not reaped it yet keeps the
 * cgroup busy: wait for that, bounded (about 5 s), before giving up.
 */
export async function removeCgroup(cg: CgroupManager): Promise<void> {
  for (let i = 0; i < 100; i++) {
    let pids: number[] = [];
    try { pids = cg.pids(); } catch { break; }
    if (!pids.length) break;
    await sleep(Math.min(50, 1 + i * 2));
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await cg.destroy();
      return;
    } catch (err) {
      if (attempt >= 10 || !/EBUSY/.test((err as Error).message)) throw err;
      await sleep(200);
    }
  }
}
