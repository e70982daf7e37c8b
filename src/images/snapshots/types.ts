// The snapshotter interface, containerd's model: an active snapshot is a
// writable filesystem on top of a committed parent chain; a view is a
// read-only one; committing an active snapshot freezes it under a name.

export type SnapshotKind = 'active' | 'view' | 'committed';

/** A filesystem mount, as containerd describes one (also what an OCI runtime needs). */
export interface Mount {
  /** 'bind' or 'overlay' */
  type: string;
  source: string;
  options: string[];
}

export interface SnapshotInfo {
  /** The key (active, view) or the name it was committed under. */
  key: string;
  kind: SnapshotKind;
  /** The committed parent's name; undefined at the base of a chain. */
  parent?: string;
  labels: Record<string, string>;
  created: Date;
  updated: Date;
}

export interface Usage {
  /** bytes allocated on disk (st_blocks * 512), each inode counted once */
  size: number;
  inodes: number;
}

export interface SnapshotOptions {
  labels?: Record<string, string>;
  /**
   * prepare only: the new active snapshot takes the files of this staging
   * directory (from stage()) instead of starting empty.
   */
  staged?: string;
}

/**
 * How a layer is written into a snapshot's directory: 'overlay' when the
 * directory is an overlay upper dir over `lowers` (deletions become overlay
 * whiteouts), 'plain' when it holds the whole tree (deletions really delete).
 */
export interface ApplyTarget {
  mode: 'overlay' | 'plain';
  /** the directory the layer's entries are written into */
  dir: string;
  /** overlay mode: the committed parents' directories, nearest first */
  lowers: string[];
  /**
   * overlay mode: the lowers are not committed yet (`lowers` is empty). What
   * only they could decide is assumed absent and reported (ApplyResult.assumedAbsent).
   */
  pendingLowers?: boolean;
}

export interface Snapshotter {
  /** The driver: 'overlayfs' or 'naive'. */
  readonly name: string;
  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]>;
  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]>;
  /** The mounts of an active snapshot or a view. */
  mounts(key: string): Mount[];
  commit(name: string, key: string, opts?: SnapshotOptions): Promise<void>;
  /** Refuses while the snapshot has children. */
  remove(key: string): Promise<void>;
  stat(key: string): SnapshotInfo;
  /**
   * Changes labels (the only mutable field), as containerd's Update: with no
   * fieldpaths or 'labels' the labels are replaced; 'labels.<k>' sets k (or
   * removes it when absent or empty in `labels`).
   */
  update(key: string, labels: Record<string, string>, fieldpaths?: string[]): SnapshotInfo;
  /** Every snapshot, parents before their children. */
  walk(fn: (info: SnapshotInfo) => void): void;
  usage(key: string): Promise<Usage>;
  /** Where layer application (and diff) writes and reads an active snapshot's changes. */
  applyTarget(key: string): ApplyTarget;
  /** The directory holding the snapshot's own files (upper dir, or the whole tree for naive). */
  dir(key: string): string;
  /**
   * Overlay only: a staging directory, with no record, where a layer is
   * applied before its parent is committed (an upper dir does not depend on
   * its lowers); `prepare(key, parent, {staged})` then adopts it. A crash
   * leaves nothing: the next open removes it. Returns the staging token and
   * where the layer is written (pendingLowers: the lowers are not known yet).
   */
  stage?(): Promise<{ staged: string; target: ApplyTarget }>;
  /** Removes a staging directory that was not adopted. */
  unstage?(staged: string): Promise<void>;
  close(): void;
}

export class SnapshotError extends Error {
  code: 'not-found' | 'exists' | 'invalid' | 'has-children' | 'failed-precondition';
  constructor(code: SnapshotError['code'], message: string) {
    super(message);
    this.name = 'SnapshotError';
    this.code = code;
  }
}
