// The supervisor's tables in the shared metadata database (component
// "supervisor" in schema_version; the images library migrates its own
// component, "images", in the same file). Table names carry the sup_ prefix.
// Leases are the images library's tables (its garbage collector reads them).
// Add a migration to change the schema; never edit a released one.
export const SUPERVISOR_COMPONENT = 'supervisor';

export const supervisorMigrations: readonly string[] = [
  `CREATE TABLE sup_namespaces (
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
   -- The namespace clients get when they name none, as in ctr.
   INSERT INTO sup_namespaces (name, labels, created_at, updated_at)
     VALUES ('default', '{}', CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));`,
];
