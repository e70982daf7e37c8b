// Namespaces: the isolation unit between the supervisor's clients.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { alreadyExists, failedPrecondition, notFound } from '../errors.ts';
import { validateIdentifier, validateLabels } from '../identifiers.ts';
import { transaction } from '../../common/sqlite.ts';
import { isConstraintError, parseJson } from './sql.ts';
import { applyMapMask, checkMask } from './masks.ts';

export interface NamespaceRecord {
  name: string;
  labels: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

/** Says what still lives in a namespace (e.g. "3 images"), or undefined when nothing does. */
export type NamespaceUsageCheck = (namespace: string) => string | undefined;

interface Row { name: string; labels: string; created_at: number; updated_at: number }

function fromRow(r: Row): NamespaceRecord {
  return { name: r.name, labels: parseJson(r.labels), createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at) };
}

export class NamespaceStore {
  private readonly db: DatabaseSync;
  private readonly usageChecks: NamespaceUsageCheck[] = [];
  private readonly q: Record<'get' | 'list' | 'insert' | 'update' | 'delete', StatementSync>;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.q = {
      get: db.prepare('SELECT * FROM sup_namespaces WHERE name = ?'),
      list: db.prepare('SELECT * FROM sup_namespaces ORDER BY name'),
      insert: db.prepare('INSERT INTO sup_namespaces (name, labels, created_at, updated_at) VALUES (?, ?, ?, ?)'),
      update: db.prepare('UPDATE sup_namespaces SET labels = ?, updated_at = ? WHERE name = ?'),
      delete: db.prepare('DELETE FROM sup_namespaces WHERE name = ?'),
    };
  }

  /** Other stores (images, content, snapshots, tasks) register what keeps a namespace busy. */
  addUsageCheck(check: NamespaceUsageCheck): void {
    this.usageChecks.push(check);
  }

  exists(name: string): boolean {
    return this.q.get.get(name) !== undefined;
  }

  get(name: string): NamespaceRecord {
    const row = this.q.get.get(validateIdentifier('namespace', name)) as Row | undefined;
    if (!row) throw notFound(`namespace ${JSON.stringify(name)}: not found`);
    return fromRow(row);
  }

  list(): NamespaceRecord[] {
    return (this.q.list.all() as unknown as Row[]).map(fromRow);
  }

  create(name: string, labels: Record<string, string>): NamespaceRecord {
    validateIdentifier('namespace', name);
    const l = validateLabels(`namespace ${name}`, labels);
    const now = Date.now();
    try {
      this.q.insert.run(name, JSON.stringify(l), now, now);
    } catch (err) {
      if (isConstraintError(err)) throw alreadyExists(`namespace ${JSON.stringify(name)}: already exists`);
      throw err;
    }
    return this.get(name);
  }

  /** Replaces the labels with labels, or only the keys named in paths ("labels.<key>"). */
  updateLabels(name: string, labels: Record<string, string>, paths: string[] | undefined): NamespaceRecord {
    const l = validateLabels(`namespace ${name}`, labels);
    return transaction(this.db, () => {
      const cur = this.get(name);
      checkMask(`namespace ${name}`, paths, [], ['labels']);
      const next = applyMapMask('labels', cur.labels, l, paths);
      this.q.update.run(JSON.stringify(next), Date.now(), name);
      return this.get(name);
    });
  }

  delete(name: string): void {
    transaction(this.db, () => {
      this.get(name);
      for (const check of this.usageChecks) {
        const busy = check(name);
        if (busy) throw failedPrecondition(`namespace ${JSON.stringify(name)} must be empty before deletion, but it still has ${busy}`);
      }
      this.q.delete.run(name);
    });
  }
}
