// `docker load`: reads a docker save archive (the old layout: manifest.json,
// <id>.json, <id>/layer.tar, possibly symlinked; or docker 25+'s, which is
// also an OCI layout) or a plain OCI layout tar (index.json, blobs/).
//
// The archive is streamed once: small JSON documents are kept in memory
// (bounded), everything else goes into the content store, verified against
// its name when the name is a digest (blobs/<alg>/<hex>). Then every
// reference is checked: paths in manifest.json and link targets must name
// entries of the archive (no absolute paths, no ".."), descriptors must match
// digests and sizes, configs must parse, and (old layout) every layer's
// uncompressed digest must equal the config's diff_id. Image records are
// written only when all images checked out. Blobs ingested before a failure
// are unreferenced content, which garbage collection removes.
import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { ContentError } from '../content/errors.ts';
import { parseDigest } from '../content/digest.ts';
import type { Descriptor, Store } from '../content/types.ts';
import { writeBlob } from '../content/local-store.ts';
import { parseImageConfig } from '../manifest/config.ts';
import { MAX_MANIFEST_BYTES, encodeManifest, parseManifest } from '../manifest/manifest.ts';
import type { ImageManifest } from '../manifest/manifest.ts';
import { MEDIA_TYPE } from '../manifest/media-types.ts';
import { formatReference, parseImageReference } from '../reference/reference.ts';
import { decompress } from '../layers/compression.ts';
import { readTar } from '../layers/tar-reader.ts';
import { ArchiveError, archivePath } from './errors.ts';

export interface LoadedImage {
  /** normalized name (docker.io/library/busybox:latest); '' when the archive gave none */
  name: string;
  target: Descriptor;
  /** the config digest: Docker's image ID */
  id: string;
}

export interface LoadOptions {
  content: Store;
  /** Where records go; when absent, the caller records the returned images. */
  images?: { put(name: string, target: Descriptor): unknown };
  maxEntries?: number;
}

const MAX_JSON = 16 << 20;
const MAX_LINK_HOPS = 16;

interface Blob { digest: string; size: number }

function isJsonName(p: string): boolean {
  const base = posix.basename(p);
  return p === 'manifest.json' || p === 'index.json' || p === 'repositories' || p === 'oci-layout' || base === 'json' || base === 'VERSION' ||
    (base.endsWith('.json') && !p.startsWith('blobs/'));
}

/** Digest a blobs/<alg>/<hex> path claims, or undefined for other paths. */
function claimedDigest(p: string): string | undefined {
  const m = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(p);
  if (!m) return undefined;
  const d = `${m[1]}:${m[2]}`;
  try {
    parseDigest(d);
  } catch {
    throw new ArchiveError(`archive entry ${p}: not a valid digest path`);
  }
  return d;
}

class Collected {
  readonly json = new Map<string, Buffer>();
  readonly blobs = new Map<string, Blob>();
  readonly links = new Map<string, string>();
  private readonly content: Store;

  constructor(content: Store) {
    this.content = content;
  }

  private resolveLinks(p: string): string {
    let cur = p;
    for (let i = 0; i < MAX_LINK_HOPS; i++) {
      const next = this.links.get(cur);
      if (next === undefined) return cur;
      cur = next;
    }
    throw new ArchiveError(`archive entry ${p}: too many levels of links`);
  }

  /** The blob an archive path names (written into the content store if it was kept in memory). */
  async blob(p: unknown, what: string): Promise<Blob> {
    const path = this.resolveLinks(archivePath(p, what));
    const b = this.blobs.get(path);
    if (b) return b;
    const j = this.json.get(path);
    if (j) {
      const digest = `sha256:${createHash('sha256').update(j).digest('hex')}`;
      await writeBlob(this.content, `load-${digest}`, j, { digest });
      const blob = { digest, size: j.length };
      this.blobs.set(path, blob);
      return blob;
    }
    throw new ArchiveError(`${what}: the archive has no ${JSON.stringify(path)}`);
  }

  /** A JSON document by path (in memory, or read back from the store, bounded). */
  async document(p: unknown, what: string): Promise<Buffer> {
    const path = this.resolveLinks(archivePath(p, what));
    const j = this.json.get(path);
    if (j) return j;
    const b = this.blobs.get(path);
    if (!b) throw new ArchiveError(`${what}: the archive has no ${JSON.stringify(path)}`);
    return this.content.readBlob(b, MAX_JSON);
  }

