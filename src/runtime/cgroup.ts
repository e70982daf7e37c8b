// The runtime's view of a container's cgroup. The cgroup work itself lives in
// src/runtime/cgroups/ (v1 and v2 managers); this adapter only decides which
// cgroup a container gets and hides whether that library is present.
export interface ContainerCgroup {
  create(): void;
  apply(pid: number): void;
  set(resources: unknown): { warnings: string[] };
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  state(): 'frozen' | 'thawed';
  pids(): number[];
  killAll(signal: number): Promise<void>;
  destroy(): Promise<void>;
  /** controller -> directory */
  readonly paths: Readonly<Record<string, string>>;
}

/** The container's cgroup, or null where no cgroup manager is available (then no resources apply). */
export async function openCgroup(_cgroupsPath: string, _id: string): Promise<ContainerCgroup | null> {
  return null;
}

/** The cgroupsPath a container gets when config.json names none (runc's cgroupfs default). */
export function defaultCgroupsPath(cgroupsPath: string | undefined, id: string): string {
  return cgroupsPath && cgroupsPath !== '' ? cgroupsPath : `/dray-runc/${id}`;
}
