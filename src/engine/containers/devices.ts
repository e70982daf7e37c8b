// HostConfig.Devices (`--device HOST[:CONTAINER[:PERMS]]`), DeviceCgroupRules
// (`--device-cgroup-rule`) and --privileged's host devices, turned into the
// spec's linux.devices and linux.resources.devices as dockerd 20.10 writes
// them: each node is lstat'ed on the host at start (type, major/minor,
// mode, owner), a directory brings every device under it, and each device
// gets an allow rule with its permissions after Docker's default rules.
import { lstatSync, readdirSync, realpathSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { badRequest, serverError } from '../api/errors.ts';

export interface DeviceMapping { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }
export interface LinuxDevice { path: string; type: 'c' | 'b' | 'p'; major: number; minor: number; fileMode: number; uid: number; gid: number }
export interface DeviceRule { allow: boolean; type?: string; major?: number; minor?: number; access: string }

/** dockerd 20.10's rules for an unprivileged container (the runtime appends its own allow list after them). */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { allow: false, access: 'rwm' },
  ...([[1, 5], [1, 3], [1, 9], [1, 8], [5, 0], [5, 1]] as const).map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, // /dev/fuse: only when asked for
];

/** Entries a directory walk visits at most (a --device directory, or /dev for --privileged). */
const WALK_LIMIT = 10_000;

const RULE_RE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** Checks HostConfig.Devices at create; a missing container path is the host path, missing permissions rwm (the CLI's defaults). */
export function parseDeviceMappings(v: unknown): DeviceMapping[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badRequest('json: cannot unmarshal Devices: expected an array');
  return v.map((d: unknown) => {
    if (typeof d !== 'object' || d === null) throw badRequest('json: cannot unmarshal Devices: expected objects');
    const o = d as Record<string, unknown>;
    for (const k of ['PathOnHost', 'PathInContainer', 'CgroupPermissions']) {
      if (o[k] !== undefined && o[k] !== null && typeof o[k] !== 'string') throw badRequest(`json: cannot unmarshal Devices.${k}: expected a string`);
    }
    const host = (o['PathOnHost'] as string | undefined) ?? '';
    const ctr = (o['PathInContainer'] as string | undefined) || host;
    const perms = (o['CgroupPermissions'] as string | undefined) || 'rwm';
    if (!host) throw badRequest('invalid device mapping: PathOnHost is empty');
    if (!ctr.startsWith('/') || ctr.includes('\0')) throw badRequest(`bad format for path: ${ctr}`);
    if (!/^[rwm]{1,3}$/.test(perms) || new Set(perms).size !== perms.length) throw badRequest(`bad mode specified: ${perms}`);
    return { PathOnHost: host, PathInContainer: ctr, CgroupPermissions: perms };
  });
}

/** One `--device-cgroup-rule` ("c 1:3 rwm", "b 8:* r", "a *:* m"); '*' is -1 as dockerd writes it. */
export function parseCgroupRule(rule: string): DeviceRule {
  const m = typeof rule === 'string' ? RULE_RE.exec(rule) : null;
  if (!m) throw badRequest(`invalid device cgroup rule format: '${String(rule)}'`);
  const num = (s: string): number => (s === '*' ? -1 : Number(s));
  return { allow: true, type: m[1]!, major: num(m[2]!), minor: num(m[3]!), access: m[4]! };
}

export function parseCgroupRules(v: unknown): DeviceRule[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badRequest('json: cannot unmarshal DeviceCgroupRules: expected an array of strings');
  return v.map((r) => parseCgroupRule(r as string));
}

/** Linux's dev_t split (glibc's major()/minor()). */
function splitDev(rdev: bigint): [number, number] {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return [major, minor];
}

const S_IFMT = 0o170000n;

/** The node at path (not followed) as a spec device, or null when it is no device node. */
function deviceFromStat(path: string, st: BigIntStats): LinuxDevice | null {
  const fmt = st.mode & S_IFMT;
  const type = fmt === 0o060000n ? 'b' : fmt === 0o020000n ? 'c' : fmt === 0o010000n ? 'p' : null;
  if (!type) return null;
  const [major, minor] = splitDev(st.rdev);
  return { path, type, major, minor, fileMode: Number(st.mode & ~S_IFMT), uid: Number(st.uid), gid: Number(st.gid) };
}

function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const texts: Record<string, string> = {
    ENOENT: 'no such file or directory', ENOTDIR: 'not a directory', EACCES: 'permission denied', ELOOP: 'too many levels of symbolic links',
  };
  return (code && texts[code]) || (err as Error).message;
}

