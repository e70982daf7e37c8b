// Running containers: the task side drayd needs, behind one interface.
// ShimTasks launches dray-shim directly over a runc-compatible runtime; once
// dray-containerd's task service is on main, a TaskService over its gRPC
// client takes this one's place (same verbs: create, adopt, runtime calls).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { adoptShim } from '../../shim/adopt.ts';
import { ShimClient, type ShimExit, type ShimState } from '../../shim/client.ts';
import { launchShim } from '../../shim/launch.ts';

const run = promisify(execFile);

export interface TaskCreateOptions {
  id: string;
  bundle: string;
  terminal: boolean;
  stdin: boolean;
  logPath: string;
  logMaxSize?: number;
  logMaxFile?: number;
}

export type Adopted = { alive: true; client: ShimClient; state: ShimState } | { alive: false; exit: ShimExit | null };

export interface TaskService {
  readonly runtime: string;
  /** Creates the container's task (`runtime create` under a new shim) and connects to it. */
  create(o: TaskCreateOptions): Promise<{ client: ShimClient; pid: number }>;
  /** Finds a task again after drayd restarted. */
  adopt(id: string): Promise<Adopted>;
  /** Forgets a task whose shim is gone (runtime delete --force) and removes its state. */
  cleanup(id: string): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Pids in the container (`runtime ps`). */
  pids(id: string): Promise<number[]>;
}

export class ShimTasks implements TaskService {
  readonly runtime: string;
  readonly #execRoot: string;
  readonly #runtimeRoot: string;

  constructor(execRoot: string, runtime = 'runc') {
    this.runtime = runtime;
    this.#execRoot = execRoot;
    this.#runtimeRoot = join(execRoot, 'runtime');
    mkdirSync(join(execRoot, 's'), { recursive: true, mode: 0o700 });
  }

  #stateDir(id: string): string {
    return join(this.#execRoot, 'shims', id);
  }

  /** A short socket path: a state dir path may not fit a unix socket's 108 bytes. */
  #socket(id: string): string {
    return join(this.#execRoot, 's', createHash('sha256').update(id).digest('hex').slice(0, 20));
  }

  async create(o: TaskCreateOptions): Promise<{ client: ShimClient; pid: number }> {
    const stateDir = this.#stateDir(o.id);
    rmSync(stateDir, { recursive: true, force: true });
    const launched = await launchShim({
      id: o.id, bundle: o.bundle, runtime: this.runtime, runtimeRoot: this.#runtimeRoot, stateDir,
      socketPath: this.#socket(o.id), terminal: o.terminal, stdin: o.stdin,
      log: { path: o.logPath, ...(o.logMaxSize ? { maxSize: o.logMaxSize } : {}), ...(o.logMaxFile ? { maxFile: o.logMaxFile } : {}) },
    });
    const client = await ShimClient.connect(launched.socketPath);
    return { client, pid: launched.pid };
  }

  adopt(id: string): Promise<Adopted> {
    return adoptShim(this.#stateDir(id), this.#socket(id));
  }

  async cleanup(id: string): Promise<void> {
    await run(this.runtime, ['--root', this.#runtimeRoot, 'delete', '--force', id]).catch(() => undefined);
    rmSync(this.#stateDir(id), { recursive: true, force: true });
    rmSync(this.#socket(id), { force: true });
  }

  async #runtimeCall(args: string[]): Promise<string> {
    try {
      return (await run(this.runtime, ['--root', this.#runtimeRoot, ...args])).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error((e.stderr ?? '').trim().split('\n').pop() || e.message);
    }
  }

  async pause(id: string): Promise<void> {
    await this.#runtimeCall(['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.#runtimeCall(['resume', id]);
  }

  async pids(id: string): Promise<number[]> {
    const out = await this.#runtimeCall(['ps', '--format', 'json', id]);
    const v = JSON.parse(out || '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
  }
}
