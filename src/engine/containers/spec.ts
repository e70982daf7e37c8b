// The OCI runtime spec (config.json) for a container, with Docker's defaults:
// capability set, masked and read-only /proc paths, the default seccomp
// profile, the /dev, /sys and /proc mounts, namespaces, resources, and the
// container's resolv.conf/hostname/hosts bind-mounted from its directory.
import { release } from 'node:os';
import { badRequest, notImplemented, serverError } from '../api/errors.ts';
import { dockerDefaultProfile, dockerProfileToOci, type DockerSeccompProfile } from '../../runtime/seccomp/docker-profile.ts';
import { nativeArch } from '../../runtime/seccomp/constants.ts';
import { capabilitySet } from './caps.ts';
import { resolveUser } from './users.ts';
import { mergeWithDefaults } from '../../volumes/mounts.ts';
import { containerDevices, DEFAULT_DEVICE_RULES, type DeviceRule } from './devices.ts';
import type { ContainerRecord, HostConfig } from './types.ts';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

interface Mount { destination: string; type: string; source: string; options: string[] }
export interface SpecInput {
  rec: ContainerRecord;
  /** the mounted root filesystem (absolute) */
  rootfs: string;
  /** cgroup path ("/dray/<id>") */
  cgroupsPath: string;
  /** the init binary bind-mounted at /sbin/docker-init for --init */
  initBinary?: string;
  /** binds, volumes and tmpfs from the volumes library (ociMounts) */
  userMounts?: Mount[];
  rootfsPropagation?: string;
  /** --network container:<x>: the other container's namespace (/proc/<its init>/ns/net) */
  netnsPath?: string;
}

