// Synthetic test images: small layers made with tar-stream and gzip, a config
// and a manifest in OCI or Docker schema2 form, written into a content store
// or an OCI image layout (for skopeo).
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-stream';
import type { Descriptor, Store } from '../../../src/images/content/types.ts';
import { writeBlob } from '../../../src/images/content/local-store.ts';
import { MEDIA_TYPE } from '../../../src/images/manifest/media-types.ts';

export function sha256(b: Uint8Array): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

export async function tarOf(files: { name: string; content: Buffer | string; mode?: number }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r, j) => {
    pack.on('end', () => r());
    pack.on('error', j);
  });
  for (const f of files) {
    const body = typeof f.content === 'string' ? Buffer.from(f.content) : f.content;
    await new Promise<void>((r, j) => pack.entry({ name: f.name, mode: f.mode ?? 0o644, mtime: new Date('2024-01-01T00:00:00Z') }, body, (e) => (e ? j(e) : r())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface SynthLayer {
  tar: Buffer;
  blob: Buffer;
  diffId: string;
  desc: Descriptor;
}

/** A gzip layer with the given files; `randomBytes` of filler make it incompressible and unique. */
export async function makeLayer(files: { name: string; content: Buffer | string }[], opts: { mediaType?: string; gzip?: boolean } = {}): Promise<SynthLayer> {
  const t = await tarOf(files);
  const gz = opts.gzip === false ? t : gzipSync(t, { level: 1 });
  const mediaType = opts.mediaType ?? MEDIA_TYPE.ociLayerGzip;
  return { tar: t, blob: gz, diffId: sha256(t), desc: { mediaType, digest: sha256(gz), size: gz.length } };
}

export async function randomLayer(bytes: number, name = 'data.bin', mediaType?: string): Promise<SynthLayer> {
  return makeLayer([{ name, content: randomBytes(bytes) }], mediaType ? { mediaType } : {});
}

export interface SynthImage {
  layers: SynthLayer[];
  config: Buffer;
  configDesc: Descriptor;
  manifest: Buffer;
  manifestDesc: Descriptor;
  /** Every blob by digest (layers, config, manifest). */
  blobs: Map<string, Buffer>;
}

export function makeImage(layers: SynthLayer[], opts: { format?: 'oci' | 'docker'; architecture?: string; os?: string; variant?: string; cmd?: string[] } = {}): SynthImage {
  const docker = opts.format === 'docker';
  const cfg = {
    architecture: opts.architecture ?? 'amd64',
    os: opts.os ?? 'linux',
    ...(opts.variant ? { variant: opts.variant } : {}),
    created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: opts.cmd ?? ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
  };
  const config = Buffer.from(JSON.stringify(cfg));
  const configDesc: Descriptor = { mediaType: docker ? MEDIA_TYPE.dockerConfig : MEDIA_TYPE.ociConfig, digest: sha256(config), size: config.length };
  const manifestObj = {
    schemaVersion: 2,
    mediaType: docker ? MEDIA_TYPE.dockerManifest : MEDIA_TYPE.ociManifest,
    config: configDesc,
    layers: layers.map((l) => (docker && l.desc.mediaType === MEDIA_TYPE.ociLayerGzip ? { ...l.desc, mediaType: MEDIA_TYPE.dockerLayerGzip } : l.desc)),
  };
  const manifest = Buffer.from(JSON.stringify(manifestObj));
  const manifestDesc: Descriptor = { mediaType: manifestObj.mediaType, digest: sha256(manifest), size: manifest.length };
  const blobs = new Map<string, Buffer>();
  for (const l of layers) blobs.set(l.desc.digest, l.blob);
  blobs.set(configDesc.digest, config);
  blobs.set(manifestDesc.digest, manifest);
  return { layers, config, configDesc, manifest, manifestDesc, blobs };
}

/** An index over several images (each with its platform). */
export function makeIndex(entries: { image: SynthImage; platform: { os: string; architecture: string; variant?: string } }[], format: 'oci' | 'docker' = 'oci'): { index: Buffer; indexDesc: Descriptor; blobs: Map<string, Buffer> } {
  const mediaType = format === 'docker' ? MEDIA_TYPE.dockerManifestList : MEDIA_TYPE.ociIndex;
  const obj = { schemaVersion: 2, mediaType, manifests: entries.map((e) => ({ ...e.image.manifestDesc, platform: e.platform })) };
  const index = Buffer.from(JSON.stringify(obj));
  const blobs = new Map<string, Buffer>();
  for (const e of entries) for (const [k, v] of e.image.blobs) blobs.set(k, v);
  const indexDesc: Descriptor = { mediaType, digest: sha256(index), size: index.length };
  blobs.set(indexDesc.digest, index);
  return { index, indexDesc, blobs };
}

export async function storeBlobs(store: Store, blobs: Map<string, Buffer>): Promise<void> {
  for (const [d, b] of blobs) await writeBlob(store, `test-${d}`, b, { digest: d, size: b.length });
}

/** Writes an OCI image layout (oci-layout, index.json, blobs/) with `tag` pointing at `top`. */
export function writeOciLayout(dir: string, blobs: Map<string, Buffer>, top: Descriptor, tag: string): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const [d, b] of blobs) writeFileSync(join(dir, 'blobs', 'sha256', d.slice('sha256:'.length)), b);
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': tag } }] };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
}
