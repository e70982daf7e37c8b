// Named volumes with Docker's local driver: data under
// <root>/volumes/<name>/_data (Docker's layout), records in the daemon's
// node:sqlite database, references from containers so a volume in use is
// never removed.
//
// Crash safety (a kill -9 at any point): the database is the truth.
// - create: the directory is made first, then the record is committed. A
//   directory without a record is a create that never committed; it is
//   invisible, and the next open removes it when it holds nothing.
// - remove: the directory is renamed to .trash-<name>-<random> first, then
//   the record is deleted. The next open puts a trash directory back when
//   its record is still there (the remove never committed) and deletes it
//   otherwise. Names cannot start with '.', so trash never collides.
// - copy-up: the record says 'copying' before the copy and 'done' after;
//   a copy cut short is emptied and done again (see copy-up.ts).
import type { DatabaseSync } from 'node:sqlite';
import { existsSync, fsyncSync, lstatSync, mkdirSync, openSync, closeSync, readdirSync, renameSync, rmdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { migrate, openDatabase, transaction } from '../common/sqlite.ts';
import { compareApiVersions } from '../engine/api/api-version.ts';
import { badRequest, conflict, notFound, serverError } from '../engine/api/errors.ts';
import { isMountPoint, mountBackend, removeDirSafely, unmountAll } from './backend.ts';
import { boolFilter, checkKeys, LIST_FILTERS, matches, matchesLabels, PRUNE_FILTERS, type Filters } from './filters.ts';
import { ANONYMOUS_LABEL, anonymousName, isValidName, validateName } from './names.ts';
import { backendMount, validateDriverOptions } from './options.ts';
import { volumeSize } from './usage.ts';

export const VOLUMES_COMPONENT = 'volumes';
export const LOCAL_DRIVER = 'local';

const MIGRATIONS = [
  (db: DatabaseSync): void => {
    db.exec(`CREATE TABLE volumes (
      name TEXT PRIMARY KEY,
      driver TEXT NOT NULL,
      options TEXT,
      labels TEXT,
      created_at TEXT NOT NULL,
      copy_state TEXT
    );
    CREATE TABLE volume_refs (
      name TEXT NOT NULL REFERENCES volumes (name) ON DELETE CASCADE,
      container_id TEXT NOT NULL,
      PRIMARY KEY (name, container_id)
    );
    CREATE INDEX volume_refs_by_container ON volume_refs (container_id);`);
  },
];

/** Docker's Volume object (GET /volumes/{name}). */
export interface VolumeInfo {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
  UsageData?: { Size: number; RefCount: number };
}

/** Docker's VolumeCreateRequest. */
export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface CreateOptions {
  /**
   * Docker answers a create for an existing name with the existing volume,
   * whatever the options (its store has a TODO about it). 'error' refuses
   * a create whose driver, options or labels differ instead (409).
   */
  onConflict?: 'existing' | 'error';
  /** Container id that gets a reference in the same transaction (no window for a prune). */
  reference?: string;
}

export interface PruneReport {
  VolumesDeleted: string[];
  SpaceReclaimed: number;
}

interface Row {
  name: string;
  driver: string;
  options: string | null;
  labels: string | null;
  created_at: string;
  copy_state: string | null;
}

const TRASH_PREFIX = '.trash-';

export interface VolumeStoreOptions {
  /** The daemon's data root: volumes live in <root>/volumes. */
  root: string;
  /** The daemon's open database, or a path to open one at. */
  db: DatabaseSync | string;
}

export class VolumeStore {
  readonly root: string;
  readonly volumesDir: string;
  readonly db: DatabaseSync;
  readonly #ownsDb: boolean;

  constructor(opts: VolumeStoreOptions) {
    this.root = opts.root;
    this.volumesDir = join(opts.root, 'volumes');
    mkdirSync(this.volumesDir, { recursive: true, mode: 0o701 });
    this.#ownsDb = typeof opts.db === 'string';
    this.db = typeof opts.db === 'string' ? openDatabase(opts.db) : opts.db;
    migrate(this.db, VOLUMES_COMPONENT, MIGRATIONS);
    this.#recover();
  }

  close(): void {
    if (this.#ownsDb && this.db.isOpen) this.db.close();
  }

  /** <root>/volumes/<name>/_data: what a container's bind mount uses. */
  mountpoint(name: string): string {
    return join(this.volumesDir, name, '_data');
  }

  // ---- create / inspect / list ----

  create(req: VolumeCreateRequest = {}, opts: CreateOptions = {}): VolumeInfo {
    const anonymous = !req.Name;
    const name = req.Name || anonymousName();
    validateName(name);
    const driver = req.Driver || LOCAL_DRIVER;
    if (driver !== LOCAL_DRIVER) {
      throw notFound(`create ${name}: error looking up volume plugin ${driver}: plugin ${JSON.stringify(driver)} not found`);
    }
    const labels = anonymous ? { ...(req.Labels ?? {}), [ANONYMOUS_LABEL]: '' } : (req.Labels ?? null);
    checkStringMap(name, 'label', labels);
    const options = req.DriverOpts ?? null;
    validateDriverOptions(name, options, this.root);

    const existing = this.#row(name);
    if (existing) {
      if (opts.onConflict === 'error' && !sameSettings(existing, driver, options, labels)) {
        throw conflict(`create ${name}: volume name must be unique: a volume named ${name} already exists with other options`);
      }
      if (opts.reference) this.#addRef(name, opts.reference);
      return this.#info(existing);
    }
    this.#makeDirs(name);
    syncDir(this.volumesDir);
    const created = rfc3339(new Date());
    transaction(this.db, () => {
      this.db.prepare('INSERT INTO volumes (name, driver, options, labels, created_at, copy_state) VALUES (?, ?, ?, ?, ?, NULL)')
        .run(name, driver, options === null ? null : JSON.stringify(options), labels === null ? null : JSON.stringify(labels), created);
      if (opts.reference) this.#addRef(name, opts.reference);
    });
    return this.#info(this.#row(name) as Row);
  }

  /** The volume, or undefined (any string may be asked: invalid names are simply absent). */
  get(name: string): VolumeInfo | undefined {
    const row = this.#row(name);
    return row ? this.#info(row) : undefined;
  }

  /** Docker's inspect: 404 "get <name>: no such volume". */
  inspect(name: string): VolumeInfo {
    const v = this.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  /** Whether the volume was created without a name (Docker's anonymous label). */
  isAnonymous(name: string): boolean {
    const labels = this.get(name)?.Labels;
    return !!labels && Object.hasOwn(labels, ANONYMOUS_LABEL);
  }

  /** GET /volumes with filters (dangling, name, driver, label); sorted by name. */
  list(filters: Filters = {}): VolumeInfo[] {
    checkKeys(filters, LIST_FILTERS);
    const dangling = boolFilter(filters, 'dangling');
    const used = this.#usedNames();
    return this.#rows().filter((r) => {
      if (dangling !== undefined && used.has(r.name) === dangling) return false;
      if (!matches(filters.name, r.name)) return false;
      if (!matches(filters.driver, r.driver)) return false;
      return matchesLabels(filters.label, parseMap(r.labels));
    }).map((r) => this.#info(r));
  }

  // ---- references ----

  /**
   * Records that `containerId` uses the volume, and mounts its backend
   * (tmpfs, bind, nfs…) on first use. Returns the host path to bind.
   */
  acquire(name: string, containerId: string): string {
    const row = this.#row(name);
    if (!row) throw notFound(`get ${name}: no such volume`);
    transaction(this.db, () => {
      this.#addRef(name, containerId);
      this.#ensureMounted(row);
    });
    return this.mountpoint(name);
  }

  /** Drops the reference; the last one unmounts the backend. Unknown pairs are no-ops. */
  release(name: string, containerId: string): void {
    transaction(this.db, () => {
      this.db.prepare('DELETE FROM volume_refs WHERE name = ? AND container_id = ?').run(name, containerId);
    });
    this.#unmountIfUnused(name);
  }

  /**
   * Drops every reference of a removed container. removeAnonymous (`rm -v`):
   * anonymous volumes it used that nobody else uses are removed too, as
   * Docker does (named ones never). Returns the names removed.
   */
  releaseContainer(containerId: string, removeAnonymous = false): string[] {
    const names = (this.db.prepare('SELECT name FROM volume_refs WHERE container_id = ? ORDER BY name').all(containerId) as unknown as { name: string }[]).map((r) => r.name);
    for (const n of names) this.release(n, containerId);
    const removed: string[] = [];
    if (removeAnonymous) {
      for (const n of names) {
        if (this.isAnonymous(n) && this.refs(n).length === 0) {
          this.remove(n);
          removed.push(n);
        }
      }
    }
    return removed;
  }

  /** Container ids using the volume, sorted. */
  refs(name: string): string[] {
    return (this.db.prepare('SELECT container_id FROM volume_refs WHERE name = ? ORDER BY container_id').all(name) as unknown as { container_id: string }[])
      .map((r) => r.container_id);
  }

  // ---- remove / prune ----

  /**
   * DELETE /volumes/{name}. In use: 409 "remove <name>: volume is in use -
   * [ids]", force or not (as Docker). force: a missing volume is no error.
   */
  remove(name: string, opts: { force?: boolean } = {}): void {
    const row = this.#row(name);
    if (!row) {
      if (opts.force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    const refs = this.refs(name);
    if (refs.length > 0) throw conflict(`remove ${name}: volume is in use - [${refs.join(', ')}]`);
    const dir = join(this.volumesDir, name);
    unmountAll(join(dir, '_data'));
    const trash = join(this.volumesDir, `${TRASH_PREFIX}${name}-${randomBytes(6).toString('hex')}`);
    if (existsSync(dir)) renameSync(dir, trash);
    try {
      transaction(this.db, () => {
        // A reference taken meanwhile (another process on this database) wins.
        const again = this.refs(name);
        if (again.length > 0) throw conflict(`remove ${name}: volume is in use - [${again.join(', ')}]`);
        this.db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
      });
    } catch (err) {
      if (existsSync(trash)) renameSync(trash, dir);
      throw err;
    }
    if (existsSync(trash)) removeDirSafely(trash);
  }

  /**
   * POST /volumes/prune: unused volumes matching the filters (label, label!,
   * all). From API 1.42 only anonymous volumes unless all=true; before it,
   * every unused volume.
   */
  async prune(filters: Filters = {}, apiVersion = '1.50'): Promise<PruneReport> {
    checkKeys(filters, PRUNE_FILTERS);
    const all = compareApiVersions(apiVersion, '1.42') < 0 ? true : (boolFilter(filters, 'all') ?? false);
    const used = this.#usedNames();
    const report: PruneReport = { VolumesDeleted: [], SpaceReclaimed: 0 };
    for (const r of this.#rows()) {
      if (used.has(r.name)) continue;
      const labels = parseMap(r.labels);
      if (!all && !(labels && Object.hasOwn(labels, ANONYMOUS_LABEL))) continue;
      if (!matchesLabels(filters.label, labels)) continue;
      if (filters['label!'] && filters['label!'].length > 0 && matchesLabels(filters['label!'], labels)) continue;
      const size = await this.#size(r);
      try {
        this.remove(r.name);
      } catch (err) {
        // Taken meanwhile: not pruned, as Docker skips volumes it cannot remove.
        if ((err as { status?: number }).status === 409) continue;
        throw err;
      }
      report.VolumesDeleted.push(r.name);
      if (size > 0) report.SpaceReclaimed += size;
    }
    return report;
  }

  // ---- sizes (system df, inspect with usage) ----

  /** Every volume with UsageData {Size (bytes, -1 if unknown), RefCount}. */
  async usage(): Promise<VolumeInfo[]> {
    const out: VolumeInfo[] = [];
    for (const r of this.#rows()) {
      out.push({ ...this.#info(r), UsageData: { Size: await this.#size(r), RefCount: this.refs(r.name).length } });
    }
    return out;
  }

  /** One volume's UsageData (what `usage` gives each); 404 when there is none. */
  async usageOf(name: string): Promise<{ Size: number; RefCount: number }> {
    const row = this.#row(name);
    if (!row) throw notFound(`get ${name}: no such volume`);
    return { Size: await this.#size(row), RefCount: this.refs(name).length };
  }

  // ---- copy-up bookkeeping (used by copy-up.ts) ----

  copyState(name: string): 'copying' | 'done' | null {
    return (this.#row(name)?.copy_state ?? null) as 'copying' | 'done' | null;
  }

  setCopyState(name: string, state: 'copying' | 'done'): void {
    this.db.prepare('UPDATE volumes SET copy_state = ? WHERE name = ?').run(state, name);
  }

  // ---- internals ----

  #row(name: string): Row | undefined {
    if (!isValidName(name)) return undefined;
    return this.db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as unknown as Row | undefined;
  }

  #rows(): Row[] {
    return this.db.prepare('SELECT * FROM volumes ORDER BY name').all() as unknown as Row[];
  }

  #usedNames(): Set<string> {
    return new Set((this.db.prepare('SELECT DISTINCT name FROM volume_refs').all() as unknown as { name: string }[]).map((r) => r.name));
  }

  #addRef(name: string, containerId: string): void {
    if (!containerId) throw badRequest('a volume reference needs a container id');
    this.db.prepare('INSERT OR IGNORE INTO volume_refs (name, container_id) VALUES (?, ?)').run(name, containerId);
  }

  #info(r: Row): VolumeInfo {
    return {
      CreatedAt: r.created_at,
      Driver: r.driver,
      Labels: parseMap(r.labels),
      Mountpoint: this.mountpoint(r.name),
      Name: r.name,
      Options: parseMap(r.options),
      Scope: 'local',
    };
  }

  /**
   * Makes <name>/_data where missing. What a container binds must be these
   * directories themselves: a symlink put in place of either would hand out
   * (or create files in) whatever it points to.
   */
  #makeDirs(name: string): void {
    for (const p of [join(this.volumesDir, name), this.mountpoint(name)]) {
      try {
        const st = lstatSync(p);
        if (st.isSymbolicLink() || !st.isDirectory()) throw serverError(`volume ${name}: ${p} is not a directory in the volumes folder`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        mkdirSync(p, { mode: 0o755 });
      }
    }
  }

  #ensureMounted(r: Row): void {
    const target = this.mountpoint(r.name);
    this.#makeDirs(r.name);
    const backend = backendMount(parseMap(r.options));
    if (backend && !isMountPoint(target)) mountBackend(backend, target);
  }

  #unmountIfUnused(name: string): void {
    const row = this.#row(name);
    if (!row || !backendMount(parseMap(row.options)) || this.refs(name).length > 0) return;
    unmountAll(this.mountpoint(name));
  }

  async #size(r: Row): Promise<number> {
    try {
      return await volumeSize(this.mountpoint(r.name));
    } catch {
      return -1;
    }
  }

  /** Finishes or undoes what a crash interrupted (see the top of this file). */
  #recover(): void {
    const known = new Set(this.#rows().map((r) => r.name));
    for (const entry of readdirSync(this.volumesDir)) {
      const path = join(this.volumesDir, entry);
      if (entry.startsWith(TRASH_PREFIX)) {
        const name = entry.slice(TRASH_PREFIX.length).replace(/-[0-9a-f]{12}$/, '');
        const live = join(this.volumesDir, name);
        if (known.has(name) && !existsSync(live)) renameSync(path, live);
        else removeDirSafely(path);
        continue;
      }
      if (known.has(entry) || !isValidName(entry)) continue;
      // A create that never committed: remove it only when it holds nothing.
      if (isEmptyVolumeDir(path)) removeDirSafely(path);
    }
    for (const name of known) {
      try {
        this.#makeDirs(name);
      } catch { /* refused again, with the reason, when the volume is used */ }
    }
  }
}

