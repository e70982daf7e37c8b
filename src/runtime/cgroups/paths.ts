// cgroupsPath as runc reads it (OCI config-linux.md "Cgroups path"):
// - absolute: relative to the hierarchy's mount point (the cgroup root);
// - relative: relative to the caller's own cgroup in that hierarchy (from /proc/self/cgroup);
// - absent: "<id>", relative, which is runc's default for its fs driver;
// - "slice:prefix:name": the systemd driver's form, which Dray does not support.
// `..` can never climb out: the path is cleaned as runc's CleanPath does.
import { posix } from 'node:path';
import { CgroupError } from './errors.ts';
import type { Hierarchy } from './mode.ts';

export interface CgroupsPath {
  /** cleaned; for absolute paths it starts with "/". */
  inner: string;
  absolute: boolean;
}

export function parseCgroupsPath(path: string | undefined, id: string): CgroupsPath {
  // runc's container id rule (\w, +, -, .), minus the names that would climb.
  if (!/^[\w+.-]{1,1024}$/.test(id) || id === '.' || id === '..') throw new CgroupError(`invalid container id for a cgroup name: "${id}"`);
  if (path === undefined || path === '') return { inner: id, absolute: false };
  if (path.includes('\0')) throw new CgroupError('cgroupsPath contains a NUL byte');
  if (!path.startsWith('/') && /^[^/:]*:[^/:]*:[^/:]*$/.test(path)) {
    throw new CgroupError(`cgroupsPath "${path}" is in the systemd driver's "slice:prefix:name" form; the systemd cgroup driver is not supported (use a path such as /dray/${id})`);
  }
  const absolute = path.startsWith('/');
  // Cleaning "/" + path drops every ".." that would climb above the start.
  const cleaned = posix.normalize('/' + path).replace(/\/+$/, '');
  if (cleaned === '' || cleaned === '/') throw new CgroupError(`cgroupsPath "${path}" names the cgroup root itself`);
  return { inner: absolute ? cleaned : cleaned.slice(1), absolute };
}

/** The directory of this cgroup in one hierarchy. `own` is the caller's cgroup in it. */
export function cgroupDir(h: Hierarchy, p: CgroupsPath, own: string | undefined): string {
  if (p.absolute) return posix.join(h.mountpoint, p.inner);
  let base = own ?? '/';
  // Inside a container the mount shows only a subtree: strip the mount's root.
  if (h.root !== '/' && (base === h.root || base.startsWith(h.root + '/'))) base = base.slice(h.root.length) || '/';
  return posix.join(h.mountpoint, base, p.inner);
}
