// What the local driver does on the host for volumes with options: mounting
// the tmpfs / bind / other filesystem on <volume>/_data on first use and
// unmounting it after the last user, and removing a volume's directory
// without ever deleting through a mount that is still there.
import { readFileSync, rmSync } from 'node:fs';
import { MNT, MS, native } from '../common/native.ts';
import { serverError } from '../engine/api/errors.ts';
import type { BackendMount } from './options.ts';
import { isWithin } from './paths.ts';

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** This process's mounts: each mount point and its optional fields (shared:N, master:N). */
export function readMountInfo(): { point: string; optional: string[] }[] {
  const out: { point: string; optional: string[] }[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 6) continue;
    out.push({ point: unescape(f[4] as string), optional: f.slice(6, sep) });
  }
  return out;
}

/** Mount points of this process at or under `dir`, deepest first. */
export function mountPointsUnder(dir: string): string[] {
  return readMountInfo().map((m) => m.point).filter((p) => isWithin(p, dir)).sort((a, b) => b.length - a.length);
}

export function isMountPoint(path: string): boolean {
  return mountPointsUnder(path).includes(path);
}

/** Mounts the volume's backend on `target` (its _data). */
export function mountBackend(m: BackendMount, target: string): void {
  try {
    if (m.bind) {
      native().mount(m.device, target, null, (m.flags & ~MS.RDONLY) | MS.BIND, null);
      // A bind mount takes MS_RDONLY only on a remount.
      if (m.flags & MS.RDONLY) {
        try {
          native().mount(null, target, null, MS.REMOUNT | MS.BIND | MS.RDONLY, null);
        } catch (err) {
          native().umount2(target, MNT.DETACH);
          throw err;
        }
      }
    } else {
      native().mount(m.device, target, m.type, m.flags, m.data || null);
    }
  } catch (err) {
    const flags = `0x${m.flags.toString(16)}`;
    throw serverError(`error while mounting volume '${target}': failed to mount local volume: mount ${m.device}:${target}, flags: ${flags}, data: ${m.data}: ${(err as Error).message}`);
  }
}

/** Unmounts everything stacked on `target`; a busy mount is detached. Bounded. */
export function unmountAll(target: string): void {
  for (let i = 0; i < 16 && isMountPoint(target); i++) {
    try {
      native().umount2(target, 0);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EINVAL' || code === 'ENOENT') return;
      if (code !== 'EBUSY') throw err;
      native().umount2(target, MNT.DETACH);
    }
  }
}

/**
 * Removes `dir` recursively, after unmounting whatever is mounted under it;
 * if a mount cannot be removed it refuses, so a bind-backed volume never
 * deletes the files of the directory it binds.
 */
export function removeDirSafely(dir: string): void {
  for (let round = 0; round < 8; round++) {
    const points = mountPointsUnder(dir);
    if (points.length === 0) {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      return;
    }
    for (const p of points) {
      try {
        native().umount2(p, MNT.DETACH);
      } catch { /* gone meanwhile; checked again next round */ }
    }
  }
  throw serverError(`cannot remove ${dir}: mounts under it could not be unmounted`);
}
