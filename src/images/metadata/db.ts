// The metadata database: one node:sqlite file (WAL mode) that drayd and
// dray-containerd can share. Schema changes are numbered migrations recorded
// in a version table; every table is keyed by a namespace as containerd's are.
import { DatabaseSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** The image side's migrations; other parts add theirs under their own component name. */
const MIGRATIONS: readonly string[] = [
  // 1: images, content labels, leases and their resources.
  `CREATE TABLE images (
     namespace TEXT NOT NULL,
     name TEXT NOT NULL,
     target_media_type TEXT NOT NULL,
     target_digest TEXT NOT NULL,
     target_size INTEGER NOT NULL,
     target_json TEXT NOT NULL,
     labels TEXT NOT NULL DEFAULT '{}',
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (namespace, name)
   );
   CREATE INDEX images_by_digest ON images (namespace, target_digest);
   CREATE TABLE content_labels (
     digest TEXT NOT NULL,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (digest, key)
   );
   CREATE TABLE leases (
     namespace TEXT NOT NULL,
     id TEXT NOT NULL,
     labels TEXT NOT NULL DEFAULT '{}',
     created_at INTEGER NOT NULL,
     expires_at INTEGER,
     PRIMARY KEY (namespace, id)
   );
   CREATE TABLE lease_resources (
     namespace TEXT NOT NULL,
     lease_id TEXT NOT NULL,
     type TEXT NOT NULL,
     id TEXT NOT NULL,
     PRIMARY KEY (namespace, lease_id, type, id),
     FOREIGN KEY (namespace, lease_id) REFERENCES leases (namespace, id) ON DELETE CASCADE
   );`,
];

export const IMAGES_COMPONENT = 'images';

/** Opens (creating) the database at `path`, or adopts an open one, and migrates it. */
export function openMetadataDb(pathOrDb: string | DatabaseSync): DatabaseSync {
  let db: DatabaseSync;
  if (typeof pathOrDb === 'string') {
    if (pathOrDb !== ':memory:') mkdirSync(dirname(pathOrDb), { recursive: true });
    db = new DatabaseSync(pathOrDb, { timeout: 5000 });
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
  } else {
    db = pathOrDb;
  }
  db.exec('PRAGMA foreign_keys = ON');
  migrate(db, IMAGES_COMPONENT, MIGRATIONS);
  return db;
}

/**
 * Applies the migrations of one component that the database has not seen yet,
 * each in its own transaction, recording the new version with it.
 */
export function migrate(db: DatabaseSync, component: string, migrations: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version WHERE component = ?').get(component) as { version: number } | undefined;
  const have = row?.version ?? 0;
  if (have > migrations.length) {
    throw new Error(`metadata database: ${component} schema version ${have} is newer than this Dray knows (${migrations.length})`);
  }
  for (let v = have; v < migrations.length; v++) {
    transaction(db, () => {
      db.exec(migrations[v]!);
      db.prepare('INSERT INTO schema_version (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version').run(component, v + 1);
    });
  }
}

/** Runs `fn` in a transaction (IMMEDIATE: writers serialize up front); nested calls join the outer one. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  if (db.isTransaction) return fn();
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}
