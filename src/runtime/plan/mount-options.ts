// config.json mount options -> mount(2) flags, propagation flags, the
// filesystem's data string, and mount_setattr(2) attributes for the
// recursive forms (rro, rnosuid, ...), following the spec's option table.
import { MS } from '../../common/native.ts';
import { RuntimeError } from '../errors.ts';

export interface MountFlags {
  flags: number;
  propagation: number;
  data: string[];
  attrSet: number;
  attrClr: number;
}

const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME: 0x70, RELATIME: 0, NOATIME: 0x10, STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000 } as const;

const SET: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, sync: MS.SYNCHRONOUS, remount: MS.REMOUNT,
  mand: MS.MANDLOCK, dirsync: MS.DIRSYNC, noatime: MS.NOATIME, nodiratime: MS.NODIRATIME, bind: MS.BIND,
  rbind: MS.BIND | MS.REC, relatime: MS.RELATIME, strictatime: MS.STRICTATIME, nosymfollow: MS.NOSYMFOLLOW,
  lazytime: MS.LAZYTIME, silent: MS.SILENT,
};
const CLEAR: Record<string, number> = {
  rw: MS.RDONLY, suid: MS.NOSUID, dev: MS.NODEV, exec: MS.NOEXEC, async: MS.SYNCHRONOUS, nomand: MS.MANDLOCK,
  atime: MS.NOATIME, diratime: MS.NODIRATIME, norelatime: MS.RELATIME, nostrictatime: MS.STRICTATIME,
  symfollow: MS.NOSYMFOLLOW, loud: MS.SILENT, nolazytime: MS.LAZYTIME, defaults: 0,
};
const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};
/** Recursive attributes: [attr to set, attr to clear]. */
const RECURSIVE: Record<string, [number, number]> = {
  rro: [MOUNT_ATTR.RDONLY, 0], rrw: [0, MOUNT_ATTR.RDONLY], rnosuid: [MOUNT_ATTR.NOSUID, 0], rsuid: [0, MOUNT_ATTR.NOSUID],
  rnodev: [MOUNT_ATTR.NODEV, 0], rdev: [0, MOUNT_ATTR.NODEV], rnoexec: [MOUNT_ATTR.NOEXEC, 0], rexec: [0, MOUNT_ATTR.NOEXEC],
  rnodiratime: [MOUNT_ATTR.NODIRATIME, 0], rdiratime: [0, MOUNT_ATTR.NODIRATIME],
  rrelatime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR.ATIME], rnoatime: [MOUNT_ATTR.NOATIME, MOUNT_ATTR.ATIME],
  rstrictatime: [MOUNT_ATTR.STRICTATIME, MOUNT_ATTR.ATIME], rnosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, 0], rsymfollow: [0, MOUNT_ATTR.NOSYMFOLLOW],
};

export function parseMountOptions(options: string[] | undefined): MountFlags {
  const r: MountFlags = { flags: 0, propagation: 0, data: [], attrSet: 0, attrClr: 0 };
  for (const o of options ?? []) {
    if (o in SET) r.flags |= SET[o]!;
    else if (o in CLEAR) r.flags &= ~CLEAR[o]!;
    else if (o in PROPAGATION) r.propagation |= PROPAGATION[o]!;
    else if (o in RECURSIVE) { const [s, c] = RECURSIVE[o]!; r.attrSet |= s; r.attrClr |= c; }
    else if (o === 'idmap' || o === 'ridmap') throw new RuntimeError(`mount option ${o} is not supported`);
    else if (o === 'tmpcopyup') throw new RuntimeError('mount option tmpcopyup is not supported');
    else r.data.push(o);
  }
  return r;
}

export function propagationFlags(name: string | undefined): number {
  if (!name) return 0;
  const f = PROPAGATION[name];
  if (f === undefined) throw new RuntimeError(`unknown propagation ${JSON.stringify(name)}`);
  return f;
}
