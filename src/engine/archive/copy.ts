// `docker cp` inside a container's root filesystem: stat, tar out, tar in.
// A running container can swap any path component for a symlink at any
// moment (CVE-2018-15664), so no host path is ever resolved twice: the root
// is held as an O_PATH fd and every path goes through openat2(2) with
// RESOLVE_IN_ROOT (symlinks followed as the container sees them, by the
// kernel, never out of it). Entries are then used by fd, or by
// /proc/self/fd/<parent fd>/<one name> (parent pinned, last component not
// followed); files are read and written through the fds opened.
import { closeSync, constants as C, fchmodSync, fchownSync, fstatSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, rmdirSync, unlinkSync, symlinkSync, writeSync, chmodSync, chownSync, utimesSync, createReadStream } from 'node:fs';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { badRequest, notFound } from '../api/errors.ts';
import { decompress } from '../../images/layers/compression.ts';
import { readTar } from '../../images/layers/tar-reader.ts';
import { AT_FDCWD, native, O_PATH, RESOLVE } from '../../common/native.ts';

export interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

// Go's os.FileMode bits, which the CLI decodes from X-Docker-Container-Path-Stat
const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_PIPE = 2 ** 25;
const GO_SOCKET = 2 ** 24;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_CHARDEV = 2 ** 21;
const GO_STICKY = 2 ** 20;

function goMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m += GO_SETUID;
  if (st.mode & 0o2000) m += GO_SETGID;
  if (st.mode & 0o1000) m += GO_STICKY;
  if (st.isDirectory()) m += GO_DIR;
  else if (st.isSymbolicLink()) m += GO_SYMLINK;
  else if (st.isCharacterDevice()) m += GO_DEVICE + GO_CHARDEV;
  else if (st.isBlockDevice()) m += GO_DEVICE;
  else if (st.isFIFO()) m += GO_PIPE;
  else if (st.isSocket()) m += GO_SOCKET;
  return m;
}

const IN_ROOT = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS;
/** For one name (no slash) below a pinned directory: no symlink at all, never above it. */
const ONE_NAME = RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS;

/** Host path of `name` (one component) in the directory held by fd: the parent is pinned, the name not followed by l* calls. */
const at = (dirfd: number, name: string): string => `/proc/self/fd/${dirfd}/${name}`;
/** Host path of the object held by fd (followed by the kernel to exactly that inode). */
const self = (fd: number): string => `/proc/self/fd/${fd}`;

function closeQuiet(fd: number): void { try { closeSync(fd); } catch { /* already closed */ } }

/** The container root, held open as an O_PATH directory fd. */
export function openRoot(root: string): number {
  return native().openat2(AT_FDCWD, root, O_PATH | C.O_DIRECTORY, 0, 0);
}

/** openat2 inside the root held by rootFd: the path resolved as the container sees it. */
export function openInRoot(rootFd: number, containerPath: string, flags: number): number {
  return native().openat2(rootFd, containerPath.replace(/^\/+/, '') || '.', flags, 0, IN_ROOT);
}

/** A resolved container path: fd holds the object itself (O_PATH); parent/name when it is not the root or followed. */
export interface PathHandle { fd: number; parent: number; name: string; close(): void }

/** Resolves a container path: parents inside root, the last component itself (a symlink stays a symlink) unless it ends in '/' or '/.'. */
export function openPath(rootFd: number, containerPath: string): PathHandle {
  if (!containerPath.startsWith('/')) containerPath = `/${containerPath}`;
  const clean = posix.normalize(containerPath);
  const followLast = containerPath.endsWith('/') || containerPath.endsWith('/.');
  if (clean === '/' || followLast) {
    const fd = openInRoot(rootFd, clean, O_PATH);
    return { fd, parent: -1, name: '', close: () => closeQuiet(fd) };
  }
  const parent = openInRoot(rootFd, posix.dirname(clean), O_PATH | C.O_DIRECTORY);
  const name = posix.basename(clean);
  let fd;
  try {
    fd = native().openat2(parent, name, O_PATH | C.O_NOFOLLOW, 0, ONE_NAME);
  } catch (err) {
    closeQuiet(parent);
    throw err;
  }
  return { fd, parent, name, close: () => { closeQuiet(fd); closeQuiet(parent); } };
}

