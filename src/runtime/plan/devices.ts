// The /dev a container gets: the spec's default devices, the configured
// ones, and the usual links. In a new user namespace mknod is refused, so
// the executor bind-mounts the host's node instead (bind = true).
import type { Device } from '../config/types.ts';
import type { PlanRecord } from './encode.ts';

const DEFAULT_DEVICES: Required<Pick<Device, 'path' | 'type' | 'major' | 'minor' | 'fileMode'>>[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666 },
];

const LINKS: [string, string][] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
  ['pts/ptmx', '/dev/ptmx'],
];

export function deviceRecords(devices: Device[] | undefined, bind: boolean): PlanRecord[] {
  const byPath = new Map<string, Device>();
  for (const d of DEFAULT_DEVICES) byPath.set(d.path, d);
  for (const d of devices ?? []) byPath.set(d.path, d);
  const recs: PlanRecord[] = [];
  for (const d of byPath.values()) {
    const type = d.type === 'u' ? 'c' : d.type;
    recs.push(['dev', d.path, type, d.major ?? 0, d.minor ?? 0, d.fileMode ?? 0o666, d.uid ?? 0, d.gid ?? 0, bind ? '1' : '0']);
  }
  for (const [target, link] of LINKS) recs.push(['symlink', target, link]);
  return recs;
}

/**
 * The device cgroup rules every container gets after its own (as runc adds
 * them): mknod of anything, the default nodes, the console and ptys. A
 * configured device (linux.devices) is created, but its access is what the
 * spec's own rules allow, as with runc (docker run --device /dev/x:r).
 */
export function withDefaultDeviceRules(resources: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const rules = resources?.['devices'];
  if (!Array.isArray(rules)) return resources;
  const allow = (type: string, major?: number, minor?: number): Record<string, unknown> => {
    const r: Record<string, unknown> = { allow: true, type, access: type === 'c' || type === 'b' ? 'rwm' : 'rwm' };
    if (major !== undefined) r['major'] = major;
    if (minor !== undefined) r['minor'] = minor;
    return r;
  };
  const extra = [
    { allow: true, type: 'c', access: 'm' }, { allow: true, type: 'b', access: 'm' },
    ...DEFAULT_DEVICES.map((d) => allow('c', d.major, d.minor)),
    allow('c', 5, 1), allow('c', 136), allow('c', 5, 2),
  ];
  return { ...resources, devices: [...rules, ...extra] };
}