export interface ProcessSpec {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
  rlimits?: { type: string; hard: number; soft: number }[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
}

/** Docker's environment: PATH unless given, HOSTNAME, TERM with a TTY, then the container's. */
export function containerEnv(rec: ContainerRecord): string[] {
  const env = rec.Config.Env ?? [];
  const out: string[] = [];
  if (!env.some((e) => e.startsWith('PATH='))) out.push(DEFAULT_PATH);
  out.push(`HOSTNAME=${rec.Config.Hostname ?? ''}`);
  if (rec.Config.Tty) out.push('TERM=xterm');
  return [...out, ...env];
}

function parseSecurityOpts(hc: HostConfig): { noNewPrivileges: boolean; seccomp: 'default' | 'unconfined' | DockerSeccompProfile } {
  let noNewPrivileges = false;
  let seccomp: 'default' | 'unconfined' | DockerSeccompProfile = 'default';
  for (const opt of hc.SecurityOpt ?? []) {
    const sep = opt.includes('=') ? '=' : ':';
    const i = opt.indexOf(sep);
    const key = i === -1 ? opt : opt.slice(0, i);
    const value = i === -1 ? '' : opt.slice(i + 1);
    if (key === 'no-new-privileges') {
      if (value !== '' && value !== 'true' && value !== 'false') throw badRequest(`invalid --security-opt 2: "${opt}"`);
      noNewPrivileges = value !== 'false';
    } else if (key === 'seccomp') {
      if (value === 'unconfined') seccomp = 'unconfined';
      else {
        try { seccomp = JSON.parse(value) as DockerSeccompProfile; } catch { throw badRequest(`Decoding seccomp profile failed: invalid JSON`); }
        if (typeof seccomp !== 'object' || seccomp === null) throw badRequest('Decoding seccomp profile failed: not an object');
      }
    } else if (key === 'apparmor' || key === 'label') {
      // AppArmor and SELinux are not enabled on Dray's hosts: ignored, as dockerd ignores them without support.
    } else {
      throw badRequest(`invalid --security-opt 1: "${opt}"`);
    }
  }
  return { noNewPrivileges, seccomp };
}

function rlimitName(n: string): string {
  const known = ['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];
  if (!known.includes(n)) throw badRequest(`invalid ulimit type: ${n}`);
  return `RLIMIT_${n.toUpperCase()}`;
}

export function processSpec(input: SpecInput, args: string[]): ProcessSpec {
  const { rec } = input;
  const hc = rec.HostConfig;
  const user = resolveUser(input.rootfs, rec.Config.User ?? '', (hc['GroupAdd'] as string[] | null | undefined) ?? []);
  const caps = capabilitySet(hc.CapAdd ?? [], hc.CapDrop ?? [], hc.Privileged === true);
  const sec = parseSecurityOpts(hc);
  const p: ProcessSpec = {
    terminal: rec.Config.Tty === true,
    user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
    args,
    env: containerEnv(rec),
    cwd: rec.Config.WorkingDir || '/',
    // as dockerd: a non-root user keeps the bounding set, but starts with no effective or permitted capability
    capabilities: { bounding: caps, effective: user.uid === 0 ? caps : [], permitted: user.uid === 0 ? caps : [] },
  };
  if (hc.Ulimits?.length) p.rlimits = hc.Ulimits.map((u) => ({ type: rlimitName(u.Name), hard: u.Hard, soft: u.Soft }));
  if (sec.noNewPrivileges) p.noNewPrivileges = true;
  const oom = hc['OomScoreAdj'];
  if (typeof oom === 'number' && oom !== 0) p.oomScoreAdj = oom;
  return p;
}

/** linux.resources; deviceRules: the container's device cgroup rules (containerDevices), else the defaults. */
export function resources(hc: HostConfig, privileged: boolean, deviceRules?: DeviceRule[]): Record<string, unknown> {
  const r: Record<string, unknown> = { devices: deviceRules ?? (privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES) };
  const mem: Record<string, unknown> = {};
  if (hc.Memory) mem.limit = hc.Memory;
  if (hc.MemoryReservation) mem.reservation = hc.MemoryReservation;
  if (hc.MemorySwap) mem.swap = hc.MemorySwap;
  else if (hc.Memory) mem.swap = hc.Memory * 2; // Docker: swap defaults to twice the memory limit
  if (hc.OomKillDisable) mem.disableOOMKiller = true;
  if (Object.keys(mem).length) r.memory = mem;
  const cpu: Record<string, unknown> = {};
  if (hc.NanoCpus && (hc.CpuQuota || hc.CpuPeriod)) throw badRequest('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (hc.NanoCpus) { cpu.period = 100000; cpu.quota = Math.round((hc.NanoCpus * 100000) / 1e9); }
  if (hc.CpuShares) cpu.shares = hc.CpuShares;
  if (hc.CpuQuota) cpu.quota = hc.CpuQuota;
  if (hc.CpuPeriod) cpu.period = hc.CpuPeriod;
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (hc.PidsLimit && hc.PidsLimit > 0) r.pids = { limit: hc.PidsLimit };
  if (hc.BlkioWeight) r.blockIO = { weight: hc.BlkioWeight };
  return r;
}

export type NetworkModeKind = 'host' | 'none' | 'bridge' | 'container';

/** The container a `container:<name|id>` network mode names (Docker's format check). */
export function joinedContainer(hc: HostConfig): string | null {
  const m = hc.NetworkMode ?? '';
  if (!m.startsWith('container:')) return null;
  const ref = m.slice('container:'.length);
  if (!ref) throw badRequest('Invalid network mode: invalid container format container:<name|id>');
  return ref;
}

export function networkMode(hc: HostConfig, withNetwork = false): NetworkModeKind {
  const m = hc.NetworkMode ?? 'default';
  if (m === 'host') return 'host';
  if (m === 'none') return 'none';
  if (joinedContainer(hc) !== null) return 'container';
  if (m === 'default' || m === 'bridge' || withNetwork) return 'bridge';
  throw notImplemented(`network ${m} not found: user-defined networks are not supported by drayd yet`);
}

/** The whole config.json for the container's init process. */
export function buildSpec(input: SpecInput): Record<string, unknown> {
  const { rec } = input;
  const hc = rec.HostConfig;
  const privileged = hc.Privileged === true;
  let args = [rec.Path, ...rec.Args];
  if (hc.Init) {
    if (!input.initBinary) throw notImplemented('--init is not available: bin/dray-init is missing');
    args = ['/sbin/docker-init', '--', ...args];
  }
  const process = processSpec(input, args);
  const sec = parseSecurityOpts(hc);
  const net = networkMode(hc, true);
  const mounts: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${hc.ShmSize || 67108864}`] },
    { destination: '/etc/resolv.conf', type: 'bind', source: rec.ResolvConfPath, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: rec.HostnamePath, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: rec.HostsPath, options: ['rbind', 'rprivate'] },
  ];
  const all = mergeWithDefaults(mounts, input.userMounts ?? []);
  if (hc.Init && input.initBinary) all.push({ destination: '/sbin/docker-init', type: 'bind', source: input.initBinary, options: ['bind', 'ro'] });
  const namespaces: { type: string; path?: string }[] = [{ type: 'mount' }];
  if (net === 'container') {
    if (!input.netnsPath) throw serverError('network mode container: the joined container has no network namespace');
    namespaces.push({ type: 'network', path: input.netnsPath });
  } else if (net !== 'host') namespaces.push({ type: 'network' });
  namespaces.push({ type: 'uts' }, { type: 'pid' }, { type: 'ipc' });
  const dev = containerDevices(hc, privileged);
  const linux: Record<string, unknown> = {
    ...(input.rootfsPropagation ? { rootfsPropagation: input.rootfsPropagation } : {}),
    ...(dev.devices.length ? { devices: dev.devices } : {}),
    resources: resources(hc, privileged, dev.rules),
    cgroupsPath: input.cgroupsPath,
    namespaces,
  };
  if (!privileged) {
    linux.maskedPaths = MASKED_PATHS;
    linux.readonlyPaths = READONLY_PATHS;
    if (sec.seccomp !== 'unconfined') {
      const profile = sec.seccomp === 'default' ? dockerDefaultProfile() : sec.seccomp;
      linux.seccomp = dockerProfileToOci(profile, { arch: nativeArch(), capabilities: process.capabilities.bounding, kernelRelease: release() });
    }
  }
  if (net === 'host' && Object.keys(hc.Sysctls ?? {}).some((k) => k.startsWith('net.'))) throw badRequest('sysctl net.* are not allowed with the host network namespace');
  // dockerd 20.10's defaults in a container's own network namespace (not host's, not one it joins): unprivileged ping and low ports
  const sysctl: Record<string, string> = net === 'host' || net === 'container' ? {} : { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' };
  Object.assign(sysctl, hc.Sysctls ?? {});
  if (Object.keys(sysctl).length) linux.sysctl = sysctl;
  return {
    ociVersion: '1.0.2-dev',
    process,
    root: { path: input.rootfs, readonly: hc.ReadonlyRootfs === true },
    hostname: rec.Config.Hostname ?? '',
    mounts: all,
    linux,
  };
}
