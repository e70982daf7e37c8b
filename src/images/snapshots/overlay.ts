// The overlayfs snapshotter. An active snapshot is an overlay of its own fs/
// (upperdir, with work/ as workdir) over its committed parents' fs/ dirs
// (lowerdir, nearest first). Without parents it is a plain bind mount of fs/.
// A view with one parent is a read-only bind of that parent's fs/; with more,
// an overlay with only lowerdirs (read-only by construction).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BaseSnapshotter } from './base.ts';
import type { SnapshotRow } from './metadata.ts';
import type { ApplyTarget, Mount, SnapshotKind } from './types.ts';
import { SnapshotError } from './types.ts';

/** index=on (a kernel default on some distributions) refuses an upper dir seen with other lowers. */
function overlayBaseOptions(): string[] {
  const p = '/sys/module/overlay/parameters/index';
  try {
    if (existsSync(p) && readFileSync(p, 'utf8').trim() === 'Y') return ['index=off'];
  } catch { /* unreadable: keep the defaults */ }
  return [];
}

/** Whether this kernel can mount overlay (the naive snapshotter is the fallback). */
export function overlaySupported(): boolean {
  try {
    return /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return false;
  }
}

export class OverlaySnapshotter extends BaseSnapshotter {
  readonly name = 'overlayfs';
  private readonly base = overlayBaseOptions();

  protected async populate(dir: string, kind: SnapshotKind, parentIds: number[]): Promise<void> {
    if (kind === 'active' && parentIds.length > 0) mkdirSync(join(dir, 'work'), { mode: 0o711 });
  }

  protected mountsOf(row: SnapshotRow, parentIds: number[]): Mount[] {
    const fs = this.fsDir(row.id);
    if (parentIds.length === 0) {
      return [{ type: 'bind', source: fs, options: [row.kind === 'view' ? 'ro' : 'rw', 'rbind'] }];
    }
    const lowers = parentIds.map((id) => this.fsDir(id));
    if (row.kind === 'view') {
      if (lowers.length === 1) return [{ type: 'bind', source: lowers[0] as string, options: ['ro', 'rbind'] }];
      return [{ type: 'overlay', source: 'overlay', options: [...this.base, `lowerdir=${lowers.join(':')}`] }];
    }
    return [{
      type: 'overlay', source: 'overlay',
      options: [...this.base, `workdir=${join(this.snapshotDir(row.id), 'work')}`, `upperdir=${fs}`, `lowerdir=${lowers.join(':')}`],
    }];
  }

  async stage(): Promise<{ staged: string; target: ApplyTarget }> {
    const staged = await this.makeStage();
    return { staged, target: { mode: 'overlay', dir: join(staged, 'fs'), lowers: [], pendingLowers: true } };
  }

  applyTarget(key: string): ApplyTarget {
    const row = this.row(key);
    if (row.kind !== 'active') throw new SnapshotError('failed-precondition', `snapshot ${JSON.stringify(key)} is not active`);
    return { mode: 'overlay', dir: this.fsDir(row.id), lowers: this.parentIdsOf(row).map((id) => this.fsDir(id)) };
  }
}
