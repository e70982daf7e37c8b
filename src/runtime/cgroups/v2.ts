// cgroup v2: one directory in the unified hierarchy. Controllers must be
// enabled in every parent's cgroup.subtree_control before the leaf has their
// files; devices are an eBPF program instead of files.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CgroupError } from './errors.ts';
import { applyWrites, exists, isDir, readKeyed, readNumber, readOpt, removeCgroupDir, subtreeDeepestFirst, writeValue, type CgroupWrite } from './fsio.ts';
import { blkioWeightToIoWeight, sharesToWeight, swapToV2, v2Limit } from './convert.ts';
import { emulateDeviceRules } from './devices.ts';
import { attachDeviceFilter } from './bpf.ts';
import type { CgroupManager, CgroupPlan, FreezerState, OomWatchOptions, SavedCgroup } from './manager.ts';
import { watchOomCounter } from './oom.ts';
import { readProcs, settleAfterKill, signalAll, waitFor } from './procs.ts';
import { intOf, swappinessOf, throttles, validateResources, type LinuxResources } from './resources.ts';
import { statsV2, type CgroupStats } from './stats.ts';

/** The controllers we enable for the container, when the parent offers them. */
const WANTED = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];

export class V2Cgroup implements CgroupManager {
  readonly mode = 'v2' as const;
  readonly paths: Readonly<Record<string, string>>;
  private readonly dir: string;
  private readonly root: string;
  private readonly fake: boolean;

  constructor(root: string, dir: string, fake: boolean) {
    this.root = root;
    this.dir = dir;
    this.paths = { '': dir };
    this.fake = fake;
  }

  exists(): boolean {
    return isDir(this.dir);
  }

  create(): void {
    const levels: string[] = [];
    for (let d = this.dir; d !== this.root && d.startsWith(this.root + '/'); d = dirname(d)) levels.unshift(d);
    for (const d of levels) {
      enableControllers(dirname(d));
      mkdirSync(d, { recursive: true });
    }
  }

  apply(pid: number): void {
    if (!Number.isInteger(pid) || pid <= 0) throw new CgroupError(`invalid pid ${pid}`);
    writeValue(join(this.dir, 'cgroup.procs'), String(pid));
  }

  private has(file: string): boolean {
    return exists(join(this.dir, file));
  }

  private needFile(file: string, what: string): void {
    if (!this.has(file)) throw new CgroupError(`${what} needs ${file}, which this cgroup lacks (controller not enabled or not supported by the kernel)`);
  }

