// Tasks: the running side of containers, one dray-shim each. The manager
// builds the bundle (config.json from the container's spec, the rootfs
// mounted from its snapshot), launches the shim with the container's
// runtime, keeps a connection to it, turns shim exits into /tasks/exit
// events, and re-adopts the shims it finds when the daemon restarts.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, createWriteStream, existsSync, openSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join, posix } from 'node:path';
import type { Logger } from '../../common/log.ts';
import type { EventBus } from '../events/bus.ts';
import type { Metadata } from '../metadata/metadata.ts';
import type { Snapshotters } from '../services/snapshots.ts';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../errors.ts';
import { validateIdentifier } from '../identifiers.ts';
import { launchShim, spawnShim, ShimLaunchError, type ShimLaunched, type ShimLaunchOptions, type SpawnedShim } from '../../shim/launch.ts';
import { create as rtCreate, del as rtDel, pause as rtPause, pids as rtPids, resume as rtResume, update as rtUpdate, runtimeContext, RuntimeError, type ExecutorSpawner, type RuntimeContext } from '../../runtime/index.ts';
import { containerCgroup, newCgroup, type CgroupManager } from '../../runtime/cgroup.ts';
import { reopenCgroup, toDockerStats, type DockerCgroupStats } from '../../runtime/cgroups/index.ts';
import { matchAny, parseFilters } from '../filters.ts';
import { ShimClient, ShimConnectionError, ShimStream, type ShimExit, type ShimProcessState } from '../../shim/client.ts';
import { adoptShim } from '../../shim/adopt.ts';
import { mountAll, unmount } from '../../images/snapshots/mount.ts';
import type { Mount } from '../../images/snapshots/types.ts';
import { isBuiltin, runtimeBinary, runtimeKey } from './runtimes.ts';
import { execOutput, initLog } from './io.ts';

/** What the state dir's task.json keeps, so a restarted daemon finds the task again. */
interface TaskFile {
  namespace: string; id: string; runtimeId: string; bundle: string; socketPath: string; rootfsMounted: boolean; runtime: string; runtimeRoot: string;
  /** the built-in runtime: its state is the runtime library's under runtimeRoot, handled in-process */
  builtin?: boolean;
}

interface Task extends TaskFile {
  stateDir: string;
  pid: number;
  terminal: boolean;
  /** null: the shim is gone (its recorded exit, if any, is in exit). */
  client: ShimClient | null;
  exit: ShimExit | null;
  /** paused through this daemon (the shim reports a paused container as running) */
  paused: boolean;
  /** execs added (Exec) but not started yet: their process spec path and io */
  pendingExecs: Map<string, PendingExec>;
  /** While the init's start is in flight: its /tasks/exit waits for /tasks/start (a fast init can exit first). */
  starting?: Promise<void>;
}

/** An exec added but not started: its process spec, io, and the Attach streams waiting for its output. */
interface PendingExec { path: string; terminal: boolean; stdin: boolean; stdout?: string; stderr?: string; attached: ShimStream[] }

/** The stdin value that keeps a process's stdin open for Attach streams. */
export const ATTACH_STDIN = 'attach:';

/** One Attach stream: the process's output, and its stdin. */
export interface TaskAttachment {
  output: ShimStream;
  write(data: Buffer): Promise<void>;
  closeStdin(): Promise<void>;
  /** Stops delivering output to this attachment. */
  detach(): void;
}

export interface ProcessView {
  containerId: string;
  id: string;
  pid: number;
  status: 'CREATED' | 'RUNNING' | 'STOPPED' | 'PAUSED' | 'UNKNOWN';
  terminal: boolean;
  exitStatus: number;
  exitedAt: Date | undefined;
}

export interface CreateTask {
  containerId: string;
  rootfs: Mount[];
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

export interface TaskManagerDeps {
  execRoot: string;
  metadata: Metadata;
  snapshotters: Snapshotters;
  bus: EventBus;
  log: Logger;
}

const EXIT_PUBLISHED = 'exit-published';

function statusOf(s: ShimProcessState['status']): ProcessView['status'] {
  return s === 'created' ? 'CREATED' : s === 'running' ? 'RUNNING' : s === 'stopped' ? 'STOPPED' : 'UNKNOWN';
}

export class TaskManager {
  private readonly d: TaskManagerDeps;
  private readonly tasks = new Map<string, Task>();
  private readonly creating = new Set<string>();

