// Container records, per namespace. Validation follows containerd's: an id
// in identifier form, a runtime name, a spec; snapshotter and runtime are
// fixed once created.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { alreadyExists, invalidArgument, notFound } from '../errors.ts';
import { validateIdentifier, validateLabels } from '../identifiers.ts';
import { transaction } from '../../common/sqlite.ts';
import { isConstraintError, parseJson } from './sql.ts';
import { applyMapMask, checkMask } from './masks.ts';
import { matchAny, objectField, type Filter } from '../filters.ts';

export interface Extension { typeUrl: string; value: Buffer }

export interface ContainerRecord {
  id: string;
  labels: Record<string, string>;
  image: string;
  runtime: { name: string; options: Buffer };
  /** The OCI spec, JSON. */
  spec: Buffer;
  snapshotter: string;
  snapshotKey: string;
  sandbox: string;
  extensions: Record<string, Extension>;
  createdAt: Date;
  updatedAt: Date;
}

export type ContainerInput = Omit<ContainerRecord, 'createdAt' | 'updatedAt'>;

interface Row {
  id: string; labels: string; image: string; runtime_name: string; runtime_options: Uint8Array | null;
  spec: Uint8Array; snapshotter: string; snapshot_key: string; sandbox: string; extensions: string;
  created_at: number; updated_at: number;
}

function fromRow(r: Row): ContainerRecord {
  const ext = parseJson<Record<string, { typeUrl: string; value: string }>>(r.extensions);
  return {
    id: r.id,
    labels: parseJson(r.labels),
    image: r.image,
    runtime: { name: r.runtime_name, options: Buffer.from(r.runtime_options ?? new Uint8Array()) },
    spec: Buffer.from(r.spec),
    snapshotter: r.snapshotter,
    snapshotKey: r.snapshot_key,
    sandbox: r.sandbox,
    extensions: Object.fromEntries(Object.entries(ext).map(([k, v]) => [k, { typeUrl: v.typeUrl, value: Buffer.from(v.value, 'base64') }])),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

function extensionsJson(ext: Record<string, Extension>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(ext).map(([k, v]) => [k, { typeUrl: v.typeUrl, value: v.value.toString('base64') }])));
}

const MAX_SPEC_BYTES = 16 << 20;

function validate(c: ContainerInput): ContainerInput {
  validateIdentifier('container', c.id);
  const what = `container ${c.id}`;
  const labels = validateLabels(what, c.labels);
  if (!c.runtime?.name) throw invalidArgument(`${what}: runtime name must be set`);
  if (!c.spec || c.spec.length === 0) throw invalidArgument(`${what}: spec must be set`);
  if (c.spec.length > MAX_SPEC_BYTES) throw invalidArgument(`${what}: spec is larger than ${MAX_SPEC_BYTES} bytes`);
  let spec: unknown;
  try { spec = JSON.parse(c.spec.toString('utf8')); } catch { throw invalidArgument(`${what}: spec is not valid JSON`); }
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw invalidArgument(`${what}: spec must be a JSON object (an OCI runtime spec)`);
  if (c.runtime.options.length > 0) {
    try { JSON.parse(c.runtime.options.toString('utf8')); } catch { throw invalidArgument(`${what}: runtime options are not valid JSON`); }
  }
  if (c.snapshotKey && !c.snapshotter) throw invalidArgument(`${what}: snapshotter must be set with a snapshot key`);
  for (const [k, e] of Object.entries(c.extensions)) {
    if (!k) throw invalidArgument(`${what}: extension name must not be empty`);
    if (!e.typeUrl) throw invalidArgument(`${what}: extension ${JSON.stringify(k)} has no type URL`);
  }
  return { ...c, labels };
}

/** Fields a list filter sees: id, image, runtime.name, snapshotter, snapshot_key, sandbox, labels.<key>. */
export function containerField(c: ContainerRecord, path: readonly string[]): string | undefined {
  const [head, ...rest] = path;
  if (head === 'labels') return rest.length === 1 ? c.labels[rest[0]!] : undefined;
  if (head === 'runtime') return rest.length === 1 && rest[0] === 'name' ? c.runtime.name : undefined;
  if (head === 'spec' || head === 'extensions') return undefined;
  return objectField(c, path);
}

