// Unpack: an image's layers applied into a chain of committed snapshots, each
// named by its chain ID as containerd computes it:
//   chainID(L0) = diffID(L0);  chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln))
// so images sharing lower layers share snapshots. Layers already unpacked are
// skipped. A layer is applied into a fresh active snapshot and committed only
// when its diff_id matched: a failed layer leaves no snapshot behind.
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Descriptor } from './content/types.ts';
import { layerType } from './manifest/media-types.ts';
import { applyLayer } from './layers/apply.ts';
import type { Snapshotter } from './snapshots/types.ts';
import { SnapshotError } from './snapshots/types.ts';

/** Where layer blobs come from (the content store's Provider satisfies it). */
export interface BlobSource {
  stream(desc: Pick<Descriptor, 'digest'>): Promise<Readable>;
}

export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

export interface UnpackProgress {
  layer: number;
  digest: string;
  chainId: string;
  state: 'exists' | 'extracting' | 'done';
}

export interface UnpackOptions {
  snapshotter: Snapshotter;
  content: BlobSource;
  /** the manifest's layers, lowest first */
  layers: Descriptor[];
  /** the config's rootfs.diff_ids */
  diffIds: string[];
  onProgress?: (p: UnpackProgress) => void;
}

export interface UnpackResult {
  /** the top snapshot's name: the chain ID of the last layer ('' for an image without layers) */
  chainId: string;
  chainIds: string[];
  /** layers applied now (the others were there already) */
  applied: number;
}

function exists(s: Snapshotter, key: string): boolean {
  try {
    return s.stat(key).kind === 'committed';
  } catch (err) {
    if (err instanceof SnapshotError && err.code === 'not-found') return false;
    throw err;
  }
}

export async function unpack(opts: UnpackOptions): Promise<UnpackResult> {
  const { snapshotter: s, layers, diffIds } = opts;
  if (layers.length !== diffIds.length) {
    throw new Error(`image has ${layers.length} layers but its config lists ${diffIds.length} diff_ids`);
  }
  layers.forEach((l, i) => {
    if (!layerType(l.mediaType)) throw new Error(`layer ${i} has an unsupported media type ${JSON.stringify(l.mediaType)}`);
  });
  const ids = chainIds(diffIds);
  let applied = 0;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i] as Descriptor;
    const chainId = ids[i] as string;
    const parent = i === 0 ? undefined : ids[i - 1];
    const r = await unpackLayer(s, {
      layer: i, desc: layer, diffId: diffIds[i] as string, chainId, ...(parent ? { parent } : {}),
      open: () => opts.content.stream(layer),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    if (r) applied++;
  }
  return { chainId: ids[ids.length - 1] ?? '', chainIds: ids, applied };
}

export interface LayerUnpack {
  layer: number;
  desc: Descriptor;
  diffId: string;
  chainId: string;
  /** the chain ID of the layer below (committed already) */
  parent?: string;
  /** the layer's blob: a stored one, or one still arriving (layer-feed.ts) */
  open: () => Promise<AsyncIterable<Buffer>> | AsyncIterable<Buffer>;
  /**
   * For a blob still arriving: resolves once the download committed it (its
   * digest verified), rejects when the download failed. The snapshot is
   * committed only after it; when what was read turns out not to be the
   * blob (the download started over), the layer is applied again from
   * reopen() (the committed blob).
   */
  verified?: () => Promise<void>;
  reopen?: () => Promise<AsyncIterable<Buffer>>;
  /** whether what open() gave may differ from the committed blob */
  stale?: () => boolean;
  onProgress?: (p: UnpackProgress) => void;
}

/**
 * Applies one layer into a fresh active snapshot on top of parent and commits
 * it as chainId once its diff_id (and, for a blob still arriving, its digest)
 * verified; on any failure the snapshot is removed. False when it existed.
 */
export async function unpackLayer(s: Snapshotter, o: LayerUnpack): Promise<boolean> {
  const progress = (state: UnpackProgress['state']): void => o.onProgress?.({ layer: o.layer, digest: o.desc.digest, chainId: o.chainId, state });
  if (exists(s, o.chainId)) {
    progress('exists');
    return false;
  }
  progress('extracting');
  const labels = { labels: { 'dray.io/unpack': 'true' } };
  let key = `extract-${randomBytes(6).toString('hex')} ${o.chainId}`;
  await s.prepare(key, o.parent, labels);
  try {
    try {
      await applyLayer(await o.open(), s.applyTarget(key), { expectedDiffId: o.diffId });
      await o.verified?.();
    } catch (err) {
      if (!o.verified || !o.reopen) throw err;
      // Read while arriving: the download's verdict decides. A failed download is
      // the error; a download that started over makes what was read worthless.
      await o.verified();
      if (!o.stale?.()) throw err;
      await s.remove(key);
      key = `extract-${randomBytes(6).toString('hex')} ${o.chainId}`;
      await s.prepare(key, o.parent, labels);
      await applyLayer(await o.reopen(), s.applyTarget(key), { expectedDiffId: o.diffId });
    }
    await s.commit(o.chainId, key);
  } catch (err) {
    await s.remove(key).catch(() => {});
    // Another unpack of the same layer won the race: its snapshot is as good as ours.
    if (err instanceof SnapshotError && err.code === 'exists' && exists(s, o.chainId)) {
      progress('exists');
      return false;
    }
    throw err;
  }
  progress('done');
  return true;
}