  constructor(deps: TaskManagerDeps) {
    this.d = deps;
  }

  private key(ns: string, id: string): string {
    return `${ns}/${id}`;
  }

  has(ns: string, id: string): boolean {
    return this.tasks.has(this.key(ns, id)) || this.creating.has(this.key(ns, id));
  }

  count(ns: string): number {
    let n = 0;
    for (const t of this.tasks.values()) if (t.namespace === ns) n++;
    return n;
  }

  private task(ns: string, id: string): Task {
    validateIdentifier('container', id);
    const t = this.tasks.get(this.key(ns, id));
    if (!t) throw notFound(`task ${JSON.stringify(id)} in namespace ${JSON.stringify(ns)}: not found`);
    return t;
  }

  private live(t: Task): ShimClient {
    if (!t.client || t.client.closed) throw failedPrecondition(`task ${t.id}: its shim is gone (exit ${t.exit ? t.exit.exitStatus : 'unknown'}); delete the task`);
    return t.client;
  }

  async create(ns: string, req: CreateTask): Promise<{ pid: number }> {
    const id = validateIdentifier('container', req.containerId);
    const key = this.key(ns, id);
    const c = this.d.metadata.containers.get(ns, id);
    if (this.has(ns, id)) throw alreadyExists(`task ${JSON.stringify(id)} in namespace ${JSON.stringify(ns)}: already exists`);
    if (req.stdin && req.stdin !== ATTACH_STDIN && (!req.stdin.startsWith('/') || !statSync(req.stdin, { throwIfNoEntry: false })?.isFIFO())) {
      throw invalidArgument(`stdin: ${JSON.stringify(req.stdin)} is neither "${ATTACH_STDIN}" nor an absolute path of a fifo`);
    }
    const runtime = runtimeBinary(c.runtime.name);
    const spec = JSON.parse(c.spec.toString('utf8')) as Record<string, unknown> & { root?: { path?: string; readonly?: boolean }; process?: { terminal?: boolean } };
    const runtimeId = id.length <= 64 ? id : createHash('sha256').update(id).digest('hex').slice(0, 64);
    const bundle = join(this.d.execRoot, 'bundles', ns, id);
    const stateDir = join(this.d.execRoot, 'shims', ns, id);
    const longSocket = join(stateDir, 'shim.sock');
    const socketPath = longSocket.length < 100 ? longSocket : join(this.d.execRoot, 's', createHash('sha256').update(key).digest('hex').slice(0, 16) + '.sock');
    this.creating.add(key);
    let mounted = false;
    try {
      rmSync(bundle, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
      mkdirSync(join(bundle, 'rootfs'), { recursive: true, mode: 0o711 });
      const mounts = req.rootfs.length > 0 ? req.rootfs
        : c.snapshotKey ? this.d.snapshotters.get(c.snapshotter).mounts(`${ns}/${c.snapshotKey}`) : [];
      if (mounts.length > 0) {
        mountAll(mounts, join(bundle, 'rootfs'));
        mounted = true;
        spec.root = { ...(spec.root ?? {}), path: 'rootfs' };
      } else if (!spec.root?.path || !spec.root.path.startsWith('/') || !statSync(spec.root.path, { throwIfNoEntry: false })?.isDirectory()) {
        throw invalidArgument(`task ${id}: no rootfs: the container has no snapshot, the request no rootfs mounts, and its spec no absolute root.path that is a directory`);
      }
      const terminal = req.terminal || spec.process?.terminal === true;
      if (spec.process) spec.process.terminal = terminal;
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
      const log = initLog(req.stdout, req.stderr, join(stateDir, 'container.log'));
      const runtimeRoot = join(this.d.execRoot, 'runtime', runtimeKey(c.runtime.name), ns);
      mkdirSync(runtimeRoot, { recursive: true, mode: 0o700 });
      mkdirSync(join(this.d.execRoot, 's'), { recursive: true, mode: 0o700 });
      const builtin = isBuiltin(c.runtime.name);
      const shimOptions = { id: runtimeId, bundle, runtime, runtimeRoot, stateDir, log, terminal, stdin: !!req.stdin, start: false, socketPath };
      let launched;
      try {
        launched = builtin ? await createBuiltin(shimOptions) : await launchShim(shimOptions);
      } catch (err) {
        if (err instanceof ShimLaunchError || err instanceof RuntimeError) throw failedPrecondition(`task ${id}: the runtime could not create the container: ${err.message}`);
        throw err;
      }
      const file: TaskFile = { namespace: ns, id, runtimeId, bundle, socketPath, rootfsMounted: mounted, runtime, runtimeRoot, ...(builtin ? { builtin } : {}) };
      writeFileSync(join(stateDir, 'task.json'), JSON.stringify(file));
      const client = await ShimClient.connect(socketPath);
      const t: Task = { ...file, stateDir, pid: launched.pid, terminal, client, exit: null, paused: false, pendingExecs: new Map() };
      this.watch(t);
      this.tasks.set(key, t);
      if (req.stdin && req.stdin !== ATTACH_STDIN) relayStdin(req.stdin, client, (e) => this.d.log.warn('task stdin relay', { id, error: e.message }));
      this.d.bus.publish(ns, '/tasks/create', 'TaskCreate', { containerId: id, bundle, pid: launched.pid, io: { stdout: log.path, terminal } });
      return { pid: launched.pid };
    } catch (err) {
      if (mounted) { try { unmount(join(bundle, 'rootfs')); } catch { /* reported by the rm below, if at all */ } }
      rmSync(bundle, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
      throw err;
    } finally {
      this.creating.delete(key);
    }
  }

  /** Exits and OOM kills reported by the shim become events. */
  private watch(t: Task): void {
    const c = t.client!;
    c.on('exit', (e) => {
      const isInit = e.id === t.runtimeId;
      if (isInit) {
        t.exit = e;
        writeFileSync(join(t.stateDir, EXIT_PUBLISHED), '');
      }
      const publish = (): void => this.d.bus.publish(t.namespace, '/tasks/exit', 'TaskExit', {
        containerId: t.id, id: isInit ? t.id : e.id, pid: e.pid, exitStatus: e.exitStatus, exitedAt: tsOf(e.exitedAt), oomKilled: e.oomKilled,
      });
      if (isInit && t.starting) void t.starting.then(publish, publish);
      else publish();
    });
    c.on('oom', () => { this.d.bus.publish(t.namespace, '/tasks/oom', 'TaskOOM', { containerId: t.id }); });
    c.on('close', () => { this.d.log.debug('shim connection closed', { namespace: t.namespace, id: t.id }); });
  }

  async start(ns: string, id: string, execId: string): Promise<{ pid: number }> {
    const t = this.task(ns, id);
    const c = this.live(t);
    if (!execId) {
      const started = c.start().then(() => { this.d.bus.publish(ns, '/tasks/start', 'TaskStart', { containerId: id, pid: t.pid }); });
      t.starting = started;
      try { await started; } finally { if (t.starting === started) t.starting = undefined; }
      return { pid: t.pid };
    }
    const pending = t.pendingExecs.get(execId);
    if (!pending) throw notFound(`exec ${JSON.stringify(execId)} of task ${id}: not found (add it with Exec first)`);
    t.pendingExecs.delete(execId);
    const { pid, output } = await c.exec(execId, pending.path, { terminal: pending.terminal, stdin: pending.stdin });
    const out = pending.stdout ? createWriteStream(pending.stdout, { flags: 'a', mode: 0o600 }) : undefined;
    const err = pending.stderr ? (pending.stderr === pending.stdout ? out : createWriteStream(pending.stderr, { flags: 'a', mode: 0o600 })) : undefined;
    output.on('stdout', (b) => { out?.write(b); for (const a of pending.attached) a.push('stdout', b); });
    output.on('stderr', (b) => { err?.write(b); for (const a of pending.attached) a.push('stderr', b); });
    output.on('end', () => { out?.end(); if (err !== out) err?.end(); for (const a of pending.attached) a.finish(); });
    this.d.bus.publish(ns, '/tasks/exec-started', 'TaskExecStarted', { containerId: id, execId, pid });
    return { pid };
  }

  exec(ns: string, id: string, req: { execId: string; spec: Buffer; terminal: boolean; stdin: string; stdout: string; stderr: string }): void {
    const t = this.task(ns, id);
    this.live(t);
    const execId = validateIdentifier('exec', req.execId);
    if (t.pendingExecs.has(execId)) throw alreadyExists(`exec ${JSON.stringify(execId)} of task ${id}: already exists`);
    let proc: unknown;
    try { proc = JSON.parse(req.spec.toString('utf8')); } catch { throw invalidArgument(`exec ${execId}: spec is not valid JSON (an OCI process)`); }
    if (!proc || typeof proc !== 'object' || !Array.isArray((proc as { args?: unknown }).args) || (proc as { args: unknown[] }).args.length === 0) {
      throw invalidArgument(`exec ${execId}: spec must be an OCI process with args`);
    }
    const stdout = execOutput(req.stdout, 'stdout');
    const stderr = execOutput(req.stderr, 'stderr');
    const path = join(t.bundle, `exec-${execId}.json`);
    writeFileSync(path, JSON.stringify({ ...(proc as object), terminal: req.terminal }), { mode: 0o600 });
    t.pendingExecs.set(execId, { path, terminal: req.terminal, stdin: req.stdin !== '', ...(stdout ? { stdout } : {}), ...(stderr ? { stderr } : {}), attached: [] });
    this.d.bus.publish(ns, '/tasks/exec-added', 'TaskExecAdded', { containerId: id, execId });
  }

  async kill(ns: string, id: string, signal: number, all: boolean, execId: string): Promise<void> {
    const t = this.task(ns, id);
    await this.live(t).kill(signal || 15, { all, ...(execId ? { execId } : {}) });
  }

  async wait(ns: string, id: string, execId: string): Promise<{ exitStatus: number; exitedAt: Date | undefined; oomKilled: boolean }> {
    const t = this.task(ns, id);
    if (!execId && (!t.client || t.client.closed)) {
      if (!t.exit) throw failedPrecondition(`task ${id}: its shim is gone and recorded no exit`);
      return { exitStatus: t.exit.exitStatus, exitedAt: dateOf(t.exit.exitedAt), oomKilled: t.exit.oomKilled };
    }
    const e = await this.live(t).wait(execId);
    return { exitStatus: e.exitStatus, exitedAt: dateOf(e.exitedAt), oomKilled: e.oomKilled };
  }

  /**
   * Attaches to a process's standard streams. An exec not started yet gets
   * all its output (delivered from Start on); a running process from now on.
   */
  async attach(ns: string, id: string, execId: string): Promise<TaskAttachment> {
    const t = this.task(ns, id);
    const c = this.live(t);
    if (execId) validateIdentifier('exec', execId);
    const pending = execId ? t.pendingExecs.get(execId) : undefined;
    let output: ShimStream;
    if (pending) {
      output = new ShimStream();
      pending.attached.push(output);
    } else {
      output = await c.attach(execId);
    }
    return {
      output,
      write: async (data) => { await this.live(t).writeStdin(data, execId); },
      closeStdin: async () => { await this.live(t).closeStdin(execId); },
      detach: () => {
        if (pending) pending.attached = pending.attached.filter((x) => x !== output);
        output.removeAllListeners();
      },
    };
  }

  async get(ns: string, id: string, execId: string): Promise<ProcessView> {
    const t = this.task(ns, id);
    const gone = (): ProcessView => {
      if (execId) throw notFound(`exec ${JSON.stringify(execId)}: the shim of task ${id} is gone`);
      return { containerId: id, id, pid: t.pid, status: t.exit ? 'STOPPED' : 'UNKNOWN', terminal: t.terminal, exitStatus: t.exit?.exitStatus ?? 0, exitedAt: t.exit ? dateOf(t.exit.exitedAt) : undefined };
    };
    if (!t.client || t.client.closed) return gone();
    if (execId && t.pendingExecs.has(execId)) return { containerId: id, id: execId, pid: 0, status: 'CREATED', terminal: t.pendingExecs.get(execId)!.terminal, exitStatus: 0, exitedAt: undefined };
    let s: ShimProcessState;
    try {
      s = execId ? await t.client.processState(execId) : await t.client.state();
    } catch (err) {
      if (err instanceof ShimConnectionError) return gone();
      throw err;
    }
    const st = !execId && t.paused && s.status === 'running' ? 'PAUSED' : statusOf(s.status);
    return { containerId: id, id: execId || id, pid: s.pid, status: st, terminal: t.terminal, exitStatus: s.exitStatus ?? 0, exitedAt: s.exitedAt ? dateOf(s.exitedAt) : undefined };
  }

  async list(ns: string): Promise<ProcessView[]> {
    const out: ProcessView[] = [];
    for (const t of this.tasks.values()) if (t.namespace === ns) out.push(await this.get(ns, t.id, ''));
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Freezes (pause) or thaws (resume) the container with its runtime's own verb. */
  async pause(ns: string, id: string, pause: boolean): Promise<void> {
    const t = this.task(ns, id);
    const c = this.live(t);
    const s = await c.state();
    if (s.status !== 'running') throw failedPrecondition(`task ${id} is ${s.status}: only a running task can be ${pause ? 'paused' : 'resumed'}`);
    if (t.paused === pause) throw failedPrecondition(`task ${id} is ${pause ? 'already paused' : 'not paused'}`);
    if (t.builtin) await inProcess(t, (ctx) => (pause ? rtPause : rtResume)(ctx, t.runtimeId));
    else await runRuntime(t, [pause ? 'pause' : 'resume', t.runtimeId]);
    t.paused = pause;
    if (pause) this.d.bus.publish(ns, '/tasks/paused', 'TaskPaused', { containerId: id });
    else this.d.bus.publish(ns, '/tasks/resumed', 'TaskResumed', { containerId: id });
  }

  /** New OCI Linux resources (JSON) for a running container: the runtime's `update --resources FILE`. */
  async update(ns: string, id: string, resources: Buffer): Promise<void> {
    const t = this.task(ns, id);
    this.live(t);
    let r: unknown;
    try { r = JSON.parse(resources.toString('utf8')); } catch { throw invalidArgument(`task ${id}: resources are not valid JSON`); }
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw invalidArgument(`task ${id}: resources must be an OCI LinuxResources object`);
    // a file, not stdin: crun opens /dev/stdin, which a socket (Node's stdio pipes) cannot be reopened as
    const file = join(t.stateDir, `resources.${process.pid}.${Date.now()}.json`);
    writeFileSync(file, JSON.stringify(r));
    try {
      if (t.builtin) await inProcess(t, (ctx) => rtUpdate(ctx, t.runtimeId, { resources: file }));
      else await runRuntime(t, ['update', '--resources', file, t.runtimeId]);
    } finally {
      rmSync(file, { force: true });
    }
  }

  /** cgroup statistics of the namespace's running tasks (those the filters select: id, namespace fields). */
  async metrics(ns: string, filters: readonly string[]): Promise<{ id: string; at: Date; stats: DockerCgroupStats }[]> {
    const fs = parseFilters(filters);
    const out: { id: string; at: Date; stats: DockerCgroupStats }[] = [];
    for (const t of [...this.tasks.values()].sort((a, b) => a.id.localeCompare(b.id))) {
      if (t.namespace !== ns || !t.client || t.client.closed || t.exit) continue;
      if (!matchAny(fs, (path) => (path.length === 1 && path[0] === 'id' ? t.id : path.length === 1 && path[0] === 'namespace' ? ns : undefined))) continue;
      const cg = taskCgroup(t);
      if (!cg) continue;
      try {
        out.push({ id: t.id, at: new Date(), stats: toDockerStats(cg.stats(), cg.mode) });
      } catch (err) {
        if (!t.exit) throw err; // exited meanwhile: its cgroup went
      }
    }
    return out;
  }

  /** The container's processes, from its runtime's `ps`. */
  async pids(ns: string, id: string): Promise<number[]> {
    const t = this.task(ns, id);
    this.live(t);
    if (t.builtin) return inProcess(t, (ctx) => rtPids(ctx, t.runtimeId));
    const out = await runRuntime(t, ['ps', '--format', 'json', t.runtimeId]);
    let pids: unknown;
    try { pids = JSON.parse(out || '[]'); } catch { throw new Error(`task ${id}: the runtime's ps printed no JSON: ${out.slice(0, 200)}`); }
    if (!Array.isArray(pids) || pids.some((p) => typeof p !== 'number')) throw new Error(`task ${id}: the runtime's ps printed no list of pids`);
    return pids as number[];
  }

  async resize(ns: string, id: string, execId: string, width: number, height: number): Promise<void> {
    if (width <= 0 || height <= 0 || width > 0xffff || height > 0xffff) throw invalidArgument('width and height must be 1 to 65535');
    await this.live(this.task(ns, id)).resize(height, width, execId);
  }

  async closeIO(ns: string, id: string, execId: string): Promise<void> {
    await this.live(this.task(ns, id)).closeStdin(execId);
  }

  async deleteProcess(ns: string, id: string, execId: string): Promise<{ pid: number; exitStatus: number; exitedAt: Date | undefined }> {
    const t = this.task(ns, id);
    validateIdentifier('exec', execId);
    if (t.pendingExecs.delete(execId)) return { pid: 0, exitStatus: 0, exitedAt: undefined };
    const c = this.live(t);
    const s = await c.processState(execId);
    if (s.status !== 'stopped') throw failedPrecondition(`exec ${execId} of task ${id} is ${s.status}: kill it first`);
    await c.delete({ execId });
    return { pid: s.pid, exitStatus: s.exitStatus ?? 0, exitedAt: s.exitedAt ? dateOf(s.exitedAt) : undefined };
  }

  /** Deletes a stopped task: the runtime's container, the shim, the rootfs mount and the bundle. */
  async delete(ns: string, id: string): Promise<{ pid: number; exitStatus: number; exitedAt: Date | undefined }> {
    const t = this.task(ns, id);
    let exit = t.exit;
    if (t.client && !t.client.closed) {
      const s = await t.client.state();
      if (s.status !== 'stopped') throw failedPrecondition(`task ${id} is ${s.status}: kill it and wait for its exit first`);
      const client = t.client;
      const last = await client.delete();
      exit = { id: t.runtimeId, pid: last.pid, status: 'stopped', exitStatus: last.exitStatus ?? s.exitStatus ?? 0, exitedAt: last.exitedAt ?? s.exitedAt ?? '', oomKilled: last.oomKilled ?? false };
      // The shim exits after a delete and removes its socket: let it finish before its directory goes.
      await new Promise<void>((resolve) => {
        if (client.closed) { resolve(); return; }
        const timer = setTimeout(resolve, 2000);
        client.once('close', () => { clearTimeout(timer); resolve(); });
      });
      client.close();
      if (t.builtin) await builtinDelete(t, false);
    } else {
      // The shim died: the runtime may still hold the container (even a running one).
      await forceDelete(t);
    }
    await this.release(t);
    const r = { pid: t.pid, exitStatus: exit?.exitStatus ?? 255, exitedAt: exit ? dateOf(exit.exitedAt) : undefined };
    this.d.bus.publish(ns, '/tasks/delete', 'TaskDelete', { containerId: id, id, pid: r.pid, exitStatus: r.exitStatus, ...(r.exitedAt ? { exitedAt: tsOf(exit!.exitedAt) } : {}) });
    return r;
  }

  private async release(t: Task): Promise<void> {
    if (t.rootfsMounted) unmount(join(t.bundle, 'rootfs'));
    // Async: the sync rm's retries sleep on the event loop (a profile of 50
    // deletes at once showed it). The task stays listed until its files are
    // gone, so a create of the same id cannot meet a half-removed bundle.
    // maxRetries: a file the exiting shim writes meanwhile makes one pass fail with ENOTEMPTY.
    await Promise.all([
      rm(t.bundle, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }),
      rm(t.stateDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }),
    ]);
    if (!t.socketPath.startsWith(t.stateDir)) rmSync(t.socketPath, { force: true });
    this.tasks.delete(this.key(t.namespace, t.id));
  }

  /**
   * Finds the shims of a previous run: a live one is reconnected; a dead one
   * leaves its recorded exit, published now if the previous run had not
   * (containers exit while no daemon runs, and clients still hear of it).
   */
  async adopt(): Promise<number> {
    const root = join(this.d.execRoot, 'shims');
    let n = 0;
    for (const ns of safeReaddir(root)) {
      for (const id of safeReaddir(join(root, ns))) {
        const stateDir = join(root, ns, id);
        let file: TaskFile;
        try {
          file = JSON.parse(readFileSync(join(stateDir, 'task.json'), 'utf8')) as TaskFile;
        } catch {
          this.d.log.warn('removing a shim directory without its task record', { dir: stateDir });
          rmSync(stateDir, { recursive: true, force: true });
          continue;
        }
        const a = await adoptShim(stateDir, file.socketPath, 2000);
        const t: Task = { ...file, stateDir, pid: 0, terminal: false, client: null, exit: null, paused: false, pendingExecs: new Map() };
        if (a.alive) {
          t.client = a.client;
          t.pid = a.state.pid;
          t.terminal = a.state.terminal;
          if (a.state.status === 'stopped') t.exit = { id: t.runtimeId, pid: a.state.pid, status: 'stopped', exitStatus: a.state.exitStatus ?? 0, exitedAt: a.state.exitedAt ?? '', oomKilled: a.state.oomKilled ?? false };
          this.watch(t);
        } else {
          t.exit = a.exit;
          t.pid = a.exit?.pid ?? 0;
        }
        this.tasks.set(this.key(ns, id), t);
        n++;
        if (t.exit && !existsSync(join(stateDir, EXIT_PUBLISHED))) {
          writeFileSync(join(stateDir, EXIT_PUBLISHED), '');
          this.d.bus.publish(ns, '/tasks/exit', 'TaskExit', { containerId: id, id, pid: t.exit.pid, exitStatus: t.exit.exitStatus, exitedAt: tsOf(t.exit.exitedAt) });
        }
      }
    }
    return n;
  }

  /** Drops the connections (the shims and containers keep running). */
  close(): void {
    for (const t of this.tasks.values()) t.client?.close();
  }
}

/** Runs one runtime verb on the task's container; a failure is FAILED_PRECONDITION with the runtime's words. */
function runRuntime(t: TaskFile, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(t.runtime, ['--root', t.runtimeRoot, ...args], { timeout: 30_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) reject(failedPrecondition(`${args[0]}: ${(stderr || err.message).trim().split('\n').pop()}`));
      else resolve(stdout);
    });
    child.stdin?.end(input ?? '');
  });
}

