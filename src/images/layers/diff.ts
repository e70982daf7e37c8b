// Diff: a snapshot's changes against its parent as an OCI layer tar.
// Overlay: the upper dir is the change set; overlay whiteouts (0:0 char
// devices) become `.wh.<name>` entries and opaque dirs get `.wh..wh..opq`.
// Plain trees (naive snapshotter): the two trees are compared as Docker does
// (type, mode, owner, size, mtime, link target, device, xattrs; contents are
// not read) and removed paths become `.wh.` entries.
// The tar is deterministic: entries in bytewise name order, parents before
// children (every changed path's parents are included), hardlinks detected
// by inode (the first path in order carries the data), PAX records for
// xattrs and long names. It is gzip-compressed unless asked otherwise; the
// result carries the blob's digest and size and the diff_id.
//
// The tree may belong to a running container (docker commit, docker export),
// which can swap any directory for a symlink while we walk. So the new tree
// is walked by directory fds: each directory is opened O_DIRECTORY|O_NOFOLLOW
// from its parent's fd and its entries are reached as /proc/self/fd/<fd>/<name>,
// which resolves like openat(fd, name): no path is ever resolved through a
// symlink, and files are opened O_NOFOLLOW.
import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, fstatSync, lstatSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { native } from '../../common/native.ts';
import { MEDIA_TYPE } from '../manifest/media-types.ts';
import { OPAQUE_WHITEOUT, OVERLAY_XATTR_PREFIX, WHITEOUT_PREFIX, isOpaque } from './overlay-fs.ts';
import { END_OF_ARCHIVE, encodeHeader, padding } from './tar-writer.ts';
import type { WriteHeader } from './tar-writer.ts';
import type { TarType } from './tar-reader.ts';
import { lstatBigOrNull as lstatOrNull } from './fs-util.ts';

export interface DiffResult {
  /** sha256 of the blob as written (compressed) */
  digest: string;
  /** size of the blob as written */
  size: number;
  /** sha256 of the uncompressed tar */
  diffId: string;
  compression: 'gzip' | 'none';
  mediaType: string;
}

export interface DiffOptions {
  compression?: 'gzip' | 'none';
  /** Bound on the entries walked (a runaway tree is an error, not a hang). */
  maxEntries?: number;
}

/** Where the diff's bytes go: a content-store writer, a file, a socket. */
export type Sink = (chunk: Buffer) => Promise<void>;

interface Node {
  rel: string;
  path: string;
  st: BigIntStats;
}

const XATTR = 'SCHILY.xattr.';


