// Pull: resolve a reference, fetch the index/manifest, config and layers into
// the content store under a lease (so GC cannot race the pull), record the
// image, and report progress per layer as Docker does. Layers are handed to
// an optional unpack hook in order, each as soon as it and the ones below it
// are down, so unpacking overlaps downloading.
import { join } from 'node:path';
import type { Descriptor, Platform, Writer } from './content/types.ts';
import { ContentError, isContentError } from './content/errors.ts';
import { writeBlob } from './content/local-store.ts';
import { shortId } from './content/digest.ts';
import type { ImageStores } from './metadata/open.ts';
import { parseImageConfig, type ImageConfig } from './manifest/config.ts';
import { parseManifest, selectManifest, ManifestError, type ImageManifest } from './manifest/manifest.ts';
import { CONFIG_TYPES, layerType } from './manifest/media-types.ts';
import { formatPlatform, hostPlatform, normalizePlatform } from './manifest/platform.ts';
import { formatReference, parseImageReference, type Reference } from './reference/reference.ts';
import type { RegistryClient } from './registry/client.ts';
import { RegistryError } from './registry/errors.ts';
import type { ProgressSink } from './registry/progress.ts';
import type { Repository } from './registry/repository.ts';
import type { Snapshotter } from './snapshots/types.ts';
import { LayerFeed } from './layer-feed.ts';
import { warmApplyWorker } from './layers/apply.ts';
import { ApplySlots, chainIds, settleInOrder, unpackLayer, type UnpackProgress } from './unpack.ts';

export interface ImageLayer {
  index: number;
  descriptor: Descriptor;
  diffId: string;
  /** Non-distributable layer that was not downloaded (its blob is absent). */
  skipped?: boolean;
}

export interface PullOptions {
  platform?: Platform;
  onProgress?: ProgressSink;
  /** Parallel layer downloads (Docker's max-concurrent-downloads, default 3). */
  concurrency?: number;
  /** Fetch non-distributable layers from their urls (default: skip them, keep the descriptor). */
  allowNondistributableUrls?: boolean;
  /** Called once per layer, in order, each after the layers below it. */
  unpack?: (layer: ImageLayer, image: { config: ImageConfig; manifest: ImageManifest }) => Promise<void>;
  /**
   * Unpack into this snapshotter while pulling: each layer is inflated and
   * applied as its bytes arrive (once the layers below it are committed),
   * and its snapshot committed only after both its digest and its diff_id
   * verified. Skipped (foreign) layers are left out of the chain.
   */
  unpackTo?: { snapshotter: Snapshotter; onProgress?: (p: UnpackProgress) => void };
}

export interface PullResult {
  name: string;
  reference: Reference;
  /** What the image record points at: the index when the registry served one. */
  target: Descriptor;
  manifest: Descriptor;
  configDesc: Descriptor;
  config: ImageConfig;
  layers: ImageLayer[];
  /** with unpackTo: the top snapshot's name ('' without layers) */
  chainId?: string;
}

export const SOURCE_LABEL_PREFIX = 'containerd.io/distribution.source.';

function sourceLabels(stores: ImageStores, ref: Reference, digest: string): Record<string, string> {
  const key = SOURCE_LABEL_PREFIX + ref.domain;
  const prev = stores.content.labels.get(digest)[key];
  const repos = new Set((prev ?? '').split(',').filter(Boolean));
  repos.add(ref.path);
  return { [key]: [...repos].join(',') };
}

/** The name an image record gets: the full normalized reference. */
export function imageName(ref: Reference): string {
  return formatReference(ref);
}

