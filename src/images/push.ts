// Push: an image from the content store to a registry. Blobs first (HEAD to
// skip what is there, a cross-repository mount when the blob came from
// another repository of the same registry, else a monolithic or chunked
// upload), then the manifests, the tag last.
import type { Descriptor, Platform } from './content/types.ts';
import { shortId } from './content/digest.ts';
import type { ImageStores } from './metadata/open.ts';
import { parseManifest, selectManifest, ManifestError, type ParsedManifest } from './manifest/manifest.ts';
import { layerType } from './manifest/media-types.ts';
import { hostPlatform, normalizePlatform } from './manifest/platform.ts';
import { formatReference, parseImageReference, type Reference } from './reference/reference.ts';
import type { RegistryClient } from './registry/client.ts';
import type { ProgressSink } from './registry/progress.ts';
import type { Repository } from './registry/repository.ts';
import { SOURCE_LABEL_PREFIX } from './pull.ts';

export interface PushOptions {
  /** The local image to push (default: the reference itself). */
  source?: string;
  /** Upload in PATCH chunks of this many bytes (default: one PUT per blob). */
  chunkSize?: number;
  /** Parallel uploads (Docker's max-concurrent-uploads is 5). */
  concurrency?: number;
  onProgress?: ProgressSink;
  /** Push non-distributable layers too (Docker's allow-nondistributable-artifacts). */
  allowNondistributable?: boolean;
  /** For an index whose children are not all local: the platform to push alone. */
  platform?: Platform;
}

export interface PushResult {
  name: string;
  digest: string;
  size: number;
  mediaType: string;
}

async function parsedAt(stores: ImageStores, d: Descriptor): Promise<ParsedManifest> {
  return parseManifest(await stores.content.readBlob(d, 16 << 20), d.mediaType);
}

export async function push(stores: ImageStores, client: RegistryClient, reference: string, opts: PushOptions = {}): Promise<PushResult> {
  const ref = parseImageReference(reference);
  const src = opts.source ? parseImageReference(opts.source) : ref;
  const record = stores.images.get(formatReference(src));
  if (!record) throw new Error(`An image does not exist locally with the tag: ${formatReference(src)}`);
  const repo = client.repositories(ref, 'push')[0]!;
  const sink = opts.onProgress ?? (() => undefined);

  // What to push: the index with all its children when they are all here,
  // else (a single-platform pull of a multi-platform image) just one manifest.
  let top = record.target;
  let parsedTop = await parsedAt(stores, top);
  const manifests: { desc: Descriptor; parsed: ParsedManifest }[] = [];
  if (parsedTop.kind === 'index') {
    const kids = parsedTop.index.manifests;
    const present = await Promise.all(kids.map((k) => stores.content.exists(k.digest)));
    if (present.every(Boolean)) {
      for (const k of kids) manifests.push({ desc: k, parsed: await parsedAt(stores, k) });
    } else {
      const chosen = selectManifest(parsedTop.index, normalizePlatform(opts.platform ?? hostPlatform()));
      if (!chosen || !(await stores.content.exists(chosen.digest))) throw new ManifestError(`${formatReference(src)}: no local manifest for the platform to push`);
      top = chosen;
      parsedTop = await parsedAt(stores, chosen);
    }
  }
  if (parsedTop.kind === 'manifest') manifests.push({ desc: top, parsed: parsedTop });

  // Blobs, deduplicated across manifests.
  const blobs = new Map<string, Descriptor>();
  for (const m of manifests) {
    if (m.parsed.kind !== 'manifest') throw new ManifestError('nested indexes are not supported for push');
    for (const l of m.parsed.manifest.layers) {
      if (layerType(l.mediaType)?.foreign && !opts.allowNondistributable) {
        sink({ id: shortId(l.digest), status: 'Skipped foreign layer' });
        continue;
      }
      blobs.set(l.digest, l);
    }
    blobs.set(m.parsed.manifest.config.digest, m.parsed.manifest.config);
  }
  const list = [...blobs.values()];
  for (const b of list) sink({ id: shortId(b.digest), status: 'Preparing' });
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < list.length) {
      const b = list[next++]!;
      try {
        await pushOneBlob(stores, repo, ref, b, opts, sink);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 5, list.length)) }, () => worker()));
  if (failed !== undefined) throw failed;

  const tag = ref.tag ?? ref.digest!;
  let pushedDigest = '';
  if (manifests.length === 1 && manifests[0]!.desc === top) {
    pushedDigest = await repo.putManifest(tag, top.mediaType, await stores.content.readBlob(top, 16 << 20));
  } else {
    for (const m of manifests) await repo.putManifest(m.desc.digest, m.desc.mediaType, await stores.content.readBlob(m.desc, 16 << 20));
    pushedDigest = await repo.putManifest(tag, top.mediaType, await stores.content.readBlob(top, 16 << 20));
  }
  return { name: formatReference(ref), digest: pushedDigest, size: top.size, mediaType: top.mediaType };
}

async function pushOneBlob(stores: ImageStores, repo: Repository, ref: Reference, b: Descriptor, opts: PushOptions, sink: ProgressSink): Promise<void> {
  const id = shortId(b.digest);
  if ((await repo.blobExists(b.digest)) !== undefined) {
    sink({ id, status: 'Layer already exists' });
    return;
  }
  // The blob came from another repository on this registry: mount it.
  const key = SOURCE_LABEL_PREFIX + ref.domain;
  const from = (stores.content.labels.get(b.digest)[key] ?? '').split(',').filter((p) => p && p !== ref.path);
  for (const f of from) {
    if (await repo.mountBlob(b.digest, f).catch(() => false)) {
      sink({ id, status: 'Mounted from', detail: f });
      addSource(stores, key, b.digest, ref.path);
      return;
    }
  }
  sink({ id, status: 'Pushing', progressDetail: { current: 0, total: b.size } });
  await repo.pushBlob(b, stores.content, { ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}), progress: sink });
  addSource(stores, key, b.digest, ref.path);
  sink({ id, status: 'Pushed' });
}

function addSource(stores: ImageStores, key: string, digest: string, path: string): void {
  const labels = stores.content.labels.get(digest);
  const repos = new Set((labels[key] ?? '').split(',').filter(Boolean));
  repos.add(path);
  stores.content.labels.set(digest, { ...labels, [key]: [...repos].join(',') });
}
