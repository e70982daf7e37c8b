// What the overlay and naive snapshotters share: records, directories,
// crash recovery. Layout under the root:
//   metadata.db            records (node:sqlite, WAL)
//   snapshots/<id>/fs      the snapshot's files (overlay: its upper dir)
//   snapshots/<id>/work    overlay's work dir (overlay only)
//   snapshots/new-*        being prepared (no record yet)
//   snapshots/rm-*         being removed (record already gone)
// Only numbered directories with a record are snapshots; anything else under
// snapshots/ is what a crash left behind and is removed when the snapshotter opens.
import { markTopDir } from './topdir.ts';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SnapshotMetadata } from './metadata.ts';
import type { SnapshotRow } from './metadata.ts';
import { diskUsage } from './usage.ts';
import { SnapshotError } from './types.ts';
import type { ApplyTarget, Mount, SnapshotInfo, SnapshotKind, SnapshotOptions, Snapshotter, Usage } from './types.ts';

const KEY_MAX = 4096;

function checkKey(key: string, what: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > KEY_MAX || key.includes('\0')) {
    throw new SnapshotError('invalid', `invalid snapshot ${what}: ${JSON.stringify(key)}`);
  }
}

export abstract class BaseSnapshotter implements Snapshotter {
  abstract readonly name: string;
  readonly root: string;
  protected readonly meta: SnapshotMetadata;

  constructor(root: string) {
    this.root = root;
    mkdirSync(join(root, 'snapshots'), { recursive: true, mode: 0o700 });
    markTopDir(join(root, 'snapshots'));
    this.meta = new SnapshotMetadata(join(root, 'metadata.db'));
    this.recover();
  }

  /** Removes every directory under snapshots/ that has no record. */
  private recover(): void {
    const ids = this.meta.ids();
    for (const name of readdirSync(join(this.root, 'snapshots'))) {
      if (/^[1-9][0-9]*$/.test(name) && ids.has(Number(name))) continue;
      rmSync(join(this.root, 'snapshots', name), { recursive: true, force: true });
    }
  }

  /** The directory of a snapshot id. */
  snapshotDir(id: number): string {
    return join(this.root, 'snapshots', String(id));
  }

  fsDir(id: number): string {
    return join(this.snapshotDir(id), 'fs');
  }

