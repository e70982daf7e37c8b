// The image side's tables in the daemon's one metadata database
// (src/common/sqlite.ts: node:sqlite, WAL, per-component migrations in
// schema_versions), so dray-containerd and drayd share one file: they pass
// their open DatabaseSync, or a path opens one.
import type { DatabaseSync } from 'node:sqlite';
import { migrate, openDatabase, transaction, type Migration } from '../../common/sqlite.ts';

export { transaction };

/** The image side's migrations; other parts add theirs under their own component name. */
const MIGRATIONS: readonly Migration[] = [
  // 1: images, content labels, leases and their resources.
  (db) => db.exec(`CREATE TABLE images (
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
   );`),
];

export const IMAGES_COMPONENT = 'images';

/** Opens (creating) the database at `path`, or adopts an open one, and migrates the images component. */
export function openMetadataDb(pathOrDb: string | DatabaseSync): DatabaseSync {
  const db = typeof pathOrDb === 'string' ? openDatabase(pathOrDb) : pathOrDb;
  db.exec('PRAGMA foreign_keys = ON');
  migrate(db, IMAGES_COMPONENT, MIGRATIONS);
  return db;
}
