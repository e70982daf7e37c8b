// `docker cp` inside a container's root filesystem: stat, tar out, tar in.
// Every path is resolved inside the root (symlinks followed as the
// container would see them, never out of it: resolveInRoot); tar entries
// are written below the resolved directory only, parents re-resolved per
// entry, files opened O_NOFOLLOW; links are never followed when reading.
import { closeSync, constants as C, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeSync, chmodSync, createReadStream } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { badRequest, notFound } from '../api/errors.ts';
import { decompress } from '../../images/layers/compression.ts';
import { readTar } from '../../images/layers/tar-reader.ts';
import { resolveInRoot } from '../../volumes/paths.ts';

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

function goMode(st: import('node:fs').Stats): number {
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

/** The host path of a container path: parents resolved inside root, the last component itself (a symlink stays a symlink). */
export function hostPath(root: string, containerPath: string): string {
  if (!containerPath.startsWith('/')) containerPath = `/${containerPath}`;
  const clean = posix.normalize(containerPath);
  const followLast = containerPath.endsWith('/') || containerPath.endsWith('/.');
  if (clean === '/' || followLast) return resolveInRoot(root, clean);
  return posix.join(resolveInRoot(root, posix.dirname(clean)), posix.basename(clean));
}

export function statPath(root: string, containerPath: string, containerName: string): { host: string; stat: PathStat } {
  const host = hostPath(root, containerPath);
  let st;
  try {
    st = lstatSync(host);
  } catch {
    throw notFound(`Could not find the file ${containerPath} in container ${containerName}`);
  }
  return {
    host,
    stat: {
      name: posix.basename(posix.normalize(containerPath)) || '/',
      size: st.size, mode: goMode(st), mtime: st.mtime.toISOString(),
      linkTarget: st.isSymbolicLink() ? readlinkSync(host) : '',
    },
  };
}

/** Tars host (a file or a tree) under the name `as`, never following links. */
export async function tarPath(host: string, as: string, out: NodeJS.WritableStream): Promise<void> {
  const pack = tar.pack();
  pack.pipe(out);
  const walk = async (p: string, name: string, depth: number): Promise<void> => {
    if (depth > 512) throw badRequest('directory tree too deep');
    const st = lstatSync(p);
    const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      pack.entry({ ...base, type: 'directory' });
      for (const e of readdirSync(p).sort()) await walk(posix.join(p, e), `${name}/${e}`, depth + 1);
    } else if (st.isSymbolicLink()) {
      pack.entry({ ...base, type: 'symlink', linkname: readlinkSync(p) });
    } else if (st.isFile()) {
      if (st.size === 0) { pack.entry({ ...base, type: 'file', size: 0 }, ''); return; }
      const fd = openSync(p, C.O_RDONLY | C.O_NOFOLLOW);
      const entry = pack.entry({ ...base, type: 'file', size: st.size });
      await new Promise<void>((resolve, reject) => {
        const rs = createReadStream('', { fd, end: st.size - 1, start: 0 });
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
  await walk(host, as, 0);
  pack.finalize();
  await new Promise<void>((resolve) => { out.once('finish', () => resolve()); pack.once('end', () => resolve()); });
}

/** Extracts a tar (any supported compression) into dir (a container path) inside root. */
export async function extractInto(root: string, containerDir: string, src: Readable, noOverwriteDirNonDir: boolean): Promise<void> {
  const dest = resolveInRoot(root, containerDir);
  let st;
  try { st = lstatSync(dest); } catch { throw notFound(`Could not find the file ${containerDir} in container`); }
  if (!st.isDirectory()) throw badRequest(`extraction point is not a directory`);
  const { stream } = await decompress(src as AsyncIterable<Buffer>);
  const destInContainer = `/${posix.relative(root, dest)}`;
  const dirTimes: [string, number][] = [];
  for await (const { header: h, body } of readTar(stream)) {
    const name = posix.normalize(h.name.replace(/^\/+/, ''));
    if (name === '.' || name === '' || name.split('/').includes('..')) {
      for await (const _ of body) { /* skip */ }
      if (name.split('/').includes('..')) throw badRequest(`invalid tar entry name: ${h.name}`);
      continue;
    }
    // the parent is re-resolved inside root per entry: a symlink an earlier entry made cannot lead out
    const parent = resolveInRoot(root, posix.join(destInContainer, posix.dirname(name)));
    mkdirSync(parent, { recursive: true });
    const target = posix.join(parent, posix.basename(name));
    let existing;
    try { existing = lstatSync(target); } catch { existing = undefined; }
    if (existing && noOverwriteDirNonDir && existing.isDirectory() !== (h.type === 'dir')) {
      throw badRequest(`cannot overwrite ${existing.isDirectory() ? 'directory' : 'non-directory'} "${posix.join(containerDir, name)}" with ${h.type === 'dir' ? 'directory' : 'non-directory'}`);
    }
    if (existing && !(existing.isDirectory() && h.type === 'dir')) rmSync(target, { recursive: true, force: true });
    switch (h.type) {
      case 'dir':
        if (!existing?.isDirectory()) mkdirSync(target);
        chmodSync(target, h.mode & 0o7777);
        dirTimes.push([target, h.mtime]);
        break;
      case 'file': {
        const fd = openSync(target, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body) writeSync(fd, chunk);
        } finally {
          closeSync(fd);
        }
        break;
      }
      case 'symlink':
        symlinkSync(h.linkname, target);
        break;
      case 'link': {
        const from = resolveInRoot(root, posix.join(destInContainer, posix.normalize(h.linkname.replace(/^\/+/, ''))));
        if (!lstatSync(from).isFile()) throw badRequest(`invalid hardlink target: ${h.linkname}`);
        linkSync(from, target);
        break;
      }
      default:
        for await (const _ of body) { /* devices and fifos are not copied in */ }
        continue;
    }
    if (h.type !== 'link') {
      lchownSync(target, h.uid, h.gid);
      if (h.type === 'file') chmodSync(target, h.mode & 0o7777);
      if (h.type !== 'dir') lutimesSync(target, h.mtime, h.mtime);
    }
  }
  for (const [d, t] of dirTimes.reverse()) lutimesSync(d, t, t);
}
