// Picks a snapshotter: overlayfs where the kernel has it, else the naive copy.
import { NaiveSnapshotter } from './naive.ts';
import { OverlaySnapshotter, overlaySupported } from './overlay.ts';
import type { Snapshotter } from './types.ts';

export type SnapshotterName = 'overlayfs' | 'naive';

export function openSnapshotter(root: string, name?: SnapshotterName): Snapshotter {
  const pick = name ?? (overlaySupported() ? 'overlayfs' : 'naive');
  return pick === 'overlayfs' ? new OverlaySnapshotter(root) : new NaiveSnapshotter(root);
}
