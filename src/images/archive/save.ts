// `docker save`: images as one tar that is both Docker's archive format
// (manifest.json, repositories) and an OCI image layout (oci-layout,
// index.json, blobs/<alg>/<hex>), as docker 25+ writes it. Older dockers load
// it through manifest.json, OCI tools (skopeo oci-archive:, umoci) through
// index.json. Blobs are written as stored (layers stay compressed: docker
// load decompresses them), each once, so digests stay the registry's.
//
// A multi-platform image is saved as its one platform's manifest unless
// allPlatforms is set: then the index itself goes into index.json with every
// platform's manifest, config and layers the store has (as docker 25+ saves
// what it has locally; platforms never pulled are left out, their
// descriptors stay in the index). manifest.json, which names one config per
// image, keeps the chosen platform's manifest.
//
// Non-distributable (foreign) layers: written when the store has them (pulled
// from their urls), else left out of the archive; either way they stay in
// manifest.json's Layers (docker load refuses "layers length mismatch"
// otherwise, and needs no file for a layer it already has, the Windows base
// layer case) and are described in LayerSources, as docker writes them.
import type { Descriptor, Platform, Provider } from '../content/types.ts';
import { MEDIA_TYPE } from '../manifest/media-types.ts';
import { parseImageConfig } from '../manifest/config.ts';
import { parseManifest, selectManifest } from '../manifest/manifest.ts';
import type { ImageManifest } from '../manifest/manifest.ts';
import { hostPlatform } from '../manifest/platform.ts';
import { familiarName, familiarString, formatReference, parseImageReference } from '../reference/reference.ts';
import type { Sink } from '../layers/diff.ts';
import { ArchiveError } from './errors.ts';
import { TarOut } from './tar-out.ts';

export interface SaveImage {
  /** a reference (busybox:latest, docker.io/library/busybox:latest) or '' for an untagged image */
  name: string;
  /** the image's manifest or index descriptor */
  target: Descriptor;
}

export interface SaveOptions {
  content: Pick<Provider, 'readBlob' | 'stream'>;
  images: SaveImage[];
  platform?: Platform;
  /** Save a multi-platform image's whole index (what the store has of it), not one platform. */
  allPlatforms?: boolean;
}

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
  LayerSources?: Record<string, Descriptor>;
}

function isForeign(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE.dockerForeignLayerGzip || mediaType.includes('nondistributable');
}

function isNotFound(e: unknown): boolean {
  return (e as { code?: string }).code === 'not-found' || (e as NodeJS.ErrnoException).code === 'ENOENT';
}

function blobPath(digest: string): string {
  const i = digest.indexOf(':');
  return `blobs/${digest.slice(0, i)}/${digest.slice(i + 1)}`;
}

/** The platform's image manifest of a target (an index is resolved to one manifest). */
async function resolveManifest(content: SaveOptions['content'], target: Descriptor, platform: Platform): Promise<{ desc: Descriptor; manifest: ImageManifest }> {
  let desc = target;
  for (let depth = 0; depth < 4; depth++) {
    const parsed = parseManifest(await content.readBlob(desc), desc.mediaType);
    if (parsed.kind === 'manifest') return { desc, manifest: parsed.manifest };
    const pick = selectManifest(parsed.index, platform);
    if (!pick) throw new ArchiveError(`image ${desc.digest} has no manifest for ${platform.os}/${platform.architecture}`);
    desc = pick;
  }
  throw new ArchiveError(`image ${target.digest}: indexes nested too deep`);
}

