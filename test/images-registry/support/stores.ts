// Image stores for tests: one per test under a parent temp dir, closed after
// the test; and seeding a registry with a synthetic image through Dray's push.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { openImageStores, type ImageStores } from '../../../src/images/metadata/open.ts';
import type { RegistryClient } from '../../../src/images/registry/client.ts';
import { push } from '../../../src/images/push.ts';
import { storeBlobs, type SynthImage } from './synth.ts';

export function testStores(parent: string, t: { after(fn: () => void): void }, opts: { contentRoot?: string } = {}): ImageStores {
  const s = openImageStores(mkdtempSync(join(parent, 'store-')), opts);
  t.after(() => s.close());
  return s;
}

/** Stores `img` (all blobs, or those `keep` accepts) in a fresh store and pushes it to `ref`. */
export async function seedRegistry(parent: string, client: RegistryClient, img: SynthImage, ref: string, keep: (digest: string) => boolean = () => true): Promise<void> {
  const seed = openImageStores(mkdtempSync(join(parent, 'seed-')));
  try {
    await storeBlobs(seed.content, new Map([...img.blobs].filter(([d]) => keep(d))));
    seed.images.put('docker.io/library/seed:latest', img.manifestDesc);
    await push(seed, client, ref, { source: 'seed:latest' });
  } finally {
    seed.close();
  }
}
