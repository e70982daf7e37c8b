// Container records on disk: <root>/<id>/config.v2.json, written atomically
// (temp file, fsync, rename, fsync of the directory), all loaded at start.
// Names are unique; lookups go by full ID, then name, then unique ID prefix.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, conflict, notFound } from '../api/errors.ts';
import type { ContainerRecord } from './types.ts';

const ID = /^[0-9a-f]{64}$/;

export class ContainerStore {
  readonly root: string;
  readonly #byId = new Map<string, ContainerRecord>();
  readonly #byName = new Map<string, string>();

  constructor(root: string) {
    this.root = root;
    mkdirSync(root, { recursive: true, mode: 0o710 });
    for (const id of readdirSync(root)) {
      if (!ID.test(id)) continue;
      let rec: ContainerRecord;
      try {
        rec = JSON.parse(readFileSync(join(root, id, 'config.v2.json'), 'utf8')) as ContainerRecord;
      } catch {
        continue; // a record never completed: its directory is cleaned by the daemon's reconcile
      }
      if (rec.Id !== id) continue;
      this.#byId.set(id, rec);
      this.#byName.set(rec.Name, id);
    }
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  all(): ContainerRecord[] {
    return [...this.#byId.values()].sort((a, b) => (a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0));
  }

  nameTaken(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Reserves the name for id, or Docker's 409. */
  reserveName(name: string, id: string): void {
    const owner = this.#byName.get(name);
    if (owner !== undefined && owner !== id) {
      throw conflict(`Conflict. The container name "${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.#byName.set(name, id);
  }

  releaseName(name: string, id: string): void {
    if (this.#byName.get(name) === id) this.#byName.delete(name);
  }

  /** Writes the record durably. */
  save(rec: ContainerRecord): void {
    const dir = this.dir(rec.Id);
    mkdirSync(dir, { recursive: true, mode: 0o710 });
    const tmp = join(dir, '.config.v2.json.tmp');
    writeFileSync(tmp, JSON.stringify(rec));
    const fd = openSync(tmp, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
    renameSync(tmp, join(dir, 'config.v2.json'));
    const dfd = openSync(dir, 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
    this.#byId.set(rec.Id, rec);
    this.#byName.set(rec.Name, rec.Id);
  }

  delete(id: string): void {
    const rec = this.#byId.get(id);
    if (rec) this.releaseName(rec.Name, id);
    this.#byId.delete(id);
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  get(id: string): ContainerRecord | undefined {
    return this.#byId.get(id);
  }

  /** By full ID, by name ("x" or "/x"), then by unique ID prefix; Docker's errors otherwise. */
  resolve(ref: string): ContainerRecord {
    const rec = this.find(ref);
    if (!rec) throw notFound(`No such container: ${ref}`);
    return rec;
  }

  find(ref: string): ContainerRecord | undefined {
    if (ref === '') return undefined;
    const exact = this.#byId.get(ref);
    if (exact) return exact;
    const byName = this.#byName.get(ref.startsWith('/') ? ref : `/${ref}`);
    if (byName) return this.#byId.get(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    let found: ContainerRecord | undefined;
    for (const [id, rec] of this.#byId) {
      if (!id.startsWith(ref)) continue;
      if (found) throw new ApiError(400, `Multiple IDs found with provided prefix: ${ref}`);
      found = rec;
    }
    return found;
  }
}
