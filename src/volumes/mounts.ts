// Mount planning for a container, as dockerd's registerMountPoints and its
// OCI spec generation do it:
//  planMounts (container create): --volumes-from, then Binds, then Mounts,
//    then the image's VOLUMEs (anonymous volumes where nothing else is
//    mounted); duplicate destinations are Docker's "Duplicate mount point";
//    volumes are created and referenced; empty volumes get the image's
//    content (copy-up) when the rootfs is given.
//  ociMounts (container start): the config.json mounts, parents before
//    children, with missing -v bind sources created as Docker does.
//  inspectMounts: the `Mounts` array of container inspect.
// Everything is validated before anything is created; a failure after
// that releases what this plan took.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { apiVersionAtLeast } from '../engine/api/api-version.ts';
import { badRequest, notFound, serverError } from '../engine/api/errors.ts';
import { readMountInfo } from './backend.ts';
import { copyUpOnce } from './copy-up.ts';
import {
  forbiddenDestination, modeIsReadWrite, parseBind, parseMount, parseVolumesFrom, validateTmpfsDestination,
  type MountPoint, type MountSpec,
} from './mount-spec.ts';
import { nameError } from './names.ts';
import { cleanPath, isWithin, realpathOrUndefined, resolveInRoot } from './paths.ts';
import type { VolumeStore } from './store.ts';
import { tmpfsOptions } from './tmpfs-options.ts';

/** The mount-related parts of a container create request. */
export interface ContainerMountInput {
  Binds?: string[] | null;
  Mounts?: MountSpec[] | null;
  /** destination -> options ("rw,size=64m"). */
  Tmpfs?: Record<string, string> | null;
  VolumesFrom?: string[] | null;
  VolumeDriver?: string;
  /** The image config's Volumes ({"/data": {}}). */
  ImageVolumes?: Record<string, unknown> | null;
}

export interface PlanContext {
  store: VolumeStore;
  containerId: string;
  /** The request's API version (Subpath needs 1.45). */
  apiVersion?: string;
  /** --volumes-from lookup: the container's id and recorded mount points, or undefined (404). */
  lookupContainer?: (ref: string) => { id: string; mountPoints: MountPoint[] } | undefined;
  /** The container's rootfs on the host, mounted: enables copy-up and the image-volume file check. */
  rootfs?: string;
}

