// Large synthetic images written straight to an OCI layout, streamed (never a
// whole layer in memory): random (incompressible) file content, tarred and
// gzipped on the way to disk, hashed as it goes.
import { createWriteStream, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createHash, randomFillSync } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { join } from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Descriptor } from '../../../src/images/content/types.ts';
import { MEDIA_TYPE } from '../../../src/images/manifest/media-types.ts';

function hashing(h: ReturnType<typeof createHash>, count: { n: number }): Transform {
  return new Transform({
    transform(c: Buffer, _e, cb) {
      h.update(c);
      count.n += c.length;
      cb(null, c);
    },
  });
}

/** One layer holding one file of `bytes` random bytes; returns its descriptor and diff_id. */
export async function writeBigLayer(blobsDir: string, bytes: number, name: string): Promise<{ desc: Descriptor; diffId: string }> {
  const pack = tar.pack();
  const tmp = join(blobsDir, `.tmp-${name.replace(/\W/g, '_')}`);
  const tarHash = createHash('sha256');
  const gzHash = createHash('sha256');
  const tarCount = { n: 0 };
  const gzCount = { n: 0 };
  const done = pipeline(pack, hashing(tarHash, tarCount), createGzip({ level: 1 }), hashing(gzHash, gzCount), createWriteStream(tmp));
  const entry = pack.entry({ name, size: bytes, mode: 0o644, mtime: new Date('2024-01-01T00:00:00Z') });
  const src = new PassThrough();
  const fed = pipeline(src, entry);
  const buf = Buffer.alloc(1 << 20);
  for (let left = bytes; left > 0; ) {
    const n = Math.min(left, buf.length);
    randomFillSync(buf, 0, n);
    if (!src.write(Buffer.from(buf.subarray(0, n)))) await new Promise((r) => src.once('drain', r));
    left -= n;
  }
  src.end();
  await fed;
  pack.finalize();
  await done;
  const digest = `sha256:${gzHash.digest('hex')}`;
  renameSync(tmp, join(blobsDir, digest.slice(7)));
  return { desc: { mediaType: MEDIA_TYPE.ociLayerGzip, digest, size: gzCount.n }, diffId: `sha256:${tarHash.digest('hex')}` };
}

/** An OCI layout with `count` layers of `bytes` each, tagged `tag`. */
export async function writeBigImageLayout(dir: string, count: number, bytes: number, tag: string): Promise<Descriptor> {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layers: { desc: Descriptor; diffId: string }[] = [];
  for (let i = 0; i < count; i++) layers.push(await writeBigLayer(blobs, bytes, `layer${i}/data.bin`));
  const put = (obj: object, mediaType: string): Descriptor => {
    const b = Buffer.from(JSON.stringify(obj));
    const d = `sha256:${createHash('sha256').update(b).digest('hex')}`;
    writeFileSync(join(blobs, d.slice(7)), b);
    return { mediaType, digest: d, size: b.length };
  };
  const config = put({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }, history: layers.map(() => ({ created_by: 'synthetic' })) }, MEDIA_TYPE.ociConfig);
  const manifest = put({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config, layers: layers.map((l) => l.desc) }, MEDIA_TYPE.ociManifest);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
  return manifest;
}
