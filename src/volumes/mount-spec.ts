// Docker's container-create mount inputs parsed into mount points, with no
// side effects: `Binds` strings (-v), `Mounts` objects (--mount), `Tmpfs`
// destinations (--tmpfs) and `VolumesFrom` specs, validated with Docker's
// error messages (moby's volume/mounts linux parser), plus Dray's own
// refusals of hostile destinations (/proc, /sys).
import { existsSync } from 'node:fs';
import { badRequest, type ApiError } from '../engine/api/errors.ts';
import { cleanPath, isLocalPath } from './paths.ts';

export type MountType = 'bind' | 'volume' | 'tmpfs';

/** Docker's API Mount object (HostConfig.Mounts[]). */
export interface MountSpec {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

/**
 * One mount of a container, as the engine records it (Docker's MountPoint):
 * enough to rebuild the OCI mounts at every start and to share them with
 * --volumes-from.
 */
export interface MountPoint {
  Type: MountType;
  /** Clean absolute path in the container. */
  Destination: string;
  /** bind: host path; volume: the volume's _data (set once the volume exists); tmpfs: ''. */
  Source: string;
  /** Volume name ('' for bind and tmpfs). */
  Name: string;
  Driver: string;
  RW: boolean;
  /** The -v mode string; 'z' for local volumes given without one (as Docker shows). */
  Mode: string;
  /** bind only: rprivate unless asked. */
  Propagation: string;
  /** Copy the image's content at Destination into an empty volume. */
  CopyData: boolean;
  /** -v binds create a missing source; --mount refuses it (unless CreateMountpoint). */
  CreateSource: boolean;
  /** bind: "bind" instead of "rbind". */
  NonRecursive: boolean;
  /** Read-only only at the top mount ("ro"), not recursively ("rro"): API < 1.44 binds, or asked. */
  ReadOnlyNonRecursive?: boolean;
  /** volume: the volume was made without a name (rm -v removes those). */
  Anonymous: boolean;
  /** volume: a path inside the volume to mount instead of its root (API >= 1.45). */
  Subpath?: string;
  /** volume: labels and driver options for creating it. */
  VolumeLabels?: Record<string, string> | null;
  DriverOpts?: Record<string, string> | null;
  /** tmpfs (--mount type=tmpfs): mount data, "size=…,mode=…". */
  TmpfsData?: string;
}

export const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'] as const;
const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);
const DEFAULT_PROPAGATION = 'rprivate';

/** /proc paths a bind may cover (lxcfs's), as runc allows; the rest of /proc is refused. */
const PROC_ALLOWED = new Set(['/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime', '/proc/loadavg', '/proc/slabinfo', '/proc/net/dev', '/proc/sys/kernel/ns_last_pid']);

export const errInvalidSpec = (raw: string): ApiError => badRequest(`invalid volume specification: '${raw}'`);
export const errInvalidMode = (mode: string): ApiError => badRequest(`invalid mode: ${mode}`);
const mountConfigError = (type: string, msg: string): ApiError => badRequest(`invalid mount config for type ${JSON.stringify(type)}: ${msg}`);

/** Go's %q is close enough to JSON for the type names involved. */
function validMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = { rw: 0, label: 0, prop: 0, copy: 0, consistency: 0 };
  for (const o of mode.split(',')) {
    if (RW_MODES.has(o)) counts.rw++;
    else if (LABEL_MODES.has(o)) counts.label++;
    else if ((PROPAGATIONS as readonly string[]).includes(o)) counts.prop++;
    else if (o === 'nocopy') counts.copy++;
    else if (CONSISTENCY_MODES.has(o)) counts.consistency++;
    else return false;
  }
  return Object.values(counts).every((n) => n <= 1);
}

/** Docker's ReadWrite(mode): false only for a valid mode with "ro". */
export function modeIsReadWrite(mode: string): boolean {
  if (!validMode(mode)) return false;
  return !mode.split(',').includes('ro');
}

const propagationOf = (mode: string): string | undefined => mode.split(',').find((o) => (PROPAGATIONS as readonly string[]).includes(o));

/**
 * Dray's destination rules on top of Docker's (not '/', absolute): never
 * over the container's /proc or /sys themselves, nor into /proc except the
 * files runc lets a bind cover. Returns the message, or null.
 */
export function forbiddenDestination(dest: string): string | null {
  if (dest.includes('\0')) return 'invalid mount path: it contains a NUL byte';
  const d = cleanPath(dest);
  if (d === '/proc' || d === '/sys') return `invalid specification: destination can't be '${d}'`;
  if (d.startsWith('/proc/') && !PROC_ALLOWED.has(d)) return `invalid specification: destination can't be inside /proc: '${d}'`;
  return null;
}

