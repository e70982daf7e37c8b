// Disk usage of a directory tree, as `du` counts it: allocated blocks, each
// inode once (hardlinks), never following symlinks. The walk is iterative and
// bounded so a hostile or runaway tree cannot make it run forever.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Usage } from './types.ts';

export const MAX_USAGE_ENTRIES = 50_000_000;

export async function diskUsage(root: string, maxEntries = MAX_USAGE_ENTRIES): Promise<Usage> {
  const seen = new Set<bigint>();
  let size = 0;
  const stack = [root];
  let visited = 0;
  while (stack.length > 0) {
    const p = stack.pop() as string;
    if (++visited > maxEntries) throw new Error(`usage of ${root}: more than ${maxEntries} entries`);
    let st;
    try {
      st = await lstat(p, { bigint: true });
    } catch (err) {
      // Removed while walking (an active container): it uses nothing now.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (!seen.has(st.ino)) {
      seen.add(st.ino);
      size += Number(st.blocks) * 512;
    }
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = await readdir(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      for (const n of names) stack.push(join(p, n));
    }
  }
  return { size, inodes: seen.size };
}
