// Leases: a pull or a build holds its content under a lease so that garbage
// collection cannot remove it before the image record points at it.
import type { DatabaseSync } from 'node:sqlite';
import { randomBytes } from 'node:crypto';
import { transaction } from './db.ts';

export interface Lease {
  id: string;
  labels: Record<string, string>;
  createdAt: Date;
  expiresAt?: Date;
}

/** A resource held by a lease: type `content` (a digest), `ingests` (a ref), or `snapshots/<snapshotter>` (a key). */
export interface LeaseResource {
  type: string;
  id: string;
}

export class LeaseManager {
  readonly db: DatabaseSync;
  readonly namespace: string;
  constructor(db: DatabaseSync, namespace = 'default') {
    this.db = db;
    this.namespace = namespace;
  }

  create(opts: { id?: string; labels?: Record<string, string>; expiresInMs?: number } = {}): Lease {
    const id = opts.id ?? `lease-${Date.now()}-${randomBytes(6).toString('hex')}`;
    const now = Date.now();
    const exp = opts.expiresInMs === undefined ? null : now + opts.expiresInMs;
    this.db
      .prepare('INSERT INTO leases (namespace, id, labels, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(this.namespace, id, JSON.stringify(opts.labels ?? {}), now, exp);
    const lease: Lease = { id, labels: opts.labels ?? {}, createdAt: new Date(now) };
    if (exp !== null) lease.expiresAt = new Date(exp);
    return lease;
  }

  list(): Lease[] {
    const rows = this.db.prepare('SELECT * FROM leases WHERE namespace = ? ORDER BY created_at').all(this.namespace) as unknown as {
      id: string; labels: string; created_at: number; expires_at: number | null;
    }[];
    return rows.map((r) => {
      const l: Lease = { id: r.id, labels: JSON.parse(r.labels) as Record<string, string>, createdAt: new Date(r.created_at) };
      if (r.expires_at !== null) l.expiresAt = new Date(r.expires_at);
      return l;
    });
  }

  delete(id: string): void {
    transaction(this.db, () => {
      this.db.prepare('DELETE FROM lease_resources WHERE namespace = ? AND lease_id = ?').run(this.namespace, id);
      this.db.prepare('DELETE FROM leases WHERE namespace = ? AND id = ?').run(this.namespace, id);
    });
  }

  addResource(id: string, r: LeaseResource): void {
    this.db.prepare('INSERT OR IGNORE INTO lease_resources (namespace, lease_id, type, id) VALUES (?, ?, ?, ?)').run(this.namespace, id, r.type, r.id);
  }

  deleteResource(id: string, r: LeaseResource): void {
    this.db.prepare('DELETE FROM lease_resources WHERE namespace = ? AND lease_id = ? AND type = ? AND id = ?').run(this.namespace, id, r.type, r.id);
  }

  resources(id: string): LeaseResource[] {
    return this.db.prepare('SELECT type, id FROM lease_resources WHERE namespace = ? AND lease_id = ?').all(this.namespace, id) as unknown as LeaseResource[];
  }

  /** Removes expired leases (GC does this first); returns how many. */
  expire(now = Date.now()): number {
    return transaction(this.db, () => {
      const ids = (this.db.prepare('SELECT id FROM leases WHERE namespace = ? AND expires_at IS NOT NULL AND expires_at <= ?').all(this.namespace, now) as unknown as { id: string }[]).map((r) => r.id);
      for (const id of ids) this.delete(id);
      return ids.length;
    });
  }

  /** Every resource of every live lease, across namespaces (content is shared). */
  allLiveResources(now = Date.now()): LeaseResource[] {
    return this.db
      .prepare('SELECT DISTINCT r.type, r.id FROM lease_resources r JOIN leases l ON l.namespace = r.namespace AND l.id = r.lease_id WHERE l.expires_at IS NULL OR l.expires_at > ?')
      .all(now) as unknown as LeaseResource[];
  }
}