/** Docker's target checks (not root, absolute) and Dray's; the message or null. */
function targetError(target: string): string | null {
  // Docker compares the raw target; '/x/..' is '/' too once cleaned.
  if (!target.startsWith('/') && target !== '') return `invalid mount path: '${target}' mount path must be absolute`;
  if (cleanPath(target) === '/') return "invalid specification: destination can't be '/'";
  return forbiddenDestination(target);
}

/**
 * One Binds string (`src:dst[:mode]`, `dst`), as `docker run -v`. A source
 * that is not an absolute path names a volume; none makes an anonymous one.
 */
export function parseBind(raw: string, volumeDriver = ''): MountPoint {
  if ((raw.match(/:/g) ?? []).length > 2) throw errInvalidSpec(raw);
  const arr = raw.split(':');
  if (arr[0] === '') throw errInvalidSpec(raw);
  let source = '';
  let target: string;
  let mode = '';
  if (arr.length === 1) target = arr[0] as string;
  else if (arr.length === 2) {
    // "/foo:rw" is a destination and a mode: volumes cannot have a mode alone.
    if (validMode(arr[1] as string)) throw errInvalidSpec(raw);
    source = arr[0] as string;
    target = arr[1] as string;
  } else {
    [source, target, mode] = arr as [string, string, string];
  }
  if (!validMode(mode)) throw errInvalidMode(mode);
  const type: MountType = source.startsWith('/') ? 'bind' : 'volume';
  const opts = mode.split(',');
  const spec: MountSpec = { Type: type, Source: source, Target: target, ReadOnly: !modeIsReadWrite(mode) };
  if (volumeDriver && type === 'volume') spec.VolumeOptions = { DriverConfig: { Name: volumeDriver } };
  if (opts.includes('nocopy')) spec.VolumeOptions = { ...(spec.VolumeOptions ?? {}), NoCopy: true };
  const prop = propagationOf(mode);
  if (prop) spec.BindOptions = { Propagation: prop };
  let mp: MountPoint;
  try {
    mp = specToMountPoint(spec, false);
  } catch (err) {
    throw badRequest(`invalid volume specification: '${raw}': ${(err as Error).message}`);
  }
  mp.Mode = mode;
  mp.CreateSource = type === 'bind';
  return mp;
}

/** One Mounts object, as `docker run --mount`. apiVersion gates Subpath (1.45). */
export function parseMount(spec: MountSpec, apiAtLeast145 = true): MountPoint {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw badRequest('invalid mount config: a mount must be an object');
  if (!apiAtLeast145 && spec.VolumeOptions?.Subpath) throw badRequest('VolumeOptions.Subpath needs API v1.45 or newer');
  return specToMountPoint(spec, true);
}

