// Disk usage of a directory tree, as `du` counts it: allocated blocks, each
// inode once (hardlinks), never following symlinks. The walk is iterative and
// bounded so a hostile or runaway tree cannot make it run forever. It uses
// synchronous calls in slices (a thread-pool round trip per entry costs
// several times the lstat) and yields to the event loop between slices.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Usage } from './types.ts';

export const MAX_USAGE_ENTRIES = 50_000_000;
const SLICE = 2000;

export async function diskUsage(root: string, maxEntries = MAX_USAGE_ENTRIES): Promise<Usage> {
  const seen = new Set<bigint>();
  let size = 0;
  const stack = [root];
  let visited = 0;
  while (stack.length > 0) {
    const p = stack.pop() as string;
    if (++visited > maxEntries) throw new Error(`usage of ${root}: more than ${maxEntries} entries`);
    if (visited % SLICE === 0) await new Promise((r) => setImmediate(r));
    // Removed while walking (an active container): it uses nothing now.
    const st = lstatSync(p, { bigint: true, throwIfNoEntry: false });
    if (!st) continue;
    if (!seen.has(st.ino)) {
      seen.add(st.ino);
      size += Number(st.blocks) * 512;
    }
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      for (const n of names) stack.push(join(p, n));
    }
  }
  return { size, inodes: seen.size };
}
