// `docker import`: a plain rootfs tarball (gzip, zstd or none) becomes a
// single-layer image: the layer is stored gzip-compressed, with an OCI config
// (rootfs.diff_ids, history) and an OCI manifest. The tar is read through the
// same strict reader as layers, so a malformed one is refused before any
// image exists (its entries are checked again when the layer is applied).
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { Descriptor, Store } from '../content/types.ts';
import { writeBlob } from '../content/local-store.ts';
import type { ContainerConfig, ImageConfig } from '../manifest/config.ts';
import { encodeManifest } from '../manifest/manifest.ts';
import type { ImageManifest } from '../manifest/manifest.ts';
import { MEDIA_TYPE } from '../manifest/media-types.ts';
import { hostPlatform } from '../manifest/platform.ts';
import { decompress } from '../layers/compression.ts';
import { readTar } from '../layers/tar-reader.ts';

export interface ImportOptions {
  content: Store;
  /** the container config (docker import --change) */
  config?: ContainerConfig;
  /** history comment (docker import --message) */
  message?: string;
  created?: Date;
  architecture?: string;
  os?: string;
}

export interface ImportResult {
  target: Descriptor;
  /** the config digest: the image ID */
  id: string;
  diffId: string;
}

export async function importRootfs(src: Readable | AsyncIterable<Buffer>, opts: ImportOptions): Promise<ImportResult> {
  const { stream } = await decompress(src as AsyncIterable<Buffer>);
  const diffHash = createHash('sha256');
  const ref = `import-${randomBytes(8).toString('hex')}`;
  const w = await opts.content.writer({ ref });
  let layer: Descriptor;
  let diffId: string;
  try {
    // One pass: the uncompressed bytes are hashed and fed to gzip (whose
    // output goes into the store) as the tar reader checks them.
    const gzip = zlib.createGzip();
    const storing = (async () => {
      for await (const c of gzip) await w.write(c as Buffer);
    })();
    storing.catch(() => {}); // awaited below; a failure also ends the loop through destroy()
    const tap = (async function* () {
      for await (const c of stream as AsyncIterable<Buffer>) {
        diffHash.update(c);
        if (!gzip.write(c)) await once(gzip, 'drain');
        yield c;
      }
    })();
    try {
      for await (const e of readTar(tap)) for await (const _ of e.body) { /* entries are only checked */ }
      for await (const _ of tap) { /* trailing bytes belong to the layer too */ }
      gzip.end();
      await storing;
    } catch (e) {
      gzip.destroy();
      stream.destroy();
      throw e;
    }
    diffId = `sha256:${diffHash.digest('hex')}`;
    const digest = w.digest();
    const size = w.status().offset;
    await w.commit(size, digest).catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'already-exists') throw e;
    });
    layer = { mediaType: MEDIA_TYPE.ociLayerGzip, digest, size };
  } catch (e) {
    await opts.content.abort(ref).catch(() => {});
    throw e;
  } finally {
    await w.close();
  }
  const created = (opts.created ?? new Date()).toISOString();
  const host = hostPlatform();
  const config: ImageConfig = {
    created,
    architecture: opts.architecture ?? host.architecture,
    os: opts.os ?? host.os,
    config: opts.config ?? {},
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: 'dray import', ...(opts.message ? { comment: opts.message } : {}) }],
  };
  const cfgBytes = Buffer.from(JSON.stringify(config));
  const cfgDesc: Descriptor = { mediaType: MEDIA_TYPE.ociConfig, digest: sha256(cfgBytes), size: cfgBytes.length };
  await writeBlob(opts.content, `import-${cfgDesc.digest}`, cfgBytes, cfgDesc);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: cfgDesc, layers: [layer] };
  const mBytes = encodeManifest(manifest);
  const target: Descriptor = { mediaType: MEDIA_TYPE.ociManifest, digest: sha256(mBytes), size: mBytes.length };
  await writeBlob(opts.content, `import-${target.digest}`, mBytes, target);
  return { target, id: cfgDesc.digest, diffId };
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