/** Stats a container path; the caller closes the returned handle. */
export function statPath(root: string, containerPath: string, containerName: string): { handle: PathHandle; stat: PathStat } {
  const rootFd = openRoot(root);
  let handle;
  try {
    handle = openPath(rootFd, containerPath);
  } catch {
    throw notFound(`Could not find the file ${containerPath} in container ${containerName}`);
  } finally {
    closeQuiet(rootFd);
  }
  try {
    const st = fstatSync(handle.fd);
    return {
      handle,
      stat: {
        name: posix.basename(posix.normalize(containerPath)) || '/',
        size: st.size, mode: goMode(st), mtime: st.mtime.toISOString(),
        linkTarget: st.isSymbolicLink() && handle.parent >= 0 ? readlinkSync(at(handle.parent, handle.name)) : '',
      },
    };
  } catch (err) {
    handle.close();
    throw err;
  }
}

/** Tars the object held by handle (a file or a tree) under the name `as`, never following links, reading only through fds. */
export async function tarPath(handle: PathHandle, as: string, out: NodeJS.WritableStream): Promise<void> {
  const pack = tar.pack();
  // a walk error reaches the caller; the pack's own (e.g. the client went away) must not crash drayd
  pack.on('error', () => { /* reported through the walk or the response */ });
  pack.pipe(out);
  // fd: O_PATH of the entry itself; parent/name: where it is, for readlink
  const walk = async (fd: number, parent: number, name: string, entryName: string, depth: number): Promise<void> => {
    if (depth > 512) throw badRequest('directory tree too deep');
    const st = fstatSync(fd);
    const base = { name: entryName, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      pack.entry({ ...base, type: 'directory' });
      for (const e of readdirSync(self(fd)).sort()) {
        let child;
        try {
          child = native().openat2(fd, e, O_PATH | C.O_NOFOLLOW, 0, ONE_NAME);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
          throw err;
        }
        try { await walk(child, fd, e, `${entryName}/${e}`, depth + 1); } finally { closeQuiet(child); }
      }
    } else if (st.isSymbolicLink()) {
      pack.entry({ ...base, type: 'symlink', linkname: parent >= 0 ? readlinkSync(at(parent, name)) : '' });
    } else if (st.isFile()) {
      if (st.size === 0) { pack.entry({ ...base, type: 'file', size: 0 }, ''); return; }
      // reopened through the O_PATH fd's magic link: the very inode fstat saw, a regular file (no FIFO to block on)
      const rfd = openSync(self(fd), C.O_RDONLY);
      const entry = pack.entry({ ...base, type: 'file', size: st.size });
      await new Promise<void>((resolve, reject) => {
        const rs = createReadStream('', { fd: rfd, end: st.size - 1, start: 0 });
        rs.on('error', reject);
        entry.on('error', reject);
        entry.on('finish', resolve);
        rs.pipe(entry);
      });
    } else if (st.isFIFO()) {
      pack.entry({ ...base, type: 'fifo' });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      pack.entry({ ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: Math.floor(st.rdev / 256), devminor: st.rdev % 256 });
    }
  };
  await walk(handle.fd, handle.parent, handle.name, as, 0);
  pack.finalize();
  await new Promise<void>((resolve) => { out.once('finish', () => resolve()); pack.once('end', () => resolve()); });
}

/** rm -rf of `name` in the directory held by dirfd, descending by fds only (a swapped-in symlink is unlinked, never followed). */
function removeAt(dirfd: number, name: string): void {
  const st = lstatSync(at(dirfd, name));
  if (!st.isDirectory()) { unlinkSync(at(dirfd, name)); return; }
  const fd = native().openat2(dirfd, name, O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW, 0, ONE_NAME);
  try {
    for (const e of readdirSync(self(fd))) removeAt(fd, e);
  } finally {
    closeQuiet(fd);
  }
  rmdirSync(at(dirfd, name));
}

/** mkdir -p of a container path inside the root, one component at a time, each re-resolved in root; returns its O_PATH fd. */
function mkdirAllInRoot(rootFd: number, containerPath: string): number {
  const flags = O_PATH | C.O_DIRECTORY;
  try { return openInRoot(rootFd, containerPath, flags); } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let cur = openInRoot(rootFd, '/', flags);
  let prefix = '';
  try {
    for (const comp of containerPath.split('/').filter((c) => c && c !== '.')) {
      prefix = `${prefix}/${comp}`;
      let next;
      try { next = openInRoot(rootFd, prefix, flags); } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || comp === '..') throw err;
        try { mkdirSync(at(cur, comp), 0o755); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
        next = openInRoot(rootFd, prefix, flags);
      }
      closeQuiet(cur);
      cur = next;
    }
  } catch (err) {
    closeQuiet(cur);
    throw err;
  }
  return cur;
}