export class ContainerStore {
  private readonly db: DatabaseSync;
  private readonly q: Record<'get' | 'list' | 'insert' | 'update' | 'delete' | 'count', StatementSync>;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.q = {
      get: db.prepare('SELECT * FROM sup_containers WHERE namespace = ? AND id = ?'),
      list: db.prepare('SELECT * FROM sup_containers WHERE namespace = ? ORDER BY id'),
      insert: db.prepare(`INSERT INTO sup_containers (namespace, id, labels, image, runtime_name, runtime_options, spec, snapshotter, snapshot_key, sandbox, extensions, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      update: db.prepare(`UPDATE sup_containers SET labels = ?, image = ?, spec = ?, snapshot_key = ?, extensions = ?, updated_at = ?
        WHERE namespace = ? AND id = ?`),
      delete: db.prepare('DELETE FROM sup_containers WHERE namespace = ? AND id = ?'),
      count: db.prepare('SELECT count(*) AS n FROM sup_containers WHERE namespace = ?'),
    };
  }

  count(namespace: string): number {
    return (this.q.count.get(namespace) as { n: number }).n;
  }

  get(namespace: string, id: string): ContainerRecord {
    validateIdentifier('container', id);
    const row = this.q.get.get(namespace, id) as Row | undefined;
    if (!row) throw notFound(`container ${JSON.stringify(id)} in namespace ${JSON.stringify(namespace)}: not found`);
    return fromRow(row);
  }

  list(namespace: string, filters: Filter[] = []): ContainerRecord[] {
    const all = (this.q.list.all(namespace) as unknown as Row[]).map(fromRow);
    return all.filter((c) => matchAny(filters, (p) => containerField(c, p)));
  }

  create(namespace: string, input: ContainerInput): ContainerRecord {
    const c = validate(input);
    const now = Date.now();
    try {
      this.q.insert.run(namespace, c.id, JSON.stringify(c.labels), c.image, c.runtime.name, c.runtime.options, c.spec,
        c.snapshotter, c.snapshotKey, c.sandbox, extensionsJson(c.extensions), now, now);
    } catch (err) {
      if (isConstraintError(err)) throw alreadyExists(`container ${JSON.stringify(c.id)} in namespace ${JSON.stringify(namespace)}: already exists`);
      throw err;
    }
    return this.get(namespace, c.id);
  }

  /**
   * Updates the fields named by paths (snake_case; undefined: all mutable
   * fields). Mutable: labels, image, spec, snapshot_key, extensions.
   * Changing snapshotter, runtime or sandbox is refused.
   */
  update(namespace: string, input: ContainerInput, paths: string[] | undefined): ContainerRecord {
    const what = `container ${input.id}`;
    checkMask(what, paths, ['image', 'spec', 'snapshot_key'], ['labels', 'extensions']);
    return transaction(this.db, () => {
      const cur = this.get(namespace, input.id);
      if (input.snapshotter && input.snapshotter !== cur.snapshotter) throw invalidArgument(`${what}: snapshotter is immutable`);
      if (input.runtime?.name && input.runtime.name !== cur.runtime.name) throw invalidArgument(`${what}: runtime is immutable`);
      if (input.sandbox && input.sandbox !== cur.sandbox) throw invalidArgument(`${what}: sandbox is immutable`);
      const has = (f: string): boolean => !paths || paths.includes(f);
      const next: ContainerInput = {
        ...cur,
        labels: applyMapMask('labels', cur.labels, input.labels ?? {}, paths),
        extensions: applyMapMask('extensions', cur.extensions, input.extensions ?? {}, paths),
        image: has('image') ? input.image : cur.image,
        spec: has('spec') ? input.spec : cur.spec,
        snapshotKey: has('snapshot_key') ? input.snapshotKey : cur.snapshotKey,
      };
      const v = validate(next);
      this.q.update.run(JSON.stringify(v.labels), v.image, v.spec, v.snapshotKey, extensionsJson(v.extensions), Date.now(), namespace, v.id);
      return this.get(namespace, v.id);
    });
  }

  delete(namespace: string, id: string): void {
    validateIdentifier('container', id);
    const r = this.q.delete.run(namespace, id);
    if (r.changes === 0) throw notFound(`container ${JSON.stringify(id)} in namespace ${JSON.stringify(namespace)}: not found`);
  }
}
