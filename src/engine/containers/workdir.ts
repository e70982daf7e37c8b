// dockerd makes a missing WORKDIR before the start (0755, owned by root in
// the container), in the root filesystem as the container sees it: the path
// is resolved inside the rootfs, symlinks never leading out of it.
import { mkdirSync, statSync } from 'node:fs';
import { resolveInRoot } from '../../volumes/paths.ts';
import { serverError } from '../api/errors.ts';

export function ensureWorkingDir(rootfs: string, workingDir: string | undefined): void {
  if (!workingDir || workingDir === '/') return;
  const host = resolveInRoot(rootfs, workingDir);
  const st = statSync(host, { throwIfNoEntry: false });
  if (st) {
    if (!st.isDirectory()) throw serverError(`Cannot mkdir: ${workingDir} is not a directory`);
    return;
  }
  mkdirSync(host, { recursive: true, mode: 0o755 });
}
