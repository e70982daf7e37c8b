// Image records: name -> target descriptor, labels, created/updated times.
import type { DatabaseSync } from 'node:sqlite';
import type { Descriptor } from '../content/types.ts';
import { validateDescriptor } from '../manifest/manifest.ts';
import { transaction } from './db.ts';

export interface ImageRecord {
  name: string;
  target: Descriptor;
  labels: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  name: string;
  target_json: string;
  labels: string;
  created_at: number;
  updated_at: number;
}

function fromRow(r: Row): ImageRecord {
  return {
    name: r.name,
    target: JSON.parse(r.target_json) as Descriptor,
    labels: JSON.parse(r.labels) as Record<string, string>,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

export class ImageStore {
  readonly db: DatabaseSync;
  readonly namespace: string;

  constructor(db: DatabaseSync, namespace = 'default') {
    this.db = db;
    this.namespace = namespace;
  }

  get(name: string): ImageRecord | undefined {
    const r = this.db.prepare('SELECT * FROM images WHERE namespace = ? AND name = ?').get(this.namespace, name) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  list(): ImageRecord[] {
    return (this.db.prepare('SELECT * FROM images WHERE namespace = ? ORDER BY name').all(this.namespace) as unknown as Row[]).map(fromRow);
  }

  /** Every image whose target is `digest` (Docker's "image id" view groups by it). */
  byDigest(digest: string): ImageRecord[] {
    return (this.db.prepare('SELECT * FROM images WHERE namespace = ? AND target_digest = ? ORDER BY name').all(this.namespace, digest) as unknown as Row[]).map(fromRow);
  }

  /** Creates or updates the record (keeps createdAt on update). */
  put(name: string, target: Descriptor, labels: Record<string, string> = {}): ImageRecord {
    if (!name) throw new Error('image name must not be empty');
    const t = validateDescriptor(target, 'image target');
    const now = Date.now();
    return transaction(this.db, () => {
      const prev = this.get(name);
      this.db
        .prepare(
          `INSERT INTO images (namespace, name, target_media_type, target_digest, target_size, target_json, labels, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (namespace, name) DO UPDATE SET target_media_type = excluded.target_media_type,
             target_digest = excluded.target_digest, target_size = excluded.target_size,
             target_json = excluded.target_json, labels = excluded.labels, updated_at = excluded.updated_at`,
        )
        .run(this.namespace, name, t.mediaType, t.digest, t.size, JSON.stringify(t), JSON.stringify(labels), prev ? prev.createdAt.getTime() : now, now);
      return this.get(name)!;
    });
  }

  delete(name: string): boolean {
    return Number(this.db.prepare('DELETE FROM images WHERE namespace = ? AND name = ?').run(this.namespace, name).changes) > 0;
  }
}
