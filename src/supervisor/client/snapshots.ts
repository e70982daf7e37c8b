// Client of dray.services.snapshots.v1.Snapshots.
import type { Labels, Timestamp } from '../api/types.ts';
import type { Caller } from './caller.ts';
import { collectStream } from './connection.ts';

export interface MountMessage { type: string; source: string; target: string; options: string[] }
export interface SnapshotInfo { name: string; parent: string; kind: 'VIEW' | 'ACTIVE' | 'COMMITTED' | 'UNKNOWN'; createdAt: Timestamp | null; updatedAt: Timestamp | null; labels: Labels }

export class SnapshotsApi {
  private readonly c: Caller;
  constructor(c: Caller) { this.c = c; }

  async prepare(snapshotter: string, key: string, parent = '', labels: Labels = {}): Promise<MountMessage[]> {
    return (await this.c.unary<{ mounts: MountMessage[] }>('snapshots', 'Prepare', { snapshotter, key, parent, labels })).mounts;
  }

  async view(snapshotter: string, key: string, parent = '', labels: Labels = {}): Promise<MountMessage[]> {
    return (await this.c.unary<{ mounts: MountMessage[] }>('snapshots', 'View', { snapshotter, key, parent, labels })).mounts;
  }

  async mounts(snapshotter: string, key: string): Promise<MountMessage[]> {
    return (await this.c.unary<{ mounts: MountMessage[] }>('snapshots', 'Mounts', { snapshotter, key })).mounts;
  }

  async commit(snapshotter: string, name: string, key: string, labels: Labels = {}): Promise<void> {
    await this.c.unary('snapshots', 'Commit', { snapshotter, name, key, labels });
  }

  async remove(snapshotter: string, key: string): Promise<void> {
    await this.c.unary('snapshots', 'Remove', { snapshotter, key });
  }

  async stat(snapshotter: string, key: string): Promise<SnapshotInfo> {
    return (await this.c.unary<{ info: SnapshotInfo }>('snapshots', 'Stat', { snapshotter, key })).info;
  }

  /** Replaces the labels; with paths ("labels.<key>"), only those keys. */
  async update(snapshotter: string, name: string, labels: Labels, paths?: string[]): Promise<SnapshotInfo> {
    return (await this.c.unary<{ info: SnapshotInfo }>('snapshots', 'Update', { snapshotter, info: { name, labels }, updateMask: paths ? { paths } : null })).info;
  }

  async list(snapshotter: string, ...filters: string[]): Promise<SnapshotInfo[]> {
    return (await collectStream<{ info: SnapshotInfo[] }>(this.c.stream('snapshots', 'List', { snapshotter, filters }))).flatMap((b) => b.info);
  }

  async usage(snapshotter: string, key: string): Promise<{ size: number; inodes: number }> {
    return this.c.unary('snapshots', 'Usage', { snapshotter, key });
  }
}
