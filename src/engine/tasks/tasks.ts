// Running containers: the task side drayd needs, through dray-containerd's
// gRPC API (as dockerd goes through containerd's): each start records the
// container (its OCI spec and runtime) in the supervisor and creates its
// task; stdio flows over Tasks.Attach streams, the shim writes the json-file
// log itself, exits come from Tasks.Wait. drayd keeps no shim connection of
// its own, so a restart of drayd (even kill -9) finds every task there.
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import { ShimStream, type ShimExit } from '../../shim/client.ts';
import type { DockerCgroupStats } from '../../runtime/cgroups/index.ts';
import { isAlreadyExists, isFailedPrecondition, isNotFound, SupervisorError, type SupervisorClient, type TaskAttach, type Timestamp } from '../../supervisor/client/index.ts';

export interface TaskCreateOptions {
  id: string;
  /** a runtime name of dray-containerd's (default: the service's) */
  runtime?: string;
  /** the OCI spec: root.path must be the absolute path of the mounted rootfs */
  spec: object;
  terminal: boolean;
  stdin: boolean;
  logPath: string;
  logMaxSize?: number;
  logMaxFile?: number;
}

/** One container's task: what the engine does with a running container. */
export interface TaskHandle extends EventEmitter<{ exit: [ShimExit] }> {
  start(): Promise<void>;
  kill(signal: number | NodeJS.Signals, opts?: { all?: boolean; execId?: string }): Promise<void>;
  /** Adds, attaches and starts an exec: its whole output comes on the stream. */
  exec(execId: string, process: object, opts: { terminal: boolean; stdin: boolean }): Promise<{ pid: number; output: ShimStream }>;
  wait(execId?: string): Promise<ShimExit>;
  /** Deletes the stopped task (or an exec); force kills it first. */
  delete(opts?: { force?: boolean; execId?: string }): Promise<void>;
  resize(rows: number, cols: number, execId?: string): Promise<void>;
  writeStdin(data: Buffer, execId?: string): Promise<void>;
  closeStdin(execId?: string): Promise<void>;
  /** The init's live output (the first call: from before the start). */
  attach(): Promise<ShimStream>;
  /** Stops following the task (it keeps running). */
  close(): void;
}

export type Adopted = { alive: true; client: TaskHandle; pid: number; exited: ShimExit | null } | { alive: false; exit: ShimExit | null };

export interface TaskService {
  /** the default runtime's name */
  readonly runtime: string;
  /** Runtime names containers may ask for (docker run --runtime), with what each runs. */
  readonly runtimes: Record<string, string>;
  /** Records the container in the supervisor and creates its task (not started), with its output already attached. */
  create(o: TaskCreateOptions): Promise<{ client: TaskHandle; pid: number }>;
  /** Finds a task again after drayd restarted. */
  adopt(id: string): Promise<Adopted>;
  /** Forgets a task (killed first if it runs) and its container record. */
  cleanup(id: string): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  pids(id: string): Promise<number[]>;
  /** New OCI LinuxResources for the running container. */
  update(id: string, resources: object): Promise<void>;
  /** The cgroup part of Docker's stats object; undefined when the task does not run. */
  stats(id: string): Promise<DockerCgroupStats | undefined>;
}

