// Path rules shared by the store and the mount planner: Docker's cleaning of
// container paths, containment checks on the host, and resolution of a path
// inside a root (a rootfs, a volume) that follows symlinks as if the root
// were '/', so no link can lead out of it.
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { posix } from 'node:path';

/** Go's path.Clean for absolute or relative slash paths ('' -> '.'). */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Whether `child` is `parent` or lies under it (both absolute and clean). */
export function isWithin(child: string, parent: string): boolean {
  if (parent === '/') return child.startsWith('/');
  return child === parent || child.startsWith(`${parent}/`);
}

/** Go's filepath.IsLocal: relative, non-empty, and never climbs above its start. */
export function isLocalPath(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.includes('\0')) return false;
  const c = cleanPath(p);
  return c !== '..' && !c.startsWith('../');
}

/** Whether the raw path has a '..' component (before any cleaning). */
export function hasDotDot(p: string): boolean {
  return p.split('/').includes('..');
}

/** realpath that answers undefined for a missing path instead of throwing. */
export function realpathOrUndefined(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Symlinks followed per resolution before giving up (Linux's own limit). */
const MAX_LINKS = 40;

/**
 * The host path of `unsafe` (a path inside the root, absolute or not)
 * resolved inside `root`: each symlink met is read and its target resolved
 * again relative to the root, and '..' never climbs above the root. The
 * result is always `root` or below it; missing components are kept as they
 * are (they can be created later). This is the securejoin rule runc uses
 * for mount destinations.
 */
export function resolveInRoot(root: string, unsafe: string): string {
  const parts = unsafe.split('/').filter((s) => s !== '' && s !== '.');
  const done: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = posix.join(root, ...done, part);
    let isLink = false;
    try {
      isLink = lstatSync(host).isSymbolicLink();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    }
    if (!isLink) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) {
      throw Object.assign(new Error(`too many levels of symbolic links resolving ${unsafe} in ${root}`), { code: 'ELOOP' });
    }
    const target = readlinkSync(host);
    if (target.startsWith('/')) done.length = 0;
    parts.unshift(...target.split('/').filter((s) => s !== '' && s !== '.'));
  }
  return posix.join(root, ...done);
}
