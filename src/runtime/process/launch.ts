// Starts the C executor with a plan and drives its small sync protocol:
//   executor -> us: "pid N" (the container process, as the host sees it),
//                   "hooks" (mounts done: run prestart/createRuntime now),
//                   "ready" (create: waiting on the exec fifo), "error MSG";
//   us -> executor: go = u32 length + state JSON (after the cgroup is set),
//                   then u32 length + the seccomp listener's payload (or 0),
//                   one byte after the hooks.
// The plan goes over its own pipe; both sit above the container's stdio and
// --preserve-fds, and are close-on-exec in the executor.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { constants as osConstants } from 'node:os';
import { RuntimeError } from '../errors.ts';
import { encodePlan, type PlanRecord } from '../plan/encode.ts';
import { executorPath } from './executor-path.ts';

export interface LaunchOptions {
  plan: PlanRecord[];
  /** fds 3 .. 3+preserveFds-1 of this process pass through to the container. */
  preserveFds: number;
  /** The container's stdin/stdout/stderr (default: ours). */
  stdio?: [number | 'inherit' | 'ignore', number | 'inherit' | 'ignore', number | 'inherit' | 'ignore'];
  /** Called with the container process's pid before it may proceed: put it in its cgroup; returns the state JSON for in-container hooks. */
  onPid: (pid: number) => Promise<string> | string;
  /** With a seccomp NOTIFY listener: what goes to it with the fd (the container process state), given the pid. */
  listenerPayload?: (pid: number) => string;
  /** Called when the executor stops for prestart/createRuntime hooks. */
  onHooks?: (pid: number) => Promise<void> | void;
  /** 'ready' (create: the process waits on the exec fifo) or 'exec' (the process exec'd: the sync socket closes). */
  until: 'ready' | 'exec';
  /** Who starts the executor (default: a child of this process); dray-containerd's built-in runtime has the shim start it. */
  spawn?: ExecutorSpawner;
}

/** A started executor as the sync protocol sees it: where the plan goes, the sync socket, its end. */
export interface SpawnedExecutor {
  plan: Writable;
  sync: Socket;
  exited: Promise<number>;
  /** rejects when the executor could not be started */
  failed: Promise<never>;
  kill(): void;
  executor?: ChildProcess;
}

/** Starts `executor <planFd> <syncFd>` with the container's stdio and preserved fds. */
export type ExecutorSpawner = (o: { executor: string; planFd: number; syncFd: number; stdio: StdioOptions }) => SpawnedExecutor;

export interface Launched {
  pid: number;
  /** absent when another process (the shim) started the executor */
  executor?: ChildProcess;
  /** The executor's exit code (a monitor's is the container's status). */
  exited: Promise<number>;
}

/** The default spawner: the executor as our child. */
export const spawnChildExecutor: ExecutorSpawner = (o) => {
  const child = spawn(o.executor, [String(o.planFd), String(o.syncFd)], { stdio: o.stdio });
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, sig) => resolve(code ?? 128 + (sig ? signalNumber(sig) : 0)));
  });
  const failed = new Promise<never>((_, reject) => child.on('error', (e) => reject(new RuntimeError(`start executor: ${e.message}`))));
  failed.catch(() => {});
  return { plan: child.stdio[o.planFd] as Socket, sync: child.stdio[o.syncFd] as Socket, exited, failed, kill: () => child.kill('SIGKILL'), executor: child };
};

class LineReader {
  private buf = '';
  private lines: string[] = [];
  private waiting: ((l: string | null) => void) | undefined;
  private ended = false;
  constructor(sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      this.wake();
    });
    const end = (): void => { this.ended = true; this.wake(); };
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', end);
  }
  private wake(): void {
    const w = this.waiting;
    if (!w) return;
    if (this.lines.length) { this.waiting = undefined; w(this.lines.shift()!); }
    else if (this.ended) { this.waiting = undefined; w(null); }
  }
  next(): Promise<string | null> {
    return new Promise((resolve) => { this.waiting = resolve; this.wake(); });
  }
}

export async function launchExecutor(o: LaunchOptions): Promise<Launched> {
  const planFd = 3 + o.preserveFds, syncFd = planFd + 1;
  const stdio: StdioOptions = [...(o.stdio ?? ['inherit', 'inherit', 'inherit'])];
  for (let i = 0; i < o.preserveFds; i++) stdio.push(3 + i);
  stdio.push('pipe', 'pipe');
  const spawned = (o.spawn ?? spawnChildExecutor)({ executor: executorPath(), planFd, syncFd, stdio });
  const { exited, failed: spawnError } = spawned;
  const planPipe = spawned.plan;
  planPipe.on('error', () => {});
  planPipe.end(encodePlan(o.plan));
  const sync = spawned.sync;
  sync.on('error', () => {});
  const reader = new LineReader(sync);
  let pid = 0;
  try {
    for (let n = 0; n < 8; n++) {
      const line = await Promise.race([reader.next(), spawnError]);
      if (line === null) {
        if (o.until === 'exec' && pid) break;
        throw new RuntimeError(pid ? 'container init exited before it was ready' : 'executor exited before starting the container');
      }
      if (line.startsWith('error ')) throw new RuntimeError(line.slice(6));
      if (line.startsWith('pid ')) {
        pid = Number(line.slice(4));
        const state = Buffer.from(await o.onPid(pid));
        const listener = Buffer.from(o.listenerPayload?.(pid) ?? '');
        const heads = Buffer.alloc(8);
        heads.writeUInt32LE(state.length, 0);
        heads.writeUInt32LE(listener.length, 4);
        sync.write(Buffer.concat([heads.subarray(0, 4), state, heads.subarray(4), listener]));
      } else if (line === 'hooks') {
        await o.onHooks?.(pid);
        sync.write(Buffer.from([1]));
      } else if (line === 'ready' && o.until === 'ready') {
        break;
      } else {
        throw new RuntimeError(`executor protocol: unexpected ${JSON.stringify(line)}`);
      }
    }
  } catch (err) {
    sync.destroy();
    if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
    spawned.kill();
    await exited;
    throw err;
  }
  sync.destroy();
  return { pid, executor: spawned.executor, exited };
}

function signalNumber(sig: NodeJS.Signals): number {
  return (osConstants.signals as Record<string, number>)[sig] ?? 0;
}