/** RFC 3339 with nanoseconds, as the shim writes exit times. */
export function isoOf(t: Timestamp | null | undefined): string {
  if (!t) return '';
  const ms = Number(t.seconds) * 1000;
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(t.nanos).padStart(9, '0')}Z`;
}

function signalNumber(s: number | NodeJS.Signals): number {
  if (typeof s === 'number') return s;
  const n = (constants.signals as Record<string, number>)[s];
  if (n === undefined) throw new Error(`unknown signal ${s}`);
  return n;
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class SupervisorTask extends EventEmitter<{ exit: [ShimExit] }> implements TaskHandle {
  readonly #c: SupervisorClient;
  readonly #id: string;
  /** The init's current Attach stream (its stdin goes there). */
  #init: TaskAttach | undefined;
  /** The init's output as attach() gives it: fed by one Attach stream after
   * another when dray-containerd restarts, over when the output is. */
  readonly #initOut = new ShimStream();
  readonly #execs = new Map<string, TaskAttach>();
  #closed = false;
  #exited = false;

  constructor(c: SupervisorClient, id: string, init: TaskAttach | undefined, running = true) {
    super();
    this.#c = c;
    this.#id = id;
    if (init) this.#pipe(init);
    else if (running) void this.#reattach();
    else this.#initOut.finish();
    void this.#follow();
  }

  #pipe(a: TaskAttach): void {
    this.#init = a;
    a.output.on('stdout', (b) => this.#initOut.push('stdout', b));
    a.output.on('stderr', (b) => this.#initOut.push('stderr', b));
    a.output.on('end', () => {
      // ended: the output is over; broken: dray-containerd went away, its successor has the task
      if (a.broken && !this.#closed && !this.#exited) void this.#reattach();
      else this.#initOut.finish();
    });
  }

  /** Attaches again once dray-containerd answers; gives up when the task is gone or over. */
  async #reattach(): Promise<void> {
    for (let backoff = 100; !this.#closed && !this.#exited;) {
      await delay(backoff);
      backoff = Math.min(backoff * 2, 2000);
      try {
        const a = await this.#c.tasks.attach(this.#id);
        if (this.#closed || this.#exited) { a.close(); break; }
        this.#pipe(a);
        return;
      } catch (err) {
        if (isNotFound(err) || isFailedPrecondition(err)) break;
      }
    }
    this.#initOut.finish();
  }

  /** Waits for the init's exit; a supervisor restart in between is waited out. */
  async #follow(): Promise<void> {
    for (let backoff = 100; !this.#closed;) {
      try {
        const e = await this.wait();
        this.#exited = true;
        if (!this.#closed) this.emit('exit', e);
        return;
      } catch (err) {
        if (this.#closed) return;
        if (isNotFound(err) || isFailedPrecondition(err)) {
          // the task is gone without a recorded exit (its shim died with it)
          this.#exited = true;
          this.emit('exit', { id: this.#id, pid: 0, status: 'stopped', exitStatus: 255, exitedAt: new Date().toISOString(), oomKilled: false });
          return;
        }
        // anything else is the connection (dray-containerd restarting): wait it out
        await delay(backoff);
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }

  async start(): Promise<void> {
    await this.#c.tasks.start(this.#id);
  }

  async kill(signal: number | NodeJS.Signals, opts: { all?: boolean; execId?: string } = {}): Promise<void> {
    await this.#c.tasks.kill(this.#id, signalNumber(signal), opts);
  }

  async exec(execId: string, process: object, opts: { terminal: boolean; stdin: boolean }): Promise<{ pid: number; output: ShimStream }> {
    await this.#c.tasks.exec(this.#id, execId, process, { terminal: opts.terminal, stdin: opts.stdin ? 'attach:' : '' });
    let a: TaskAttach | undefined;
    try {
      a = await this.#c.tasks.attach(this.#id, execId);
      // no listener here: the first listener starts the stream's flow (the caller's)
      this.#execs.set(execId, a);
      const { pid } = await this.#c.tasks.start(this.#id, execId);
      return { pid, output: a.output };
    } catch (err) {
      a?.close();
      this.#execs.delete(execId);
      await this.#c.tasks.deleteProcess(this.#id, execId).catch(() => undefined);
      throw err;
    }
  }

  async wait(execId = ''): Promise<ShimExit> {
    const r = await this.#c.tasks.wait(this.#id, execId);
    return { id: execId || this.#id, pid: 0, status: 'stopped', exitStatus: r.exitStatus, exitedAt: isoOf(r.exitedAt), oomKilled: r.oomKilled };
  }

  async delete(opts: { force?: boolean; execId?: string } = {}): Promise<void> {
    if (opts.execId) {
      // its Attach stream ends by itself with the exec's output
      this.#execs.delete(opts.execId);
      await this.#c.tasks.deleteProcess(this.#id, opts.execId);
      return;
    }
    if (opts.force) {
      await this.#c.tasks.kill(this.#id, 9, { all: true }).catch(() => undefined);
      await this.#c.tasks.wait(this.#id).catch(() => undefined);
    }
    await this.#c.tasks.delete(this.#id);
    await this.#c.containers.delete(this.#id).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
  }

  async resize(rows: number, cols: number, execId = ''): Promise<void> {
    await this.#c.tasks.resize(this.#id, cols, rows, execId);
  }

  #stdin(execId: string): TaskAttach {
    const a = execId ? this.#execs.get(execId) : this.#init;
    if (!a) throw new SupervisorError(9, `process ${execId || this.#id} has no attached stdin`);
    return a;
  }

  async writeStdin(data: Buffer, execId = ''): Promise<void> {
    this.#stdin(execId).write(data);
  }

  async closeStdin(execId = ''): Promise<void> {
    this.#stdin(execId).closeStdin();
  }

  async attach(): Promise<ShimStream> {
    return this.#initOut;
  }

  close(): void {
    this.#closed = true;
    this.#init?.close();
    for (const a of this.#execs.values()) a.close();
    this.#execs.clear();
  }
}

