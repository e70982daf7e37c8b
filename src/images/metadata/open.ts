// Opens the image side's stores over one root: the content store under
// <root>/content and the metadata database at <root>/metadata.db (or a given one).
import type { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { LocalStore } from '../content/local-store.ts';
import { DbLabelStore } from './content-labels.ts';
import { openMetadataDb } from './db.ts';
import { ImageStore } from './images.ts';
import { LeaseManager } from './leases.ts';

export interface ImageStores {
  db: DatabaseSync;
  content: LocalStore;
  images: ImageStore;
  leases: LeaseManager;
  close(): void;
}

export function openImageStores(root: string, opts: { db?: DatabaseSync | string; namespace?: string; contentRoot?: string } = {}): ImageStores {
  const ownDb = opts.db === undefined || typeof opts.db === 'string';
  const db = openMetadataDb(opts.db ?? join(root, 'metadata.db'));
  const content = new LocalStore(opts.contentRoot ?? join(root, 'content'), { labels: new DbLabelStore(db) });
  return {
    db,
    content,
    images: new ImageStore(db, opts.namespace),
    leases: new LeaseManager(db, opts.namespace),
    close: () => {
      if (ownDb && db.isOpen) db.close();
    },
  };
}