/** moby's validateMountConfig + parseMountSpec. */
function specToMountPoint(spec: MountSpec, validateBindSourceExists: boolean): MountPoint {
  const type = typeof spec.Type === 'string' ? spec.Type : '';
  const fail = (msg: string): never => {
    throw mountConfigError(type, msg);
  };
  for (const k of ['Source', 'Target', 'Consistency'] as const) {
    if (spec[k] !== undefined && spec[k] !== null && typeof spec[k] !== 'string') fail(`field ${k} must be a string`);
  }
  const target = spec.Target ?? '';
  const source = spec.Source ?? '';
  if (!target) fail('field Target must not be empty');
  const te = targetError(target);
  if (te) fail(te);
  const base = {
    Destination: cleanPath(target), Name: '', Driver: '', RW: !spec.ReadOnly, Mode: '', Propagation: '',
    CopyData: false, CreateSource: false, NonRecursive: false, Anonymous: false, Source: '',
  };
  switch (type) {
    case 'bind': {
      if (!source) fail('field Source must not be empty');
      const prop = spec.BindOptions?.Propagation;
      if (prop && !(PROPAGATIONS as readonly string[]).includes(prop)) fail(`invalid propagation mode: ${prop}`);
      if (spec.VolumeOptions) fail('field VolumeOptions must not be specified');
      if (spec.TmpfsOptions) fail('field TmpfsOptions must not be specified');
      if (!source.startsWith('/')) fail(`invalid mount path: '${source}' mount path must be absolute`);
      if (source.includes('\0')) fail('invalid mount path: it contains a NUL byte');
      const bo = spec.BindOptions ?? undefined;
      if (bo?.ReadOnlyNonRecursive && !spec.ReadOnly) fail("option 'ReadOnlyNonRecursive' requires 'ReadOnly' to be set");
      if (bo?.ReadOnlyForceRecursive) {
        if (!spec.ReadOnly) fail("option 'ReadOnlyForceRecursive' requires 'ReadOnly' to be set");
        if (bo.ReadOnlyNonRecursive) fail("option 'ReadOnlyForceRecursive' conflicts with 'ReadOnlyNonRecursive'");
        if ((bo.Propagation || DEFAULT_PROPAGATION) !== DEFAULT_PROPAGATION) fail("option 'ReadOnlyForceRecursive' requires 'BindOptions.Propagation' to be 'rprivate'");
      }
      const create = !!spec.BindOptions?.CreateMountpoint;
      if (validateBindSourceExists && !create && !existsSync(source)) fail(`bind source path does not exist: ${source}`);
      return {
        ...base, Type: 'bind', Source: cleanPath(source), Propagation: prop || DEFAULT_PROPAGATION,
        CreateSource: create, NonRecursive: !!bo?.NonRecursive, ...(bo?.ReadOnlyNonRecursive ? { ReadOnlyNonRecursive: true } : {}),
      };
    }
    case 'volume': {
      if (spec.BindOptions) fail('field BindOptions must not be specified');
      if (spec.TmpfsOptions) fail('field TmpfsOptions must not be specified');
      const anonymous = source === '';
      const vo = spec.VolumeOptions ?? undefined;
      const subpath = vo?.Subpath ?? '';
      if (subpath) {
        if (anonymous) fail('must not set Subpath when using anonymous volumes');
        if (!isLocalPath(subpath)) fail('subpath must be a relative path within the volume');
      }
      if (spec.ReadOnly && anonymous) fail('must not set ReadOnly mode when using anonymous volumes');
      const driver = vo?.DriverConfig?.Name ?? '';
      if (driver && driver !== 'local') {
        throw badRequest(`create ${source || '<anonymous>'}: error looking up volume plugin ${driver}: plugin ${JSON.stringify(driver)} not found`);
      }
      const mp: MountPoint = {
        ...base, Type: 'volume', Name: source, Driver: 'local', CopyData: !vo?.NoCopy, Anonymous: anonymous,
        VolumeLabels: vo?.Labels ?? null, DriverOpts: vo?.DriverConfig?.Options ?? null,
      };
      if (subpath) mp.Subpath = cleanPath(subpath);
      return mp;
    }
    case 'tmpfs': {
      if (spec.BindOptions) fail('field BindOptions must not be specified');
      if (spec.VolumeOptions) fail('field VolumeOptions must not be specified');
      if (source) fail('field Source must not be specified');
      return { ...base, Type: 'tmpfs', TmpfsData: tmpfsData(spec.TmpfsOptions, !!spec.ReadOnly, fail) };
    }
    default:
      return fail('mount type unknown');
  }
}

/** moby's ConvertTmpfsOptions: "ro", "mode=<octal>", "size=<n>[kmg]". */
function tmpfsData(opt: MountSpec['TmpfsOptions'], readOnly: boolean, fail: (m: string) => never): string {
  const raw: string[] = [];
  if (readOnly) raw.push('ro');
  const mode = opt?.Mode ?? 0;
  const size = opt?.SizeBytes ?? 0;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) fail(`invalid tmpfs mode: ${mode}`);
  if (!Number.isSafeInteger(size) || size < 0) fail(`invalid tmpfs size: ${size}`);
  if (mode !== 0) raw.push(`mode=${mode.toString(8)}`);
  if (size !== 0) {
    let n = size;
    let suffix = '';
    for (const [s, d] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
      if (size % d === 0) {
        n = size / d;
        suffix = s;
        break;
      }
    }
    raw.push(`size=${n}${suffix}`);
  }
  return raw.join(',');
}

/** A Tmpfs map key (--tmpfs /run:opts): Docker's ValidateTmpfsMountDestination, plus Dray's rules. */
export function validateTmpfsDestination(dest: string): void {
  const e = targetError(dest);
  if (e) throw badRequest(e);
}

/** `container[:mode]` of --volumes-from: the container and its mode ("rw" when none). */
export function parseVolumesFrom(spec: string): { container: string; mode: string } {
  if (!spec) throw badRequest('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  const container = i < 0 ? spec : spec.slice(0, i);
  const mode = i < 0 ? '' : spec.slice(i + 1);
  if (mode === '') return { container, mode: 'rw' };
  if (!validMode(mode)) throw errInvalidMode(mode);
  // Propagation and copy modes are the source container's own; not overridable.
  if (propagationOf(mode) || mode.split(',').includes('nocopy')) throw errInvalidMode(mode);
  return { container, mode };
}
