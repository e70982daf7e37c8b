// drayd's view of images: Docker's image = a config digest (the image ID)
// with the names (records) that point at a manifest using it. Backed by the
// images library's stores under <data-root>/image and the snapshotter under
// <data-root>/snapshots. (When dray-containerd's images/content/snapshots
// services are on main, this class is the one place to switch to them.)
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Descriptor } from '../../images/content/types.ts';
import { parseImageConfig, type ImageConfig } from '../../images/manifest/config.ts';
import { parseManifest, selectManifest, type ImageManifest } from '../../images/manifest/manifest.ts';
import { hostPlatform } from '../../images/manifest/platform.ts';
import { openImageStores, type ImageStores } from '../../images/metadata/open.ts';
import type { ImageRecord } from '../../images/metadata/images.ts';
import { familiarString, parseImageReference, parseNormalized, formatReference } from '../../images/reference/reference.ts';
import { openSnapshotter } from '../../images/snapshots/index.ts';
import type { Snapshotter } from '../../images/snapshots/types.ts';
import { chainIds, unpack } from '../../images/unpack.ts';
import { loadArchive } from '../../images/archive/load.ts';
import { volumeSize } from '../../volumes/usage.ts';
import { ApiError, badRequest, notFound } from '../api/errors.ts';

/** One image as Docker shows it. */
export interface EngineImage {
  /** sha256:<config digest hex>: Docker's image ID */
  id: string;
  /** the records naming it (normalized names) */
  records: ImageRecord[];
  /** the target of the first record */
  target: Descriptor;
  manifestDesc: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  /** the top layer's chain ID: the snapshot containers are prepared on ('' without layers) */
  chainId: string;
}

/** Names of images without a tag (a loaded archive gave none): hidden from RepoTags. */
const DANGLING_PREFIX = 'dray-dangling@';

export function isDangling(name: string): boolean {
  return name.startsWith(DANGLING_PREFIX);
}

export class ImageService {
  readonly stores: ImageStores;
  readonly snapshotter: Snapshotter;
  readonly #cache = new Map<string, Promise<{ manifestDesc: Descriptor; manifest: ImageManifest; config: ImageConfig; configDigest: string }>>();

  constructor(dataRoot: string) {
    this.stores = openImageStores(join(dataRoot, 'image'), { namespace: 'dray' });
    this.snapshotter = openSnapshotter(join(dataRoot, 'snapshots'));
  }

  close(): void {
    this.snapshotter.close();
    this.stores.close();
  }

  /** The manifest and config a target means on this host (cached per target digest). */
  #read(target: Descriptor): Promise<{ manifestDesc: Descriptor; manifest: ImageManifest; config: ImageConfig; configDigest: string }> {
    let p = this.#cache.get(target.digest);
    if (!p) {
      p = (async () => {
        const content = this.stores.content;
        let desc = target;
        for (let depth = 0; depth < 4; depth++) {
          const parsed = parseManifest(await content.readBlob(desc), desc.mediaType);
          if (parsed.kind === 'manifest') {
            const config = parseImageConfig(await content.readBlob(parsed.manifest.config));
            return { manifestDesc: desc, manifest: parsed.manifest, config, configDigest: parsed.manifest.config.digest };
          }
          const pick = selectManifest(parsed.index, hostPlatform());
          if (!pick) throw badRequest(`image ${target.digest} has no manifest for this platform`);
          desc = pick;
        }
        throw badRequest(`image ${target.digest}: indexes nested too deep`);
      })();
      this.#cache.set(target.digest, p);
      p.catch(() => this.#cache.delete(target.digest));
    }
    return p;
  }

