// What the volume tests share: a store on a fresh data root that is
// unmounted and removed after the test, whatever happens.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { VolumeStore } from '../../src/volumes/store.ts';
import { removeTree } from '../harness/cleanup.ts';

export function tempDir(t: TestContext, prefix = 'dray-vol-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => removeTree(dir));
  return dir;
}

/** A store with its own database file under a fresh root. */
export function tempStore(t: TestContext): { store: VolumeStore; root: string; dbPath: string } {
  const root = tempDir(t);
  const dbPath = join(root, 'db', 'dray.db');
  const store = new VolumeStore({ root, db: dbPath });
  t.after(() => store.close());
  return { store, root, dbPath };
}

/** Runs fn and returns the error it throws (status and message), failing if it does not throw. */
export function errorOf(fn: () => unknown): { status: number | undefined; message: string } {
  try {
    fn();
  } catch (err) {
    return { status: (err as { status?: number }).status, message: (err as Error).message };
  }
  throw new Error('expected an error');
}

/** errorOf for a function that rejects. */
export async function errorOfAsync(fn: () => Promise<unknown>): Promise<{ status: number | undefined; message: string }> {
  try {
    await fn();
  } catch (err) {
    return { status: (err as { status?: number }).status, message: (err as Error).message };
  }
  throw new Error('expected an error');
}
