// config.json -> the flat plan the executor carries out for `create`.
// Everything is decided here: which namespaces are new or joined, the id
// maps, the ordered mounts (sources resolved against the bundle), /dev,
// masked and read-only paths, sysctls, hooks the executor runs itself.
import { isAbsolute, join } from 'node:path';
import { MS } from '../../common/native.ts';
import type { Hook, Spec } from '../config/types.ts';
import { deviceRecords } from './devices.ts';
import type { PlanRecord } from './encode.ts';
import { parseMountOptions, propagationFlags } from './mount-options.ts';
import { processRecords } from './process.ts';
import { seccompRecords, type SeccompPlan } from './seccomp.ts';

export interface CreatePlanOptions {
  spec: Spec;
  bundle: string;
  rootfs: string;
  execFifo: string;
  consoleSocket?: string;
  noPivot?: boolean;
  /** --no-new-keyring: keep the caller's session keyring. */
  noNewKeyring?: boolean;
  /** The container id: names its session keyring. */
  id?: string;
  preserveFds: number;
  /** The executor stays and exits with the container's status (foreground run). */
  monitor?: boolean;
  seccomp?: SeccompPlan;
  /** Extra mounts computed elsewhere (the cgroup mount's expansion), keyed by the cgroup mount's destination. */
  cgroupMounts?: (dest: string, flags: number) => PlanRecord[];
}

export function hookRecords(stage: string, hooks: Hook[] | undefined): PlanRecord[] {
  return (hooks ?? []).map((h) => {
    const args = h.args ?? [];
    return ['hook', stage, h.path, h.timeout ?? 0, args.length, ...args, ...(h.env ?? [])];
  });
}

function idMap(m: { containerID: number; hostID: number; size: number }[] | undefined): string {
  return (m ?? []).map((x) => `${x.containerID} ${x.hostID} ${x.size}\n`).join('');
}

export function buildCreatePlan(o: CreatePlanOptions): PlanRecord[] {
  const { spec } = o;
  const linux = spec.linux ?? {};
  const recs: PlanRecord[] = [['mode', 'create']];
  const namespaces = linux.namespaces ?? [];
  const own = (t: string): boolean => namespaces.some((n) => n.type === t && !n.path);
  for (const n of namespaces) recs.push(['ns', n.type, n.path ?? '']);
  const newUser = own('user');
  if (newUser) {
    recs.push(['uid_map', idMap(linux.uidMappings)], ['gid_map', idMap(linux.gidMappings)]);
  }
  for (const [clock, off] of Object.entries(linux.timeOffsets ?? {})) recs.push(['timens_offset', clock, off.secs ?? 0, off.nanosecs ?? 0]);
  if (spec.process?.oomScoreAdj !== undefined) recs.push(['oom_score_adj', spec.process.oomScoreAdj]);
  if (spec.hostname) recs.push(['hostname', spec.hostname]);
  if (spec.domainname) recs.push(['domainname', spec.domainname]);

  recs.push(['rootfs', o.rootfs]);
  const rootProp = propagationFlags(linux.rootfsPropagation);
  if (rootProp) recs.push(['rootfs_propagation', rootProp]);
  if (spec.root?.readonly) recs.push(['rootfs_readonly']);
  if (o.noPivot) recs.push(['no_pivot']);
  if (!o.noNewKeyring) recs.push(['session_keyring', `_ses.${o.id ?? ''}`]);

  let devBound = false;
  for (const m of spec.mounts ?? []) {
    const f = parseMountOptions(m.options);
    let type = m.type ?? '';
    if (type === 'bind') f.flags |= MS.BIND;
    if (m.destination === '/dev' && f.flags & MS.BIND) devBound = true;
    let source = m.source ?? type;
    if (f.flags & MS.BIND) {
      type = '';
      if (!isAbsolute(source)) source = join(o.bundle, source);
    }
    if (type === 'sysfs' && newUser && !own('network')) {
      // sysfs cannot be mounted in a user namespace without its own network namespace: bind the host's.
      type = ''; source = '/sys'; f.flags |= MS.BIND | MS.REC;
    }
    if (type === 'cgroup' || type === 'cgroup2') {
      recs.push(...(o.cgroupMounts?.(m.destination, f.flags) ?? [['mount', 'tmpfs', m.destination, 'tmpfs', f.flags & ~MS.BIND, 0, 'mode=755', 0, 0, 0]]));
      continue;
    }
    recs.push(['mount', source, m.destination, type, f.flags, f.propagation, f.data.join(','), f.attrSet, f.attrClr, f.attrSet || f.attrClr ? 1 : 0]);
  }
  if (!devBound) recs.push(...deviceRecords(linux.devices, newUser));
  for (const [k, v] of Object.entries(linux.sysctl ?? {})) recs.push(['sysctl', k.replaceAll('.', '/'), v]);
  for (const p of linux.maskedPaths ?? []) recs.push(['masked', p]);
  for (const p of linux.readonlyPaths ?? []) recs.push(['readonly_path', p]);
  if (linux.personality) recs.push(['personality', linux.personality.domain === 'LINUX32' ? 8 : 0]);

  const hooks = spec.hooks ?? {};
  if ((hooks.prestart?.length ?? 0) + (hooks.createRuntime?.length ?? 0) > 0) recs.push(['hooks_sync']);
  recs.push(...hookRecords('createContainer', hooks.createContainer), ...hookRecords('startContainer', hooks.startContainer));
  recs.push(['exec_fifo', o.execFifo]);
  recs.push(...seccompRecords(o.seccomp));
  if (o.monitor) recs.push(['monitor']);
  recs.push(...processRecords(spec.process!, { rootfs: o.rootfs, consoleSocket: o.consoleSocket, preserveFds: o.preserveFds }));
  return recs;
}