  async #view(records: ImageRecord[]): Promise<EngineImage> {
    const first = records[0]!;
    const r = await this.#read(first.target);
    const ids = chainIds(r.config.rootfs.diff_ids);
    return { id: r.configDigest, records, target: first.target, manifestDesc: r.manifestDesc, manifest: r.manifest, config: r.config, chainId: ids[ids.length - 1] ?? '' };
  }

  /** Every image, grouped by ID. */
  async list(): Promise<EngineImage[]> {
    const groups = new Map<string, ImageRecord[]>();
    for (const rec of this.stores.images.list()) {
      let id: string;
      try {
        id = (await this.#read(rec.target)).configDigest;
      } catch {
        continue; // content missing (GC'd or foreign platform): not an image here
      }
      const g = groups.get(id);
      if (g) g.push(rec); else groups.set(id, [rec]);
    }
    const out: EngineImage[] = [];
    for (const recs of groups.values()) out.push(await this.#view(recs));
    return out;
  }

  /** Docker's lookup: a reference, a full or short ID (sha256: optional). */
  async resolve(ref: string): Promise<EngineImage> {
    const img = await this.find(ref);
    if (!img) throw notFound(`No such image: ${ref}`);
    return img;
  }

  async find(ref: string): Promise<EngineImage | undefined> {
    const idLike = /^(sha256:)?([0-9a-f]{1,64})$/.exec(ref);
    if (!idLike || !(ref.startsWith('sha256:') || ref.length === 64)) {
      let name: string | undefined;
      try {
        name = formatReference(parseImageReference(ref));
      } catch (err) {
        if (!idLike) throw badRequest((err as Error).message);
      }
      const rec = name === undefined ? undefined : this.stores.images.get(name);
      if (rec) {
        const id = (await this.#read(rec.target)).configDigest;
        return (await this.list()).find((i) => i.id === id);
      }
    }
    if (!idLike) return undefined;
    const hex = idLike[2]!;
    const hits = (await this.list()).filter((i) => i.id.slice('sha256:'.length).startsWith(hex));
    if (hits.length > 1) throw new ApiError(400, `ambiguous image reference: ${ref}`);
    return hits[0];
  }

  /** Applies the image's layers into committed snapshots (once). */
  async unpack(img: EngineImage): Promise<void> {
    await unpack({ snapshotter: this.snapshotter, content: this.stores.content, layers: img.manifest.layers, diffIds: img.config.rootfs.diff_ids });
  }

  /** `docker load`: the archive's images are recorded and unpacked; Docker's messages per image. */
  async load(src: Readable): Promise<string[]> {
    const loaded = await loadArchive(src, { content: this.stores.content });
    const messages: string[] = [];
    for (const l of loaded) {
      const name = l.name || `${DANGLING_PREFIX}${l.id}`;
      const prev = l.name ? this.stores.images.get(l.name) : undefined;
      this.stores.images.put(name, l.target);
      const img = await this.#view([this.stores.images.get(name)!]);
      await this.unpack(img);
      if (!l.name) { messages.push(`Loaded image ID: ${l.id}`); continue; }
      if (prev && prev.target.digest !== l.target.digest) {
        const old = await this.#read(prev.target).catch(() => undefined);
        if (old && old.configDigest !== l.id) messages.push(`The image ${familiarString(parseNormalized(l.name))} already exists, renaming the old one with ID ${old.configDigest} to empty string`);
      }
      messages.push(`Loaded image: ${familiarString(parseNormalized(l.name))}`);
    }
    return messages;
  }

  /** RepoTags as Docker prints them (familiar names, tags only). */
  repoTags(img: EngineImage): string[] {
    const out: string[] = [];
    for (const r of img.records) {
      if (isDangling(r.name)) continue;
      try {
        const ref = parseNormalized(r.name);
        if (ref.tag !== undefined && ref.digest === undefined) out.push(familiarString(ref));
      } catch { /* not a reference */ }
    }
    return out;
  }

  /** Records that the target was pulled from / pushed to ref's repository (RepoDigests), as containerd's source label. */
  markSource(targetDigest: string, domain: string, path: string): void {
    const labels = this.stores.content.labels;
    const cur = labels.get(targetDigest);
    const key = `containerd.io/distribution.source.${domain}`;
    const repos = new Set((cur[key] ?? '').split(',').filter(Boolean));
    repos.add(path);
    labels.set(targetDigest, { ...cur, [key]: [...repos].join(',') });
  }

  /** repo@digest for the repositories the image was pulled from or pushed to (a loaded image has none, as in dockerd). */
  repoDigests(img: EngineImage): string[] {
    const out = new Set<string>();
    let labels: Record<string, string> = {};
    try { labels = this.stores.content.labels.get(img.target.digest); } catch { /* none */ }
    for (const r of img.records) {
      if (isDangling(r.name)) continue;
      try {
        const ref = parseNormalized(r.name);
        const repos = (labels[`containerd.io/distribution.source.${ref.domain}`] ?? '').split(',');
        if (!repos.includes(ref.path)) continue;
        out.add(familiarString({ domain: ref.domain, path: ref.path, digest: r.target.digest }));
      } catch { /* not a reference */ }
    }
    return [...out];
  }

  /** Removes the image's snapshots no other image's chain uses (top down; a snapshot with children stays). */
  async dropSnapshots(img: EngineImage): Promise<void> {
    const inUse = new Set<string>();
    for (const other of await this.list()) {
      if (other.id === img.id) continue;
      for (const c of chainIds(other.config.rootfs.diff_ids)) inUse.add(c);
    }
    for (const c of chainIds(img.config.rootfs.diff_ids).reverse()) {
      if (inUse.has(c)) break;
      try { await this.snapshotter.remove(c); } catch { break; }
    }
  }

  readonly #layerSizes = new Map<string, number>();

  /** A layer's size as Docker counts it: apparent sizes of its files, each inode once (committed snapshots never change: cached). */
  async layerSize(chainId: string): Promise<number> {
    let n = this.#layerSizes.get(chainId);
    if (n === undefined) {
      try { n = await volumeSize(this.snapshotter.dir(chainId)); } catch { return 0; }
      this.#layerSizes.set(chainId, n);
    }
    return n;
  }

  /** The image's size: the sum of its layers'. */
  async size(img: EngineImage): Promise<number> {
    let total = 0;
    for (const c of chainIds(img.config.rootfs.diff_ids)) total += await this.layerSize(c);
    return total;
  }
}

export type DeleteItem = { Untagged: string } | { Deleted: string };

/** Who uses an image: the engine passes its containers. */
export interface ImageUser { id: string; imageId: string; running: boolean }

export function shortImageId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** DELETE /images/{name}: untag, and delete the image when its last name goes (Docker's rules and 409s). */
export async function removeImage(svc: ImageService, ref: string, force: boolean, users: ImageUser[]): Promise<DeleteItem[]> {
  const img = await svc.resolve(ref);
  const byId = /^(sha256:)?[0-9a-f]+$/.test(ref) && img.id.slice(7).startsWith(ref.replace(/^sha256:/, '')) &&
    !img.records.some((r) => { try { return r.name === formatReference(parseImageReference(ref)); } catch { return false; } });
  const using = users.filter((u) => u.imageId === img.id);
  const out: DeleteItem[] = [];
  const named = img.records.filter((r) => !isDangling(r.name));
  if (!byId) {
    const name = formatReference(parseImageReference(ref));
    if (named.length === 1 && using.length && !force) {
      throw new ApiError(409, `conflict: unable to remove repository reference "${ref}" (must force) - container ${using[0]!.id.slice(0, 12)} is using its referenced image ${shortImageId(img.id)}`);
    }
    svc.stores.images.delete(name);
    out.push({ Untagged: familiarString(parseNormalized(name)) });
    if (img.records.length > 1 || using.length) return out;
  } else {
    if (named.length > 1 && !force) throw new ApiError(409, `conflict: unable to delete ${shortImageId(img.id)} (must be forced) - image is referenced in multiple repositories`);
    const running = using.find((u) => u.running);
    if (running) throw new ApiError(409, `conflict: unable to delete ${shortImageId(img.id)} (cannot be forced) - image is being used by running container ${running.id.slice(0, 12)}`);
    if (using.length && !force) throw new ApiError(409, `conflict: unable to delete ${shortImageId(img.id)} (must be forced) - image is being used by stopped container ${using[0]!.id.slice(0, 12)}`);
    for (const r of img.records) {
      svc.stores.images.delete(r.name);
      if (!isDangling(r.name)) {
        try { out.push({ Untagged: familiarString(parseNormalized(r.name)) }); } catch { /* odd name */ }
      }
    }
    if (using.length) return out;
  }
  out.push({ Deleted: img.id });
  await svc.dropSnapshots(img);
  return out;
}

export interface ImageServiceExtras {
  dropSnapshots(img: EngineImage): Promise<void>;
}
