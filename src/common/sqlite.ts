// The one embedded database of a daemon (node:sqlite): opened once, in WAL
// mode, and shared by every store of that daemon. Each component migrates
// its own tables under its own name in schema_versions, so libraries
// (images, volumes, supervisor) evolve their schemas independently in one file.
import { DatabaseSync } from 'node:sqlite';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Migration = (db: DatabaseSync) => void;

/**
 * Opens (creating if needed) the database at path. synchronous=FULL: a
 * committed transaction is on disk before the call returns, so neither a
 * kill -9 nor a power cut loses it.
 */
export function openDatabase(path: string): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: 5000 });
  // Records may hold secrets (specs with env, registry labels): owner only. SQLite gives -wal/-shm the same mode.
  if (path !== ':memory:') chmodSync(path, 0o600);
  db.exec('PRAGMA journal_mode=WAL');
  db.exec('PRAGMA synchronous=FULL');
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  return db;
}

/**
 * Brings component's tables to the latest version: migrations[i] takes the
 * schema from version i to i+1. Each step commits with its version number,
 * so a crash mid-way resumes where it stopped. A database newer than this
 * code is refused rather than misread.
 */
export function migrate(db: DatabaseSync, component: string, migrations: readonly Migration[]): void {
  const row = db.prepare('SELECT version FROM schema_versions WHERE component = ?').get(component) as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > migrations.length) {
    throw new Error(`database schema of ${component} is version ${current}, newer than this program knows (${migrations.length})`);
  }
  for (let v = current; v < migrations.length; v++) {
    transaction(db, () => {
      migrations[v]!(db);
      db.prepare('INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version').run(component, v + 1);
    });
  }
}

/** Runs fn in one transaction (nested calls join the outer one via savepoints). */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  const nested = db.isTransaction;
  const sp = `sp${++savepointCounter}`;
  db.exec(nested ? `SAVEPOINT ${sp}` : 'BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec(nested ? `RELEASE ${sp}` : 'COMMIT');
    return result;
  } catch (err) {
    db.exec(nested ? `ROLLBACK TO ${sp}; RELEASE ${sp}` : 'ROLLBACK');
    throw err;
  }
}
let savepointCounter = 0;
