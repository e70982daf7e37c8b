// The snapshotter's records, in its own node:sqlite database (WAL). A record
// is the only thing that makes a snapshot visible: directories are created
// before their record and renamed into place inside the same transaction, so
// a crash leaves at worst a directory without a record, removed on start.
import { DatabaseSync } from 'node:sqlite';
import type { SnapshotInfo, SnapshotKind } from './types.ts';
import { SnapshotError } from './types.ts';

export interface SnapshotRow {
  id: number;
  key: string;
  parentId: number | null;
  kind: SnapshotKind;
  labels: Record<string, string>;
  created: number;
  updated: number;
  size: number | null;
  inodes: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  parent_id INTEGER REFERENCES snapshots(id) ON DELETE RESTRICT,
  kind TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),
  labels TEXT NOT NULL DEFAULT '{}',
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  size INTEGER,
  inodes INTEGER
);
CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent_id);
`;

interface RawRow {
  id: number; key: string; parent_id: number | null; kind: string; labels: string;
  created: number; updated: number; size: number | null; inodes: number | null;
}

function toRow(r: RawRow): SnapshotRow {
  return {
    id: r.id, key: r.key, parentId: r.parent_id, kind: r.kind as SnapshotKind,
    labels: JSON.parse(r.labels) as Record<string, string>,
    created: r.created, updated: r.updated, size: r.size, inodes: r.inodes,
  };
}

export class SnapshotMetadata {
  readonly db: DatabaseSync;

  constructor(file: string) {
    this.db = new DatabaseSync(file);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;');
    this.db.exec(SCHEMA);
  }

  /** Runs fn in one IMMEDIATE transaction; anything it throws rolls everything back. */
  tx<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const r = fn();
      this.db.exec('COMMIT');
      return r;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  byKey(key: string): SnapshotRow | undefined {
    const r = this.db.prepare('SELECT * FROM snapshots WHERE key = ?').get(key) as RawRow | undefined;
    return r && toRow(r);
  }

  get(key: string): SnapshotRow {
    const r = this.byKey(key);
    if (!r) throw new SnapshotError('not-found', `snapshot ${JSON.stringify(key)} does not exist`);
    return r;
  }

  byId(id: number): SnapshotRow {
    const r = this.db.prepare('SELECT * FROM snapshots WHERE id = ?').get(id) as RawRow | undefined;
    if (!r) throw new SnapshotError('not-found', `snapshot id ${id} does not exist`);
    return toRow(r);
  }

  /** The ids of the row's committed ancestors, nearest first. */
  parentIds(row: SnapshotRow): number[] {
    const ids: number[] = [];
    let p = row.parentId;
    // Bounded: a chain can never be longer than the table.
    for (let n = 0; p !== null; n++) {
      if (n > 100000) throw new SnapshotError('invalid', 'parent chain loops');
      ids.push(p);
      p = this.byId(p).parentId;
    }
    return ids;
  }

  insert(key: string, kind: SnapshotKind, parentId: number | null, labels: Record<string, string>): number {
    const now = Date.now();
    const r = this.db.prepare('INSERT INTO snapshots (key, parent_id, kind, labels, created, updated) VALUES (?, ?, ?, ?, ?, ?)')
      .run(key, parentId, kind, JSON.stringify(labels), now, now);
    return Number(r.lastInsertRowid);
  }

  commit(id: number, name: string, labels: Record<string, string>, size: number, inodes: number): void {
    this.db.prepare("UPDATE snapshots SET key = ?, kind = 'committed', labels = ?, updated = ?, size = ?, inodes = ? WHERE id = ?")
      .run(name, JSON.stringify(labels), Date.now(), size, inodes, id);
  }

  setLabels(id: number, labels: Record<string, string>): void {
    this.db.prepare('UPDATE snapshots SET labels = ?, updated = ? WHERE id = ?').run(JSON.stringify(labels), Date.now(), id);
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM snapshots WHERE id = ?').run(id);
  }

  childCount(id: number): number {
    const r = this.db.prepare('SELECT count(*) AS n FROM snapshots WHERE parent_id = ?').get(id) as { n: number };
    return r.n;
  }

  ids(): Set<number> {
    const rows = this.db.prepare('SELECT id FROM snapshots').all() as { id: number }[];
    return new Set(rows.map((r) => r.id));
  }

  /** All rows, parents first (a parent's id is always smaller than its children's). */
  all(): SnapshotRow[] {
    return (this.db.prepare('SELECT * FROM snapshots ORDER BY id').all() as unknown as RawRow[]).map(toRow);
  }

  info(row: SnapshotRow): SnapshotInfo {
    const info: SnapshotInfo = {
      key: row.key, kind: row.kind, labels: row.labels,
      created: new Date(row.created), updated: new Date(row.updated),
    };
    if (row.parentId !== null) info.parent = this.byId(row.parentId).key;
    return info;
  }

  close(): void {
    this.db.close();
  }
}
