// The plan for `exec`: join every namespace the container has (through its
// init's /proc/PID/ns links), no rootfs work, then the process half.
import type { Process, Spec } from '../config/types.ts';
import type { PlanRecord } from './encode.ts';
import { processRecords } from './process.ts';
import { seccompRecords, type SeccompPlan } from './seccomp.ts';

const PROC_NS: Record<string, string> = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time' };

export interface ExecPlanOptions {
  config: Spec;
  initPid: number;
  process: Process;
  rootfs: string;
  consoleSocket?: string;
  preserveFds: number;
  monitor: boolean;
  seccomp?: SeccompPlan;
}

export function buildExecPlan(o: ExecPlanOptions): PlanRecord[] {
  const recs: PlanRecord[] = [['mode', 'exec']];
  for (const n of o.config.linux?.namespaces ?? []) recs.push(['ns', n.type, `/proc/${o.initPid}/ns/${PROC_NS[n.type]}`]);
  if (o.process.oomScoreAdj !== undefined) recs.push(['oom_score_adj', o.process.oomScoreAdj]);
  recs.push(...seccompRecords(o.seccomp));
  if (o.monitor) recs.push(['monitor']);
  recs.push(...processRecords(o.process, { rootfs: o.rootfs, consoleSocket: o.consoleSocket, preserveFds: o.preserveFds }));
  return recs;
}
