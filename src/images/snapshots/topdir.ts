// ext4 puts a new directory in its parent's block group unless the parent is
// a "top directory" (the root, or chattr +T), whose children the Orlov
// allocator spreads over groups with free inodes. Snapshots are independent
// trees, so snapshots/ is marked +T: each new snapshot starts in a group of
// its own. Without it, a snapshot's files share a group with the thousands
// of inodes an earlier snapshot just freed, and ext4 (without a journal, as
// here) skips recently deleted inodes one by one on every create: 3,500
// creates took 0.44-1.38 s instead of 0.22-0.24 s on this VM. Elsewhere
// (xfs, btrfs, tmpfs, no chattr) it is a no-op.
import { execFileSync } from 'node:child_process';

export function markTopDir(dir: string): void {
  try {
    execFileSync('chattr', ['+T', dir], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // Not an ext2/3/4 directory, or no chattr: only an allocation hint is lost.
  }
}
