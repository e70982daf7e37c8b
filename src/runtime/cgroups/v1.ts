// cgroup v1 (and hybrid hosts, whose controllers are all v1): one directory
// per mounted hierarchy, same relative path in each.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CgroupError } from './errors.ts';
import { applyWrites, exists, isDir, readKeyed, readNumber, readOpt, removeCgroupDir, subtreeDeepestFirst, writeValue, type CgroupWrite } from './fsio.ts';
import { emulateDeviceRules, v1DeviceWrites } from './devices.ts';
import type { CgroupManager, CgroupPlan, FreezerState, OomWatchOptions, SavedCgroup } from './manager.ts';
import type { CgroupMode } from './mode.ts';
import { watchOomCounter } from './oom.ts';
import { readProcs, settleAfterKill, signalAll, waitFor } from './procs.ts';
import { intOf, swappinessOf, throttles, validateResources, type LinuxResources } from './resources.ts';
import { statsV1, type CgroupStats } from './stats.ts';

export class V1Cgroup implements CgroupManager {
  readonly mode: CgroupMode;
  readonly paths: Readonly<Record<string, string>>;
  private readonly mountpoints: Readonly<Record<string, string>>;
  private readonly fake: boolean;

  /** paths: controller -> directory; mountpoints: controller -> its hierarchy's mount point. */
  constructor(mode: CgroupMode, paths: Record<string, string>, mountpoints: Record<string, string>, fake: boolean) {
    this.mode = mode;
    this.paths = paths;
    this.mountpoints = mountpoints;
    this.fake = fake;
  }

  /** Each directory once (cpu and cpuacct may share a hierarchy). */
  private dirs(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  private need(controller: string, what: string): string {
    const d = this.paths[controller];
    if (!d) throw new CgroupError(`${what} needs the ${controller} cgroup controller, which is not mounted on this host`);
    return d;
  }

  exists(): boolean {
    return this.dirs().some(isDir);
  }

  create(): void {
    for (const dir of this.dirs()) mkdirSync(dir, { recursive: true });
    // A new cpuset cgroup starts with empty cpus/mems, and the kernel refuses
    // tasks until they are set: copy them down from the parents, top first.
    const cs = this.paths['cpuset'];
    const root = this.mountpoints['cpuset'];
    if (cs && root) {
      const levels: string[] = [];
      for (let d = cs; d !== root && d.startsWith(root + '/'); d = dirname(d)) levels.unshift(d);
      for (const d of levels) {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          const cur = readOpt(join(d, f));
          if (cur === '') writeValue(join(d, f), readOpt(join(dirname(d), f)) ?? '');
        }
      }
    }
  }

  apply(pid: number): void {
    if (!Number.isInteger(pid) || pid <= 0) throw new CgroupError(`invalid pid ${pid}`);
    for (const dir of this.dirs()) writeValue(join(dir, 'cgroup.procs'), String(pid));
  }

