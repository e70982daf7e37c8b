// tmpfs mount options as Docker writes them into the OCI config: its
// defaults (noexec, nosuid, nodev, rprivate) then the user's, merged so a
// later option overrides an earlier one of the same kind (moby's
// MergeTmpfsOptions), with its error for anything tmpfs cannot take.
import { badRequest } from '../engine/api/errors.ts';
import { PROPAGATIONS } from './mount-spec.ts';
import { TMPFS_DATA_KEYS } from './options.ts';

export const TMPFS_DEFAULTS = ['noexec', 'nosuid', 'nodev', 'rprivate'];

/** Flag options and the kind each sets; an option overrides earlier ones of its kind. */
const FLAG_KIND: Record<string, string> = {
  ro: 'rdonly', rw: 'rdonly', exec: 'noexec', noexec: 'noexec', suid: 'nosuid', nosuid: 'nosuid',
  dev: 'nodev', nodev: 'nodev', sync: 'sync', async: 'sync', dirsync: 'dirsync',
  atime: 'noatime', noatime: 'noatime', diratime: 'nodiratime', nodiratime: 'nodiratime',
  relatime: 'relatime', norelatime: 'relatime', strictatime: 'strictatime', nostrictatime: 'strictatime',
  mand: 'mand', nomand: 'mand', remount: 'remount', bind: 'bind', rbind: 'bind',
};
for (const p of PROPAGATIONS) FLAG_KIND[p] = 'propagation';

/** Go's %q of a []string, as the error prints it. */
const goQuoted = (parts: string[]): string => `[${parts.map((p) => JSON.stringify(p)).join(' ')}]`;

/** Defaults + user data ("rw,size=64m") -> the OCI options, last of each kind kept in place. */
export function tmpfsOptions(data: string): string[] {
  const options = [...TMPFS_DEFAULTS, ...(data ? data.split(',') : [])];
  const seenFlag = new Set<string>();
  const seenData = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const o = options[i] as string;
    if (o.includes('\0')) throw badRequest(`invalid tmpfs option ${goQuoted([o])}`);
    if (o === 'defaults') continue;
    const kind = FLAG_KIND[o];
    if (kind) {
      if (!seenFlag.has(kind)) {
        out.unshift(o);
        seenFlag.add(kind);
      }
      continue;
    }
    const eq = o.indexOf('=');
    if (eq < 0 || !TMPFS_DATA_KEYS.has(o.slice(0, eq))) throw badRequest(`invalid tmpfs option ${goQuoted(eq < 0 ? [o] : [o.slice(0, eq), o.slice(eq + 1)])}`);
    const key = o.slice(0, eq);
    if (!seenData.has(key)) {
      out.unshift(o);
      seenData.add(key);
    }
  }
  return out;
}
