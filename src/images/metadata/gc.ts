// Garbage collection of content: mark from the roots, sweep the rest.
//
// Roots: every image record's target (all namespaces: content is shared),
// content held by live leases, content labelled containerd.io/gc.root, and a
// caller-supplied set (snapshots' and containers' references). Marking walks
// manifests and indexes (parsed to find their children) and the
// containerd.io/gc.ref.content.* labels. Leases are this library's and, when
// the database is shared, dray-containerd's (sup_lease_resources).
import type { DatabaseSync } from 'node:sqlite';
import type { Descriptor } from '../content/types.ts';
import type { LocalStore } from '../content/local-store.ts';
import { isDigest } from '../content/digest.ts';
import { children, parseManifest, MAX_MANIFEST_BYTES } from '../manifest/manifest.ts';
import { CONFIG_TYPES, layerType } from '../manifest/media-types.ts';
import { LeaseManager } from './leases.ts';

export const GC_ROOT_LABEL = 'containerd.io/gc.root';
export const GC_REF_CONTENT_PREFIX = 'containerd.io/gc.ref.content.';

export interface GcOptions {
  /** Extra roots: digests or descriptors (snapshots' layers, containers' images...). */
  roots?: Iterable<string | Descriptor>;
  /** Report what would go without removing it. */
  dryRun?: boolean;
  /** Ingests untouched this long and not leased are removed (default one day). */
  ingestMaxAgeMs?: number;
  /** Called between mark and sweep (observability; tests race writers here). */
  onMarked?: () => void | Promise<void>;
}

export interface GcResult {
  marked: number;
  removed: string[];
  removedIngests: string[];
  expiredLeases: number;
}

/** Runs one collection. Callers serialize collections (one per store). */
export async function collectGarbage(db: DatabaseSync, store: LocalStore, opts: GcOptions = {}): Promise<GcResult> {
  const started = Date.now();
  const namespaces = (db.prepare('SELECT DISTINCT namespace FROM leases').all() as unknown as { namespace: string }[]).map((r) => r.namespace);
  let expiredLeases = 0;
  for (const ns of namespaces) expiredLeases += new LeaseManager(db, ns).expire();
  const leased = [...new LeaseManager(db).allLiveResources(), ...supervisorLeaseResources(db)];

  const queue: { digest: string; mediaType?: string }[] = [];
  const push = (d: string | Descriptor): void => {
    if (typeof d === 'string') {
      if (isDigest(d)) queue.push({ digest: d });
    } else if (isDigest(d.digest)) queue.push({ digest: d.digest, mediaType: d.mediaType });
  };
  for (const r of db.prepare('SELECT target_json FROM images').all() as unknown as { target_json: string }[]) {
    push(JSON.parse(r.target_json) as Descriptor);
  }
  for (const r of leased) if (r.type === 'content') push(r.id);
  for (const r of db.prepare('SELECT digest FROM content_labels WHERE key = ?').all(GC_ROOT_LABEL) as unknown as { digest: string }[]) push(r.digest);
  for (const r of opts.roots ?? []) push(r);

  const marked = new Set<string>();
  for (let n = 0; queue.length > 0; n++) {
    if (n > 10_000_000) throw new Error('gc: too many references');
    const { digest, mediaType } = queue.pop()!;
    if (marked.has(digest)) continue;
    marked.add(digest);
    for (const [k, v] of Object.entries(store.labels.get(digest))) if (k.startsWith(GC_REF_CONTENT_PREFIX)) push(v);
    // Layers and configs have no children; anything else may be a manifest.
    if (mediaType && (layerType(mediaType) || CONFIG_TYPES.includes(mediaType))) continue;
    let data: Buffer;
    try {
      data = await store.readBlob({ digest }, MAX_MANIFEST_BYTES);
    } catch {
      continue; // absent (not pulled, e.g. other platforms) or too big to be a manifest
    }
    try {
      for (const c of children(parseManifest(data, mediaType ?? ''))) push(c);
    } catch {
      /* not a manifest: a leaf */
    }
  }

  await opts.onMarked?.();
  const removed: string[] = [];
  const doomed: string[] = [];
  // Writers run while we collect: a blob committed since the mark began is
  // spared (its ctime is the commit's link()), and so is anything a lease or
  // an image took meanwhile (a pull adds each blob to its lease before fetching).
  await store.walk((info) => {
    if (!marked.has(info.digest) && info.createdAt.getTime() < started) doomed.push(info.digest);
  });
  const late = new Set<string>([
    ...new LeaseManager(db).allLiveResources().filter((r) => r.type === 'content').map((r) => r.id),
    ...supervisorLeaseResources(db).filter((r) => r.type === 'content').map((r) => r.id),
    ...(db.prepare('SELECT target_digest FROM images').all() as unknown as { target_digest: string }[]).map((r) => r.target_digest),
  ]);
  for (const d of doomed) {
    if (late.has(d)) continue;
    if (opts.dryRun) {
      removed.push(d);
      continue;
    }
    try {
      await store.delete(d);
      removed.push(d);
    } catch {
      /* raced with another delete */
    }
  }

  const removedIngests: string[] = [];
  const leasedIngests = new Set(leased.filter((r) => r.type === 'ingests').map((r) => r.id));
  const maxAge = opts.ingestMaxAgeMs ?? 24 * 3600 * 1000;
  for (const st of await store.listStatuses()) {
    if (leasedIngests.has(st.ref) || Date.now() - st.updatedAt.getTime() < maxAge) continue;
    if (!opts.dryRun) await store.abort(st.ref).catch(() => undefined);
    removedIngests.push(st.ref);
  }
  return { marked: marked.size, removed, removedIngests, expiredLeases };
}

/** dray-containerd's leases (its lease service, sup_ tables) when they share this database. */
function supervisorLeaseResources(db: DatabaseSync, now = Date.now()): { type: string; id: string }[] {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sup_lease_resources'").get();
  if (!has) return [];
  const rows = db
    .prepare('SELECT r.type AS type, r.id AS id, l.labels AS labels FROM sup_lease_resources r JOIN sup_leases l ON l.namespace = r.namespace AND l.id = r.lease')
    .all() as unknown as { type: string; id: string; labels: string }[];
  return rows.filter((r) => {
    let expire: unknown;
    try {
      expire = (JSON.parse(r.labels) as Record<string, unknown>)[SUPERVISOR_LEASE_EXPIRE_LABEL];
    } catch {
      return true;
    }
    return typeof expire !== 'string' || Number.isNaN(Date.parse(expire)) || Date.parse(expire) > now;
  });
}

/** The supervisor's lease expiry label (an RFC 3339 time). */
const SUPERVISOR_LEASE_EXPIRE_LABEL = 'dray.io/gc.expire';
