// ps: the container's processes, as pids (json) or ps(1)'s lines for them.
import { execFileSync } from 'node:child_process';
import { containerCgroup } from '../cgroup.ts';
import type { RuntimeContext } from '../context.ts';
import { RuntimeError } from '../errors.ts';
import { containerPids } from '../state/pids.ts';

export function pids(ctx: RuntimeContext, id: string): number[] {
  const rec = ctx.store.read(id);
  return containerPids(rec, containerCgroup(rec));
}

/** ps(1) with `psArgs` (default -ef), keeping the header and the container's lines. */
export function psTable(ctx: RuntimeContext, id: string, psArgs: string[]): string {
  const want = new Set(pids(ctx, id));
  const out = execFileSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
  const lines = out.split('\n');
  const header = lines[0] ?? '';
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new RuntimeError(`couldn't find PID field in ps output`);
  const keep = lines.slice(1).filter((l) => l && want.has(Number(l.trim().split(/\s+/)[col])));
  return [header, ...keep].join('\n') + '\n';
}
