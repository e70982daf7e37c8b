// The supervisor's metadata: ONE database file under the data root, opened
// here and handed to the images library's stores (which migrate their own
// component in it), plus the supervisor's own stores on it.
import { DatabaseSync } from 'node:sqlite';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, openMetadataDb } from '../../images/metadata/db.ts';
import { ImageStore } from '../../images/metadata/images.ts';
import { SUPERVISOR_COMPONENT, supervisorMigrations } from './schema.ts';
import { NamespaceStore } from './namespaces.ts';
import { ContainerStore } from './containers.ts';
import { LeaseStore } from './leases.ts';

export const METADATA_FILE = 'metadata.db';

export interface Metadata {
  db: DatabaseSync;
  namespaces: NamespaceStore;
  containers: ContainerStore;
  leases: LeaseStore;
  close(): void;
}

/**
 * Opens the database in WAL mode with synchronous=FULL: a transaction is on
 * disk when the call that made it returns, so neither kill -9 nor a power
 * cut loses an acknowledged record. Owner-only: records hold specs (env).
 */
export function openDatabase(path: string): DatabaseSync {
  if (path !== ':memory:') mkdirSync(join(path, '..'), { recursive: true, mode: 0o711 });
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: 5000 });
  if (path !== ':memory:') chmodSync(path, 0o600);
  db.exec('PRAGMA journal_mode=WAL');
  db.exec('PRAGMA synchronous=FULL');
  return db;
}

export function openMetadata(dataRoot: string): Metadata {
  return metadataOn(openDatabase(join(dataRoot, METADATA_FILE)));
}

/** The images library's and the supervisor's tables and stores on an open database. */
export function metadataOn(db: DatabaseSync): Metadata {
  openMetadataDb(db);
  migrate(db, SUPERVISOR_COMPONENT, supervisorMigrations);
  const namespaces = new NamespaceStore(db);
  const containers = new ContainerStore(db);
  const leases = new LeaseStore(db);
  namespaces.addUsageCheck((ns) => plural(containers.count(ns), 'container'));
  namespaces.addUsageCheck((ns) => plural(leases.count(ns), 'lease'));
  namespaces.addUsageCheck((ns) => plural(new ImageStore(db, ns).list().length, 'image'));
  return { db, namespaces, containers, leases, close: () => { if (db.isOpen) db.close(); } };
}

export function plural(n: number, what: string): string | undefined {
  return n === 0 ? undefined : `${n} ${what}${n === 1 ? '' : 's'}`;
}