  /** Fills a fresh snapshot directory (with an fs/ already in it) for a new snapshot. */
  protected abstract populate(dir: string, kind: SnapshotKind, parentIds: number[]): Promise<void>;
  /** The mounts of a snapshot. */
  protected abstract mountsOf(row: SnapshotRow, parentIds: number[]): Mount[];
  abstract applyTarget(key: string): ApplyTarget;

  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create('active', key, parent, opts);
  }

  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create('view', key, parent, opts);
  }

  private async create(kind: SnapshotKind, key: string, parent: string | undefined, opts?: SnapshotOptions): Promise<Mount[]> {
    checkKey(key, 'key');
    if (parent !== undefined) checkKey(parent, 'parent');
    if (this.meta.byKey(key)) throw new SnapshotError('exists', `snapshot ${JSON.stringify(key)} already exists`);
    let parentIds: number[] = [];
    if (parent !== undefined) {
      const p = this.meta.get(parent);
      if (p.kind !== 'committed') throw new SnapshotError('invalid', `parent ${JSON.stringify(parent)} is not committed`);
      parentIds = [p.id, ...this.meta.parentIds(p)];
    }
    const tmp = opts?.staged !== undefined ? this.checkStaged(opts.staged, kind) : mkdtempSync(join(this.root, 'snapshots', 'new-'));
    let placed: string | undefined;
    try {
      if (opts?.staged === undefined) mkdirSync(join(tmp, 'fs'), { mode: 0o755 });
      await this.populate(tmp, kind, parentIds);
      const row = this.meta.tx(() => {
        // Checked again inside the transaction: another caller may have won meanwhile.
        if (parent !== undefined && this.meta.byKey(parent)?.id !== parentIds[0]) {
          throw new SnapshotError('not-found', `parent ${JSON.stringify(parent)} was removed`);
        }
        const id = this.meta.insert(key, kind, parentIds[0] ?? null, opts?.labels ?? {});
        placed = this.snapshotDir(id);
        renameSync(tmp, placed);
        return this.meta.byId(id);
      });
      return this.mountsOf(row, parentIds);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      // The transaction failed after the rename: its id has no record.
      if (placed && !this.meta.ids().has(Number(placed.slice(placed.lastIndexOf('/') + 1)))) {
        await rm(placed, { recursive: true, force: true });
      }
      if ((err as Error).message?.includes('UNIQUE constraint failed')) {
        throw new SnapshotError('exists', `snapshot ${JSON.stringify(key)} already exists`);
      }
      throw err;
    }
  }

  /** A staging directory (stage()) made by this snapshotter, for an active snapshot. */
  private checkStaged(staged: string, kind: SnapshotKind): string {
    const dir = join(this.root, 'snapshots');
    const name = staged.slice(dir.length + 1);
    if (kind !== 'active' || !staged.startsWith(dir + '/') || !/^new-[A-Za-z0-9]+$/.test(name) || !lstatSync(join(staged, 'fs'), { throwIfNoEntry: false })?.isDirectory()) {
      throw new SnapshotError('invalid', `not a staging directory of this snapshotter: ${JSON.stringify(staged)}`);
    }
    return staged;
  }

  /** A staging directory: snapshots/new-* like a snapshot being prepared (no record). */
  protected async makeStage(): Promise<string> {
    const tmp = mkdtempSync(join(this.root, 'snapshots', 'new-'));
    mkdirSync(join(tmp, 'fs'), { mode: 0o755 });
    return tmp;
  }

  async unstage(staged: string): Promise<void> {
    this.checkStaged(staged, 'active');
    await rm(staged, { recursive: true, force: true });
  }

  mounts(key: string): Mount[] {
    const row = this.meta.get(key);
    if (row.kind === 'committed') throw new SnapshotError('failed-precondition', `snapshot ${JSON.stringify(key)} is committed: mount a view of it`);
    return this.mountsOf(row, this.meta.parentIds(row));
  }

  async commit(name: string, key: string, opts?: SnapshotOptions): Promise<void> {
    checkKey(name, 'name');
    const row = this.meta.get(key);
    if (row.kind !== 'active') throw new SnapshotError('failed-precondition', `snapshot ${JSON.stringify(key)} is not active`);
    if (this.meta.byKey(name)) throw new SnapshotError('exists', `snapshot ${JSON.stringify(name)} already exists`);
    // Usage is computed once here: a committed snapshot never changes.
    const usage = await diskUsage(this.fsDir(row.id));
    this.meta.tx(() => {
      const now = this.meta.get(key);
      if (now.id !== row.id || now.kind !== 'active') throw new SnapshotError('failed-precondition', `snapshot ${JSON.stringify(key)} changed while committing`);
      if (this.meta.byKey(name)) throw new SnapshotError('exists', `snapshot ${JSON.stringify(name)} already exists`);
      this.meta.commit(row.id, name, { ...row.labels, ...opts?.labels }, usage.size, usage.inodes);
    });
  }

  async remove(key: string): Promise<void> {
    const row = this.meta.get(key);
    const trash = join(this.root, 'snapshots', `rm-${row.id}`);
    this.meta.tx(() => {
      if (this.meta.childCount(row.id) > 0) {
        throw new SnapshotError('has-children', `snapshot ${JSON.stringify(key)} has children: remove them first`);
      }
      this.meta.delete(row.id);
    });
    // Gone from the records first: a crash from here on leaves a directory
    // without a record, which the next start removes.
    renameSync(this.snapshotDir(row.id), trash);
    await rm(trash, { recursive: true, force: true });
  }

  stat(key: string): SnapshotInfo {
    return this.meta.info(this.meta.get(key));
  }

  update(key: string, labels: Record<string, string>, fieldpaths: string[] = []): SnapshotInfo {
    return this.meta.tx(() => {
      const row = this.meta.get(key);
      let next: Record<string, string>;
      if (fieldpaths.length === 0 || fieldpaths.includes('labels')) {
        next = { ...labels };
      } else {
        next = { ...row.labels };
        for (const f of fieldpaths) {
          if (!f.startsWith('labels.') || f.length === 'labels.'.length) {
            throw new SnapshotError('invalid', `cannot update field ${JSON.stringify(f)} of snapshot ${JSON.stringify(key)}: only labels change`);
          }
          const k = f.slice('labels.'.length);
          const v = labels[k];
          if (v === undefined || v === '') delete next[k];
          else next[k] = v;
        }
      }
      for (const [k, v] of Object.entries(next)) {
        if (typeof v !== 'string') throw new SnapshotError('invalid', `label ${JSON.stringify(k)} must be a string`);
      }
      this.meta.setLabels(row.id, next);
      return this.meta.info(this.meta.byId(row.id));
    });
  }

  walk(fn: (info: SnapshotInfo) => void): void {
    for (const row of this.meta.all()) fn(this.meta.info(row));
  }

  /** The committed parents' keys, nearest first. */
  parents(key: string): string[] {
    return this.meta.parentIds(this.meta.get(key)).map((id) => this.meta.byId(id).key);
  }

  async usage(key: string): Promise<Usage> {
    const row = this.meta.get(key);
    if (row.kind === 'committed' && row.size !== null && row.inodes !== null) return { size: row.size, inodes: row.inodes };
    return diskUsage(this.fsDir(row.id));
  }

  dir(key: string): string {
    return this.fsDir(this.meta.get(key).id);
  }

  protected row(key: string): SnapshotRow {
    return this.meta.get(key);
  }

  protected parentIdsOf(row: SnapshotRow): number[] {
    return this.meta.parentIds(row);
  }

  close(): void {
    this.meta.close();
  }
}
