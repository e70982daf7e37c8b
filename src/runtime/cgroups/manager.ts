// The interface every part of Dray uses for one container's cgroup, whatever
// the host's cgroup version (v1.ts, v2.ts implement it).
import type { CgroupWrite } from './fsio.ts';
import type { CgroupMode } from './mode.ts';
import type { DeviceState } from './devices.ts';
import type { CgroupStats } from './stats.ts';

export type FreezerState = 'frozen' | 'thawed';

/** What set() would do: the file writes in order, the v2 device program, and notes on ignored fields. */
export interface CgroupPlan {
  writes: CgroupWrite[];
  /** v2 only: the device rules to compile into an eBPF program and attach. */
  devices?: DeviceState;
  warnings: string[];
}

export interface OomWatchOptions {
  /** how often the counter is read (default 250 ms; v2 also wakes on inotify). */
  intervalMs?: number;
}

/**
 * What a runtime keeps in its state file to find the cgroup again: a relative
 * cgroupsPath depends on the caller's own cgroup, which a later verb may not share.
 */
export interface SavedCgroup {
  mode: CgroupMode;
  paths: Record<string, string>;
  /** the mount point of each path's hierarchy */
  mountpoints: Record<string, string>;
}

export interface CgroupManager {
  readonly mode: CgroupMode;
  /** v1: controller -> directory ("" for the unified directory on hybrid hosts); v2: { "": directory }. */
  readonly paths: Readonly<Record<string, string>>;
  /** Makes the directories (idempotent); on v1 initializes cpuset.cpus/mems, on v2 enables controllers in the parents. */
  create(): void;
  exists(): boolean;
  /** Moves a process (and on v1, every hierarchy's membership) into the cgroup. */
  apply(pid: number): void;
  /** Validates (nothing is written if anything is wrong), plans, writes. */
  set(resources: unknown): { warnings: string[] };
  /** The writes set() would make, after validation; reads current values where the order depends on them. */
  plan(resources: unknown): CgroupPlan;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  state(): FreezerState;
  stats(): CgroupStats;
  /** Every process in the cgroup and its descendants. */
  pids(): number[];
  /** Signals every process, freezing first so none can fork away (runc kill --all). */
  killAll(signal?: NodeJS.Signals | number): Promise<void>;
  /** Removes the directories bottom-up, retrying while the kernel says EBUSY. */
  destroy(): Promise<void>;
  oomKillCount(): number;
  /** Calls cb with the new total each time the OOM-kill counter rises; returns a stop function. */
  onOom(cb: (total: number) => void, opts?: OomWatchOptions): () => void;
  /** For the state file; reopenCgroup() takes it back. */
  saved(): SavedCgroup;
}
