// Mounting the mounts a snapshotter returns, with the N-API addon.
//
// Overlay's mount data is limited to one page (4096 bytes including the NUL),
// which a long lowerdir chain of absolute paths overflows after a few dozen
// layers. Like containerd, we make the paths short: when the data would not
// fit, the process changes its working directory to the directory the layer
// paths have in common and passes them relative to it (the kernel resolves
// overlay's paths against the caller's cwd at mount time). The chdir, the
// mount and the chdir back are one synchronous stretch, so no other JS runs
// with the changed cwd. Snapshot directories are numbered (snapshots/<id>/fs),
// so each relative lower costs a few bytes: hundreds of layers fit.
import { mkdtempSync, rmdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { tmpdir } from 'node:os';
import { MS, native } from '../../common/native.ts';
import type { Mount } from './types.ts';

const PAGE_SIZE = 4096;

const FLAG_OPTIONS: Record<string, [set: number, clear: number]> = {
  ro: [MS.RDONLY, 0], rw: [0, MS.RDONLY], nosuid: [MS.NOSUID, 0], suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0], dev: [0, MS.NODEV], noexec: [MS.NOEXEC, 0], exec: [0, MS.NOEXEC],
  noatime: [MS.NOATIME, 0], relatime: [MS.RELATIME, 0], bind: [MS.BIND, 0], rbind: [MS.BIND | MS.REC, 0],
};

/** Splits options into mount(2) flags and the filesystem's data string. */
export function parseOptions(options: string[]): { flags: number; data: string[] } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAG_OPTIONS[o];
    if (f) flags = (flags | f[0]) & ~f[1];
    else data.push(o);
  }
  return { flags, data };
}

function commonDir(paths: string[]): string {
  let common = dirname(paths[0] as string);
  for (let guard = 0; guard < 4096; guard++) {
    if (paths.every((p) => p === common || p.startsWith(common === sep ? sep : common + sep))) return common;
    common = dirname(common);
  }
  return sep;
}

/**
 * Rewrites overlay data so its directories are relative to one cwd. Returns
 * the cwd and the new data, or null when the data has no directories.
 */
export function compactOverlayData(data: string[]): { cwd: string; data: string[] } | null {
  const dirs: string[] = [];
  for (const o of data) {
    const [k, v] = splitOption(o);
    if (k === 'lowerdir') dirs.push(...(v as string).split(':'));
    else if (k === 'upperdir' || k === 'workdir') dirs.push(v as string);
  }
  if (dirs.length === 0 || !dirs.every(isAbsolute)) return null;
  const cwd = commonDir(dirs);
  const rel = (p: string) => relative(cwd, p) || '.';
  const out = data.map((o) => {
    const [k, v] = splitOption(o);
    if (k === 'lowerdir') return `lowerdir=${(v as string).split(':').map(rel).join(':')}`;
    if (k === 'upperdir' || k === 'workdir') return `${k}=${rel(v as string)}`;
    return o;
  });
  return { cwd, data: out };
}

function splitOption(o: string): [string, string | undefined] {
  const i = o.indexOf('=');
  return i < 0 ? [o, undefined] : [o.slice(0, i), o.slice(i + 1)];
}

function mountOverlay(m: Mount, target: string, flags: number, data: string[]): void {
  let text = data.join(',');
  if (text.length < PAGE_SIZE) {
    native().mount(m.source || 'overlay', target, 'overlay', flags, text);
    return;
  }
  const compact = compactOverlayData(data);
  if (!compact || compact.data.join(',').length >= PAGE_SIZE) {
    throw new Error(`overlay mount options for ${target} are longer than a page even with relative paths (${text.length} bytes)`);
  }
  text = compact.data.join(',');
  const old = process.cwd();
  process.chdir(compact.cwd);
  try {
    native().mount(m.source || 'overlay', target, 'overlay', flags, text);
  } finally {
    process.chdir(old);
  }
}

/** Mounts each mount on target, in order. On failure, what was mounted is unmounted. */
export function mountAll(mounts: Mount[], target: string): void {
  if (!isAbsolute(target)) throw new Error(`mount target must be absolute: ${target}`);
  let done = 0;
  try {
    for (const m of mounts) {
      const { flags, data } = parseOptions(m.options);
      if (m.type === 'bind' || (flags & MS.BIND) !== 0) {
        native().mount(m.source, target, null, (flags & ~MS.RDONLY) | MS.BIND, null);
        done++;
        // A bind mount ignores MS_RDONLY until a remount.
        if (flags & MS.RDONLY) native().mount(null, target, null, MS.REMOUNT | MS.BIND | MS.RDONLY, null);
      } else if (m.type === 'overlay') {
        mountOverlay(m, target, flags, data);
        done++;
      } else {
        native().mount(m.source, target, m.type, flags, data.length ? data.join(',') : null);
        done++;
      }
    }
  } catch (err) {
    for (let i = 0; i < done; i++) unmount(target);
    throw err;
  }
}

/** Unmounts everything stacked on target (bounded). Not mounted is not an error. */
export function unmount(target: string): void {
  for (let i = 0; i < 32; i++) {
    try {
      native().umount2(target, 0);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EINVAL' || code === 'ENOENT') return;
      throw err;
    }
  }
}

/** Mounts on a fresh temporary directory, runs fn, and always unmounts and removes it. */
export async function withMount<T>(mounts: Mount[], fn: (root: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'dray-mount-'));
  try {
    mountAll(mounts, dir);
    try {
      return await fn(dir);
    } finally {
      unmount(dir);
    }
  } finally {
    rmdirSync(dir);
  }
}
