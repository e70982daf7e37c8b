// What a container's `cgroup` mount shows, as runc builds it on v1: a tmpfs
// at the destination with one bind mount per hierarchy of the container's own
// directory, named as on the host ("cpu,cpuacct"), plus symlinks for the
// controllers of a combined mount ("cpu" -> "cpu,cpuacct"). On v2, the one
// directory. The runtime turns this into mount plan records.
import { basename } from 'node:path';
import type { SavedCgroup } from './manager.ts';

export interface CgroupMountLayout {
  /** name: under the destination ("" on v2: the destination itself); source: the host directory. */
  binds: { name: string; source: string }[];
  symlinks: { name: string; target: string }[];
}

export function containerCgroupMounts(saved: SavedCgroup): CgroupMountLayout {
  if (saved.mode === 'v2') return { binds: [{ name: '', source: saved.paths[''] as string }], symlinks: [] };
  const binds = new Map<string, string>();
  for (const [c, dir] of Object.entries(saved.paths)) {
    const mp = saved.mountpoints[c];
    if (mp) binds.set(basename(mp), dir);
  }
  const symlinks: { name: string; target: string }[] = [];
  for (const name of binds.keys()) {
    if (!name.includes(',')) continue;
    for (const part of name.split(',')) if (!binds.has(part)) symlinks.push({ name: part, target: name });
  }
  return { binds: [...binds].map(([name, source]) => ({ name, source })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), symlinks };
}