/** Extracts a tar (any supported compression) into dir (a container path) inside root. */
export async function extractInto(root: string, containerDir: string, src: Readable, noOverwriteDirNonDir: boolean): Promise<void> {
  const rootFd = openRoot(root);
  try {
    await extractAt(rootFd, containerDir, src, noOverwriteDirNonDir);
  } finally {
    closeQuiet(rootFd);
  }
}

async function extractAt(rootFd: number, containerDir: string, src: Readable, noOverwriteDirNonDir: boolean): Promise<void> {
  let destFd;
  try { destFd = openInRoot(rootFd, containerDir, O_PATH); } catch { throw notFound(`Could not find the file ${containerDir} in container`); }
  let destInContainer: string;
  try {
    if (!fstatSync(destFd).isDirectory()) throw badRequest(`extraction point is not a directory`);
    // only a name to re-resolve in root per entry (never used as a host path)
    destInContainer = `/${posix.relative(readlinkSync(self(rootFd)), readlinkSync(self(destFd)))}`;
  } finally {
    closeQuiet(destFd);
  }
  const { stream } = await decompress(src as AsyncIterable<Buffer>);
  const dirTimes: [string, number][] = [];
  for await (const { header: h, body } of readTar(stream)) {
    const name = posix.normalize(h.name.replace(/^\/+/, ''));
    if (name === '.' || name === '' || name.split('/').includes('..')) {
      for await (const _ of body) { /* skip */ }
      if (name.split('/').includes('..')) throw badRequest(`invalid tar entry name: ${h.name}`);
      continue;
    }
    // the parent is re-resolved inside root per entry (by the kernel): a symlink an earlier entry made cannot lead out
    const parentFd = mkdirAllInRoot(rootFd, posix.join(destInContainer, posix.dirname(name)));
    try {
      const base = posix.basename(name);
      const target = at(parentFd, base);
      let existing: Stats | undefined;
      try { existing = lstatSync(target); } catch { existing = undefined; }
      if (existing && noOverwriteDirNonDir && existing.isDirectory() !== (h.type === 'dir')) {
        throw badRequest(`cannot overwrite ${existing.isDirectory() ? 'directory' : 'non-directory'} "${posix.join(containerDir, name)}" with ${h.type === 'dir' ? 'directory' : 'non-directory'}`);
      }
      if (existing && !(existing.isDirectory() && h.type === 'dir')) removeAt(parentFd, base);
      switch (h.type) {
        case 'dir': {
          if (!existing?.isDirectory()) mkdirSync(target, 0o700);
          const dfd = native().openat2(parentFd, base, O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW, 0, ONE_NAME);
          try {
            chownSync(self(dfd), h.uid, h.gid);
            chmodSync(self(dfd), h.mode & 0o7777);
          } finally {
            closeQuiet(dfd);
          }
          dirTimes.push([posix.join(destInContainer, name), h.mtime]);
          break;
        }
        case 'file': {
          const fd = openSync(target, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
          try {
            for await (const chunk of body) writeSync(fd, chunk);
            fchownSync(fd, h.uid, h.gid);
            fchmodSync(fd, h.mode & 0o7777);
            futimesSync(fd, h.mtime, h.mtime);
          } finally {
            closeSync(fd);
          }
          break;
        }
        case 'symlink':
          symlinkSync(h.linkname, target);
          lchownSync(target, h.uid, h.gid);
          lutimesSync(target, h.mtime, h.mtime);
          break;
        case 'link': {
          const from = posix.join(destInContainer, posix.normalize(h.linkname.replace(/^\/+/, '')));
          let fromParent;
          try { fromParent = openInRoot(rootFd, posix.dirname(from), O_PATH | C.O_DIRECTORY); } catch { throw badRequest(`invalid hardlink target: ${h.linkname}`); }
          try {
            const fromPath = at(fromParent, posix.basename(from));
            let ok = false;
            try { ok = lstatSync(fromPath).isFile(); } catch { ok = false; }
            if (!ok) throw badRequest(`invalid hardlink target: ${h.linkname}`);
            linkSync(fromPath, target); // link(2) never follows the last component: at worst a link to a symlink inside root
          } finally {
            closeQuiet(fromParent);
          }
          break;
        }
        default:
          for await (const _ of body) { /* devices and fifos are not copied in */ }
          continue;
      }
    } finally {
      closeQuiet(parentFd);
    }
  }
  for (const [d, t] of dirTimes.reverse()) {
    let fd;
    try { fd = openInRoot(rootFd, d, O_PATH | C.O_DIRECTORY); } catch { continue; } // gone or replaced meanwhile
    try { utimesSync(self(fd), t, t); } finally { closeQuiet(fd); }
  }
}