function isEmptyVolumeDir(dir: string): boolean {
  try {
    if (!lstatSync(dir).isDirectory()) return false;
    const entries = readdirSync(dir);
    if (entries.length === 0) return true;
    if (entries.length !== 1 || entries[0] !== '_data') return false;
    const data = join(dir, '_data');
    if (isMountPoint(data) || readdirSync(data).length > 0) return false;
    rmdirSync(data);
    return true;
  } catch {
    return false;
  }
}

function checkStringMap(name: string, what: string, m: Record<string, string> | null): void {
  if (m === null) return;
  if (typeof m !== 'object' || Array.isArray(m)) throw badRequest(`create ${name}: ${what}s must be an object of strings`);
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') throw badRequest(`create ${name}: ${what} ${JSON.stringify(k)} must be a string`);
  }
}

/** Keys sorted, as Go's encoding/json writes a map (the CLI prints labels in that order). */
function parseMap(json: string | null): Record<string, string> | null {
  const m = json === null ? null : (JSON.parse(json) as Record<string, string> | null);
  return m === null ? null : Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sameMap(a: Record<string, string> | null, b: Record<string, string> | null): boolean {
  const ea = Object.entries(a ?? {}).sort();
  const eb = Object.entries(b ?? {}).sort();
  return JSON.stringify(ea) === JSON.stringify(eb);
}

function sameSettings(r: Row, driver: string, options: Record<string, string> | null, labels: Record<string, string> | null): boolean {
  return r.driver === driver && sameMap(parseMap(r.options), options) && sameMap(parseMap(r.labels), labels);
}

/** Go's time.RFC3339 in UTC, seconds precision, as Docker prints CreatedAt. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Makes a directory's new entries durable (a committed record must find its directory after a power cut). */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