export async function pull(stores: ImageStores, client: RegistryClient, reference: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseImageReference(reference);
  const want = normalizePlatform(opts.platform ?? hostPlatform());
  const tagOrDigest = ref.digest ?? ref.tag!;
  const progress = opts.onProgress ?? (() => undefined);
  // The apply worker's start (~50-100 ms: an isolate, node's internals) overlaps resolving.
  if (opts.unpackTo) warmApplyWorker();

  // Mirrors first; the first endpoint that resolves serves the whole pull.
  let repo: Repository | undefined;
  let target: Descriptor | undefined;
  const errors: string[] = [];
  const repos = client.repositories(ref, 'pull');
  for (const r of repos) {
    try {
      target = await r.resolve(tagOrDigest);
      repo = r;
      break;
    } catch (e) {
      errors.push((e as Error).message);
      const last = r === repos[repos.length - 1];
      // A registry's own "not found" or "denied" is final; a mirror's is not.
      if (last || !r.transport.endpoint.mirror) throw e;
    }
  }
  if (!repo || !target) throw new RegistryError(`pull ${reference}: ${errors.join('; ')}`);
  const r = repo;

  const lease = stores.leases.create({ expiresInMs: 24 * 3600 * 1000, labels: { 'dray.pull': formatReference(ref) } });
  const hold = (d: string): void => stores.leases.addResource(lease.id, { type: 'content', id: d });
  try {
    const fetchSmall = async (desc: Descriptor, kind: 'manifest' | 'config'): Promise<Buffer> => {
      hold(desc.digest);
      if (await stores.content.exists(desc.digest)) return stores.content.readBlob(desc, 16 << 20);
      let data: Buffer;
      if (kind === 'manifest') data = await r.fetchManifest(desc);
      else {
        await fetchBlobInto(stores, r, ref, desc, progress, false);
        return stores.content.readBlob(desc, 16 << 20);
      }
      await writeBlob(stores.content, `pull-${desc.digest}`, data, desc, sourceLabels(stores, ref, desc.digest));
      return data;
    };

    let parsed = parseManifest(await fetchSmall(target, 'manifest'), target.mediaType);
    // A registry answering a generic Content-Type (application/json): record the real type.
    if (parsed.mediaType !== target.mediaType) target = { ...target, mediaType: parsed.mediaType };
    let manifestDesc = target;
    for (let depth = 0; parsed.kind === 'index'; depth++) {
      if (depth > 2) throw new ManifestError('nested indexes are too deep');
      const chosen = selectManifest(parsed.index, want);
      if (!chosen) {
        throw new ManifestError(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
      }
      manifestDesc = chosen;
      parsed = parseManifest(await fetchSmall(chosen, 'manifest'), chosen.mediaType);
    }
    const manifest = parsed.manifest;
    if (!CONFIG_TYPES.includes(manifest.config.mediaType)) {
      throw new ManifestError(`${formatReference(ref)} is not a container image: config media type ${manifest.config.mediaType}`);
    }
    const config = parseImageConfig(await fetchSmall(manifest.config, 'config'));
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw new ManifestError(`invalid image: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids in the config`);
    }
    const layers: ImageLayer[] = manifest.layers.map((d, index) => {
      const lt = layerType(d.mediaType);
      if (!lt) throw new ManifestError(`unsupported layer media type ${d.mediaType}`);
      const skipped = lt.foreign && !(opts.allowNondistributableUrls && d.urls && d.urls.length > 0);
      return { index, descriptor: d, diffId: config.rootfs.diff_ids[index]!, ...(skipped ? { skipped } : {}) };
    });

    await downloadLayers(stores, r, ref, layers, { ...opts, onProgress: progress, hold }, { config, manifest });

    const name = imageName(ref);
    stores.images.put(name, target);
    const present = chainIds(layers.filter((l) => !l.skipped).map((l) => l.diffId));
    return {
      name, reference: ref, target, manifest: manifestDesc, configDesc: manifest.config, config, layers,
      ...(opts.unpackTo ? { chainId: present[present.length - 1] ?? '' } : {}),
    };
  } finally {
    stores.leases.delete(lease.id);
  }
}

