// The naive snapshotter, for filesystems overlay cannot use: every snapshot
// holds a full copy of its parent's tree, and its mount is a bind mount.
// Copies keep owners, modes, times, xattrs, hardlinks and device nodes (cp -a).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BaseSnapshotter } from './base.ts';
import type { SnapshotRow } from './metadata.ts';
import type { ApplyTarget, Mount, SnapshotKind } from './types.ts';
import { SnapshotError } from './types.ts';

const run = promisify(execFile);

export class NaiveSnapshotter extends BaseSnapshotter {
  readonly name = 'naive';

  protected async populate(dir: string, _kind: SnapshotKind, parentIds: number[]): Promise<void> {
    if (parentIds.length === 0) return;
    // "src/." copies the contents, including the root's own metadata.
    await run('cp', ['-a', '--reflink=auto', '--', `${this.fsDir(parentIds[0] as number)}/.`, join(dir, 'fs')], { maxBuffer: 1 << 20 });
  }

  protected mountsOf(row: SnapshotRow): Mount[] {
    return [{ type: 'bind', source: this.fsDir(row.id), options: [row.kind === 'view' ? 'ro' : 'rw', 'rbind'] }];
  }

  applyTarget(key: string): ApplyTarget {
    const row = this.row(key);
    if (row.kind !== 'active') throw new SnapshotError('failed-precondition', `snapshot ${JSON.stringify(key)} is not active`);
    return { mode: 'plain', dir: this.fsDir(row.id), lowers: [] };
  }

  /** The parent's tree, which a diff compares against. */
  parentDir(key: string): string | undefined {
    const row = this.row(key);
    return row.parentId === null ? undefined : this.fsDir(row.parentId);
  }
}