/** An OCI runtime-spec mount. */
export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** An entry of container inspect's `Mounts`. */
export interface InspectMount {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface MountPlan {
  /** Sorted by destination; what the engine stores with the container. */
  mountPoints: MountPoint[];
  /** Volumes this plan referenced (acquired) for the container. */
  volumes: string[];
  /** Volumes this plan created. */
  created: string[];
  /** Notes for the user (Docker's warnings), e.g. ignored SELinux labels. */
  warnings: string[];
}

/** Where a mount point came from: volumes-from ones must exist; only -v/--mount volumes show Mode "z". */
export type Origin = 'volumes-from' | 'bind' | 'mount' | 'image';

export interface ParsedMounts {
  mountPoints: Map<string, MountPoint>;
  origin: Map<MountPoint, Origin>;
  warnings: string[];
}

const duplicate = (dest: string): Error => badRequest(`Duplicate mount point: ${dest}`);

/**
 * Parses and validates the inputs into mount points (no side effects).
 * Exposed for table tests; planMounts is what the engine calls.
 */
export function parseContainerMounts(input: ContainerMountInput, ctx: Pick<PlanContext, 'apiVersion' | 'lookupContainer' | 'store'>): ParsedMounts {
  const points = new Map<string, MountPoint>();
  const origin = new Map<MountPoint, Origin>();
  const warnings: string[] = [];
  const tmpfs = input.Tmpfs ?? {};
  for (const dest of Object.keys(tmpfs)) validateTmpfsDestination(dest);
  const driver = input.VolumeDriver ?? '';
  if (driver && driver !== 'local') throw notFound(`error looking up volume plugin ${driver}: plugin ${JSON.stringify(driver)} not found`);

  // 1. --volumes-from: the other container's mount points, RW narrowed by the mode.
  for (const spec of input.VolumesFrom ?? []) {
    const { container, mode } = parseVolumesFrom(spec);
    const other = ctx.lookupContainer?.(container);
    if (!other) throw notFound(`No such container: ${container}`);
    for (const m of other.mountPoints) {
      const copy: MountPoint = { ...m, RW: m.RW && modeIsReadWrite(mode), CopyData: false, Mode: m.Type === 'volume' ? '' : m.Mode };
      points.set(m.Destination, copy);
      origin.set(copy, 'volumes-from');
    }
  }

  // Before API 1.44 read-only binds were read-only at their top mount only.
  const roNonRecursive = !apiVersionAtLeast(ctx.apiVersion ?? '1.50', '1.44');

  // 2. Binds (-v): no two on one destination, nor on a --tmpfs one.
  const taken = new Set<string>();
  for (const raw of input.Binds ?? []) {
    if (typeof raw !== 'string') throw badRequest('invalid volume specification: binds must be strings');
    const mp = parseBind(raw, driver);
    if (roNonRecursive && mp.Type === 'bind' && !mp.RW) mp.ReadOnlyNonRecursive = true;
    if (taken.has(mp.Destination) || Object.hasOwn(tmpfs, mp.Destination)) throw duplicate(mp.Destination);
    if (/(^|,)[zZ](,|$)/.test(mp.Mode)) warnings.push(`SELinux relabeling (${raw}) is ignored: this host does not label mounts`);
    checkDaemonRoot(mp, ctx.store.root);
    taken.add(mp.Destination);
    points.set(mp.Destination, mp);
    origin.set(mp, 'bind');
  }

  // 3. Mounts (--mount): same rule; the error names the target as given.
  const at145 = apiVersionAtLeast(ctx.apiVersion ?? '1.50', '1.45');
  for (const spec of input.Mounts ?? []) {
    const mp = parseMount(spec, at145);
    if (roNonRecursive && mp.Type === 'bind' && !mp.RW) mp.ReadOnlyNonRecursive = true;
    checkDaemonRoot(mp, ctx.store.root);
    if (taken.has(mp.Destination)) throw duplicate(spec.Target ?? '');
    taken.add(mp.Destination);
    points.set(mp.Destination, mp);
    origin.set(mp, 'mount');
  }

  // Volume names are checked now, before anything is created.
  for (const m of points.values()) {
    if (m.Type === 'volume' && m.Name) {
      const err = nameError(m.Name);
      if (err) throw err;
    }
  }

  // 4. The image's VOLUMEs where nothing is mounted yet: anonymous volumes.
  for (const raw of Object.keys(input.ImageVolumes ?? {}).sort()) {
    const dest = cleanPath(raw);
    if (points.has(dest) || Object.hasOwn(tmpfs, dest)) continue;
    if (!dest.startsWith('/') || dest === '/') throw badRequest(`invalid image volume: ${JSON.stringify(raw)} must be an absolute path other than '/'`);
    const bad = forbiddenDestination(dest);
    if (bad) throw badRequest(`invalid image volume ${JSON.stringify(raw)}: ${bad}`);
    const mp: MountPoint = {
      Type: 'volume', Destination: dest, Source: '', Name: '', Driver: 'local', RW: true, Mode: '', Propagation: '',
      CopyData: true, CreateSource: false, NonRecursive: false, Anonymous: true,
    };
    points.set(dest, mp);
    origin.set(mp, 'image');
  }
  return { mountPoints: points, origin, warnings };
}

/**
 * Docker's validateBindDaemonRoot: a bind whose source holds the data root
 * (or lies in it) must propagate as rslave or rshared, so the container
 * does not pin the daemon's mounts; unset propagation becomes rslave.
 */
function checkDaemonRoot(mp: MountPoint, dataRoot: string): void {
  if (mp.Type !== 'bind') return;
  const root = realpathOrUndefined(dataRoot) ?? cleanPath(dataRoot);
  const src = realpathOrUndefined(mp.Source) ?? mp.Source;
  if (!isWithin(src, root) && !isWithin(root, src)) return;
  if (mp.Propagation === 'rprivate' && !/(^|,)rprivate(,|$)/.test(mp.Mode)) {
    mp.Propagation = 'rslave';
    return;
  }
  if (mp.Propagation === 'rslave' || mp.Propagation === 'rshared') return;
  throw badRequest(`invalid mount config: must use either propagation mode "rslave" or "rshared" when mount source is within the daemon root, daemon root: ${JSON.stringify(root)}, bind mount source: ${JSON.stringify(mp.Source)}, propagation: ${JSON.stringify(mp.Propagation)}`);
}

/**
 * The container-create step: validates everything, then creates and
 * references the volumes, and (with ctx.rootfs) copies image content into
 * empty ones. On failure nothing it took remains.
 */
export async function planMounts(input: ContainerMountInput, ctx: PlanContext): Promise<MountPlan> {
  const { mountPoints, origin, warnings } = parseContainerMounts(input, ctx);
  const { store, containerId } = ctx;
  const volumes: string[] = [];
  const created: string[] = [];
  const sorted = sortByDestination([...mountPoints.values()]);
  if (ctx.rootfs) checkInRootfs([...mountPoints.keys(), ...Object.keys(input.Tmpfs ?? {})], ctx.rootfs);
  try {
    for (const m of sorted) {
      if (m.Type !== 'volume') continue;
      const from = origin.get(m);
      if (from === 'volumes-from') {
        if (!store.get(m.Name)) throw notFound(`get ${m.Name}: no such volume`);
      } else if (!m.Name || !store.get(m.Name)) {
        // Docker creates a missing named volume with the mount's labels and
        // options; an existing one is used as it is, whatever they say.
        const v = store.create({ Name: m.Name || undefined, DriverOpts: m.DriverOpts ?? null, Labels: m.VolumeLabels ?? null });
        created.push(v.Name);
        m.Name = v.Name;
      }
      store.acquire(m.Name, containerId);
      volumes.push(m.Name);
      m.Source = volumeSource(store, m);
      if (!m.Mode && (from === 'bind' || from === 'mount')) m.Mode = 'z';
    }
    if (ctx.rootfs) await copyUp(sorted, ctx.rootfs, store);
  } catch (err) {
    for (const n of volumes) store.release(n, containerId);
    for (const n of created) if (store.refs(n).length === 0) store.remove(n, { force: true });
    throw err;
  }
  return { mountPoints: sorted, volumes: [...new Set(volumes)], created, warnings };
}

/** The host path a volume mount binds: its _data, or a subpath checked to stay inside it. */
function volumeSource(store: VolumeStore, m: MountPoint): string {
  const base = store.mountpoint(m.Name);
  if (!m.Subpath) return base;
  const fail = (msg: string): never => {
    throw badRequest(`invalid mount config for type "volume": ${msg}`);
  };
  const resolved = resolveInRoot(base, m.Subpath);
  if (!existsSync(resolved)) fail(`cannot access path ${join(base, m.Subpath)}: no such file or directory`);
  const real = realpathOrUndefined(resolved) as string;
  if (!isWithin(real, realpathOrUndefined(base) ?? base)) fail(`subpath ${m.Subpath} resolves outside the volume`);
  return real;
}

/**
 * Copies the image's content into each empty volume that asks for it
 * (CopyData, no subpath). Destinations are resolved inside the rootfs; an
 * image file where a volume goes is Docker's error.
 */
export async function copyUp(mountPoints: MountPoint[], rootfs: string, store: VolumeStore): Promise<void> {
  for (const m of mountPoints) {
    if (m.Type !== 'volume' || m.Subpath) continue;
    const host = resolveInRoot(rootfs, m.Destination);
    let isDir = true;
    try {
      isDir = statSync(host).isDirectory();
    } catch { /* missing: nothing to copy */ }
    if (!isDir) throw badRequest(`cannot mount volume over existing file, file exists ${host}`);
    if (m.CopyData) await copyUpOnce(store, m.Name, host);
  }
}

/**
 * Every destination resolved inside the rootfs (symlinks followed as the
 * runtime will, never out of it) must still be an allowed destination:
 * an image's /etc/x -> /proc link does not get a mount over /proc.
 */
export function checkInRootfs(destinations: string[], rootfs: string): void {
  for (const d of destinations) {
    const inside = `/${relative(rootfs, resolveInRoot(rootfs, d))}`;
    const bad = forbiddenDestination(inside);
    if (bad) throw badRequest(`invalid mount config: destination ${d} resolves to ${inside} in the container: ${bad}`);
  }
}

/**
 * Parents before children (fewer path components first), as Docker sorts;
 * then by destination, so the order never depends on the input's.
 */
export function sortByDestination<T extends { Destination: string } | { destination: string }>(items: T[]): T[] {
  const dest = (x: T): string => cleanPath('Destination' in x ? x.Destination : x.destination);
  const depth = (x: T): number => dest(x).split('/').length;
  return [...items].sort((a, b) => depth(a) - depth(b) || (dest(a) < dest(b) ? -1 : dest(a) > dest(b) ? 1 : 0));
}

/** Result of ociMounts: the mounts, and the rootfs propagation shared/slave binds need. */
export interface OciMountsResult {
  mounts: OciMount[];
  /** Set when a bind asks for shared or slave propagation (the rootfs must allow it). */
  rootfsPropagation?: 'rshared' | 'rslave';
}

/**
 * The container-start step: OCI mounts for the recorded mount points and
 * the Tmpfs map. Volumes are re-acquired (their backend mounted again after
 * a reboot); -v bind sources that vanished are created again.
 */
export function ociMounts(mountPoints: MountPoint[], tmpfs: Record<string, string> | null | undefined, ctx: Pick<PlanContext, 'store' | 'containerId'>): OciMountsResult {
  const out: OciMount[] = [];
  let rootfsPropagation: OciMountsResult['rootfsPropagation'];
  for (const m of mountPoints) {
    if (m.Type === 'tmpfs') {
      out.push({ destination: m.Destination, type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(m.TmpfsData ?? '') });
      continue;
    }
    let source = m.Source;
    if (m.Type === 'volume') {
      ctx.store.acquire(m.Name, ctx.containerId);
      source = volumeSource(ctx.store, m);
    } else if (!existsSync(source)) {
      if (!m.CreateSource) throw badRequest(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
      mkdirSync(source, { recursive: true, mode: 0o755 });
    }
    const options = [m.NonRecursive ? 'bind' : 'rbind'];
    // Docker (API >= 1.44) makes read-only mounts read-only all the way down.
    if (!m.RW) options.push(m.ReadOnlyNonRecursive ? 'ro' : 'rro');
    if (m.Propagation) {
      options.push(m.Propagation);
      if (m.Propagation === 'shared' || m.Propagation === 'rshared') {
        requirePropagation(source, ['shared']);
        rootfsPropagation = 'rshared';
      } else if ((m.Propagation === 'slave' || m.Propagation === 'rslave') && rootfsPropagation !== 'rshared') {
        requirePropagation(source, ['shared', 'master']);
        rootfsPropagation = 'rslave';
      }
    }
    out.push({ destination: m.Destination, type: 'bind', source, options });
  }
  for (const [dest, data] of Object.entries(tmpfs ?? {})) {
    validateTmpfsDestination(dest);
    out.push({ destination: cleanPath(dest), type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(data) });
  }
  const result: OciMountsResult = { mounts: sortByDestination(out) };
  if (rootfsPropagation) result.rootfsPropagation = rootfsPropagation;
  return result;
}

/**
 * Docker's ensureShared / ensureSharedOrSlave: the mount holding `path`
 * must itself propagate (mountinfo's optional fields shared:N / master:N).
 */
function requirePropagation(path: string, kinds: ('shared' | 'master')[]): void {
  const real = realpathOrUndefined(path) ?? path;
  let best: { point: string; optional: string[] } | undefined;
  for (const m of readMountInfo()) {
    if (isWithin(real, m.point) && (!best || m.point.length >= best.point.length)) best = m;
  }
  if (!best) return;
  if (best.optional.some((o) => kinds.some((k) => o.startsWith(`${k}:`)))) return;
  const what = kinds.length === 1 ? 'a shared mount' : 'a shared or slave mount';
  throw serverError(`path ${path} is mounted on ${best.point} but it is not ${what}`);
}

/** Docker's container inspect `Mounts` (Name and Driver only for volumes). */
export function inspectMounts(mountPoints: MountPoint[]): InspectMount[] {
  return mountPoints.map((m) => (m.Type === 'volume'
    ? { Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, Driver: m.Driver, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation }
    : { Type: m.Type, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation }));
}

/**
 * The default OCI mounts minus those a user mount replaces (same
 * destination; a user /dev replaces every /dev/… default), as Docker merges them.
 */
export function mergeWithDefaults(defaults: OciMount[], user: OciMount[]): OciMount[] {
  const dests = new Set(user.map((m) => m.destination));
  const kept = defaults.filter((m) => !dests.has(m.destination) && !(dests.has('/dev') && m.destination.startsWith('/dev/')));
  return sortByDestination([...kept, ...user]);
}
