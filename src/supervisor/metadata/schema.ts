// The supervisor's tables in the shared database (component "supervisor").
// Table names carry the sup_ prefix so other components' tables (images,
// content, volumes) live beside them without clashes. Add a migration to
// change the schema; never edit a released one.
import type { DatabaseSync } from 'node:sqlite';
import type { Migration } from '../../common/sqlite.ts';

export const SUPERVISOR_COMPONENT = 'supervisor';

export const supervisorMigrations: readonly Migration[] = [
  (db: DatabaseSync) => {
    db.exec(`
      CREATE TABLE sup_namespaces (
        name TEXT PRIMARY KEY,
        labels TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE sup_containers (
        namespace TEXT NOT NULL REFERENCES sup_namespaces(name),
        id TEXT NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}',
        image TEXT NOT NULL DEFAULT '',
        runtime_name TEXT NOT NULL,
        runtime_options BLOB,
        spec BLOB NOT NULL,
        snapshotter TEXT NOT NULL DEFAULT '',
        snapshot_key TEXT NOT NULL DEFAULT '',
        sandbox TEXT NOT NULL DEFAULT '',
        extensions TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (namespace, id)
      );
      CREATE TABLE sup_leases (
        namespace TEXT NOT NULL REFERENCES sup_namespaces(name),
        id TEXT NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        PRIMARY KEY (namespace, id)
      );
      CREATE TABLE sup_lease_resources (
        namespace TEXT NOT NULL,
        lease TEXT NOT NULL,
        type TEXT NOT NULL,
        id TEXT NOT NULL,
        PRIMARY KEY (namespace, lease, type, id),
        FOREIGN KEY (namespace, lease) REFERENCES sup_leases(namespace, id) ON DELETE CASCADE
      );
    `);
    // The namespace clients get when they name none, as in ctr.
    const now = Date.now();
    db.prepare('INSERT INTO sup_namespaces (name, labels, created_at, updated_at) VALUES (?, ?, ?, ?)').run('default', '{}', now, now);
  },
];