/**
 * One mapping, as dockerd's DevicesFromPath: a symlink on the host is
 * resolved; a device node maps to the container path; a directory maps every
 * device below it (its relative path kept under the container path).
 */
export function devicesFromPath(m: DeviceMapping): { devices: LinuxDevice[]; rules: DeviceRule[] } {
  const fail = (why: string): never => { throw serverError(`error gathering device information while adding custom device "${m.PathOnHost}": ${why}`); };
  let host = m.PathOnHost;
  try {
    if (lstatSync(host).isSymbolicLink()) host = realpathSync(host);
  } catch { /* lstat below says why */ }
  let st: BigIntStats;
  try { st = lstatSync(host, { bigint: true }); } catch (err) { return fail(errnoText(err)); }
  const one = deviceFromStat(m.PathInContainer, st);
  const devices: LinuxDevice[] = [];
  if (one) devices.push(one);
  else if (st.isDirectory()) walk(host, (p, s) => {
    const d = deviceFromStat(m.PathInContainer + p.slice(host.length), s);
    if (d) devices.push(d);
  });
  if (!devices.length) fail('not a device node');
  const rules = devices.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: m.CgroupPermissions }));
  // runc refuses a cgroup rule for a FIFO, so dockerd's start fails there: the same, before anything runs
  if (rules.some((r) => r.type === 'p')) throw serverError('invalid cgroup device type "p"');
  return { devices, rules };
}

/** Lexical walk without following links (Go's filepath.Walk), bounded; skipDir: directories not entered. */
function walk(root: string, visit: (path: string, st: BigIntStats) => void, skipDir: (name: string) => boolean = () => false): void {
  let seen = 0;
  const rec = (dir: string): void => {
    let names: string[];
    try { names = readdirSync(dir).sort(); } catch { return; }
    for (const n of names) {
      if (++seen > WALK_LIMIT) throw serverError(`too many entries under ${root} (more than ${WALK_LIMIT})`);
      const p = join(dir, n);
      let st: BigIntStats;
      try { st = lstatSync(p, { bigint: true }); } catch { continue; }
      visit(p, st);
      if (st.isDirectory() && !skipDir(n)) rec(p);
    }
  };
  rec(root);
}

const HOST_SKIPPED_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** What --privileged maps: every char/block device under /dev, as runc's HostDevices lists them. */
export function hostDevices(root = '/dev'): LinuxDevice[] {
  const out: LinuxDevice[] = [];
  walk(root, (p, st) => {
    // the console is the runtime's; /dev/ptmx becomes the link to pts/ptmx (runc replaces the host's node,
    // which would open the host's devpts instance, not the container's)
    if (p === join(root, 'console') || p === join(root, 'ptmx')) return;
    const d = deviceFromStat(p, st);
    if (d && d.type !== 'p') out.push(d);
  }, (n) => HOST_SKIPPED_DIRS.has(n));
  return out;
}

/**
 * linux.devices and linux.resources.devices for a container: dockerd's
 * defaults plus the mapped devices and rules; privileged: every host device,
 * everything allowed, rule permissions ignored (as dockerd warns).
 */
export function containerDevices(hostConfig: Record<string, unknown>, privileged: boolean, devRoot = '/dev'): { devices: LinuxDevice[]; rules: DeviceRule[] } {
  const mappings = parseDeviceMappings(hostConfig['Devices']);
  if (privileged) {
    const devices = hostDevices(devRoot);
    for (const m of mappings) {
      if (m.PathOnHost === m.PathInContainer) continue; // already there
      devices.push(...devicesFromPath({ ...m, CgroupPermissions: 'rwm' }).devices);
    }
    return { devices, rules: [{ allow: true, access: 'rwm' }] };
  }
  const devices: LinuxDevice[] = [];
  const rules: DeviceRule[] = DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
  for (const m of mappings) {
    const r = devicesFromPath(m);
    devices.push(...r.devices);
    rules.push(...r.rules);
  }
  rules.push(...parseCgroupRules(hostConfig['DeviceCgroupRules']));
  return { devices, rules };
}