async function fetchBlobInto(
  stores: ImageStores, repo: Repository, ref: Reference, desc: Descriptor, sink: ProgressSink, announce: boolean, urls?: string[],
  follow?: (feed: LayerFeed) => void,
): Promise<'exists' | 'fetched'> {
  const id = shortId(desc.digest);
  const ingestRef = `pull-${desc.digest}`;
  let w: Writer;
  try {
    w = await stores.content.writer({ ref: ingestRef, expected: desc.digest, total: desc.size, wait: true });
  } catch (e) {
    if (isContentError(e, 'already-exists')) return 'exists';
    throw e;
  }
  let feed: LayerFeed | undefined;
  if (follow) {
    try {
      feed = new LayerFeed(join(stores.content.ingestDir(ingestRef), 'data'), desc.size, w.status().offset);
    } catch (e) {
      await w.close();
      throw e;
    }
    w = feed.wrap(w);
    follow(feed);
  }
  try {
    await fetchInto(w);
    feed?.finished();
    return 'fetched';
  } catch (e) {
    feed?.finished(e);
    throw e;
  }

  async function fetchInto(w: Writer): Promise<void> {
  try {
    if (announce) sink({ id, status: 'Downloading', progressDetail: { current: w.status().offset, total: desc.size } });
    await repo.fetchBlob(desc, w, { progress: announce ? sink : () => undefined, labels: sourceLabels(stores, ref, desc.digest), ...(urls ? { urls } : {}) });
  } catch (e) {
    await w.close();
    // A full disk or a blob that never verifies: drop the partial data.
    // Anything else (a dropped registry) keeps it so the next pull resumes.
    if ((e instanceof ContentError && /no space|quota/.test(e.message)) || (e instanceof RegistryError && /digest mismatch|more data/.test(e.message))) {
      await stores.content.abort(ingestRef).catch(() => undefined);
    }
    throw e;
  } finally {
    await w.close();
  }
  }
}

async function downloadLayers(
  stores: ImageStores,
  repo: Repository,
  ref: Reference,
  layers: ImageLayer[],
  opts: PullOptions & { onProgress: ProgressSink; hold: (digest: string) => void },
  image: { config: ImageConfig; manifest: ImageManifest },
): Promise<void> {
  const sink = opts.onProgress;
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? 3, 32));
  const done: Promise<void>[] = [];
  const resolvers: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  for (const _ of layers) {
    done.push(new Promise<void>((resolve, reject) => resolvers.push({ resolve, reject })));
  }
  for (const d of done) d.catch(() => undefined);
  // With unpackTo: each layer's bytes as they arrive (null: not downloaded now).
  const feeds: LayerFeed[] = [];
  const started: Promise<LayerFeed | null>[] = [];
  const starters: ((f: LayerFeed | null) => void)[] = [];
  for (const _ of layers) started.push(new Promise((resolve) => starters.push(resolve)));
  for (const l of layers) sink({ id: shortId(l.descriptor.digest), status: 'Pulling fs layer' });

  let failed: unknown;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (failed !== undefined) return;
      const i = next++;
      if (i >= layers.length) return;
      const l = layers[i]!;
      const id = shortId(l.descriptor.digest);
      try {
        opts.hold(l.descriptor.digest);
        if (l.skipped) sink({ id, status: 'Skipped foreign layer' });
        else {
          const urls = layerType(l.descriptor.mediaType)?.foreign && opts.allowNondistributableUrls ? l.descriptor.urls : undefined;
          const follow = opts.unpackTo ? (f: LayerFeed): void => { feeds.push(f); starters[i]!(f); } : undefined;
          const r = await fetchBlobInto(stores, repo, ref, l.descriptor, sink, true, urls, follow);
          sink({ id, status: r === 'exists' ? 'Already exists' : 'Download complete' });
        }
        starters[i]!(null);
        resolvers[i]!.resolve();
      } catch (e) {
        failed ??= e;
        starters[i]!(null);
        resolvers[i]!.reject(e);
        return;
      }
    }
  };
  // Layers beyond the pool's first round wait, as Docker shows them.
  for (let i = concurrency; i < layers.length; i++) {
    sink({ id: shortId(layers[i]!.descriptor.digest), status: 'Waiting' });
  }
  const workers = Array.from({ length: Math.min(concurrency, layers.length) }, () => worker());
  // After a failure, the layers no worker started settle too: nothing waits on them forever.
  void Promise.allSettled(workers).then(() => {
    for (let i = 0; i < layers.length; i++) {
      starters[i]!(null);
      resolvers[i]!.reject(failed ?? new Error(`layer ${i} was not downloaded`));
    }
  });

  // Unpack, overlapping the downloads still running: two layers at a time
  // (ApplySlots), each committed after the one below it (unpackLayer's below).
  const unpacking = (async () => {
    const into = opts.unpackTo;
    const ids = chainIds(layers.filter((l) => !l.skipped).map((l) => l.diffId));
    const slots = new ApplySlots();
    const tasks: Promise<void>[] = [];
    try {
      let k = 0;
      for (let i = 0; i < layers.length; i++) {
        const l = layers[i]!;
        const id = shortId(l.descriptor.digest);
        if (into && !l.skipped) {
          const release = await slots.acquire();
          // Started is enough: the layer is read as it arrives.
          const feed = await started[i]!;
          if (failed !== undefined) {
            release();
            throw failed;
          }
          sink({ id, status: 'Extracting' });
          const stored = async (): Promise<AsyncIterable<Buffer>> => {
            await done[i];
            return stores.content.stream(l.descriptor);
          };
          const below = tasks[k - 1];
          const chainId = ids[k]!;
          const parent = k > 0 ? ids[k - 1]! : undefined;
          const task = (async () => {
            try {
              await unpackLayer(into.snapshotter, {
                layer: i, desc: l.descriptor, diffId: l.diffId, chainId, ...(parent ? { parent } : {}),
                open: feed ? () => feed.growing() : stored,
                ...(feed ? { verified: () => done[i]!, reopen: stored, stale: () => feed.reset } : {}),
                ...(below ? { below: () => { release(); return below; } } : {}),
                ...(into.onProgress ? { onProgress: into.onProgress } : {}),
              });
            } catch (e) {
              failed ??= e;
              throw e;
            } finally {
              release();
              feed?.close();
            }
            sink({ id, status: 'Pull complete' });
          })();
          task.catch(() => undefined);
          tasks.push(task);
          k++;
        } else {
          await done[i];
          if (opts.unpack) {
            if (!l.skipped) sink({ id, status: 'Extracting' });
            await opts.unpack(l, image);
          }
          if (!l.skipped) sink({ id, status: 'Pull complete' });
        }
      }
    } finally {
      // Every layer started settles (a failed one removed its snapshot) before the pull ends.
      await settleInOrder(tasks).catch((e: unknown) => { failed ??= e; });
    }
    if (failed !== undefined) throw failed;
  })();
  // A failed unpack stops the downloads still queued.
  unpacking.catch((e: unknown) => {
    failed ??= e;
  });
  const results = await Promise.allSettled([...workers, unpacking]);
  for (const f of feeds) f.close();
  if (failed !== undefined) throw failed;
  const bad = results.find((x) => x.status === 'rejected') as PromiseRejectedResult | undefined;
  if (bad) throw bad.reason;
}