  has(p: string): boolean {
    return this.json.has(p) || this.blobs.has(p) || this.links.has(p);
  }
}

async function ingest(content: Store, path: string, size: number, body: AsyncIterable<Buffer>): Promise<Blob> {
  const expected = claimedDigest(path);
  const ref = `load-${randomBytes(8).toString('hex')}`;
  let w;
  try {
    w = await content.writer(expected ? { ref, total: size, expected } : { ref, total: size });
  } catch (e) {
    if (e instanceof ContentError && e.code === 'already-exists' && expected) {
      for await (const _ of body) { /* skip: the blob is there already */ }
      const info = await content.info(expected);
      if (info.size !== size) throw new ArchiveError(`archive entry ${path}: ${size} bytes, but ${expected} has ${info.size}`);
      return { digest: expected, size };
    }
    throw e;
  }
  try {
    for await (const c of body) await w.write(c);
    const digest = expected ?? w.digest();
    try {
      await w.commit(size, digest);
    } catch (e) {
      if (!(e instanceof ContentError && e.code === 'already-exists')) {
        if (expected && e instanceof ContentError && e.code === 'failed-precondition') {
          throw new ArchiveError(`archive entry ${path}: content does not match its digest (${e.message})`);
        }
        throw e;
      }
    }
    return { digest, size };
  } catch (e) {
    await content.abort(ref).catch(() => {});
    throw e;
  } finally {
    await w.close();
  }
}

/** Reads the archive's entries into memory (JSON) and the content store (the rest). */
async function collect(src: AsyncIterable<Buffer>, content: Store, maxEntries: number): Promise<Collected> {
  const c = new Collected(content);
  let n = 0;
  for await (const { header: h, body } of readTar(src)) {
    if (++n > maxEntries) throw new ArchiveError(`archive has more than ${maxEntries} entries`);
    if (h.type === 'dir' && h.name.split('/').every((c) => c === '' || c === '.')) continue; // "./"
    const path = archivePath(h.name, `archive entry ${JSON.stringify(h.name)}`);
    if (c.has(path)) throw new ArchiveError(`archive entry ${path} appears twice`);
    switch (h.type) {
      case 'dir':
        break;
      case 'symlink': {
        if (h.linkname.startsWith('/')) throw new ArchiveError(`archive entry ${path}: symlink to an absolute path ${JSON.stringify(h.linkname)}`);
        const target = posix.normalize(posix.join(posix.dirname(path), h.linkname));
        c.links.set(path, archivePath(target, `archive entry ${path}: symlink target`));
        break;
      }
      case 'link':
        c.links.set(path, archivePath(h.linkname, `archive entry ${path}: hardlink target`));
        break;
      case 'file':
        if (isJsonName(path)) {
          if (h.size > MAX_JSON) throw new ArchiveError(`archive entry ${path}: ${h.size} bytes is over the ${MAX_JSON}-byte limit`);
          const parts: Buffer[] = [];
          for await (const b of body) parts.push(b);
          c.json.set(path, Buffer.concat(parts));
        } else {
          c.blobs.set(path, await ingest(content, path, h.size, body));
        }
        break;
      default:
        throw new ArchiveError(`archive entry ${path}: unexpected ${h.type} entry`);
    }
  }
  return c;
}

function parseJson(data: Buffer, what: string): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    throw new ArchiveError(`${what} is not valid JSON`);
  }
}

function checkDesc(blob: Blob, desc: Descriptor, what: string): void {
  if (blob.digest !== desc.digest) throw new ArchiveError(`${what}: archive holds ${blob.digest}, descriptor says ${desc.digest}`);
  if (blob.size !== desc.size) throw new ArchiveError(`${what}: ${blob.size} bytes, descriptor says ${desc.size}`);
}

/** The uncompressed digest of a stored layer (its diff_id). */
async function diffIdOf(content: Store, blob: Blob): Promise<{ diffId: string; compression: string }> {
  const { compression, stream } = await decompress((await content.stream(blob)) as AsyncIterable<Buffer>);
  if (compression === 'none') {
    stream.destroy();
    return { diffId: blob.digest, compression };
  }
  const h = createHash('sha256');
  for await (const c of stream as AsyncIterable<Buffer>) h.update(c);
  return { diffId: `sha256:${h.digest('hex')}`, compression };
}

function normalizeName(tag: unknown, what: string): string {
  if (typeof tag !== 'string') throw new ArchiveError(`${what}: RepoTags must be strings`);
  try {
    return formatReference(parseImageReference(tag));
  } catch (e) {
    throw new ArchiveError(`${what}: invalid image name ${JSON.stringify(tag)}: ${(e as Error).message}`);
  }
}

