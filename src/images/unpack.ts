// Unpack: an image's layers applied into a chain of committed snapshots, each
// named by its chain ID as containerd computes it:
//   chainID(L0) = diffID(L0);  chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln))
// so images sharing lower layers share snapshots. Layers already unpacked are
// skipped. A layer is applied into a fresh active snapshot and committed only
// when its diff_id matched: a failed layer leaves no snapshot behind.
import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import type { Descriptor } from './content/types.ts';
import { layerType } from './manifest/media-types.ts';
import { applyLayer, type LayerSource } from './layers/apply.ts';
import { NeedsLowersError } from './layers/paths.ts';
import { assumptionsHold } from './layers/view.ts';
import type { ApplyTarget, Snapshotter } from './snapshots/types.ts';
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
  const slots = new ApplySlots();
  const tasks: Promise<void>[] = [];
  let failed = false;
  for (let i = 0; i < layers.length && !failed; i++) {
    const layer = layers[i] as Descriptor;
    const chainId = ids[i] as string;
    const parent = i === 0 ? undefined : ids[i - 1];
    const release = await slots.acquire();
    const below = tasks[i - 1];
    const task = (async () => {
      try {
        const r = await unpackLayer(s, {
          layer: i, desc: layer, diffId: diffIds[i] as string, chainId, ...(parent ? { parent } : {}),
          open: () => opts.content.stream(layer),
          ...(below ? { below: () => { release(); return below; } } : {}),
          ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        });
        if (r) applied++;
      } catch (e) {
        failed = true;
        throw e;
      } finally {
        release();
      }
    })();
    task.catch(() => {});
    tasks.push(task);
  }
  await settleInOrder(tasks);
  return { chainId: ids[ids.length - 1] ?? '', chainIds: ids, applied };
}

/**
 * Layers being applied at once: one per CPU, at most two (each has its
 * filesystem thread, and they share the inflating and parsing thread). A
 * layer holds its slot while it is applied, not while it waits for the
 * layer below it to commit.
 */
export class ApplySlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(n = Math.max(1, Math.min(2, availableParallelism()))) {
    this.free = n;
  }

  /** Waits for a slot; the function given back frees it (once, however often it is called). */
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/** Waits for every task; throws the error of the lowest layer that failed. */
export async function settleInOrder(tasks: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const bad = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (bad) throw bad.reason;
}

export interface LayerUnpack {
  layer: number;
  desc: Descriptor;
  diffId: string;
  chainId: string;
  /** the chain ID of the layer below (committed already) */
  parent?: string;
  /** the layer's blob: a stored one, or one still arriving (layer-feed.ts) */
  open: () => Promise<LayerSource> | LayerSource;
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
  /**
   * The unpack of the layer below (the parent), still under way: settles
   * when the parent is committed. Meanwhile the layer is applied without its
   * lowers where the snapshotter stages (overlay), and committed after it.
   */
  below?: () => Promise<unknown>;
  onProgress?: (p: UnpackProgress) => void;
}

/**
 * Applies one layer into a fresh active snapshot on top of parent and commits
 * it as chainId once its diff_id (and, for a blob still arriving, its digest)
 * verified; on any failure the snapshot is removed. False when it existed.
 *
 * With `below` (the parent's unpack, still under way) and a snapshotter that
 * stages (overlay), the layer is applied meanwhile into a staging directory
 * without its lowers: an overlay upper dir is what the layer's own entries
 * make, except where a lookup reaches into the lowers (a parent directory
 * the layer lacks: copied up, or a symlink to follow; a hardlink to a lower
 * file). Those lookups are answered "nothing there" and recorded; once the
 * parent is committed they are checked against the real lowers, and the
 * staged files become the active snapshot (then committed) only when every
 * one of them holds. Otherwise (or on NeedsLowersError) the layer is applied
 * again, in order, from the stored blob.
 */
export async function unpackLayer(s: Snapshotter, o: LayerUnpack): Promise<boolean> {
  const progress = (state: UnpackProgress['state']): void => o.onProgress?.({ layer: o.layer, digest: o.desc.digest, chainId: o.chainId, state });
  if (exists(s, o.chainId)) {
    progress('exists');
    return false;
  }
  progress('extracting');
  const labels = { labels: { 'dray.io/unpack': 'true' } };
  const newKey = (): string => `extract-${randomBytes(6).toString('hex')} ${o.chainId}`;
  let key: string | undefined;
  let staged: string | undefined;
  try {
    /** applied early, without its lowers: from the store when it must be applied again in order */
    let fromStore = false;
    let done = false;
    if (o.below && o.parent !== undefined && s.stage && s.unstage) {
      const st = await s.stage();
      staged = st.staged;
      const assumed = await applyEarly(o, st.target);
      await o.below();
      if (assumed) {
        key = newKey();
        await s.prepare(key, o.parent, { ...labels, staged });
        staged = undefined;
        done = assumptionsHold(s.applyTarget(key).lowers, assumed);
        if (!done) {
          await s.remove(key);
          key = undefined;
        }
      }
      if (staged !== undefined) await s.unstage(staged);
      staged = undefined;
      fromStore = !done;
    } else if (o.below) {
      await o.below();
    }
    if (!done) {
      key = newKey();
      await s.prepare(key, o.parent, labels);
      const again = o.reopen ?? o.open;
      try {
        await applyLayer(await (fromStore ? again() : o.open()), s.applyTarget(key), { expectedDiffId: o.diffId, blobSize: o.desc.size });
        if (!fromStore) await o.verified?.();
      } catch (err) {
        if (fromStore || !o.verified || !o.reopen) throw err;
        // Read while arriving: the download's verdict decides. A failed download is
        // the error; a download that started over makes what was read worthless.
        await o.verified();
        if (!o.stale?.()) throw err;
        await s.remove(key);
        key = newKey();
        await s.prepare(key, o.parent, labels);
        await applyLayer(await o.reopen(), s.applyTarget(key), { expectedDiffId: o.diffId, blobSize: o.desc.size });
      }
    }
    await s.commit(o.chainId, key as string);
  } catch (err) {
    if (staged !== undefined) await s.unstage?.(staged).catch(() => {});
    if (key !== undefined) await s.remove(key).catch(() => {});
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

/**
 * The layer applied into a staging target without its lowers: the paths it
 * assumed absent below, or undefined when it must be applied in order
 * instead (it needs its lowers, or its download started over). Throws when
 * the layer or its download failed.
 */
async function applyEarly(o: LayerUnpack, target: ApplyTarget): Promise<string[][] | undefined> {
  try {
    const r = await applyLayer(await o.open(), target, { expectedDiffId: o.diffId, blobSize: o.desc.size });
    await o.verified?.();
    return r.assumedAbsent;
  } catch (err) {
    if (o.verified) {
      // Read while arriving: the download's verdict comes first (a failed download is the error).
      await o.verified();
      if (o.stale?.()) return undefined;
    }
    if (err instanceof NeedsLowersError) return undefined;
    throw err;
  }
}
