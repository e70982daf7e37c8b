// Writes one image layer: a tar of (part of) a directory tree, gzip-compressed
// into a blob, streamed (never a whole layer in memory). Hashes both sides in
// the same pass: the uncompressed tar's sha256 is the diff_id (the image
// config's rootfs), the gzip's sha256 is the blob digest (the manifest's).
// Entries come in sorted order with parents before children; uid, gid, mode
// and symlinks are kept, hardlinks become link entries to the first path seen;
// device nodes, fifos and sockets are left out (images carry none).
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, lstatSync, readdirSync, readlinkSync, renameSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

export interface LayerBlob {
  /** sha256:<hex> of the gzip blob, as the manifest names it. */
  digest: string;
  /** sha256:<hex> of the uncompressed tar, as the config's rootfs.diff_ids names it. */
  diffId: string;
  /** Size of the gzip blob in bytes. */
  size: number;
}

export interface LayerOptions {
  /** Include the entry at this path (relative, no leading slash)? Directories left out are not descended. */
  include?: (rel: string, st: Stats) => boolean;
  /** Every mtime later than this is clamped to it (SOURCE_DATE_EPOCH style), so rebuilds give the same bytes. */
  clampMtime?: Date;
  /** Record every entry with this owner instead of the file's own. */
  owner?: { uid: number; gid: number };
}

/** Tees a stream through a sha256 and counts its bytes. */
class HashingTap extends Transform {
  readonly hash: Hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }
}

/** Writes the layer of `root` into `blobsDir` (an OCI blobs/sha256 folder) and returns its digests. */
export async function writeLayer(root: string, blobsDir: string, opts: LayerOptions = {}): Promise<LayerBlob> {
  const pack = tar.pack();
  const plain = new HashingTap();
  const gz = new HashingTap();
  const tmp = join(blobsDir, `.layer-${process.pid}-${Date.now()}.tmp`);
  const done = pipeline(pack, plain, createGzip({ level: 6 }), gz, createWriteStream(tmp));
  const packing = packTree(pack, root, opts).then(() => pack.finalize(), (err: unknown) => {
    pack.destroy(err as Error);
    throw err;
  });
  await Promise.all([packing, done]);
  const digest = gz.hash.digest('hex');
  renameSync(tmp, join(blobsDir, digest));
  return { digest: `sha256:${digest}`, diffId: `sha256:${plain.hash.digest('hex')}`, size: gz.size };
}

async function packTree(pack: tar.Pack, root: string, opts: LayerOptions): Promise<void> {
  const seen = new Map<string, string>(); // dev:ino -> first path, for hardlinks
  const clamp = opts.clampMtime?.getTime();
  const walk = async (rel: string): Promise<void> => {
    // Byte order, so the same tree always gives the same tar.
    const names = readdirSync(rel ? join(root, rel) : root).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(root, path);
      const st = lstatSync(full);
      if (opts.include && !opts.include(path, st)) continue;
      const mtime = clamp !== undefined && st.mtimeMs > clamp ? new Date(clamp) : new Date(Math.floor(st.mtimeMs / 1000) * 1000);
      const base = { mode: st.mode & 0o7777, uid: opts.owner?.uid ?? st.uid, gid: opts.owner?.gid ?? st.gid, mtime };
      if (st.isDirectory()) {
        await add(pack, { ...base, name: `${path}/`, type: 'directory' });
        await walk(path);
      } else if (st.isSymbolicLink()) {
        await add(pack, { ...base, name: path, type: 'symlink', linkname: readlinkSync(full) });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? seen.get(key) : undefined;
        if (first !== undefined) {
          await add(pack, { ...base, name: path, type: 'link', linkname: first });
          continue;
        }
        if (st.nlink > 1) seen.set(key, path);
        await new Promise<void>((resolve, reject) => {
          const entry = pack.entry({ ...base, name: path, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
          pipeline(createReadStream(full), entry).catch(reject);
        });
      }
      // Character/block devices, fifos, sockets: not part of an image.
    }
  };
  await walk('');
}

function add(pack: tar.Pack, header: Parameters<tar.Pack["entry"]>[0]): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
}

/** sha256 of a small blob written from memory (config, manifest, index). */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