/** Tasks in one supervisor namespace ("moby", as dockerd's). */
export class SupervisorTasks implements TaskService {
  readonly runtime: string;
  readonly runtimes: Record<string, string>;
  readonly #c: SupervisorClient;

  /** runtime: the default, by name ("dray", "runc", "crun") or a runc-compatible binary's absolute path */
  constructor(client: SupervisorClient, runtime: string) {
    this.#c = client;
    this.runtime = runtime;
    this.runtimes = { dray: 'dray (built-in: plan in dray-containerd, executor started by dray-shim)', runc: 'runc', crun: 'crun' };
    if (!(runtime in this.runtimes)) this.runtimes[runtime] = runtime;
  }

  async create(o: TaskCreateOptions): Promise<{ client: TaskHandle; pid: number }> {
    const record = { id: o.id, runtime: { name: o.runtime || this.runtime }, spec: o.spec, labels: { 'dray.engine': 'drayd' } };
    await this.#c.containers.create(record).catch(async (err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
      // a record left by a crash between a start and its exit handling
      await this.cleanup(o.id);
      await this.#c.containers.create(record);
    });
    try {
      const q = new URLSearchParams();
      if (o.logMaxSize) q.set('max-size', String(o.logMaxSize));
      if (o.logMaxFile) q.set('max-file', String(o.logMaxFile));
      const stdout = `jsonfile://${encodeURI(o.logPath)}${q.size ? `?${q}` : ''}`;
      const { pid } = await this.#c.tasks.create(o.id, { stdout, stdin: o.stdin ? 'attach:' : '', terminal: o.terminal });
      const init = await this.#c.tasks.attach(o.id);
      return { client: new SupervisorTask(this.#c, o.id, init), pid };
    } catch (err) {
      await this.cleanup(o.id);
      throw err;
    }
  }

  async adopt(id: string): Promise<Adopted> {
    let p;
    try {
      p = await this.#c.tasks.get(id);
    } catch (err) {
      if (isNotFound(err)) return { alive: false, exit: null };
      throw err;
    }
    if (p.status === 'UNKNOWN') {
      // the shim is gone: its recorded exit, if any
      const w = await this.#c.tasks.wait(id).catch(() => undefined);
      return { alive: false, exit: w ? { id, pid: p.pid, status: 'stopped', exitStatus: w.exitStatus, exitedAt: isoOf(w.exitedAt), oomKilled: w.oomKilled } : null };
    }
    const init = p.status === 'STOPPED' ? undefined : await this.#c.tasks.attach(id).catch(() => undefined);
    const client = new SupervisorTask(this.#c, id, init, p.status !== 'STOPPED');
    let exited: ShimExit | null = null;
    if (p.status === 'STOPPED') {
      exited = await client.wait();
      exited.pid = p.pid;
    }
    return { alive: true, client, pid: p.pid, exited };
  }

  async cleanup(id: string): Promise<void> {
    try {
      const p = await this.#c.tasks.get(id);
      if (p.status !== 'STOPPED' && p.status !== 'UNKNOWN') {
        await this.#c.tasks.kill(id, 9, { all: true }).catch(() => undefined);
        await this.#c.tasks.wait(id).catch(() => undefined);
      }
      await this.#c.tasks.delete(id);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await this.#c.containers.delete(id).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
  }

  async pause(id: string): Promise<void> {
    await this.#c.tasks.pause(id);
  }

  async resume(id: string): Promise<void> {
    await this.#c.tasks.resume(id);
  }

  pids(id: string): Promise<number[]> {
    return this.#c.tasks.pids(id);
  }

  async update(id: string, resources: object): Promise<void> {
    await this.#c.tasks.update(id, resources);
  }

  async stats(id: string): Promise<DockerCgroupStats | undefined> {
    const m = await this.#c.tasks.metrics([`id==${id}`]);
    return m[0]?.stats;
  }
}
