// Layer compression, told by the stream's first bytes (magic numbers), not by
// the media type: gzip, zstd (node:zlib in Node 24), or none.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';

const CHUNK = 1 << 20;

export type Compression = 'gzip' | 'zstd' | 'none';

export function detectCompression(head: Buffer): Compression | 'xz' | 'bzip2' {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

/** The decompressed stream of src, whatever its compression. */
export async function decompress(src: AsyncIterable<Buffer>): Promise<{ compression: Compression; stream: Readable }> {
  const it = src[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let len = 0;
  let ended = false;
  while (len < 6) {
    const r = await it.next();
    if (r.done) { ended = true; break; }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    head.push(b);
    len += b.length;
  }
  const first = Buffer.concat(head);
  const kind = detectCompression(first);
  if (kind === 'xz' || kind === 'bzip2') throw new Error(`layer is ${kind}-compressed: only gzip, zstd and uncompressed layers are supported`);
  const whole = Readable.from((async function* () {
    try {
      if (first.length) yield first;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value as Buffer;
      }
    } finally {
      // Destroyed early (an error, a refused layer): close the source too (its fd).
      if (!ended) await it.return?.();
    }
  })(), { objectMode: false });
  if (kind === 'none') return { compression: kind, stream: whole };
  // 1 MiB output chunks, not zlib's 16 KiB: 64 times fewer callbacks, buffers
  // and awaits downstream (10 x 20 MB unpack: 1395 -> 1059 ms).
  const z = kind === 'gzip' ? zlib.createGunzip({ chunkSize: CHUNK }) : zlib.createZstdDecompress({ chunkSize: CHUNK });
  // pipeline destroys z with the source's error, so readers of z see it.
  return { compression: kind, stream: pipeline(whole, z, () => {}) };
}
