// Every process of a container: from its cgroup when there is one, else the
// processes sharing the init's pid namespace (when it has its own).
import { readdirSync, readlinkSync } from 'node:fs';
import type { CgroupManager } from '../cgroup.ts';
import type { ContainerRecord } from './store.ts';

export function containerPids(rec: ContainerRecord, cg: CgroupManager | null): number[] {
  if (cg) {
    try { return cg.pids(); } catch { /* fall back below */ }
  }
  let ns: string;
  try { ns = readlinkSync(`/proc/${rec.pid}/ns/pid`); } catch { return []; }
  const ownPidNs = rec.config.linux?.namespaces?.some((n) => n.type === 'pid' && !n.path);
  if (!ownPidNs) return [rec.pid];
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(e)) continue;
    try { if (readlinkSync(`/proc/${e}/ns/pid`) === ns) out.push(Number(e)); } catch { /* exited meanwhile */ }
  }
  return out.sort((a, b) => a - b);
}