/** Every blob an OCI manifest or index references must be in the archive (foreign layers excepted). */
async function checkTree(c: Collected, desc: Descriptor, what: string, depth = 0): Promise<{ manifest?: ImageManifest; configDigest: string }> {
  if (depth > 4) throw new ArchiveError(`${what}: indexes nested too deep`);
  const blob = await c.blob(`blobs/${desc.digest.replace(':', '/')}`, what);
  checkDesc(blob, desc, what);
  const parsed = parseManifest(await c.document(`blobs/${desc.digest.replace(':', '/')}`, what), desc.mediaType);
  if (parsed.kind === 'index') {
    let first: { manifest?: ImageManifest; configDigest: string } | undefined;
    for (const [i, m] of parsed.index.manifests.entries()) {
      // Other platforms' manifests are commonly left out of an archive.
      if (!c.has(`blobs/${m.digest.replace(':', '/')}`)) continue;
      const r = await checkTree(c, m, `${what} manifests[${i}]`, depth + 1);
      first ??= r;
    }
    if (!first) throw new ArchiveError(`${what}: none of the index's manifests is in the archive`);
    return first;
  }
  const m = parsed.manifest;
  const cfgBlob = await c.blob(`blobs/${m.config.digest.replace(':', '/')}`, `${what} config`);
  checkDesc(cfgBlob, m.config, `${what} config`);
  const config = parseImageConfig(await c.document(`blobs/${m.config.digest.replace(':', '/')}`, `${what} config`));
  if (config.rootfs.diff_ids.length !== m.layers.length) {
    throw new ArchiveError(`${what}: ${m.layers.length} layers but the config lists ${config.rootfs.diff_ids.length} diff_ids`);
  }
  for (const [i, l] of m.layers.entries()) {
    const p = `blobs/${l.digest.replace(':', '/')}`;
    if (!c.has(p) && (l.urls?.length ?? 0) > 0) continue; // foreign layer
    checkDesc(await c.blob(p, `${what} layer ${i}`), l, `${what} layer ${i}`);
  }
  return { manifest: m, configDigest: m.config.digest };
}

async function loadOci(c: Collected, names: Map<string, string[]>): Promise<LoadedImage[]> {
  const index = parseManifest(c.json.get('index.json') as Buffer, MEDIA_TYPE.ociIndex);
  if (index.kind !== 'index') throw new ArchiveError('index.json is not an image index');
  const out: LoadedImage[] = [];
  for (const [i, desc] of index.index.manifests.entries()) {
    const what = `index.json manifests[${i}]`;
    const { configDigest } = await checkTree(c, desc, what);
    const target: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
    const given = desc.annotations?.['io.containerd.image.name'];
    const ref = desc.annotations?.['org.opencontainers.image.ref.name'];
    let list: string[] = [];
    if (given) list = [normalizeName(given, what)];
    else if (ref && /[/:]/.test(ref)) list = [normalizeName(ref, what)];
    else list = names.get(configDigest) ?? [];
    if (list.length === 0) out.push({ name: '', target, id: configDigest });
    for (const name of list) out.push({ name, target, id: configDigest });
  }
  return out;
}

interface DockerManifestEntry { Config: unknown; RepoTags?: unknown; Layers: unknown }

function dockerEntries(c: Collected): DockerManifestEntry[] {
  const v = parseJson(c.json.get('manifest.json') as Buffer, 'manifest.json');
  if (!Array.isArray(v)) throw new ArchiveError('manifest.json must be an array');
  return v.map((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new ArchiveError(`manifest.json[${i}] must be an object`);
    const o = e as DockerManifestEntry;
    if (!Array.isArray(o.Layers)) throw new ArchiveError(`manifest.json[${i}].Layers must be an array`);
    if (o.RepoTags !== undefined && o.RepoTags !== null && !Array.isArray(o.RepoTags)) throw new ArchiveError(`manifest.json[${i}].RepoTags must be an array`);
    return o;
  });
}