/**
 * The layers of a stored image in order with their diff_ids (for unpacking
 * after the pull, or re-unpacking): the image's target may be an index.
 */
export async function imageLayers(stores: ImageStores, target: Descriptor, platform?: Platform): Promise<{ manifest: ImageManifest; manifestDesc: Descriptor; config: ImageConfig; layers: ImageLayer[] }> {
  const want = normalizePlatform(platform ?? hostPlatform());
  let desc = target;
  let parsed = parseManifest(await stores.content.readBlob(desc, 16 << 20), desc.mediaType);
  for (let depth = 0; parsed.kind === 'index'; depth++) {
    if (depth > 2) throw new ManifestError('nested indexes are too deep');
    const chosen = selectManifest(parsed.index, want);
    if (!chosen) throw new ManifestError(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
    desc = chosen;
    parsed = parseManifest(await stores.content.readBlob(desc, 16 << 20), desc.mediaType);
  }
  const manifest = parsed.manifest;
  const config = parseImageConfig(await stores.content.readBlob(manifest.config, 16 << 20));
  if (config.rootfs.diff_ids.length !== manifest.layers.length) throw new ManifestError('invalid image: layer count and diff_ids differ');
  const layers: ImageLayer[] = [];
  for (const [index, d] of manifest.layers.entries()) {
    const present = await stores.content.exists(d.digest);
    layers.push({ index, descriptor: d, diffId: config.rootfs.diff_ids[index]!, ...(present ? {} : { skipped: true }) });
  }
  return { manifest, manifestDesc: desc, config, layers };
}