/** A directory held open; its entries resolve like openat(fd, name). */
export class Dir {
  readonly fd: number;
  private constructor(fd: number) {
    this.fd = fd;
  }
  static open(path: string): Dir {
    return new Dir(openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW));
  }
  child(name: string): string {
    return `/proc/self/fd/${this.fd}/${name}`;
  }
  /** The directory itself (for lstat and l*xattr, which must not stop at the magic link). */
  get self(): string {
    return `/proc/self/fd/${this.fd}/.`;
  }
  sub(name: string): Dir {
    return Dir.open(this.child(name));
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Names in bytewise order (not locale order): the same tree always gives the same tar. */
function sortedNames(dir: string): string[] {
  return readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function tarType(st: BigIntStats): TarType | null {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return null; // sockets are not carried in layers
}

function xattrs(path: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of native().llistxattr(path).sort()) {
    if (name.startsWith(OVERLAY_XATTR_PREFIX)) continue;
    const v = native().lgetxattr(path, name);
    if (v !== null) out.set(name, v);
  }
  return out;
}

function sameXattrs(a: string, b: string): boolean {
  const x = xattrs(a);
  const y = xattrs(b);
  if (x.size !== y.size) return false;
  for (const [k, v] of x) if (!y.get(k)?.equals(v)) return false;
  return true;
}

/** Whether a path differs from its parent's copy as Docker's change detection sees it. */
function changed(a: Node, b: { path: string; st: BigIntStats }): boolean {
  const s = a.st;
  const t = b.st;
  if (tarType(s) !== tarType(t)) return true;
  if (s.mode !== t.mode || s.uid !== t.uid || s.gid !== t.gid) return true;
  if (s.isDirectory()) return !sameXattrs(a.path, b.path);
  if (s.mtimeNs !== t.mtimeNs || s.size !== t.size || s.rdev !== t.rdev) return true;
  if (s.isSymbolicLink() && readlinkSync(a.path) !== readlinkSync(b.path)) return true;
  return !sameXattrs(a.path, b.path);
}

class DiffWriter {
  private readonly emittedDirs = new Set<string>(['']);
  private readonly links = new Map<bigint, string>();
  /** the directories being walked, by relative path */
  private readonly open = new Map<string, Dir>();
  private count = 0;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  enter(rel: string, dir: Dir): void {
    this.open.set(rel, dir);
  }

  leave(rel: string): void {
    this.open.get(rel)?.close();
    this.open.delete(rel);
  }

  private tick(): void {
    if (++this.count > this.max) throw new Error(`diff: more than ${this.max} entries`);
  }

  /** Headers for the ancestors of rel not written yet (from the new tree). */
  private *parents(rel: string): Generator<Buffer> {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (this.emittedDirs.has(d)) continue;
      const dir = this.open.get(d);
      if (!dir) throw new Error(`diff: ${d} is not being walked`);
      yield encodeHeader(this.header(d, dir.self, lstatSync(dir.self, { bigint: true }), 'dir'));
      this.emittedDirs.add(d);
    }
  }

  private header(rel: string, path: string, st: BigIntStats, type: TarType): WriteHeader {
    const h: WriteHeader = {
      name: rel, type, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid),
      mtime: Number(st.mtimeNs / 1_000_000_000n),
    };
    const x = xattrs(path);
    if (x.size) h.pax = new Map([...x].map(([k, v]) => [XATTR + k, v]));
    return h;
  }

  async *entry(n: Node): AsyncGenerator<Buffer> {
    this.tick();
    yield* this.parents(n.rel);
    const type = tarType(n.st);
    if (!type) return;
    const h = this.header(n.rel, n.path, n.st, type);
    if (type === 'dir') this.emittedDirs.add(n.rel);
    if (type === 'symlink') h.linkname = readlinkSync(n.path);
    if (type === 'char' || type === 'block') {
      // glibc's dev_t encoding (major/minor split over both halves)
      const rdev = n.st.rdev;
      h.devmajor = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
      h.devminor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
    }
    if (type === 'file') {
      const first = n.st.nlink > 1n ? this.links.get(n.st.ino) : undefined;
      if (first !== undefined) {
        yield encodeHeader({ ...h, type: 'link', linkname: first, pax: new Map() });
        return;
      }
      if (n.st.nlink > 1n) this.links.set(n.st.ino, n.rel);
      h.size = Number(n.st.size);
      yield encodeHeader(h);
      let left = h.size;
      // The size is in the header already: a file that changes while read is an error, not a corrupt tar.
      const fd = openSync(n.path, constants.O_RDONLY | constants.O_NOFOLLOW);
      const now = fstatSync(fd, { bigint: true });
      if (now.ino !== n.st.ino || now.dev !== n.st.dev) {
        closeSync(fd);
        throw new Error(`diff: ${n.rel} was replaced while being read`);
      }
      for await (const c of createReadStream('', { fd, highWaterMark: 1 << 20 })) {
        const b = c as Buffer;
        if (b.length > left) throw new Error(`diff: ${n.rel} grew while being read`);
        left -= b.length;
        yield b;
      }
      if (left !== 0) throw new Error(`diff: ${n.rel} shrank while being read`);
      yield padding(h.size);
      return;
    }
    yield encodeHeader(h);
  }

  *whiteout(dirRel: string, name: string, mtime: number): Generator<Buffer> {
    this.tick();
    const rel = dirRel ? `${dirRel}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`;
    yield* this.parents(rel);
    yield encodeHeader({ name: rel, type: 'file', mode: 0, uid: 0, gid: 0, mtime });
  }
}

function whiteoutTime(st: BigIntStats): number {
  return Number(st.mtimeNs / 1_000_000_000n);
}

/** Runs fn with the subdirectory `name` of dir open and registered as rel; always closes it. */
async function* within(w: DiffWriter, dir: Dir, name: string, rel: string, fn: (sub: Dir) => AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const sub = dir.sub(name);
  w.enter(rel, sub);
  try {
    yield* fn(sub);
  } finally {
    w.leave(rel);
  }
}

/** Overlay: the upper dir below rel, depth first in name order. */
async function* walkUpper(dir: Dir, rel: string, w: DiffWriter): AsyncGenerator<Buffer> {
  if (isOpaque(dir.self)) yield* w.whiteout(rel, OPAQUE_WHITEOUT.slice(WHITEOUT_PREFIX.length), whiteoutTime(lstatSync(dir.self, { bigint: true })));
  for (const name of sortedNames(dir.self)) {
    const r = rel ? `${rel}/${name}` : name;
    const p = dir.child(name);
    const st = lstatSync(p, { bigint: true });
    if (st.isCharacterDevice() && st.rdev === 0n) {
      yield* w.whiteout(rel, name, whiteoutTime(st));
      continue;
    }
    yield* w.entry({ rel: r, path: p, st });
    if (st.isDirectory()) yield* within(w, dir, name, r, (sub) => walkUpper(sub, r, w));
  }
}

