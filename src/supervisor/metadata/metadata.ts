// The supervisor's metadata: one database file under the data root, shared
// with the images library's stores (they receive the same DatabaseSync and
// migrate their own component), and the supervisor's own stores on it.
import type { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { migrate, openDatabase } from '../../common/sqlite.ts';
import { SUPERVISOR_COMPONENT, supervisorMigrations } from './schema.ts';
import { NamespaceStore } from './namespaces.ts';
import { ContainerStore } from './containers.ts';
import { LeaseStore } from './leases.ts';
import { openMetadataDb } from '../../images/metadata/db.ts';
import { ImageStore } from '../../images/metadata/images.ts';

export const METADATA_FILE = 'metadata.db';

export interface Metadata {
  db: DatabaseSync;
  namespaces: NamespaceStore;
  containers: ContainerStore;
  leases: LeaseStore;
  close(): void;
}

export function openMetadata(dataRoot: string): Metadata {
  const db = openDatabase(join(dataRoot, METADATA_FILE));
  return metadataOn(db);
}

/**
 * The supervisor's stores on an already opened database (tests pass
 * ':memory:' ones). The images library's tables are migrated into the same
 * file, so images, content labels and the supervisor's records share one
 * database (and its garbage collector sees the supervisor's leases).
 */
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
