// linux.seccomp -> what the executor loads (compiled by src/runtime/seccomp/),
// and for SCMP_ACT_NOTIFY what goes to listenerPath with the listener fd:
// the spec's container process state.
import type { Spec } from '../config/types.ts';
import { RuntimeError } from '../errors.ts';
import { compileSeccomp, type CompiledSeccomp } from '../seccomp/index.ts';
import type { PlanRecord } from './encode.ts';

export interface SeccompPlan {
  program: Buffer;
  flags: number;
  listenerPath?: string;
  listenerMetadata?: string;
}

/** Compiled filters by their policy's JSON: a daemon (dray-containerd's
 * built-in runtime) gets the same profile for every container (Docker's
 * default: ~3 ms of compiling each time); bounded, oldest out first. */
const compiled = new Map<string, CompiledSeccomp>();
const MAX_COMPILED = 16;

function compileCached(policy: unknown): CompiledSeccomp {
  const key = JSON.stringify(policy);
  let c = compiled.get(key);
  if (!c) {
    c = compileSeccomp(policy);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, c);
  }
  return c;
}

export function seccompPlan(spec: Spec, warn: (m: string) => void): SeccompPlan | undefined {
  if (!spec.linux?.seccomp) return undefined;
  const c = compileCached(spec.linux.seccomp);
  for (const w of c.warnings) warn(`seccomp: ${w}`);
  if (c.notify && !c.listenerPath) throw new RuntimeError('config.json: linux.seccomp: SCMP_ACT_NOTIFY needs listenerPath');
  return { program: c.program, flags: c.flags, listenerPath: c.notify ? c.listenerPath : undefined, listenerMetadata: c.listenerMetadata };
}

export function seccompRecords(s: SeccompPlan | undefined): PlanRecord[] {
  if (!s) return [];
  const recs: PlanRecord[] = [['seccomp', s.program, s.flags]];
  if (s.listenerPath) recs.push(['seccomp_listener', s.listenerPath]);
  return recs;
}

/** The containerProcessState a seccomp agent receives with the fd (config-linux.md). */
export function listenerPayload(s: SeccompPlan | undefined, pid: number, state: string): string {
  if (!s?.listenerPath) return '';
  return JSON.stringify({ ociVersion: '1.2.0', fds: ['seccompFd'], pid, metadata: s.listenerMetadata ?? '', state: JSON.parse(state) as unknown });
}
