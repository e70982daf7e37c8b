// Client of dray.services.tasks.v1.Tasks.
import type { Timestamp } from '../api/types.ts';
import type { Caller } from './caller.ts';
import type { DockerCgroupStats } from '../../runtime/cgroups/index.ts';
import type { MountMessage } from './snapshots.ts';
import { ShimStream } from '../../shim/client.ts';
import { fromServiceError } from './errors.ts';

export interface TaskProcess { containerId: string; id: string; pid: number; status: 'UNKNOWN' | 'CREATED' | 'RUNNING' | 'STOPPED' | 'PAUSED' | 'PAUSING'; terminal: boolean; exitStatus: number; exitedAt: Timestamp | null }
export interface TaskExitInfo { id: string; pid: number; exitStatus: number; exitedAt: Timestamp | null }
export interface TaskCreate {
  /** Root filesystem mounts; none: the container's snapshot (or its spec's absolute root.path). */
  rootfs?: MountMessage[];
  /** The init process's json-file log: "jsonfile:///path?max-size=N&max-file=M"; empty: one in the shim's state dir. */
  stdout?: string;
  /** An absolute path of a fifo: what its writers write is the init's stdin; their EOF closes it.
   * "attach:": stdin stays open for Attach streams (TaskAttach.write). */
  stdin?: string;
  terminal?: boolean;
}

/** A live Attach stream: the process's output, and its stdin. */
export interface TaskAttach {
  /** stdout/stderr chunks, then end when the process's output is over (or the stream broke). */
  output: ShimStream;
  /** Set (before the output's end) when the stream failed rather than ended: the daemon went away, or close(). */
  broken: boolean;
  write(data: Buffer): void;
  closeStdin(): void;
  /** Detaches (the process runs on). */
  close(): void;
}

export class TasksApi {
  private readonly c: Caller;
  constructor(c: Caller) { this.c = c; }

  async create(containerId: string, opts: TaskCreate = {}): Promise<{ pid: number }> {
    return this.c.unary('tasks', 'Create', { containerId, rootfs: opts.rootfs ?? [], stdin: opts.stdin ?? '', stdout: opts.stdout ?? '', terminal: opts.terminal ?? false });
  }

  async start(containerId: string, execId = ''): Promise<{ pid: number }> {
    return this.c.unary('tasks', 'Start', { containerId, execId });
  }

  async kill(containerId: string, signal = 15, opts: { all?: boolean; execId?: string } = {}): Promise<void> {
    await this.c.unary('tasks', 'Kill', { containerId, signal, all: opts.all ?? false, execId: opts.execId ?? '' });
  }

  async wait(containerId: string, execId = ''): Promise<{ exitStatus: number; exitedAt: Timestamp | null; oomKilled: boolean }> {
    return this.c.unary('tasks', 'Wait', { containerId, execId });
  }

  async delete(containerId: string): Promise<TaskExitInfo> {
    return this.c.unary('tasks', 'Delete', { containerId });
  }

  async get(containerId: string, execId = ''): Promise<TaskProcess> {
    return (await this.c.unary<{ process: TaskProcess }>('tasks', 'Get', { containerId, execId })).process;
  }

  async list(): Promise<TaskProcess[]> {
    return (await this.c.unary<{ tasks: TaskProcess[] }>('tasks', 'List', {})).tasks;
  }

  /** Adds an exec (an OCI process spec); Start(containerId, execId) runs it. Output to "file:///path" URIs. */
  async exec(containerId: string, execId: string, process: object, opts: { terminal?: boolean; stdin?: string; stdout?: string; stderr?: string } = {}): Promise<void> {
    await this.c.unary('tasks', 'Exec', { containerId, execId, spec: Buffer.from(JSON.stringify(process)), terminal: opts.terminal ?? false, stdin: opts.stdin ?? '', stdout: opts.stdout ?? '', stderr: opts.stderr ?? '' });
  }

  /**
   * Attaches to the init process (execId "") or an exec; resolves once the
   * output is wired, so a Start after it loses nothing. An exec attached
   * before its Start gets all of its output.
   */
  attach(containerId: string, execId = ''): Promise<TaskAttach> {
    const call = this.c.duplex('tasks', 'Attach');
    const output = new ShimStream();
    return new Promise<TaskAttach>((resolve, reject) => {
      let ready = false;
      const att: TaskAttach = {
        output,
        broken: false,
        write: (data) => { if (data.length > 0) call.write({ stdin: data }); },
        closeStdin: () => { call.write({ closeStdin: true }); call.end(); },
        close: () => { call.cancel(); },
      };
      call.on('data', (m: { stream: number; data: Buffer }) => {
        if (!ready) {
          ready = true;
          resolve(att);
          return;
        }
        if (m.stream === 1) output.push('stdout', m.data);
        else if (m.stream === 2) output.push('stderr', m.data);
      });
      call.on('end', () => { output.finish(); });
      call.on('error', (err: Error) => {
        att.broken = true;
        output.finish();
        if (!ready) reject(fromServiceError(err));
      });
      call.write({ containerId, execId });
    });
  }

  async deleteProcess(containerId: string, execId: string): Promise<TaskExitInfo> {
    return this.c.unary('tasks', 'DeleteProcess', { containerId, execId });
  }

  async pause(containerId: string): Promise<void> {
    await this.c.unary('tasks', 'Pause', { containerId });
  }

  async resume(containerId: string): Promise<void> {
    await this.c.unary('tasks', 'Resume', { containerId });
  }

  /** New OCI LinuxResources for the running container. */
  async update(containerId: string, resources: object): Promise<void> {
    await this.c.unary('tasks', 'Update', { containerId, resources: Buffer.from(JSON.stringify(resources)) });
  }

  async pids(containerId: string): Promise<number[]> {
    return (await this.c.unary<{ processes: { pid: number }[] }>('tasks', 'ListPids', { containerId })).processes.map((p) => p.pid);
  }

  /** cgroup statistics of running tasks: stats is the cgroup part of Docker's
   * stats object (cpu_stats, memory_stats, pids_stats, blkio_stats); filters
   * select tasks, e.g. ['id==web']. */
  async metrics(filters: string[] = []): Promise<{ id: string; timestamp: Date | undefined; stats: DockerCgroupStats }[]> {
    const r = await this.c.unary<{ metrics: { id: string; timestamp: Timestamp | null; data: { typeUrl: string; value: Buffer } | null }[] }>('tasks', 'Metrics', { filters });
    return r.metrics.map((m) => ({
      id: m.id,
      timestamp: m.timestamp ? new Date(Number(m.timestamp.seconds) * 1000 + Math.floor(m.timestamp.nanos / 1e6)) : undefined,
      stats: JSON.parse(m.data?.value.toString('utf8') ?? '{}') as DockerCgroupStats,
    }));
  }

  async resize(containerId: string, width: number, height: number, execId = ''): Promise<void> {
    await this.c.unary('tasks', 'ResizePty', { containerId, execId, width, height });
  }

  async closeStdin(containerId: string, execId = ''): Promise<void> {
    await this.c.unary('tasks', 'CloseIO', { containerId, execId, stdin: true });
  }
}