async function loadDocker(c: Collected, content: Store): Promise<LoadedImage[]> {
  const out: LoadedImage[] = [];
  for (const [i, e] of dockerEntries(c).entries()) {
    const what = `manifest.json[${i}]`;
    const cfgBytes = await c.document(e.Config, `${what}.Config`);
    if (cfgBytes.length > MAX_MANIFEST_BYTES * 4) throw new ArchiveError(`${what}: config too large`);
    const config = parseImageConfig(cfgBytes);
    const cfg = await c.blob(e.Config, `${what}.Config`);
    const layers: Descriptor[] = [];
    const paths = e.Layers as unknown[];
    if (paths.length !== config.rootfs.diff_ids.length) {
      throw new ArchiveError(`${what}: ${paths.length} layers but the config lists ${config.rootfs.diff_ids.length} diff_ids`);
    }
    let zstd = false;
    for (const [j, p] of paths.entries()) {
      const blob = await c.blob(p, `${what}.Layers[${j}]`);
      const { diffId, compression } = await diffIdOf(content, blob);
      if (diffId !== config.rootfs.diff_ids[j]) {
        throw new ArchiveError(`${what}.Layers[${j}]: its content is ${diffId}, the config says ${config.rootfs.diff_ids[j]}`);
      }
      if (compression === 'zstd') zstd = true;
      const mediaType = compression === 'gzip' ? MEDIA_TYPE.dockerLayerGzip : compression === 'zstd' ? MEDIA_TYPE.ociLayerZstd : MEDIA_TYPE.dockerLayer;
      layers.push({ mediaType, digest: blob.digest, size: blob.size });
    }
    // Docker's own schema2 manifest, unless a zstd layer needs the OCI one.
    const manifest: ImageManifest = zstd
      ? { schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: { mediaType: MEDIA_TYPE.ociConfig, digest: cfg.digest, size: cfg.size }, layers: layers.map((l) => ({ ...l, mediaType: l.mediaType === MEDIA_TYPE.dockerLayerGzip ? MEDIA_TYPE.ociLayerGzip : l.mediaType === MEDIA_TYPE.dockerLayer ? MEDIA_TYPE.ociLayer : l.mediaType })) }
      : { schemaVersion: 2, mediaType: MEDIA_TYPE.dockerManifest, config: { mediaType: MEDIA_TYPE.dockerConfig, digest: cfg.digest, size: cfg.size }, layers };
    const bytes = encodeManifest(manifest);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await writeBlob(content, `load-${digest}`, bytes, { digest });
    const target: Descriptor = { mediaType: manifest.mediaType as string, digest, size: bytes.length };
    const tags = (e.RepoTags as unknown[] | null | undefined) ?? [];
    if (tags.length === 0) out.push({ name: '', target, id: cfg.digest });
    for (const t of tags) out.push({ name: normalizeName(t, what), target, id: cfg.digest });
  }
  return out;
}

/** Names manifest.json gives each config (docker 25+ archives carry both files). */
async function dockerNames(c: Collected): Promise<Map<string, string[]>> {
  const names = new Map<string, string[]>();
  if (!c.json.has('manifest.json')) return names;
  for (const [i, e] of dockerEntries(c).entries()) {
    const cfg = await c.blob(e.Config, `manifest.json[${i}].Config`);
    const list = names.get(cfg.digest) ?? [];
    for (const t of (e.RepoTags as unknown[] | null | undefined) ?? []) list.push(normalizeName(t, `manifest.json[${i}]`));
    names.set(cfg.digest, list);
  }
  return names;
}

export async function loadArchive(src: Readable | AsyncIterable<Buffer>, opts: LoadOptions): Promise<LoadedImage[]> {
  // docker load accepts a compressed archive too.
  const { stream } = await decompress(src as AsyncIterable<Buffer>);
  const c = await collect(stream as AsyncIterable<Buffer>, opts.content, opts.maxEntries ?? 100_000);
  let images: LoadedImage[];
  if (c.json.has('index.json')) {
    const layout = c.json.get('oci-layout');
    if (!layout) throw new ArchiveError('index.json without oci-layout: not an OCI image layout');
    const v = parseJson(layout, 'oci-layout') as { imageLayoutVersion?: unknown };
    if (v.imageLayoutVersion !== '1.0.0') throw new ArchiveError(`unsupported OCI layout version ${JSON.stringify(v.imageLayoutVersion)}`);
    images = await loadOci(c, await dockerNames(c));
  } else if (c.json.has('manifest.json')) {
    images = await loadDocker(c, opts.content);
  } else {
    throw new ArchiveError('neither manifest.json nor index.json: not a docker save archive or an OCI layout');
  }
  if (opts.images) for (const img of images) if (img.name) opts.images.put(img.name, img.target);
  return images;
}
