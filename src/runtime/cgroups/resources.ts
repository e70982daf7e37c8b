// The OCI `linux.resources` object (config-linux.md), with the spec's JSON
// field names, and its validation. validateResources() checks types, ranges
// and unknown keys before anything is written, so a bad config changes nothing.
import { CgroupError } from './errors.ts';

/** An integer field: JSON numbers, or bigint where a caller kept full int64 precision. */
export type Int = number | bigint;

export interface LinuxDeviceCgroup {
  allow: boolean;
  /** 'a' (all), 'c' or 'b'; absent means 'a'. */
  type?: string;
  /** absent or -1: any. */
  major?: Int;
  minor?: Int;
  /** a subset of "rwm"; absent means "rwm". */
  access?: string;
}

export interface LinuxMemory {
  limit?: Int;
  reservation?: Int;
  /** memory+swap (v1 memsw semantics). */
  swap?: Int;
  /** deprecated by the kernel: accepted and ignored. */
  kernel?: Int;
  kernelTCP?: Int;
  swappiness?: Int;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface LinuxCPU {
  shares?: Int;
  quota?: Int;
  burst?: Int;
  period?: Int;
  realtimeRuntime?: Int;
  realtimePeriod?: Int;
  cpus?: string;
  mems?: string;
  idle?: Int;
}

export interface LinuxPids {
  limit: Int;
}

export interface LinuxBlockIODevice {
  major: Int;
  minor: Int;
}
export interface LinuxWeightDevice extends LinuxBlockIODevice {
  weight?: number;
  leafWeight?: number;
}
export interface LinuxThrottleDevice extends LinuxBlockIODevice {
  rate: Int;
}
export interface LinuxBlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

export interface LinuxHugepageLimit {
  pageSize: string;
  limit: Int;
}

export interface LinuxInterfacePriority {
  name: string;
  priority: number;
}
export interface LinuxNetwork {
  classID?: number;
  priorities?: LinuxInterfacePriority[];
}

export interface LinuxRdma {
  hcaHandles?: number;
  hcaObjects?: number;
}

export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIO;
  hugepageLimits?: LinuxHugepageLimit[];
  network?: LinuxNetwork;
  rdma?: Record<string, LinuxRdma>;
  unified?: Record<string, string>;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, where: string, known: readonly string[]): Obj {
  if (!isObj(v)) throw new CgroupError(`${where}: must be an object`);
  for (const k of Object.keys(v)) {
    if (!known.includes(k)) throw new CgroupError(`${where}: unknown field "${k}"`);
  }
  return v;
}

function arr(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new CgroupError(`${where}: must be an array`);
  return v;
}

/**
 * An integer as bigint. JSON.parse rounds values above 2^53, so a number that
 * rounds to exactly 2^63 (what 2^63-1, "no limit" in Go, becomes) is clamped back.
 */
export function toBig(v: unknown, where: string, min: bigint, max: bigint): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isInteger(v)) {
    b = BigInt(v);
    if (b === 2n ** 63n && max >= INT64_MAX) b = INT64_MAX;
  } else throw new CgroupError(`${where}: must be an integer, got ${JSON.stringify(v)}`);
  if (b < min || b > max) throw new CgroupError(`${where}: ${b} is out of range [${min}, ${max}]`);
  return b;
}

function optInt(o: Obj, key: string, where: string, min: bigint, max: bigint): void {
  if (o[key] !== undefined) toBig(o[key], `${where}.${key}`, min, max);
}

function optBool(o: Obj, key: string, where: string): void {
  if (o[key] !== undefined && typeof o[key] !== 'boolean') throw new CgroupError(`${where}.${key}: must be a boolean`);
}

function optStr(o: Obj, key: string, where: string): void {
  if (o[key] !== undefined && typeof o[key] !== 'string') throw new CgroupError(`${where}.${key}: must be a string`);
}

/** A cpuset list such as "0-3,5,7-8" (empty means "inherit"). */
export function isCpuList(s: string): boolean {
  if (s === '') return true;
  return s.split(',').every((part) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    return m !== null && (m[2] === undefined || Number(m[2]) >= Number(m[1]));
  });
}

