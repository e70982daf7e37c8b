// Content labels in the metadata database (the content store's LabelStore).
import type { DatabaseSync } from 'node:sqlite';
import type { LabelStore } from '../content/types.ts';
import { transaction } from './db.ts';

export class DbLabelStore implements LabelStore {
  readonly db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.db = db;
  }
  get(digest: string): Record<string, string> {
    const rows = this.db.prepare('SELECT key, value FROM content_labels WHERE digest = ?').all(digest) as unknown as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }
  set(digest: string, labels: Record<string, string>): void {
    transaction(this.db, () => {
      this.db.prepare('DELETE FROM content_labels WHERE digest = ?').run(digest);
      const ins = this.db.prepare('INSERT INTO content_labels (digest, key, value) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(labels)) ins.run(digest, k, v);
    });
  }
  delete(digest: string): void {
    this.db.prepare('DELETE FROM content_labels WHERE digest = ?').run(digest);
  }
  /** Every digest carrying `key` (GC roots by label). */
  withLabel(key: string): string[] {
    return (this.db.prepare('SELECT digest FROM content_labels WHERE key = ?').all(key) as unknown as { digest: string }[]).map((r) => r.digest);
  }
}
