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
    if (exists(s, chainId)) {
      opts.onProgress?.({ layer: i, digest: layer.digest, chainId, state: 'exists' });
      continue;
    }
    opts.onProgress?.({ layer: i, digest: layer.digest, chainId, state: 'extracting' });
    const key = `extract-${randomBytes(6).toString('hex')} ${chainId}`;
    await s.prepare(key, parent, { labels: { 'dray.io/unpack': 'true' } });
    try {
      const blob = await opts.content.stream(layer);
      await applyLayer(blob, s.applyTarget(key), { expectedDiffId: diffIds[i] as string });
      await s.commit(chainId, key);
      applied++;
    } catch (err) {
      await s.remove(key).catch(() => {});
      // Another unpack of the same layer won the race: its snapshot is as good as ours.
      if (err instanceof SnapshotError && err.code === 'exists' && exists(s, chainId)) continue;
      throw err;
    }
    opts.onProgress?.({ layer: i, digest: layer.digest, chainId, state: 'done' });
  }
  return { chainId: ids[ids.length - 1] ?? '', chainIds: ids, applied };
}