  plan(input: unknown): CgroupPlan {
    const r: LinuxResources = validateResources(input);
    const writes: CgroupWrite[] = [];
    const warnings: string[] = [];
    const w = (dir: string, file: string, value: string | bigint): void => {
      writes.push({ file: join(dir, file), value: String(value) });
    };

    if (r.memory) {
      const m = r.memory;
      const swappiness = swappinessOf(m.swappiness);
      const touches = intOf(m.limit) || intOf(m.reservation) || intOf(m.swap) || swappiness !== undefined || m.disableOOMKiller;
      const dir = touches ? this.need('memory', 'linux.resources.memory') : '';
      const limit = intOf(m.limit);
      let swap = intOf(m.swap);
      if (limit === -1n && swap === 0n) swap = -1n; // unlimited memory implies unlimited swap (runc)
      const memsw = dir && exists(join(dir, 'memory.memsw.limit_in_bytes'));
      if (swap !== 0n && !memsw) {
        if (swap > 0n) warnings.push('memory.swap ignored: the kernel has no swap accounting (memory.memsw.* absent)');
        swap = 0n;
      }
      if (m.checkBeforeUpdate && limit > 0n) {
        const usage = readNumber(join(dir, 'memory.usage_in_bytes'));
        if (typeof usage === 'number' && BigInt(usage) > limit) {
          throw new CgroupError(`memory.limit ${limit} is below the cgroup's current usage ${usage} (checkBeforeUpdate)`);
        }
      }
      if (limit !== 0n && swap !== 0n) {
        // The kernel wants memory <= memsw at every step: raise memsw first when growing.
        const cur = readNumber(join(dir, 'memory.limit_in_bytes'));
        if (swap === -1n || (typeof cur === 'number' && BigInt(cur) < swap)) {
          w(dir, 'memory.memsw.limit_in_bytes', swap);
          w(dir, 'memory.limit_in_bytes', limit);
        } else {
          w(dir, 'memory.limit_in_bytes', limit);
          w(dir, 'memory.memsw.limit_in_bytes', swap);
        }
      } else {
        if (limit !== 0n) w(dir, 'memory.limit_in_bytes', limit);
        if (swap !== 0n) w(dir, 'memory.memsw.limit_in_bytes', swap);
      }
      const reservation = intOf(m.reservation);
      if (reservation !== 0n) w(dir, 'memory.soft_limit_in_bytes', reservation);
      if (swappiness !== undefined) w(dir, 'memory.swappiness', swappiness);
      if (m.disableOOMKiller) w(dir, 'memory.oom_control', '1');
      if (intOf(m.kernel) || intOf(m.kernelTCP)) warnings.push('memory.kernel and memory.kernelTCP are ignored (kernel memory limits are deprecated by Linux)');
      if (m.useHierarchy === false) warnings.push('memory.useHierarchy=false is ignored (the kernel always uses the hierarchy)');
    }

    if (r.cpu) {
      const c = r.cpu;
      const shares = intOf(c.shares);
      const quota = intOf(c.quota);
      const period = intOf(c.period);
      const burst = c.burst === undefined ? undefined : intOf(c.burst);
      const rtPeriod = intOf(c.realtimePeriod);
      const rtRuntime = intOf(c.realtimeRuntime);
      if (shares || quota || period || burst !== undefined || rtPeriod || rtRuntime || c.idle !== undefined) {
        const dir = this.need('cpu', 'linux.resources.cpu');
        if (shares) w(dir, 'cpu.shares', shares);
        if (period) w(dir, 'cpu.cfs_period_us', period);
        if (quota) w(dir, 'cpu.cfs_quota_us', quota);
        if (burst !== undefined) w(dir, 'cpu.cfs_burst_us', burst);
        if (rtPeriod) w(dir, 'cpu.rt_period_us', rtPeriod);
        if (rtRuntime) w(dir, 'cpu.rt_runtime_us', rtRuntime);
        if (c.idle !== undefined) w(dir, 'cpu.idle', intOf(c.idle));
      }
      if (c.cpus) w(this.need('cpuset', 'linux.resources.cpu.cpus'), 'cpuset.cpus', c.cpus);
      if (c.mems) w(this.need('cpuset', 'linux.resources.cpu.mems'), 'cpuset.mems', c.mems);
    }

    if (r.pids) {
      const lim = intOf(r.pids.limit);
      if (lim !== 0n) w(this.need('pids', 'linux.resources.pids'), 'pids.max', lim > 0n ? lim : 'max');
    }

    const b = r.blockIO;
    // Docker sends "blockIO": {} by default: only a value to write needs the controller.
    if (b && (b.weight || b.leafWeight || b.weightDevice?.length || throttles(b).length)) {
      const dir = this.need('blkio', 'linux.resources.blockIO');
      // CFQ's blkio.weight is gone from current kernels; BFQ's takes the same range.
      const weightFile = exists(join(dir, 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight';
      const weightDevFile = exists(join(dir, 'blkio.weight_device')) ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
      const needFile = (f: string, what: string): void => {
        if (!exists(join(dir, f))) throw new CgroupError(`${what} is not supported by this kernel's block I/O scheduler (no ${f})`);
      };
      if (b.weight) {
        needFile(weightFile, 'blockIO.weight');
        w(dir, weightFile, String(b.weight));
      }
      if (b.leafWeight) {
        needFile('blkio.leaf_weight', 'blockIO.leafWeight');
        w(dir, 'blkio.leaf_weight', String(b.leafWeight));
      }
      for (const d of b.weightDevice ?? []) {
        if (d.weight) {
          needFile(weightDevFile, 'blockIO.weightDevice');
          w(dir, weightDevFile, `${d.major}:${d.minor} ${d.weight}`);
        }
        if (d.leafWeight) {
          needFile('blkio.leaf_weight_device', 'blockIO.weightDevice[].leafWeight');
          w(dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`);
        }
      }
      for (const th of throttles(b)) w(dir, `blkio.throttle.${th.v1}`, `${th.device} ${th.rate}`);
    }

    for (const h of r.hugepageLimits ?? []) {
      const dir = this.need('hugetlb', 'linux.resources.hugepageLimits');
      const file = `hugetlb.${h.pageSize}.limit_in_bytes`;
      if (!exists(join(dir, file))) throw new CgroupError(`hugepage size ${h.pageSize} is not supported on this host (no ${file})`);
      w(dir, file, intOf(h.limit));
    }

    if (r.network) {
      if (r.network.classID !== undefined) w(this.need('net_cls', 'linux.resources.network.classID'), 'net_cls.classid', String(r.network.classID));
      for (const p of r.network.priorities ?? []) w(this.need('net_prio', 'linux.resources.network.priorities'), 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
    }

    if (r.devices && r.devices.length) {
      writes.push(...v1DeviceWrites(this.need('devices', 'linux.resources.devices'), emulateDeviceRules(r.devices)));
    }

    if (r.unified && Object.keys(r.unified).length) {
      throw new CgroupError('linux.resources.unified needs cgroup v2; this host uses cgroup v1 controllers');
    }
    if (r.rdma && Object.keys(r.rdma).length) warnings.push('linux.resources.rdma is ignored');
    return { writes, warnings };
  }

  set(input: unknown): { warnings: string[] } {
    const p = this.plan(input);
    applyWrites(p.writes);
    return { warnings: p.warnings };
  }

  private freezerState(): string | undefined {
    const d = this.paths['freezer'];
    return d ? readOpt(join(d, 'freezer.state')) : undefined;
  }

  async freeze(): Promise<void> {
    const file = join(this.need('freezer', 'freeze'), 'freezer.state');
    writeValue(file, 'FROZEN');
    // FREEZING can stall while a task sleeps in the kernel; writing FROZEN again
    // makes the kernel retry (runc does the same).
    const ok = await waitFor(() => readOpt(file) === 'FROZEN', 400, 5, (i) => {
      if (i % 20 === 19) writeValue(file, 'FROZEN');
    });
    if (!ok) {
      writeValue(file, 'THAWED');
      throw new CgroupError(`cgroup ${dirname(file)} did not freeze (state ${readOpt(file)})`);
    }
  }

  async thaw(): Promise<void> {
    const file = join(this.need('freezer', 'thaw'), 'freezer.state');
    writeValue(file, 'THAWED');
    if (!(await waitFor(() => readOpt(file) === 'THAWED', 400, 5))) throw new CgroupError(`cgroup ${dirname(file)} did not thaw`);
  }

  state(): FreezerState {
    return this.freezerState() === 'FROZEN' ? 'frozen' : 'thawed';
  }

  stats(): CgroupStats {
    return statsV1(this.paths, this.oomKillCount());
  }

  private primary(): string {
    for (const c of ['pids', 'freezer', 'memory', 'cpu', 'devices']) if (this.paths[c]) return this.paths[c];
    const first = this.dirs()[0];
    if (!first) throw new CgroupError('no cgroup hierarchy is mounted');
    return first;
  }

  pids(): number[] {
    return readProcs(this.primary());
  }

  async killAll(signal: NodeJS.Signals | number = 'SIGKILL'): Promise<void> {
    const canFreeze = this.paths['freezer'] !== undefined && isDir(this.paths['freezer']);
    if (canFreeze) await this.freeze();
    try {
      signalAll(this.pids(), signal);
    } finally {
      if (canFreeze) await this.thaw();
    }
    await settleAfterKill(signal, () => this.pids());
  }

  async destroy(): Promise<void> {
    const errors: string[] = [];
    for (const dir of this.dirs()) {
      for (const d of subtreeDeepestFirst(dir)) {
        try {
          // Once one hierarchy stayed busy, the others will too: no more waiting.
          await removeCgroupDir(d, { fake: this.fake, ...(errors.length ? { retries: 0 } : {}) });
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    }
    if (errors.length) throw new CgroupError(errors.join('; '));
  }

  oomKillCount(): number {
    const d = this.paths['memory'];
    return d ? (readKeyed(join(d, 'memory.oom_control'))['oom_kill'] ?? 0) : 0;
  }

  onOom(cb: (total: number) => void, opts?: OomWatchOptions): () => void {
    this.need('memory', 'an OOM watch');
    return watchOomCounter(() => this.oomKillCount(), undefined, cb, opts);
  }

  saved(): SavedCgroup {
    return { mode: this.mode, paths: { ...this.paths }, mountpoints: { ...this.mountpoints } };
  }
}