/** `runtime delete --force`, for a task whose shim is gone; failures are logged by the caller's result, not thrown. */
function forceDelete(t: TaskFile): Promise<void> {
  if (t.builtin) return builtinDelete(t, true);
  if (!t.runtime) return Promise.resolve();
  return new Promise((resolve) => {
    execFile(t.runtime, ['--root', t.runtimeRoot, 'delete', '--force', t.runtimeId], { timeout: 30_000 }, () => resolve());
  });
}

/** Built-in runtime: the runtime library computes the plan here and drives
 * the executor that the shim starts (plan and sync on the shim's fds 3 and 4). */
async function createBuiltin(o: ShimLaunchOptions): Promise<ShimLaunched> {
  const ctx = runtimeContext({ root: o.runtimeRoot });
  let shim: SpawnedShim | undefined;
  const spawnExecutor: ExecutorSpawner = (x) => {
    shim = spawnShim({ ...o, executor: { path: x.executor, execFifo: ctx.store.fifo(o.id) } });
    const s = shim;
    const failed = s.launched.then(() => new Promise<never>(() => {}));
    failed.catch(() => {});
    return {
      plan: s.plan!, sync: s.sync!, failed, kill: () => { s.sync!.destroy(); },
      exited: s.launched.then(() => 0, () => 1),
    };
  };
  const consoleSocket = o.terminal ? (o.socketPath ? `${o.socketPath}.console` : join(o.stateDir, 'console.sock')) : undefined;
  try {
    await rtCreate(ctx, { id: o.id, bundle: o.bundle, pidFile: join(o.stateDir, 'init.pid'), consoleSocket, spawnExecutor });
  } catch (err) {
    // a shim that reported a (since killed) init anyway goes too
    const l = shim ? await shim.launched.catch(() => null) : null;
    if (l) {
      const c = await ShimClient.connect(l.socketPath).catch(() => null);
      await c?.shutdown().catch(() => {});
      c?.close();
    }
    throw err;
  } finally {
    shim?.plan?.destroy();
    shim?.sync?.destroy();
  }
  try {
    return await shim!.launched;
  } catch (err) {
    await rtDel(ctx, o.id, true).catch(() => {});
    throw err;
  }
}

