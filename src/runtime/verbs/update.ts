// update: new cgroup resources for a running container, from a
// LinuxResources JSON (-r FILE, "-" for stdin) and/or runc's flags.
import { readFileSync } from 'node:fs';
import { containerCgroup } from '../cgroup.ts';
import type { RuntimeContext } from '../context.ts';
import { RuntimeError } from '../errors.ts';
import { liveStatus } from '../state/status.ts';

export interface UpdateFlags {
  resources?: string;
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

/** "100m", "1g", "512k", plain bytes, or -1 (runc's RAMInBytes, binary units). */
export function parseBytes(s: string): number {
  if (s === '-1') return -1;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)i?b?$/i.exec(s.trim());
  if (!m) throw new RuntimeError(`invalid size ${JSON.stringify(s)}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2]!.toLowerCase() as '' | 'k'];
  return Math.round(Number(m[1]) * mult);
}

function num(s: string, what: string): number {
  if (!/^-?[0-9]+$/.test(s)) throw new RuntimeError(`invalid value ${JSON.stringify(s)} for ${what}`);
  return Number(s);
}

export function resourcesFrom(f: UpdateFlags): Record<string, unknown> {
  let r: Record<string, Record<string, unknown>> = {};
  if (f.resources) {
    try {
      r = JSON.parse(readFileSync(f.resources === '-' ? 0 : f.resources, 'utf8')) as typeof r;
    } catch (err) {
      throw new RuntimeError(`resources ${f.resources}: ${(err as Error).message}`);
    }
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new RuntimeError('resources must be a JSON object');
  }
  const set = (group: string, key: string, v: unknown): void => { r[group] = { ...(r[group] ?? {}), [key]: v }; };
  if (f.memory !== undefined) set('memory', 'limit', parseBytes(f.memory));
  if (f.memorySwap !== undefined) set('memory', 'swap', parseBytes(f.memorySwap));
  if (f.memoryReservation !== undefined) set('memory', 'reservation', parseBytes(f.memoryReservation));
  if (f.cpuShares !== undefined) set('cpu', 'shares', num(f.cpuShares, '--cpu-share'));
  if (f.cpuPeriod !== undefined) set('cpu', 'period', num(f.cpuPeriod, '--cpu-period'));
  if (f.cpuQuota !== undefined) set('cpu', 'quota', num(f.cpuQuota, '--cpu-quota'));
  if (f.cpuRtPeriod !== undefined) set('cpu', 'realtimePeriod', num(f.cpuRtPeriod, '--cpu-rt-period'));
  if (f.cpuRtRuntime !== undefined) set('cpu', 'realtimeRuntime', num(f.cpuRtRuntime, '--cpu-rt-runtime'));
  if (f.cpusetCpus !== undefined) set('cpu', 'cpus', f.cpusetCpus);
  if (f.cpusetMems !== undefined) set('cpu', 'mems', f.cpusetMems);
  if (f.pidsLimit !== undefined) set('pids', 'limit', num(f.pidsLimit, '--pids-limit'));
  if (f.blkioWeight !== undefined) set('blockIO', 'weight', num(f.blkioWeight, '--blkio-weight'));
  return r;
}

export async function update(ctx: RuntimeContext, id: string, f: UpdateFlags): Promise<void> {
  const rec = ctx.store.read(id);
  const cg = containerCgroup(rec);
  if (!cg) throw new RuntimeError(`container ${id} has no cgroup`);
  const resources = resourcesFrom(f);
  const unlock = ctx.store.lock(id);
  try {
    if (liveStatus(ctx.store, rec, cg) === 'stopped') throw new RuntimeError('container not running');
    for (const w of cg.set(resources).warnings) ctx.warn(w);
    // Keep the state's config in step, so a later read shows what applies.
    const linux = (rec.config.linux ??= {});
    const cur = (linux.resources ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(resources)) {
      cur[k] = typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...(cur[k] as object | undefined), ...v } : v;
    }
    linux.resources = cur;
    ctx.store.write(rec);
  } finally {
    unlock();
  }
}