  plan(input: unknown): CgroupPlan {
    const r: LinuxResources = validateResources(input);
    const dir = this.dir;
    const writes: CgroupWrite[] = [];
    const warnings: string[] = [];
    const w = (file: string, value: string | bigint, what: string): void => {
      this.needFile(file, what);
      writes.push({ file: join(dir, file), value: String(value) });
    };

    if (r.memory) {
      const m = r.memory;
      const limit = intOf(m.limit);
      const memswap = intOf(m.swap);
      const swap = swapToV2(memswap, limit);
      // swap == limit means "no swap": 0 here is a value to write, not "unset".
      const writeSwap = swap !== 0n || memswap > 0n;
      if (m.checkBeforeUpdate && limit > 0n) {
        const usage = readNumber(join(dir, 'memory.current'));
        if (typeof usage === 'number' && BigInt(usage) > limit) {
          throw new CgroupError(`memory.limit ${limit} is below the cgroup's current usage ${usage} (checkBeforeUpdate)`);
        }
      }
      // Swap first, as runc: memory.max alone would briefly allow unlimited swap.
      if (writeSwap) {
        if (this.has('memory.swap.max')) w('memory.swap.max', v2Limit(swap), 'memory.swap');
        else if (swap > 0n) warnings.push('memory.swap ignored: the kernel has no swap accounting (memory.swap.max absent)');
      }
      if (limit !== 0n) w('memory.max', v2Limit(limit), 'memory.limit');
      const reservation = intOf(m.reservation);
      if (reservation !== 0n) w('memory.low', v2Limit(reservation), 'memory.reservation');
      if (swappinessOf(m.swappiness) !== undefined) warnings.push('memory.swappiness is ignored on cgroup v2');
      if (m.disableOOMKiller) warnings.push('memory.disableOOMKiller is ignored on cgroup v2 (the OOM killer cannot be disabled)');
      if (intOf(m.kernel) || intOf(m.kernelTCP)) warnings.push('memory.kernel and memory.kernelTCP are ignored (kernel memory limits are deprecated by Linux)');
    }

    if (r.cpu) {
      const c = r.cpu;
      const shares = intOf(c.shares);
      const quota = intOf(c.quota);
      const period = intOf(c.period);
      if (intOf(c.realtimePeriod) || intOf(c.realtimeRuntime)) {
        throw new CgroupError('linux.resources.cpu.realtimePeriod/realtimeRuntime are not supported on cgroup v2');
      }
      if (shares) w('cpu.weight', sharesToWeight(shares), 'cpu.shares');
      if (quota || period) {
        // cpu.max is "$QUOTA $PERIOD"; the period may be omitted to keep the current one.
        let v = quota > 0n ? quota.toString() : 'max';
        if (period) v += ` ${period}`;
        w('cpu.max', v, 'cpu.quota/period');
      }
      if (c.burst !== undefined) w('cpu.max.burst', intOf(c.burst), 'cpu.burst');
      if (c.idle !== undefined) w('cpu.idle', intOf(c.idle), 'cpu.idle');
      if (c.cpus) w('cpuset.cpus', c.cpus, 'cpu.cpus');
      if (c.mems) w('cpuset.mems', c.mems, 'cpu.mems');
    }

    if (r.pids) {
      const lim = intOf(r.pids.limit);
      if (lim !== 0n) w('pids.max', v2Limit(lim), 'pids.limit');
    }

    if (r.blockIO) {
      const b = r.blockIO;
      // BFQ takes blkio's own range; plain io.weight needs the conversion.
      const bfq = this.has('io.bfq.weight');
      if (b.weight) {
        if (bfq) w('io.bfq.weight', String(b.weight), 'blockIO.weight');
        else w('io.weight', `default ${blkioWeightToIoWeight(BigInt(b.weight))}`, 'blockIO.weight');
      }
      for (const d of b.weightDevice ?? []) {
        if (!d.weight) continue;
        if (bfq) w('io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`, 'blockIO.weightDevice');
        else w('io.weight', `${d.major}:${d.minor} ${blkioWeightToIoWeight(BigInt(d.weight))}`, 'blockIO.weightDevice');
      }
      if (b.leafWeight || (b.weightDevice ?? []).some((d) => d.leafWeight)) warnings.push('blockIO leafWeight is ignored on cgroup v2');
      for (const th of throttles(b)) {
        // v1 uses 0 to remove a limit; v2 spells that "max".
        w('io.max', `${th.device} ${th.v2}=${th.rate === 0n ? 'max' : th.rate}`, `blockIO.${th.key}`);
      }
    }

    for (const h of r.hugepageLimits ?? []) {
      const file = `hugetlb.${h.pageSize}.max`;
      if (!this.has(file)) throw new CgroupError(`hugepage size ${h.pageSize} is not supported on this host (no ${file})`);
      w(file, intOf(h.limit), 'hugepageLimits');
    }

    if (r.network && (r.network.classID !== undefined || (r.network.priorities ?? []).length)) {
      throw new CgroupError('linux.resources.network (net_cls/net_prio) does not exist on cgroup v2');
    }
    if (r.rdma && Object.keys(r.rdma).length) warnings.push('linux.resources.rdma is ignored');

    for (const [key, value] of Object.entries(r.unified ?? {})) {
      if (!this.has(key)) throw new CgroupError(`linux.resources.unified: "${key}" is not a file of this cgroup (controller not enabled?)`);
      writes.push({ file: join(dir, key), value });
    }

    const plan: CgroupPlan = { writes, warnings };
    if (r.devices && r.devices.length) plan.devices = emulateDeviceRules(r.devices);
    return plan;
  }

  set(input: unknown): { warnings: string[] } {
    const p = this.plan(input);
    applyWrites(p.writes);
    if (p.devices) {
      // A fake tree (tests) has no cgroup to attach a program to.
      if (this.fake) p.warnings.push('devices: eBPF filter not attached (not a cgroup filesystem)');
      else attachDeviceFilter(this.dir, p.devices);
    }
    return { warnings: p.warnings };
  }

  private frozen(): boolean {
    return readKeyed(join(this.dir, 'cgroup.events'))['frozen'] === 1;
  }

  async freeze(): Promise<void> {
    writeValue(join(this.dir, 'cgroup.freeze'), '1');
    if (!this.has('cgroup.events')) return;
    if (!(await waitFor(() => this.frozen(), 400, 5))) {
      writeValue(join(this.dir, 'cgroup.freeze'), '0');
      throw new CgroupError(`cgroup ${this.dir} did not freeze`);
    }
  }

  async thaw(): Promise<void> {
    writeValue(join(this.dir, 'cgroup.freeze'), '0');
    if (!this.has('cgroup.events')) return;
    if (!(await waitFor(() => !this.frozen(), 400, 5))) throw new CgroupError(`cgroup ${this.dir} did not thaw`);
  }

  state(): FreezerState {
    return readOpt(join(this.dir, 'cgroup.freeze')) === '1' ? 'frozen' : 'thawed';
  }

  stats(): CgroupStats {
    return statsV2(this.dir, this.oomKillCount());
  }

  pids(): number[] {
    return readProcs(this.dir);
  }

  async killAll(signal: NodeJS.Signals | number = 'SIGKILL'): Promise<void> {
    // cgroup.kill (Linux 5.14) kills the whole subtree atomically, forks included.
    if ((signal === 'SIGKILL' || signal === 9) && this.has('cgroup.kill')) {
      writeValue(join(this.dir, 'cgroup.kill'), '1');
    } else {
      await this.freeze();
      try {
        signalAll(this.pids(), signal);
      } finally {
        await this.thaw();
      }
    }
    await settleAfterKill(signal, () => this.pids());
  }

  async destroy(): Promise<void> {
    for (const d of subtreeDeepestFirst(this.dir)) await removeCgroupDir(d, { fake: this.fake });
  }

  oomKillCount(): number {
    return readKeyed(join(this.dir, 'memory.events'))['oom_kill'] ?? 0;
  }

  onOom(cb: (total: number) => void, opts?: OomWatchOptions): () => void {
    return watchOomCounter(() => this.oomKillCount(), join(this.dir, 'memory.events'), cb, opts);
  }

  saved(): SavedCgroup {
    return { mode: 'v2', paths: { '': this.dir }, mountpoints: { '': this.root } };
  }
}

/** Enables, in one cgroup, every wanted controller it offers and has not enabled yet. */
function enableControllers(parent: string): void {
  const offered = (readOpt(join(parent, 'cgroup.controllers')) ?? '').split(/\s+/);
  const enabled = (readOpt(join(parent, 'cgroup.subtree_control')) ?? '').split(/\s+/);
  const add = WANTED.filter((c) => offered.includes(c) && !enabled.includes(c));
  if (!add.length) return;
  const file = join(parent, 'cgroup.subtree_control');
  try {
    writeValue(file, add.map((c) => '+' + c).join(' '));
  } catch {
    // One refused controller (e.g. cpu with realtime tasks around) must not
    // cost the others: retry one by one, keeping what the kernel accepts.
    for (const c of add) {
      try {
        writeValue(file, '+' + c);
      } catch {
        /* left disabled; a resource that needs it fails later with a clear message */
      }
    }
  }
}