/** The task's stdin fifo (as containerd's clients hand it): what its writers
 * write goes to the shim, in order; their end (EOF) closes the process's
 * stdin. Lives in this daemon: a restart does not resume it. */
function relayStdin(path: string, client: ShimClient, warn: (e: Error) => void): void {
  // non-blocking open and epoll reads (no thread-pool thread waits for a writer);
  // a fifo that never had a writer reports no hang-up, so this waits for the first
  let src: Socket;
  try {
    src = new Socket({ fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false }); // libuv opens close-on-exec
  } catch (err) {
    warn(err as Error);
    return;
  }
  src.on('data', (chunk) => {
    src.pause();
    client.writeStdin(chunk as Buffer).then(() => src.resume(), (e: Error) => { warn(e); src.destroy(); });
  });
  src.on('end', () => { client.closeStdin().catch(warn); });
  src.on('error', warn);
  client.once('close', () => src.destroy());
}

/** A runtime library verb on a built-in task; its errors are FAILED_PRECONDITION, as a runtime binary's are. */
async function inProcess<T>(t: TaskFile, f: (ctx: RuntimeContext) => Promise<T> | T): Promise<T> {
  try {
    return await f(runtimeContext({ root: t.runtimeRoot }));
  } catch (err) {
    if (err instanceof RuntimeError) throw failedPrecondition(`task ${t.id}: ${err.message}`);
    throw err;
  }
}

