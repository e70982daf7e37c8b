// Copy-up: the first time an empty volume is mounted over an image path
// that exists, the image's content there is copied into the volume, with
// owners, modes, times, xattrs, symlinks, hardlinks and device nodes (as
// Docker's copyExistingContents). It happens once per volume: the record
// is marked 'copying' before and 'done' after, so a volume that was ever
// populated (or already had content) is never copied into again, and a
// copy cut short by a crash is emptied and redone. Asynchronous, so a big
// copy does not stall the daemon's other requests.
import { constants, type BigIntStats } from 'node:fs';
import { chmod, copyFile, lchown, link, lstat, lutimes, mkdir, readdir, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { native } from '../common/native.ts';
import type { VolumeStore } from './store.ts';

/** Entries copied at most (a hostile image cannot make a create run forever). */
export const MAX_COPY_ENTRIES = 5_000_000;

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/**
 * Copies `source` (a host path already resolved inside the container's
 * rootfs) into volume `name` if the volume wants it. Returns whether it copied.
 */
export async function copyUpOnce(store: VolumeStore, name: string, source: string): Promise<boolean> {
  const state = store.copyState(name);
  if (state === 'done') return false;
  let st: BigIntStats;
  try {
    st = await lstat(source, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // nothing in the image there
    throw err;
  }
  if (!st.isDirectory()) return false;
  const dest = store.mountpoint(name);
  if (state === null && (await readdir(dest)).length > 0) {
    store.setCopyState(name, 'done'); // it has content of its own: never copy over it
    return false;
  }
  if (state === 'copying') for (const e of await readdir(dest)) await rm(join(dest, e), { recursive: true, force: true });
  store.setCopyState(name, 'copying');
  await copyTree(source, dest);
  store.setCopyState(name, 'done');
  return true;
}

/**
 * Copies the tree under `src` into the existing, empty directory `dst`
 * (whose own owner, mode, xattrs and times become src's). Never follows
 * a symlink; hardlinks inside the tree stay hardlinks; sockets are skipped.
 */
export async function copyTree(src: string, dst: string): Promise<void> {
  const links = new Map<string, string>();
  const dirs: [string, string, BigIntStats][] = [];
  const stack: [string, string][] = [[src, dst]];
  let count = 0;
  while (stack.length > 0) {
    const [s, d] = stack.pop() as [string, string];
    if (++count > MAX_COPY_ENTRIES) throw new Error(`copy-up of ${src}: more than ${MAX_COPY_ENTRIES} entries`);
    const st = await lstat(s, { bigint: true });
    if (st.isDirectory()) {
      if (d !== dst) await mkdir(d, { mode: 0o700 });
      dirs.push([s, d, st]);
      for (const name of await readdir(s)) stack.push([join(s, name), join(d, name)]);
      continue;
    }
    const key = `${st.dev}:${st.ino}`;
    if (st.nlink > 1n && links.has(key)) {
      await link(links.get(key) as string, d);
      continue;
    }
    if (st.isSymbolicLink()) {
      await symlink(await readlink(s), d);
    } else if (st.isFile()) {
      await copyFile(s, d, constants.COPYFILE_EXCL);
    } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      const mode = Number(st.mode);
      const kind = mode & S_IFMT;
      if (kind !== S_IFCHR && kind !== S_IFBLK && kind !== S_IFIFO) continue;
      const rdev = Number(st.rdev);
      native().mknod(d, mode, (rdev >> 8) & 0xfff, (rdev & 0xff) | ((rdev >> 12) & 0xfff00));
    } else {
      continue; // sockets belong to a process, not to the image
    }
    await copyMetadata(s, d, st);
    if (st.nlink > 1n) links.set(key, d);
  }
  // Directories last, deepest first: their times would change as children arrive.
  for (let i = dirs.length - 1; i >= 0; i--) {
    const [s, d, st] = dirs[i] as [string, string, BigIntStats];
    await copyMetadata(s, d, st);
  }
}

/** Owner, then mode (chown clears set-id bits), then xattrs (chown clears file caps), then times. */
async function copyMetadata(s: string, d: string, st: BigIntStats): Promise<void> {
  await lchown(d, Number(st.uid), Number(st.gid));
  if (!st.isSymbolicLink()) await chmod(d, Number(st.mode) & 0o7777);
  copyXattrs(s, d);
  const atime = new Date(Number(st.atimeMs));
  const mtime = new Date(Number(st.mtimeMs));
  if (st.isSymbolicLink()) await lutimes(d, atime, mtime);
  else await utimes(d, atime, mtime);
}

function copyXattrs(s: string, d: string): void {
  const n = native();
  let names: string[];
  try {
    names = n.llistxattr(s);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTSUP') return;
    throw err;
  }
  for (const name of names) {
    const v = n.lgetxattr(s, name);
    if (v === null) continue;
    try {
      n.lsetxattr(d, name, v, 0);
    } catch (err) {
      // trusted.* and security.* other than what the target fs supports: best effort, as Docker's copy.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTSUP' && code !== 'EPERM') throw err;
    }
  }
}
