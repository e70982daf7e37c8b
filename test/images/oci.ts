// Turns layers into an image: the config (architecture, os, config, rootfs,
// history as real images carry them), the manifest, an OCI image layout
// (oci-layout, index.json, blobs/sha256) and a `docker save` archive in the
// shape docker 25+ writes (that same OCI layout plus manifest.json and
// repositories), which older dockerd (20.10) loads through manifest.json.
import { createReadStream, createWriteStream, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { sha256Hex, type LayerBlob } from './layer.ts';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The runtime part of an image config (the `config` object of the OCI image spec). */
export interface RunConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  StopSignal?: string;
  Labels?: Record<string, string>;
}

export interface ImageLayer extends LayerBlob {
  /** The history line that made it (as `docker history` shows). */
  createdBy: string;
}

export interface ImageSpec {
  /** Repository name, e.g. "busybox". */
  repository: string;
  tag: string;
  created: Date;
  layers: ImageLayer[];
  config: RunConfig;
  /** History entries without a layer (CMD, EXPOSE, ...), after the layers. */
  emptyHistory: string[];
}

export interface WrittenImage {
  configDigest: string;
  manifestDigest: string;
  /** "busybox:latest" */
  ref: string;
}

/** Writes config, manifest and index into the OCI layout `ociDir`, whose blobs/sha256 already holds the layers. */
export function writeOciLayout(ociDir: string, spec: ImageSpec): WrittenImage {
  const blobs = join(ociDir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const created = spec.created.toISOString();
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created,
    config: spec.config,
    rootfs: { type: 'layers', diff_ids: spec.layers.map((l) => l.diffId) },
    history: [
      ...spec.layers.map((l) => ({ created, created_by: l.createdBy, comment: 'dray test image' })),
      ...spec.emptyHistory.map((h) => ({ created, created_by: h, empty_layer: true })),
    ],
  };
  const configDesc = putBlob(blobs, MEDIA.config, JSON.stringify(config));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: configDesc,
    layers: spec.layers.map((l) => ({ mediaType: MEDIA.layerGzip, digest: l.digest, size: l.size })),
  };
  const manifestDesc = putBlob(blobs, MEDIA.manifest, JSON.stringify(manifest));
  const ref = `${spec.repository}:${spec.tag}`;
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [{
      ...manifestDesc,
      annotations: {
        'io.containerd.image.name': `docker.io/library/${ref}`,
        'org.opencontainers.image.ref.name': spec.tag,
      },
    }],
  };
  writeFileSync(join(ociDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(ociDir, 'index.json'), JSON.stringify(index));
  return { configDigest: configDesc.digest, manifestDigest: manifestDesc.digest, ref };
}

function putBlob(blobs: string, mediaType: string, text: string): { mediaType: string; digest: string; size: number } {
  const data = Buffer.from(text);
  const hex = sha256Hex(data);
  writeFileSync(join(blobs, hex), data);
  return { mediaType, digest: `sha256:${hex}`, size: data.length };
}

/** Writes the `docker save` archive of an image whose OCI layout is `ociDir`. Streams the blobs. */
export async function writeDockerArchive(ociDir: string, out: string, spec: ImageSpec, image: WrittenImage): Promise<void> {
  const blobPath = (digest: string): string => `blobs/sha256/${digest.slice('sha256:'.length)}`;
  const manifestJson = [{
    Config: blobPath(image.configDigest),
    RepoTags: [image.ref],
    Layers: spec.layers.map((l) => blobPath(l.digest)),
  }];
  const top = spec.layers[spec.layers.length - 1];
  const repositories = top ? { [spec.repository]: { [spec.tag]: top.digest.slice('sha256:'.length) } } : {};
  const blobs = [image.manifestDigest, image.configDigest, ...spec.layers.map((l) => l.digest)];
  const mtime = spec.created;
  const pack = tar.pack();
  const tmp = `${out}.tmp-${process.pid}`;
  const done = pipeline(pack, createWriteStream(tmp));
  const small = (name: string, body: string): Promise<void> => new Promise((resolve, reject) => {
    pack.entry({ name, mode: 0o644, mtime, type: 'file' }, body, (err) => (err ? reject(err) : resolve()));
  });
  const dir = (name: string): Promise<void> => new Promise((resolve, reject) => {
    pack.entry({ name, mode: 0o755, mtime, type: 'directory' }, (err) => (err ? reject(err) : resolve()));
  });
  const filling = (async () => {
    await dir('blobs/');
    await dir('blobs/sha256/');
    for (const d of [...new Set(blobs)].sort()) {
      const path = join(ociDir, blobPath(d));
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name: blobPath(d), mode: 0o644, mtime, type: 'file', size: statSync(path).size },
          (err) => (err ? reject(err) : resolve()));
        pipeline(createReadStream(path), entry).catch(reject);
      });
    }
    await small('index.json', readFileSync(join(ociDir, 'index.json'), 'utf8'));
    await small('manifest.json', JSON.stringify(manifestJson));
    await small('oci-layout', readFileSync(join(ociDir, 'oci-layout'), 'utf8'));
    await small('repositories', JSON.stringify(repositories));
    pack.finalize();
  })();
  filling.catch((err: unknown) => pack.destroy(err as Error));
  await Promise.all([filling, done]);
  renameSync(tmp, out);
}