/** The task's cgroup: the runtime library's record for built-in tasks and
 * dray-runc's, else the one its init is in (runc, crun); null when the init
 * is not in it. */
function taskCgroup(t: Task): CgroupManager | null {
  const holdsInit = (cg: CgroupManager | null): boolean => { try { return !!cg && cg.pids().includes(t.pid); } catch { return false; } };
  if (t.builtin || t.runtime.endsWith('/dray-runc')) {
    try {
      const cg = containerCgroup(runtimeContext({ root: t.runtimeRoot }).store.read(t.runtimeId));
      if (holdsInit(cg)) return cg;
    } catch { /* no record: as for other runtimes */ }
  }
  const cg = cgroupOfPid(t.pid, t.runtimeId);
  return holdsInit(cg) ? cg : null;
}

/** The cgroup a process is in, hierarchy by hierarchy from /proc/PID/cgroup
 * (runc on v1 nests some controllers under its own cgroup, others not). */
function cgroupOfPid(pid: number, id: string): CgroupManager | null {
  let text = '';
  try { text = readFileSync(`/proc/${pid}/cgroup`, 'utf8'); } catch { return null; }
  const byController = new Map<string, string>();
  for (const f of text.split('\n').map((l) => l.split(':'))) {
    if (f.length < 3) continue;
    const path = f.slice(2).join(':');
    if (f[1] === '') byController.set('', path);
    else for (const c of f[1]!.split(',')) byController.set(c, path);
  }
  try {
    const shape = newCgroup(byController.get('memory') ?? byController.get('') ?? '/', id).saved();
    const paths: Record<string, string> = {};
    for (const [c, mp] of Object.entries(shape.mountpoints)) {
      const p = byController.get(c);
      if (p === undefined || p === '/') continue;
      paths[c] = posix.join(mp, p);
    }
    const mountpoints = Object.fromEntries(Object.keys(paths).map((c) => [c, shape.mountpoints[c]!]));
    return reopenCgroup({ mode: shape.mode, paths, mountpoints });
  } catch {
    return null;
  }
}

/** Removes a built-in container's runtime state (and with force, its processes and cgroup). */
async function builtinDelete(t: TaskFile, force: boolean): Promise<void> {
  try {
    await rtDel(runtimeContext({ root: t.runtimeRoot }), t.runtimeId, force);
  } catch (err) {
    if (!(err instanceof RuntimeError) || !/does not exist|not exist/.test(err.message)) throw err;
  }
}

function safeReaddir(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}

function dateOf(rfc3339: string | undefined): Date | undefined {
  if (!rfc3339) return undefined;
  const d = new Date(rfc3339);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function tsOf(rfc3339: string | undefined): { seconds: number; nanos: number } | undefined {
  const d = dateOf(rfc3339);
  if (!d) return undefined;
  const frac = /\.(\d+)/.exec(rfc3339!)?.[1] ?? '0';
  return { seconds: Math.floor(d.getTime() / 1000), nanos: Number(frac.padEnd(9, '0').slice(0, 9)) };
}