export async function saveImages(opts: SaveOptions, sink: Sink): Promise<void> {
  const platform = opts.platform ?? hostPlatform();
  const out = new TarOut(sink);
  const written = new Set<string>();
  const index: Descriptor[] = [];
  const dockerManifest: DockerManifestEntry[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  await out.file('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  await out.dir('blobs/');
  const dirs = new Set<string>();

  /** Writes a blob once; optional ones the store lacks are skipped (false). */
  const blob = async (d: Descriptor, data?: Buffer, optional = false): Promise<boolean> => {
    if (written.has(d.digest)) return true;
    let src: Awaited<ReturnType<SaveOptions['content']['stream']>> | undefined;
    if (!data) {
      try {
        src = await opts.content.stream(d);
      } catch (e) {
        if (optional && isNotFound(e)) return false;
        throw e;
      }
    }
    const alg = d.digest.slice(0, d.digest.indexOf(':'));
    if (!dirs.has(alg)) {
      dirs.add(alg);
      await out.dir(`blobs/${alg}/`);
    }
    if (data) await out.file(blobPath(d.digest), data);
    else await out.stream(blobPath(d.digest), d.size, src!);
    written.add(d.digest);
    return true;
  };
  const optionalBlob = async (d: Descriptor): Promise<Buffer | undefined> => {
    try {
      return await opts.content.readBlob(d);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  /** A manifest's config and layers (foreign ones only when the store has them). */
  const imageBlobs = async (manifest: ImageManifest): Promise<void> => {
    await blob(manifest.config, await opts.content.readBlob(manifest.config));
    for (const l of manifest.layers) await blob(l, undefined, isForeign(l.mediaType));
  };
  /** Every platform of an index the store has (nested indexes included), each with its blobs. */
  const wholeIndex = async (desc: Descriptor, depth: number): Promise<void> => {
    const data = await opts.content.readBlob(desc);
    const parsed = parseManifest(data, desc.mediaType);
    await blob(desc, data);
    if (parsed.kind === 'manifest') {
      await imageBlobs(parsed.manifest);
      return;
    }
    if (depth > 3) throw new ArchiveError(`image ${desc.digest}: indexes nested too deep`);
    for (const m of parsed.index.manifests) {
      // A platform never pulled: its descriptor stays in the index, its blobs are not here.
      if (!(await optionalBlob(m))) continue;
      await wholeIndex(m, depth + 1);
    }
  };

  const byManifest = new Map<string, number>();
  for (const img of opts.images) {
    const { desc, manifest } = await resolveManifest(opts.content, img.target, platform);
    const whole = opts.allPlatforms === true && img.target.digest !== desc.digest;
    if (whole) await wholeIndex(img.target, 0);
    await blob(desc, await opts.content.readBlob(desc));
    await imageBlobs(manifest);
    const top = whole ? img.target : desc;
    const ref = img.name ? parseImageReference(img.name) : undefined;
    const annotations: Record<string, string> = {};
    if (ref) {
      annotations['io.containerd.image.name'] = formatReference(ref);
      if (ref.tag) annotations['org.opencontainers.image.ref.name'] = ref.tag;
    }
    index.push({ mediaType: top.mediaType, digest: top.digest, size: top.size, ...(ref ? { annotations } : {}) });
    let entry = byManifest.get(desc.digest);
    if (entry === undefined) {
      entry = dockerManifest.length;
      byManifest.set(desc.digest, entry);
      const foreign = manifest.layers.filter((l) => isForeign(l.mediaType));
      const diffIds = foreign.length ? parseImageConfig(await opts.content.readBlob(manifest.config)).rootfs.diff_ids : [];
      const sources: Record<string, Descriptor> = {};
      manifest.layers.forEach((l, i) => {
        const diffId = diffIds[i];
        if (isForeign(l.mediaType) && diffId) sources[diffId] = { mediaType: l.mediaType, digest: l.digest, size: l.size, ...(l.urls ? { urls: l.urls } : {}) };
      });
      dockerManifest.push({
        Config: blobPath(manifest.config.digest),
        RepoTags: null,
        Layers: manifest.layers.map((l) => blobPath(l.digest)),
        ...(foreign.length ? { LayerSources: sources } : {}),
      });
    }
    if (ref?.tag) {
      const e = dockerManifest[entry]!;
      (e.RepoTags ??= []).push(familiarString({ domain: ref.domain, path: ref.path, tag: ref.tag }));
      const top = manifest.layers[manifest.layers.length - 1];
      if (top) (repositories[familiarName(ref)] ??= {})[ref.tag] = top.digest.slice(top.digest.indexOf(':') + 1);
    }
  }
  await out.file('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: index })));
  await out.file('manifest.json', Buffer.from(JSON.stringify(dockerManifest)));
  await out.file('repositories', Buffer.from(JSON.stringify(repositories)));
  await out.end();
}