function validateMemory(v: unknown, w: string): void {
  const o = obj(v, w, ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate']);
  for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP']) optInt(o, k, w, -1n, INT64_MAX);
  if (o['swappiness'] !== undefined) swappinessOf(o['swappiness'] as Int, `${w}.swappiness`);
  for (const k of ['disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate']) optBool(o, k, w);
  const limit = o['limit'] === undefined ? 0n : toBig(o['limit'], `${w}.limit`, -1n, INT64_MAX);
  const swap = o['swap'] === undefined ? 0n : toBig(o['swap'], `${w}.swap`, -1n, INT64_MAX);
  if (swap > 0n && limit > 0n && swap < limit) {
    throw new CgroupError(`${w}.swap: memory+swap limit (${swap}) must be >= the memory limit (${limit})`);
  }
}

function validateCpu(v: unknown, w: string): void {
  const o = obj(v, w, ['shares', 'quota', 'burst', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems', 'idle']);
  if (o['shares'] !== undefined) {
    const s = toBig(o['shares'], `${w}.shares`, 0n, UINT64_MAX);
    // The kernel clamps silently; an out-of-range value is a caller bug.
    if (s !== 0n && (s < 2n || s > 262144n)) throw new CgroupError(`${w}.shares: ${s} is out of range [2, 262144]`);
  }
  if (o['quota'] !== undefined) {
    const q = toBig(o['quota'], `${w}.quota`, INT64_MIN, INT64_MAX);
    if (q < -1n) throw new CgroupError(`${w}.quota: ${q} is invalid (-1 means no limit)`);
    if (q > 0n && q < 1000n) throw new CgroupError(`${w}.quota: ${q} is below the kernel's minimum of 1000 (1ms)`);
  }
  if (o['period'] !== undefined) {
    const p = toBig(o['period'], `${w}.period`, 0n, UINT64_MAX);
    if (p !== 0n && (p < 1000n || p > 1000000n)) throw new CgroupError(`${w}.period: ${p} is out of range [1000, 1000000]`);
  }
  optInt(o, 'burst', w, 0n, UINT64_MAX);
  optInt(o, 'realtimePeriod', w, 0n, UINT64_MAX);
  optInt(o, 'realtimeRuntime', w, -1n, INT64_MAX);
  optInt(o, 'idle', w, 0n, 1n);
  for (const k of ['cpus', 'mems']) {
    optStr(o, k, w);
    if (typeof o[k] === 'string' && !isCpuList(o[k])) throw new CgroupError(`${w}.${k}: "${o[k]}" is not a list like "0-3,5"`);
  }
}

function validateDevice(v: unknown, w: string): void {
  const o = obj(v, w, ['allow', 'type', 'major', 'minor', 'access']);
  if (typeof o['allow'] !== 'boolean') throw new CgroupError(`${w}.allow: required boolean`);
  if (o['type'] !== undefined && !['a', 'b', 'c'].includes(o['type'] as string)) {
    throw new CgroupError(`${w}.type: must be "a", "b" or "c", got ${JSON.stringify(o['type'])}`);
  }
  optInt(o, 'major', w, -1n, 0xfffn);
  optInt(o, 'minor', w, -1n, 0xfffffn);
  if (o['access'] !== undefined) {
    if (typeof o['access'] !== 'string' || !/^[rwm]*$/.test(o['access'])) {
      throw new CgroupError(`${w}.access: must be a combination of "r", "w", "m", got ${JSON.stringify(o['access'])}`);
    }
  }
}

function validateBlockIO(v: unknown, w: string): void {
  const o = obj(v, w, ['weight', 'leafWeight', 'weightDevice', 'throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice']);
  const weight = (x: Obj, k: string, ww: string): void => {
    if (x[k] === undefined) return;
    const n = toBig(x[k], `${ww}.${k}`, 0n, 65535n);
    if (n !== 0n && (n < 10n || n > 1000n)) throw new CgroupError(`${ww}.${k}: ${n} is out of range [10, 1000]`);
  };
  weight(o, 'weight', w);
  weight(o, 'leafWeight', w);
  const dev = (x: Obj, ww: string): void => {
    toBig(x['major'], `${ww}.major`, 0n, 0xfffn);
    toBig(x['minor'], `${ww}.minor`, 0n, 0xfffffn);
  };
  if (o['weightDevice'] !== undefined) {
    arr(o['weightDevice'], `${w}.weightDevice`).forEach((d, i) => {
      const ww = `${w}.weightDevice[${i}]`;
      const x = obj(d, ww, ['major', 'minor', 'weight', 'leafWeight']);
      dev(x, ww);
      weight(x, 'weight', ww);
      weight(x, 'leafWeight', ww);
    });
  }
  for (const k of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice']) {
    if (o[k] === undefined) continue;
    arr(o[k], `${w}.${k}`).forEach((d, i) => {
      const ww = `${w}.${k}[${i}]`;
      const x = obj(d, ww, ['major', 'minor', 'rate']);
      dev(x, ww);
      toBig(x['rate'], `${ww}.rate`, 0n, UINT64_MAX);
    });
  }
}

/** Checks a `linux.resources` value; throws CgroupError naming the first bad field. */
export function validateResources(v: unknown, where = 'linux.resources'): LinuxResources {
  const o = obj(v, where, ['devices', 'memory', 'cpu', 'pids', 'blockIO', 'hugepageLimits', 'network', 'rdma', 'unified']);
  if (o['memory'] !== undefined) validateMemory(o['memory'], `${where}.memory`);
  if (o['cpu'] !== undefined) validateCpu(o['cpu'], `${where}.cpu`);
  if (o['pids'] !== undefined) {
    const p = obj(o['pids'], `${where}.pids`, ['limit']);
    toBig(p['limit'], `${where}.pids.limit`, INT64_MIN, INT64_MAX);
  }
  if (o['blockIO'] !== undefined) validateBlockIO(o['blockIO'], `${where}.blockIO`);
  if (o['devices'] !== undefined) arr(o['devices'], `${where}.devices`).forEach((d, i) => validateDevice(d, `${where}.devices[${i}]`));
  if (o['hugepageLimits'] !== undefined) {
    arr(o['hugepageLimits'], `${where}.hugepageLimits`).forEach((h, i) => {
      const w = `${where}.hugepageLimits[${i}]`;
      const x = obj(h, w, ['pageSize', 'limit']);
      if (typeof x['pageSize'] !== 'string' || !/^[1-9][0-9]*[KMG]B$/.test(x['pageSize'])) {
        throw new CgroupError(`${w}.pageSize: must look like "2MB", got ${JSON.stringify(x['pageSize'])}`);
      }
      toBig(x['limit'], `${w}.limit`, 0n, UINT64_MAX);
    });
  }
  if (o['network'] !== undefined) {
    const w = `${where}.network`;
    const n = obj(o['network'], w, ['classID', 'priorities']);
    optInt(n, 'classID', w, 0n, 0xffffffffn);
    if (n['priorities'] !== undefined) {
      arr(n['priorities'], `${w}.priorities`).forEach((p, i) => {
        const ww = `${w}.priorities[${i}]`;
        const x = obj(p, ww, ['name', 'priority']);
        if (typeof x['name'] !== 'string' || !/^[^\s/]{1,15}$/.test(x['name'])) throw new CgroupError(`${ww}.name: not an interface name`);
        toBig(x['priority'], `${ww}.priority`, 0n, 0xffffffffn);
      });
    }
  }
  if (o['rdma'] !== undefined) {
    const w = `${where}.rdma`;
    if (!isObj(o['rdma'])) throw new CgroupError(`${w}: must be an object`);
    for (const [dev, lim] of Object.entries(o['rdma'])) {
      const x = obj(lim, `${w}.${dev}`, ['hcaHandles', 'hcaObjects']);
      optInt(x, 'hcaHandles', `${w}.${dev}`, 0n, 0xffffffffn);
      optInt(x, 'hcaObjects', `${w}.${dev}`, 0n, 0xffffffffn);
    }
  }
  if (o['unified'] !== undefined) {
    const w = `${where}.unified`;
    if (!isObj(o['unified'])) throw new CgroupError(`${w}: must be an object`);
    for (const [k, val] of Object.entries(o['unified'])) {
      if (typeof val !== 'string') throw new CgroupError(`${w}["${k}"]: value must be a string`);
      // A key names one file in the container's own cgroup directory, nothing else.
      if (!/^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/.test(k)) throw new CgroupError(`${w}: "${k}" is not a cgroup file name`);
      if (k.startsWith('cgroup.') && !['cgroup.max.depth', 'cgroup.max.descendants'].includes(k)) {
        throw new CgroupError(`${w}: "${k}" is managed by the runtime and cannot be set`);
      }
    }
  }
  return o as LinuxResources;
}

/** An already validated integer field as bigint; absent reads as 0 ("unset", as runc treats it). */
export function intOf(v: Int | undefined): bigint {
  return v === undefined ? 0n : toBig(v, 'value', -(2n ** 63n), 2n ** 64n - 1n);
}

export interface Throttle {
  /** the OCI field it came from */
  key: 'throttleReadBpsDevice' | 'throttleWriteBpsDevice' | 'throttleReadIOPSDevice' | 'throttleWriteIOPSDevice';
  /** the v1 file suffix and the v2 io.max key */
  v1: string;
  v2: string;
  device: string;
  rate: bigint;
}

/** Every block I/O throttle, flattened, in the spec's field order. */
export function throttles(b: LinuxBlockIO): Throttle[] {
  const kinds: [Throttle['key'], string, string][] = [
    ['throttleReadBpsDevice', 'read_bps_device', 'rbps'],
    ['throttleWriteBpsDevice', 'write_bps_device', 'wbps'],
    ['throttleReadIOPSDevice', 'read_iops_device', 'riops'],
    ['throttleWriteIOPSDevice', 'write_iops_device', 'wiops'],
  ];
  return kinds.flatMap(([key, v1, v2]) => (b[key] ?? []).map((d) => ({ key, v1, v2, device: `${d.major}:${d.minor}`, rate: intOf(d.rate) })));
}

/**
 * memory.swappiness, or undefined for "unset". Docker sends -1 as a uint64
 * (2^64-1, which JSON.parse rounds to 2^64) when the user gave none; runc
 * reads both as unset, and so do we.
 */
export function swappinessOf(v: Int | undefined, where = 'memory.swappiness'): bigint | undefined {
  if (v === undefined) return undefined;
  if (v === -1 || v === -1n || v === 2 ** 64 || v === 2n ** 64n - 1n) return undefined;
  return toBig(v, where, 0n, 100n);
}
