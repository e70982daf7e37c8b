// The process half of a plan, shared by create and exec: identity,
// capabilities, rlimits, environment, args, terminal.
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Process } from '../config/types.ts';
import { capMask } from './capabilities.ts';
import type { PlanRecord } from './encode.ts';
import { RLIMITS, rlimitValue } from './rlimits.ts';

const IOPRIO_CLASS: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

/** HOME from the container's /etc/passwd when the config sets none, as runc does; "/" otherwise. */
export function homeFor(rootfs: string | undefined, uid: number): string {
  if (!rootfs) return '/';
  try {
    // Only a plain file directly in a plain /etc: never follow an image's symlink to a host file.
    if (!lstatSync(join(rootfs, 'etc')).isDirectory() || !lstatSync(join(rootfs, 'etc/passwd')).isFile()) return '/';
    for (const line of readFileSync(join(rootfs, 'etc/passwd'), 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 6 && Number(f[2]) === uid && f[5]) return f[5];
    }
  } catch {
    // no passwd: the default below
  }
  return '/';
}

export interface ProcessPlanOptions {
  rootfs?: string;
  consoleSocket?: string;
  preserveFds: number;
}

export function processRecords(p: Process, o: ProcessPlanOptions): PlanRecord[] {
  const recs: PlanRecord[] = [];
  const env = [...(p.env ?? [])];
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${homeFor(o.rootfs, p.user.uid)}`);
  for (const e of env) recs.push(['env', e]);
  for (const a of p.args ?? []) recs.push(['arg', a]);
  recs.push(['cwd', p.cwd]);
  recs.push(['user', p.user.uid, p.user.gid, p.user.umask ?? 0o022, ...(p.user.additionalGids ?? [])]);
  const c = p.capabilities;
  if (c) recs.push(['caps', capMask(c.bounding), capMask(c.effective), capMask(c.permitted), capMask(c.inheritable), capMask(c.ambient)]);
  for (const r of p.rlimits ?? []) recs.push(['rlimit', RLIMITS[r.type]!, rlimitValue(r.soft), rlimitValue(r.hard)]);
  if (p.noNewPrivileges) recs.push(['no_new_privs']);
  if (p.ioPriority) recs.push(['ioprio', (IOPRIO_CLASS[p.ioPriority.class]! << 13) | (p.ioPriority.priority ?? 0)]);
  if (p.terminal) {
    recs.push(['terminal']);
    if (p.consoleSize) recs.push(['console_size', p.consoleSize.height, p.consoleSize.width]);
  }
  if (o.consoleSocket) recs.push(['console_socket', o.consoleSocket]);
  recs.push(['preserve_fds', o.preserveFds]);
  return recs;
}
