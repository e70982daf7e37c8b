// `docker export`: a container's filesystem as one uncompressed tar. The
// snapshot is mounted (read-only view of a committed one, or the active
// snapshot's own mounts) on a private directory, walked in name order with
// the same writer as layer diffs, and always unmounted.
import { writeDiff } from '../layers/diff.ts';
import type { DiffResult, Sink } from '../layers/diff.ts';
import { withMount } from '../snapshots/mount.ts';
import type { Snapshotter } from '../snapshots/types.ts';

/** Tars a directory tree (a mounted root filesystem). */
export function exportTree(dir: string, sink: Sink): Promise<DiffResult> {
  return writeDiff({ mode: 'plain', dir }, sink, { compression: 'none' });
}

/** Tars a snapshot's whole filesystem (its parents merged in). */
export async function exportSnapshot(s: Snapshotter, key: string, sink: Sink): Promise<DiffResult> {
  const info = s.stat(key);
  if (info.kind !== 'committed') return withMount(s.mounts(key), (root) => exportTree(root, sink));
  const view = `export-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const mounts = await s.view(view, key);
  try {
    return await withMount(mounts, (root) => exportTree(root, sink));
  } finally {
    await s.remove(view);
  }
}