/** Everything below rel of a tree (a directory that is new as a whole). */
async function* walkAll(dir: Dir, rel: string, w: DiffWriter): AsyncGenerator<Buffer> {
  for (const name of sortedNames(dir.self)) {
    const r = rel ? `${rel}/${name}` : name;
    const p = dir.child(name);
    const st = lstatSync(p, { bigint: true });
    yield* w.entry({ rel: r, path: p, st });
    if (st.isDirectory()) yield* within(w, dir, name, r, (sub) => walkAll(sub, r, w));
  }
}

/** Plain trees: what differs between dir (new) and base (the parent's copy, at rel) below rel. */
async function* walkCompare(dir: Dir, base: string, rel: string, w: DiffWriter): AsyncGenerator<Buffer> {
  const now = sortedNames(dir.self);
  const baseDir = rel ? join(base, rel) : base;
  const before = sortedNames(baseDir);
  const names = [...new Set([...now, ...before])].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const nowSet = new Set(now);
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    const p = dir.child(name);
    const old = lstatOrNull(join(baseDir, name));
    if (!nowSet.has(name)) {
      yield* w.whiteout(rel, name, whiteoutTime(lstatSync(dir.self, { bigint: true })));
      continue;
    }
    const st = lstatSync(p, { bigint: true });
    const node = { rel: r, path: p, st };
    if (!old || changed(node, { path: join(baseDir, name), st: old })) yield* w.entry(node);
    if (!st.isDirectory()) continue;
    if (old?.isDirectory()) yield* within(w, dir, name, r, (sub) => walkCompare(sub, base, r, w));
    else yield* within(w, dir, name, r, (sub) => walkAll(sub, r, w));
  }
}

export type DiffSource =
  | { mode: 'overlay'; upper: string }
  | { mode: 'plain'; dir: string; parent?: string };

async function* layerTar(src: DiffSource, max: number): AsyncGenerator<Buffer> {
  const w = new DiffWriter(max);
  const root = Dir.open(src.mode === 'overlay' ? src.upper : src.dir);
  w.enter('', root);
  try {
    if (src.mode === 'overlay') yield* walkUpper(root, '', w);
    else if (src.parent === undefined) yield* walkAll(root, '', w);
    else yield* walkCompare(root, src.parent, '', w);
  } finally {
    w.leave('');
  }
  yield END_OF_ARCHIVE;
}

function hashing(hash: ReturnType<typeof createHash>, count?: { n: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      if (count) count.n += chunk.length;
      cb(null, chunk);
    },
  });
}

/** Writes the layer tar of src into sink; returns its digest, size and diff_id. */
export async function writeDiff(src: DiffSource, sink: Sink, opts: DiffOptions = {}): Promise<DiffResult> {
  const compression = opts.compression ?? 'gzip';
  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  const count = { n: 0 };
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      sink(chunk).then(() => cb(), cb);
    },
  });
  const gen = layerTar(src, opts.maxEntries ?? 10_000_000);
  const stages: (NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream)[] = [Readable.from(gen), hashing(diffHash)];
  if (compression === 'gzip') stages.push(zlib.createGzip());
  stages.push(hashing(blobHash, count), out);
  await (pipeline as (...s: unknown[]) => Promise<void>)(...stages);
  return {
    digest: `sha256:${blobHash.digest('hex')}`,
    size: count.n,
    diffId: `sha256:${diffHash.digest('hex')}`,
    compression,
    mediaType: compression === 'gzip' ? MEDIA_TYPE.ociLayerGzip : MEDIA_TYPE.ociLayer,
  };
}

/** What to diff for a snapshot (active or committed) against its parent. */
export function snapshotDiffSource(s: { name: string; dir(key: string): string; stat(key: string): { parent?: string } }, key: string): DiffSource {
  if (s.name === 'overlayfs') return { mode: 'overlay', upper: s.dir(key) };
  const parent = s.stat(key).parent;
  return parent === undefined ? { mode: 'plain', dir: s.dir(key) } : { mode: 'plain', dir: s.dir(key), parent: s.dir(parent) };
}

