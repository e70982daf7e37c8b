// The filesystem side of layer application: entries, already parsed, written
// into a snapshot's directory with synchronous calls. It runs in an apply
// worker thread (apply-worker.ts) with the inflating and parsing, off the
// thread that downloads, or inline when there is no worker.
//
// Security: every entry name is cut into components (no "..", leading "/"
// dropped). Its parent directory is resolved as the merged tree would see it
// (top layer first, then the lowers), with symlinks followed INSIDE the root,
// as containerd's fs.RootPath does: an absolute link target starts again at
// the root, ".." stops at the root, so `lib -> usr/lib` (merged /usr) works
// and `lib -> /etc` means <root>/etc, never the host's /etc. The resolved
// parents must then be real directories in the top layer (copied up or
// made); files are created with O_EXCL|O_NOFOLLOW after whatever was there
// is removed (rm never follows symlinks), the last component is never
// followed, hardlink targets resolve inside the root the same way, and
// overlay's own xattrs are never taken from a layer. The snapshot directory
// is private to the snapshotter, so nothing races these checks.
import {
  chmodSync, closeSync, constants, copyFileSync, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync,
  lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { native } from '../../common/native.ts';
import type { ApplyTarget } from '../snapshots/types.ts';
import {
  AUFS_META_PREFIX, OPAQUE_WHITEOUT, OVERLAY_XATTR_PREFIX, WHITEOUT_PREFIX, isWhiteout, makeWhiteout, setOpaque,
} from './overlay-fs.ts';
import { LayerSecurityError, NeedsLowersError, checkSymlinkTarget, entryComponents } from './paths.ts';
import type { TarHeader } from './tar-reader.ts';
import { LayerView } from './view.ts';
import { lstatOrNull } from './fs-util.ts';

const MODE_TYPE = { char: 0o020000, block: 0o060000, fifo: 0o010000 } as const;
const XATTR_PREFIX = 'SCHILY.xattr.';
/** Symlinks followed while resolving one path, as the kernel's MAXSYMLINKS. */
const MAX_LINKS = 40;

/** A regular file being written: begun, given its data, then ended. */
export interface OpenFile {
  fd: number;
  header: TarHeader;
  rel: string;
}

export class LayerWriter {
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
    if (target.pendingLowers && (!this.overlay || target.lowers.length > 0)) throw new Error('pending lowers: an overlay target without lowers only');
    this.view = new LayerView(target.dir, this.overlay ? target.lowers : [], this.overlay, target.pendingLowers === true);
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
   * A directory path resolved in the merged tree, symlinks followed inside
   * the root (chroot-like): the result names no symlink, only directories
   * (or nothing yet). A known top-layer directory resolves to itself.
   */
  private resolveDir(comps: string[], entry: string): string[] {
    if (this.dirs.has(comps.join('/'))) return comps;
    const out: string[] = [];
    const todo = comps.slice().reverse();
    let links = 0;
    while (todo.length > 0) {
      const c = todo.pop() as string;
      if (c === '' || c === '.') continue;
      if (c === '..') { out.pop(); continue; } // ".." at the root stays at the root
      out.push(c);
      const rel = out.join('/');
      if (this.dirs.has(rel)) continue;
      const found = this.view.lookup(out, entry);
      if (!found) {
        // Nothing there: neither is anything below it; the rest is taken as it is.
        for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
          if (n === '..') out.pop();
          else if (n !== '' && n !== '.') out.push(n);
        }
        return out;
      }
      if (found.st.isDirectory()) continue;
      if (!found.st.isSymbolicLink()) throw new LayerSecurityError(entry, `parent ${JSON.stringify(rel)} is not a directory`);
      if (++links > MAX_LINKS) throw new LayerSecurityError(entry, `too many levels of symbolic links at ${JSON.stringify(rel)}`);
      const target = readlinkSync(found.path);
      out.pop();
      if (target.startsWith('/')) out.length = 0;
      const parts = target.split('/');
      for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i] as string);
    }
    return out;
  }

  /**
   * Makes every component of comps (already resolved: no symlinks in the
   * merged tree) a real directory in the top layer: one from a lower layer is
   * copied up (metadata only), a missing one is made 0755.
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
      // Defence in depth: resolution left no symlink, so this never happens.
      if (st) throw new LayerSecurityError(entry, `parent ${JSON.stringify(rel)} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}`);
      const below = this.view.lookup(comps.slice(0, i), entry);
      if (below && !below.st.isDirectory()) throw new LayerSecurityError(entry, `parent ${JSON.stringify(rel)} is not a directory`);
      mkdirSync(p, 0o755);
      if (below) this.copyMeta(below.path, below.st, p);
      this.dirs.add(rel);
      this.fresh.add(rel);
    }
  }

  /** The parent of an entry resolved in the root, made a real directory of the top layer. */
  private parentOf(comps: string[], entry: string): string[] {
    const parent = this.resolveDir(comps.slice(0, -1), entry);
    this.ensureDir(parent, entry);
    return parent;
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

  /**
   * Applies an entry. For a regular file it returns the file, open and empty:
   * the caller writes its data with data() and closes it with end().
   */
  begin(h: TarHeader): OpenFile | null {
    const comps = entryComponents(h.name);
    const base = comps[comps.length - 1];
    if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) {
      this.whiteout(h.name, comps, base);
      return null;
    }
    const parent = comps.length ? this.parentOf(comps, h.name) : [];
    const all = comps.length ? [...parent, base as string] : [];
    const rel = all.join('/');
    const p = this.abs(all);
    const parentRel = parent.join('/');
    const unseen = all.length > 0 && this.fresh.has(parentRel) && !this.written.has(rel) && !this.whitedOut.has(rel) && !this.dirs.has(rel);
    const st = unseen ? null : all.length ? lstatOrNull(p) : lstatSync(p);
    let opaque = false;
    if (all.length === 0) {
      if (h.type !== 'dir') throw new LayerSecurityError(h.name, 'the root must be a directory');
    } else if (st && !(st.isDirectory() && h.type === 'dir')) {
      // Replaced by this entry (a dir by a file, a file by a symlink...).
      if (this.overlay && isWhiteout(st) && h.type === 'dir') opaque = true;
      this.removeTop(rel);
    }
    switch (h.type) {
      case 'dir':
        if (all.length && !(st?.isDirectory())) {
          mkdirSync(p, 0o700);
          this.fresh.add(rel);
        }
        if (opaque) setOpaque(p);
        this.dirs.add(rel);
        break;
      case 'file': {
        const fd = openSync(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        this.written.add(rel);
        return { fd, header: h, rel };
      }
      case 'symlink':
        checkSymlinkTarget(h.name, all, h.linkname);
        symlinkSync(h.linkname, p);
        break;
      case 'link':
        this.hardlink(h, p);
        this.written.add(rel);
        return null; // a hardlink shares its target's inode and metadata
      case 'char': case 'block': case 'fifo':
        native().mknod(p, MODE_TYPE[h.type] | (h.mode & 0o7777), h.devmajor, h.devminor);
        break;
    }
    this.written.add(rel);
    this.setMeta(h, p, null);
    return null;
  }

  data(f: OpenFile, c: Uint8Array): void {
    for (let off = 0; off < c.length;) off += writeSync(f.fd, c, off, c.length - off);
  }

  /** Sets the file's metadata through its descriptor and closes it. */
  end(f: OpenFile): void {
    try {
      this.setMeta(f.header, join(this.top, f.rel), f.fd);
    } finally {
      closeSync(f.fd);
    }
  }

  private hardlink(h: TarHeader, p: string): void {
    const tcomps = entryComponents(h.linkname, 'hardlink target');
    if (tcomps.length === 0) throw new LayerSecurityError(h.name, 'hardlink to the root');
    const target = [...this.resolveDir(tcomps.slice(0, -1), h.name), tcomps[tcomps.length - 1] as string];
    const assumed = this.view.assumedAbsent.length;
    const found = this.view.lookup(target, h.name);
    if (!found && this.view.assumedAbsent.length > assumed) throw new NeedsLowersError(h.name);
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

  /** Owner, mode, xattrs and times; through fd when the entry is an open file. */
  private setMeta(h: TarHeader, p: string, fd: number | null): void {
    if (fd !== null) fchownSync(fd, h.uid, h.gid);
    else lchownSync(p, h.uid, h.gid);
    // After chown, which clears setuid/setgid.
    if (fd !== null) fchmodSync(fd, h.mode & 0o7777);
    else if (h.type !== 'symlink') chmodSync(p, h.mode & 0o7777);
    for (const [k, v] of h.pax) {
      if (!k.startsWith(XATTR_PREFIX)) continue;
      const name = k.slice(XATTR_PREFIX.length);
      if (name.startsWith(OVERLAY_XATTR_PREFIX)) continue; // would let a layer forge whiteouts or redirects
      // After chown too: chown clears security.capability.
      try {
        native().lsetxattr(p, name, Buffer.from(v.buffer, v.byteOffset, v.byteLength), 0);
      } catch (err) {
        // A namespace this filesystem or kernel lacks (security.selinux without
        // SELinux): skipped, as containerd does; any other failure is an error.
        if ((err as NodeJS.ErrnoException).code !== 'ENOTSUP') throw err;
      }
    }
    if (h.type === 'dir') this.dirTimes.push([p, h.mtime]);
    else if (fd !== null) futimesSync(fd, h.mtime, h.mtime);
    else lutimesSync(p, h.mtime, h.mtime);
  }

  private whiteout(entry: string, comps: string[], base: string): void {
    const dir = this.parentOf(comps, entry);
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

  /** Ends the application; returns the paths assumed absent below (pending lowers). */
  finish(): string[][] {
    // Deepest first, so setting a parent's time is the last change to it.
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const [p, t] = this.dirTimes[i] as [string, number];
      lutimesSync(p, t, t);
    }
    const seen = new Set<string>();
    return this.view.assumedAbsent.filter((c) => {
      const k = c.join('/');
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
}
