// Layer application: a layer tar (gzip, zstd or plain) streamed into a
// snapshot's directory. Onto an overlay upper dir, OCI whiteouts become
// overlay whiteouts (a 0:0 character device; trusted.overlay.opaque=y for
// `.wh..wh..opq`); onto a plain tree (naive snapshotter) they really delete.
// Owners, modes (setuid, sticky), mtimes, xattrs, hardlinks, device nodes,
// fifos and symlinks are kept. The diff_id (sha256 of the uncompressed
// stream) is computed on the way and checked against the expected one.
//
// Security: every entry name is cut into components (no "..", leading "/"
// dropped), its parents are resolved with lstat over the layer stack and must
// be real directories (a symlinked parent is refused, never followed), files
// are created with O_EXCL|O_NOFOLLOW after whatever was there is removed
// (rm never follows symlinks), hardlink targets must resolve inside the root
// the same way, and overlay's own xattrs are never taken from a layer. The
// snapshot directory is private to the snapshotter, so nothing races these checks.
import { createHash } from 'node:crypto';
import {
  chmodSync, closeSync, constants, copyFileSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync,
  openSync, readdirSync, rmSync, symlinkSync, writeSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { native } from '../../common/native.ts';
import type { ApplyTarget } from '../snapshots/types.ts';
import { decompress } from './compression.ts';
import type { Compression } from './compression.ts';
import {
  AUFS_META_PREFIX, OPAQUE_WHITEOUT, OVERLAY_XATTR_PREFIX, WHITEOUT_PREFIX, isWhiteout, makeWhiteout, setOpaque,
} from './overlay-fs.ts';
import { LayerSecurityError, checkSymlinkTarget, entryComponents } from './paths.ts';
import { readTar } from './tar-reader.ts';
import type { TarHeader } from './tar-reader.ts';
import { LayerView } from './view.ts';
import { lstatOrNull } from './fs-util.ts';

export interface ApplyResult {
  /** sha256:<hex> of the uncompressed tar */
  diffId: string;
  /** bytes of the uncompressed tar */
  size: number;
  compression: Compression;
  entries: number;
}

export interface ApplyOptions {
  /** When given, a different diff_id fails the application. */
  expectedDiffId?: string;
  /** Upper bound on entries, against tar bombs made of empty entries. */
  maxEntries?: number;
}

export class DiffIdMismatchError extends Error {
  constructor(want: string, got: string) {
    super(`layer diff_id mismatch: expected ${want}, got ${got}`);
    this.name = 'DiffIdMismatchError';
  }
}

const MODE_TYPE = { char: 0o020000, block: 0o060000, fifo: 0o010000 } as const;
const XATTR_PREFIX = 'SCHILY.xattr.';


/** Applies one layer. On failure the target is left part-written: the caller removes the snapshot. */
export async function applyLayer(src: Readable | AsyncIterable<Buffer>, target: ApplyTarget, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const { compression, stream } = await decompress(src as AsyncIterable<Buffer>);
  const hash = createHash('sha256');
  let size = 0;
  const tapped = (async function* () {
    for await (const c of stream as AsyncIterable<Buffer>) {
      hash.update(c);
      size += c.length;
      yield c;
    }
  })();
  const w = new LayerWriter(target);
  let entries = 0;
  const max = opts.maxEntries ?? 10_000_000;
  try {
    for await (const e of readTar(tapped)) {
      if (++entries > max) throw new Error(`layer has more than ${max} entries`);
      await w.entry(e.header, e.body);
    }
    // Whatever follows the end-of-archive blocks is part of the diff_id too.
    for await (const _ of tapped) { /* drain */ }
  } catch (err) {
    // Stop reading the source (a file, a download) right away.
    stream.destroy();
    (src as Readable).destroy?.();
    throw err;
  }
  w.finish();
  const diffId = `sha256:${hash.digest('hex')}`;
  if (opts.expectedDiffId && opts.expectedDiffId !== diffId) throw new DiffIdMismatchError(opts.expectedDiffId, diffId);
  return { diffId, size, compression, entries };
}

class LayerWriter {
  private readonly top: string;
  private readonly overlay: boolean;
  private readonly view: LayerView;
  /** paths written by this layer (a whiteout never removes them) */
  private readonly written = new Set<string>();
  /** paths verified to be real directories in the top layer */
  private readonly dirs = new Set<string>(['']);
  /**
   * Directories this application created: below one, a path neither written
   * nor whited out by this layer cannot exist yet, so it needs no lstat.
   */
  private readonly fresh = new Set<string>();
  /** whiteouts this layer made in the top directory */
  private readonly whitedOut = new Set<string>();
  /** directory times, set last (writing children changes them) */
  private readonly dirTimes: [string, number][] = [];

  constructor(target: ApplyTarget) {
    this.top = target.dir;
    this.overlay = target.mode === 'overlay';
    this.view = new LayerView(target.dir, target.mode === 'overlay' ? target.lowers : [], this.overlay);
  }

  private abs(comps: string[]): string {
    return comps.length ? join(this.top, ...comps) : this.top;
  }

  /** Removes a path from the top layer, never following symlinks. */
  private removeTop(rel: string): void {
    rmSync(join(this.top, rel), { recursive: true, force: true });
    for (const set of [this.dirs, this.fresh]) for (const d of set) if (d === rel || d.startsWith(rel + '/')) set.delete(d);
  }

  /**
   * Makes every parent of comps a real directory in the top layer: one from a
   * lower layer is copied up (metadata only), a missing one is made 0755.
   */
  private ensureDir(comps: string[], entry: string): void {
    for (let i = 1; i <= comps.length; i++) {
      const rel = comps.slice(0, i).join('/');
      if (this.dirs.has(rel)) continue;
      const p = join(this.top, rel);
      const st = lstatOrNull(p);
      if (st?.isDirectory()) { this.dirs.add(rel); continue; }
      if (st && this.overlay && isWhiteout(st) && !this.written.has(rel)) {
        // Deleted earlier in this layer and now needed again: a fresh, opaque directory.
        rmSync(p);
        mkdirSync(p, 0o755);
        setOpaque(p);
        this.dirs.add(rel);
        this.fresh.add(rel);
        continue;
      }
      if (st) {
        throw new LayerSecurityError(entry, st.isSymbolicLink()
          ? `parent ${JSON.stringify(rel)} is a symlink (never followed)`
          : `parent ${JSON.stringify(rel)} is not a directory`);
      }
      const below = this.view.lookup(comps.slice(0, i), entry);
      if (below && below.st.isSymbolicLink()) throw new LayerSecurityError(entry, `parent ${JSON.stringify(rel)} is a symlink (never followed)`);
      if (below && !below.st.isDirectory()) throw new LayerSecurityError(entry, `parent ${JSON.stringify(rel)} is not a directory`);
      mkdirSync(p, 0o755);
      if (below) this.copyMeta(below.path, below.st, p);
      this.dirs.add(rel);
      this.fresh.add(rel);
    }
  }

  /**
   * Copies owner, mode, xattrs and times from a lower layer's entry (overlay's
   * copy-up); a directory's times are set last, with the others.
   */
  private copyMeta(from: string, st: Stats, to: string): void {
    lchownSync(to, st.uid, st.gid);
    chmodSync(to, st.mode & 0o7777);
    for (const name of native().llistxattr(from)) {
      if (name.startsWith(OVERLAY_XATTR_PREFIX)) continue;
      const v = native().lgetxattr(from, name);
      if (v) native().lsetxattr(to, name, v, 0);
    }
    if (st.isDirectory()) this.dirTimes.push([to, st.mtimeMs / 1000]);
    else lutimesSync(to, st.atimeMs / 1000, st.mtimeMs / 1000);
  }

  async entry(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const comps = entryComponents(h.name);
    const base = comps[comps.length - 1];
    if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) {
      this.whiteout(h.name, comps.slice(0, -1), base);
      return;
    }
    const rel = comps.join('/');
    const parent = comps.slice(0, -1);
    this.ensureDir(parent, h.name);
    const p = this.abs(comps);
    const parentRel = parent.join('/');
    const unseen = comps.length > 0 && this.fresh.has(parentRel) && !this.written.has(rel) && !this.whitedOut.has(rel) && !this.dirs.has(rel);
    const st = unseen ? null : comps.length ? lstatOrNull(p) : lstatSync(p);
    let opaque = false;
    if (comps.length === 0) {
      if (h.type !== 'dir') throw new LayerSecurityError(h.name, 'the root must be a directory');
    } else if (st && !(st.isDirectory() && h.type === 'dir')) {
      // Replaced by this entry (a dir by a file, a file by a symlink...).
      if (this.overlay && isWhiteout(st) && h.type === 'dir') opaque = true;
      this.removeTop(rel);
    }
    switch (h.type) {
      case 'dir':
        if (comps.length && !(st?.isDirectory())) {
          mkdirSync(p, 0o700);
          this.fresh.add(rel);
        }
        if (opaque) setOpaque(p);
        this.dirs.add(rel);
        break;
      case 'file': {
        // Synchronous writes: a layer is mostly small files, and three thread-pool
        // round trips per file (open, write, close) cost more than the writes.
        const fd = openSync(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const c of body) {
            for (let off = 0; off < c.length;) off += writeSync(fd, c, off, c.length - off);
          }
        } finally {
          closeSync(fd);
        }
        break;
      }
      case 'symlink':
        checkSymlinkTarget(h.name, comps, h.linkname);
        symlinkSync(h.linkname, p);
        break;
      case 'link':
        this.hardlink(h, p);
        this.written.add(rel);
        return; // a hardlink shares its target's inode and metadata
      case 'char': case 'block': case 'fifo':
        native().mknod(p, MODE_TYPE[h.type] | (h.mode & 0o7777), h.devmajor, h.devminor);
        break;
    }
    this.written.add(rel);
    this.setMeta(h, p);
  }

  private hardlink(h: TarHeader, p: string): void {
    const tcomps = entryComponents(h.linkname, 'hardlink target');
    if (tcomps.length === 0) throw new LayerSecurityError(h.name, 'hardlink to the root');
    const found = this.view.lookup(tcomps, h.name);
    if (!found) throw new LayerSecurityError(h.name, `hardlink target ${JSON.stringify(h.linkname)} does not exist in the layer or below`);
    if (found.st.isDirectory()) throw new LayerSecurityError(h.name, 'hardlink to a directory');
    if (found.layer === 0) {
      linkSync(found.path, p); // link(2) never follows a symlink target
    } else if (found.st.isFile()) {
      // A lower layer's file cannot be shared across layers: copy it, as overlay's copy-up would.
      copyFileSync(found.path, p, constants.COPYFILE_EXCL);
      this.copyMeta(found.path, found.st, p);
    } else {
      throw new LayerSecurityError(h.name, 'hardlink to a special file of a lower layer');
    }
  }

  private setMeta(h: TarHeader, p: string): void {
    lchownSync(p, h.uid, h.gid);
    // After chown, which clears setuid/setgid.
    if (h.type !== 'symlink') chmodSync(p, h.mode & 0o7777);
    for (const [k, v] of h.pax) {
      if (!k.startsWith(XATTR_PREFIX)) continue;
      const name = k.slice(XATTR_PREFIX.length);
      if (name.startsWith(OVERLAY_XATTR_PREFIX)) continue; // would let a layer forge whiteouts or redirects
      // After chown too: chown clears security.capability.
      try {
        native().lsetxattr(p, name, v, 0);
      } catch (err) {
        // A namespace this filesystem or kernel lacks (security.selinux without
        // SELinux): skipped, as containerd does; any other failure is an error.
        if ((err as NodeJS.ErrnoException).code !== 'ENOTSUP') throw err;
      }
    }
    if (h.type === 'dir') this.dirTimes.push([p, h.mtime]);
    else lutimesSync(p, h.mtime, h.mtime);
  }

  private whiteout(entry: string, dir: string[], base: string): void {
    this.ensureDir(dir, entry);
    const dirRel = dir.join('/');
    if (base === OPAQUE_WHITEOUT) {
      const p = this.abs(dir);
      if (this.overlay) {
        setOpaque(p);
        return;
      }
      // Plain tree: everything below not written by this layer goes.
      for (const name of readdirSync(p)) {
        const rel = dirRel ? `${dirRel}/${name}` : name;
        if (this.written.has(rel)) continue;
        this.removeTop(rel);
      }
      return;
    }
    if (base.startsWith(AUFS_META_PREFIX)) return;
    const name = base.slice(WHITEOUT_PREFIX.length);
    entryComponents(name, 'whiteout name');
    if (name === '' || name === '.' || name.includes('/')) throw new LayerSecurityError(entry, 'bad whiteout name');
    const rel = dirRel ? `${dirRel}/${name}` : name;
    // A whiteout only hides what lower layers have, never what this layer wrote.
    if (this.written.has(rel)) return;
    this.removeTop(rel);
    if (this.overlay) {
      makeWhiteout(join(this.top, rel));
      this.whitedOut.add(rel);
    }
  }

  finish(): void {
    // Deepest first, so setting a parent's time is the last change to it.
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const [p, t] = this.dirTimes[i] as [string, number];
      lutimesSync(p, t, t);
    }
  }
}
