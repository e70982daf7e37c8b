// A volume's size as Docker reports it (system df, prune's SpaceReclaimed):
// the apparent sizes of everything but directories, each inode once,
// never following symlinks (moby's directory.Size). The walk is bounded
// so a runaway tree cannot stall the caller: past the bound it answers -1,
// Docker's "unknown".
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const MAX_SIZE_ENTRIES = 1_000_000;

export async function volumeSize(root: string, maxEntries = MAX_SIZE_ENTRIES): Promise<number> {
  const seen = new Set<bigint>();
  const stack = [root];
  let size = 0;
  for (let visited = 0; stack.length > 0; visited++) {
    if (visited >= maxEntries) return -1;
    const p = stack.pop() as string;
    let st;
    try {
      st = await lstat(p, { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed while walking
      throw err;
    }
    if (st.isDirectory()) {
      try {
        for (const n of await readdir(p)) stack.push(join(p, n));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    } else if (!seen.has(st.ino)) {
      seen.add(st.ino);
      size += Number(st.size);
    }
  }
  return size;
}
