// Leases and the resources they hold, per namespace. The content and
// snapshot garbage collectors ask resourcesHeld() what must be kept.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { randomBytes } from 'node:crypto';
import { alreadyExists, invalidArgument, notFound } from '../errors.ts';
import { validateIdentifier, validateLabels } from '../identifiers.ts';
import { transaction } from '../../common/sqlite.ts';
import { isConstraintError, parseJson } from './sql.ts';
import { matchAny, objectField, type Filter } from '../filters.ts';

export interface LeaseRecord { id: string; labels: Record<string, string>; createdAt: Date }
export interface LeaseResourceRecord { type: string; id: string }

/** Label that makes a lease expire at an RFC 3339 time. */
export const LEASE_EXPIRE_LABEL = 'dray.io/gc.expire';

const RESOURCE_TYPE = /^(content|ingests|images|containers|snapshots\/[A-Za-z0-9_.-]+)$/;

interface Row { id: string; labels: string; created_at: number }

function fromRow(r: Row): LeaseRecord {
  return { id: r.id, labels: parseJson(r.labels), createdAt: new Date(r.created_at) };
}

function validateResource(r: LeaseResourceRecord | null | undefined): LeaseResourceRecord {
  if (!r) throw invalidArgument('lease resource must be set');
  if (!RESOURCE_TYPE.test(r.type)) throw invalidArgument(`lease resource type ${JSON.stringify(r.type)} must be content, ingests, images, containers or snapshots/<snapshotter>`);
  if (!r.id || r.id.length > 1024 || r.id.includes('\0')) throw invalidArgument('lease resource id must be 1 to 1024 characters');
  return { type: r.type, id: r.id };
}

export class LeaseStore {
  private readonly db: DatabaseSync;
  private readonly q: Record<'get' | 'list' | 'insert' | 'delete' | 'count' | 'addRes' | 'delRes' | 'listRes' | 'held', StatementSync>;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.q = {
      get: db.prepare('SELECT * FROM sup_leases WHERE namespace = ? AND id = ?'),
      list: db.prepare('SELECT * FROM sup_leases WHERE namespace = ? ORDER BY id'),
      insert: db.prepare('INSERT INTO sup_leases (namespace, id, labels, created_at) VALUES (?, ?, ?, ?)'),
      delete: db.prepare('DELETE FROM sup_leases WHERE namespace = ? AND id = ?'),
      count: db.prepare('SELECT count(*) AS n FROM sup_leases WHERE namespace = ?'),
      addRes: db.prepare('INSERT OR IGNORE INTO sup_lease_resources (namespace, lease, type, id) VALUES (?, ?, ?, ?)'),
      delRes: db.prepare('DELETE FROM sup_lease_resources WHERE namespace = ? AND lease = ? AND type = ? AND id = ?'),
      listRes: db.prepare('SELECT type, id FROM sup_lease_resources WHERE namespace = ? AND lease = ? ORDER BY type, id'),
      held: db.prepare('SELECT DISTINCT id FROM sup_lease_resources WHERE namespace = ? AND type = ?'),
    };
  }

  count(namespace: string): number {
    return (this.q.count.get(namespace) as { n: number }).n;
  }

  get(namespace: string, id: string): LeaseRecord {
    validateIdentifier('lease', id);
    const row = this.q.get.get(namespace, id) as Row | undefined;
    if (!row) throw notFound(`lease ${JSON.stringify(id)}: not found`);
    return fromRow(row);
  }

  create(namespace: string, id: string, labels: Record<string, string>): LeaseRecord {
    const leaseId = id || `${Date.now()}-${randomBytes(6).toString('hex')}`;
    validateIdentifier('lease', leaseId);
    const l = validateLabels(`lease ${leaseId}`, labels);
    const expire = l[LEASE_EXPIRE_LABEL];
    if (expire !== undefined && Number.isNaN(Date.parse(expire))) throw invalidArgument(`lease ${leaseId}: label ${LEASE_EXPIRE_LABEL} must be an RFC 3339 time`);
    try {
      this.q.insert.run(namespace, leaseId, JSON.stringify(l), Date.now());
    } catch (err) {
      if (isConstraintError(err)) throw alreadyExists(`lease ${JSON.stringify(leaseId)}: already exists`);
      throw err;
    }
    return this.get(namespace, leaseId);
  }

  list(namespace: string, filters: Filter[] = []): LeaseRecord[] {
    const all = (this.q.list.all(namespace) as unknown as Row[]).map(fromRow);
    return all.filter((l) => matchAny(filters, (p) => (p[0] === 'labels' && p.length === 2 ? l.labels[p[1]!] : objectField(l, p))));
  }

  delete(namespace: string, id: string): void {
    validateIdentifier('lease', id);
    if (this.q.delete.run(namespace, id).changes === 0) throw notFound(`lease ${JSON.stringify(id)}: not found`);
  }

  addResource(namespace: string, lease: string, r: LeaseResourceRecord): void {
    const res = validateResource(r);
    transaction(this.db, () => {
      this.get(namespace, lease);
      this.q.addRes.run(namespace, lease, res.type, res.id);
    });
  }

  deleteResource(namespace: string, lease: string, r: LeaseResourceRecord): void {
    const res = validateResource(r);
    transaction(this.db, () => {
      this.get(namespace, lease);
      this.q.delRes.run(namespace, lease, res.type, res.id);
    });
  }

  listResources(namespace: string, lease: string): LeaseResourceRecord[] {
    this.get(namespace, lease);
    return this.q.listRes.all(namespace, lease) as unknown as LeaseResourceRecord[];
  }

  /** Ids of the resources of one type that some lease of namespace holds (for garbage collection). */
  resourcesHeld(namespace: string, type: string): Set<string> {
    return new Set((this.q.held.all(namespace, type) as { id: string }[]).map((r) => r.id));
  }

  /** Deletes the leases whose expiry label lies in the past; returns how many. */
  expire(now: Date = new Date()): number {
    const rows = this.db.prepare('SELECT namespace, id, labels FROM sup_leases').all() as { namespace: string; id: string; labels: string }[];
    let n = 0;
    for (const r of rows) {
      const at = parseJson(r.labels)[LEASE_EXPIRE_LABEL];
      if (at !== undefined && Date.parse(at) <= now.getTime()) { this.q.delete.run(r.namespace, r.id); n++; }
    }
    return n;
  }
}
