// `docker save`: images as one tar that is both Docker's archive format
// (manifest.json, repositories) and an OCI image layout (oci-layout,
// index.json, blobs/<alg>/<hex>), as docker 25+ writes it. Older dockers load
// it through manifest.json, OCI tools (skopeo oci-archive:, umoci) through
// index.json. Blobs are written as stored (layers stay compressed: docker
// load decompresses them), each once, so digests stay the registry's.
import type { Descriptor, Platform, Provider } from '../content/types.ts';
import { MEDIA_TYPE } from '../manifest/media-types.ts';
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
  const dockerManifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  await out.file('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  await out.dir('blobs/');
  const dirs = new Set<string>();

  const blob = async (d: Descriptor, data?: Buffer) => {
    if (written.has(d.digest)) return;
    const alg = d.digest.slice(0, d.digest.indexOf(':'));
    if (!dirs.has(alg)) {
      dirs.add(alg);
      await out.dir(`blobs/${alg}/`);
    }
    if (data) await out.file(blobPath(d.digest), data);
    else await out.stream(blobPath(d.digest), d.size, await opts.content.stream(d));
    written.add(d.digest);
  };

  const byManifest = new Map<string, number>();
  for (const img of opts.images) {
    const { desc, manifest } = await resolveManifest(opts.content, img.target, platform);
    await blob(desc, await opts.content.readBlob(desc));
    await blob(manifest.config, await opts.content.readBlob(manifest.config));
    for (const l of manifest.layers) {
      // Foreign layers are not ours to redistribute (Docker leaves them out too).
      if (l.mediaType === MEDIA_TYPE.dockerForeignLayerGzip || l.mediaType.includes('nondistributable')) continue;
      await blob(l);
    }
    const ref = img.name ? parseImageReference(img.name) : undefined;
    const annotations: Record<string, string> = {};
    if (ref) {
      annotations['io.containerd.image.name'] = formatReference(ref);
      if (ref.tag) annotations['org.opencontainers.image.ref.name'] = ref.tag;
    }
    index.push({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size, ...(ref ? { annotations } : {}) });
    let entry = byManifest.get(desc.digest);
    if (entry === undefined) {
      entry = dockerManifest.length;
      byManifest.set(desc.digest, entry);
      dockerManifest.push({
        Config: blobPath(manifest.config.digest),
        RepoTags: null,
        Layers: manifest.layers.map((l) => blobPath(l.digest)),
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
