// The leases service's store: validation, existence checks and errors over
// the images library's LeaseManager, whose tables its garbage collector
// reads (so a lease made through the API really protects content).
import type { DatabaseSync } from 'node:sqlite';
import { LeaseManager, type Lease } from '../../images/metadata/leases.ts';
import { transaction } from '../../images/metadata/db.ts';
import { alreadyExists, invalidArgument, notFound } from '../errors.ts';
import { validateIdentifier, validateLabels } from '../identifiers.ts';
import { matchAny, objectField, type Filter } from '../filters.ts';

export interface LeaseResourceRecord { type: string; id: string }

/** Label that makes a lease expire at an RFC 3339 time (the GC then drops it). */
export const LEASE_EXPIRE_LABEL = 'dray.io/gc.expire';

/** The resource types the garbage collector honours. */
const RESOURCE_TYPE = /^(content|ingest|snapshots\/[A-Za-z0-9_.-]+)$/;

function validateResource(r: LeaseResourceRecord | null | undefined): LeaseResourceRecord {
  if (!r) throw invalidArgument('lease resource must be set');
  if (!RESOURCE_TYPE.test(r.type)) throw invalidArgument(`lease resource type ${JSON.stringify(r.type)} must be content, ingest or snapshots/<snapshotter>`);
  if (!r.id || r.id.length > 1024 || r.id.includes('\0')) throw invalidArgument('lease resource id must be 1 to 1024 characters');
  return { type: r.type, id: r.id };
}

export class LeaseStore {
  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  private manager(namespace: string): LeaseManager {
    return new LeaseManager(this.db, namespace);
  }

  count(namespace: string): number {
    return this.manager(namespace).list().length;
  }

  get(namespace: string, id: string): Lease {
    validateIdentifier('lease', id);
    const l = this.manager(namespace).list().find((x) => x.id === id);
    if (!l) throw notFound(`lease ${JSON.stringify(id)}: not found`);
    return l;
  }

  create(namespace: string, id: string, labels: Record<string, string>): Lease {
    if (id) validateIdentifier('lease', id);
    const l = validateLabels(`lease ${id}`, labels);
    const expire = l[LEASE_EXPIRE_LABEL];
    const at = expire === undefined ? undefined : Date.parse(expire);
    if (at !== undefined && Number.isNaN(at)) throw invalidArgument(`lease ${id}: label ${LEASE_EXPIRE_LABEL} must be an RFC 3339 time`);
    return transaction(this.db, () => {
      const m = this.manager(namespace);
      if (id && m.list().some((x) => x.id === id)) throw alreadyExists(`lease ${JSON.stringify(id)}: already exists`);
      return m.create({ ...(id ? { id } : {}), labels: l, ...(at !== undefined ? { expiresInMs: at - Date.now() } : {}) });
    });
  }

  list(namespace: string, filters: Filter[] = []): Lease[] {
    return this.manager(namespace).list().filter((l) => matchAny(filters, (p) => (p[0] === 'labels' && p.length === 2 ? l.labels[p[1]!] : objectField(l, p))));
  }

  delete(namespace: string, id: string): void {
    transaction(this.db, () => {
      this.get(namespace, id);
      this.manager(namespace).delete(id);
    });
  }

  addResource(namespace: string, lease: string, r: LeaseResourceRecord): void {
    const res = validateResource(r);
    transaction(this.db, () => {
      this.get(namespace, lease);
      this.manager(namespace).addResource(lease, res);
    });
  }

  deleteResource(namespace: string, lease: string, r: LeaseResourceRecord): void {
    const res = validateResource(r);
    transaction(this.db, () => {
      this.get(namespace, lease);
      this.manager(namespace).deleteResource(lease, res);
    });
  }

  listResources(namespace: string, lease: string): LeaseResourceRecord[] {
    this.get(namespace, lease);
    return this.manager(namespace).resources(lease).map((r) => ({ type: r.type, id: r.id })).sort((a, b) => (a.type + a.id).localeCompare(b.type + b.id));
  }
}
