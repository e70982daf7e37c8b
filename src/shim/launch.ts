// Starting a dray-shim for one container. The shim binary forks its monitor,
// which detaches (setsid, child subreaper) and reports once the container is
// created; the process we spawn exits right after, so nothing here waits on
// the monitor and the monitor outlives us. See docs/shim.md.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShimExit } from './client.ts';
import { repoPath } from '../common/paths.ts';

/** The shim built from native/shim by native/Makefile. */
export const SHIM_BINARY = repoPath('bin/dray-shim');

export interface ShimLogOptions {
  /** the json-file log (absolute) */
  path: string;
  /** bytes before rotating; 0 or absent: no cap */
  maxSize?: number;
  /** files kept in all (log, log.1, ...), at least 1 */
  maxFile?: number;
}

export interface ShimLaunchOptions {
  /** container id: 1-64 of [A-Za-z0-9_.-] */
  id: string;
  /** the OCI bundle (absolute) holding config.json */
  bundle: string;
  /** runc-compatible runtime: a path, or a name looked up in PATH */
  runtime: string;
  /** the runtime's --root (absolute) */
  runtimeRoot: string;
  /** the shim's own directory: socket, exit.json, logs (absolute, short enough for a socket path) */
  stateDir: string;
  log?: ShimLogOptions;
  /** TTY container: the runtime sends the pty master over the console socket */
  terminal?: boolean;
  /** keep the container's stdin open */
  stdin?: boolean;
  /** start the container at once (else call ShimClient.start()) */
  start?: boolean;
  /** the shim's socket, when <stateDir>/shim.sock would be too long for a unix
   * socket (108 bytes); the console socket goes next to it (<socket>.console) */
  socketPath?: string;
  /** a runtime call running longer is killed and fails (seconds, default 120) */
  runtimeTimeoutSeconds?: number;
  /** extra global runtime options, e.g. ['--systemd-cgroup'] (at most 8) */
  runtimeArgs?: string[];
  /** built-in runtime: the shim runs this executor (absolute) in place of
   * `<runtime> create`, on fds 3 (plan) and 4 (sync) that the caller drives
   * (see spawnShim); start is the handshake on this exec fifo (absolute) */
  executor?: { path: string; execFifo: string };
  /** another shim binary */
  shimBinary?: string;
  /** a command to run the shim under, e.g. ['valgrind', '--log-file=...'] */
  wrapper?: string[];
}

export interface ShimLaunched {
  /** the container's init pid */
  pid: number;
  /** the monitor's pid */
  shimPid: number;
  socketPath: string;
  stateDir: string;
}

/** The container could not be created (the message is the runtime's); the shim
 * has asked the runtime to delete whatever it made and has exited. */
export class ShimLaunchError extends Error {
  override name = 'ShimLaunchError';
}

/** Files in a shim's state dir. */
export function shimPaths(stateDir: string): { socket: string; exitFile: string; runtimeLog: string; shimLog: string; shimPid: string } {
  return {
    socket: join(stateDir, 'shim.sock'),
    exitFile: join(stateDir, 'exit.json'),
    runtimeLog: join(stateDir, 'runtime.log'),
    shimLog: join(stateDir, 'shim.log'),
    shimPid: join(stateDir, 'shim.pid'),
  };
}

/** The container's exit as the shim recorded it durably, or null if it has not
 * exited (or no shim ran here). Works when the shim itself is dead. */
export function readExitFile(stateDir: string): (ShimExit & { id: string }) | null {
  let text: string;
  try {
    text = readFileSync(shimPaths(stateDir).exitFile, 'utf8');
  } catch {
    return null;
  }
  const r = JSON.parse(text) as { id: string; pid: number; exitStatus: number; exitedAt: string; oomKilled: boolean };
  return { ...r, status: 'stopped' };
}

export function shimArgs(o: ShimLaunchOptions): string[] {
  const args = ['--id', o.id, '--bundle', o.bundle, '--runtime', o.runtime, '--runtime-root', o.runtimeRoot, '--state-dir', o.stateDir];
  if (o.log) {
    args.push('--log-path', o.log.path);
    if (o.log.maxSize) args.push('--log-max-size', String(o.log.maxSize));
    if (o.log.maxFile) args.push('--log-max-file', String(o.log.maxFile));
  }
  if (o.terminal) args.push('--terminal');
  if (o.stdin) args.push('--stdin');
  if (o.start) args.push('--start');
  if (o.socketPath) args.push('--socket', o.socketPath);
  if (o.runtimeTimeoutSeconds) args.push('--runtime-timeout', String(o.runtimeTimeoutSeconds));
  for (const a of o.runtimeArgs ?? []) args.push(`--runtime-arg=${a}`);
  if (o.executor) args.push('--executor', o.executor.path, '--exec-fifo', o.executor.execFifo);
  return args;
}

export async function launchShim(o: ShimLaunchOptions): Promise<ShimLaunched> {
  return spawnShim(o).launched;
}

export interface SpawnedShim {
  /** the shim's report: the container created (and started with start) */
  launched: Promise<ShimLaunched>;
  /** with executor: the executor's plan (fd 3) and sync (fd 4) ends */
  plan?: Socket;
  sync?: Socket;
  /** the launcher process (it exits once the shim has reported) */
  child: ChildProcess;
}

/** Starts a shim; with o.executor the caller drives the executor's plan and
 * sync sockets (the runtime library's create does, with a spawner). */
export function spawnShim(o: ShimLaunchOptions): SpawnedShim {
  mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
  const bin = o.shimBinary ?? SHIM_BINARY;
  const argv = [...(o.wrapper ?? []), bin, ...shimArgs(o)];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: o.executor ? ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'] });
  const plan = o.executor ? child.stdio[3] as Socket : undefined;
  const sync = o.executor ? child.stdio[4] as Socket : undefined;
  return { launched: awaitReport(o, child), plan, sync, child };
}

async function awaitReport(o: ShimLaunchOptions, child: ChildProcess): Promise<ShimLaunched> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  // 'exit' and the ends of stdout/stderr, not 'close': the executor's sockets stay open in the container's init until start
  const ended = (s: NodeJS.ReadableStream) => new Promise<void>((r) => { s.once('end', r); s.once('close', r); });
  const outputs = Promise.all([ended(child.stdout!), ended(child.stderr!)]);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  await outputs;
  const line = Buffer.concat(out).toString('utf8').trim().split('\n').pop() ?? '';
  let r: { ok?: boolean; pid?: number; shimPid?: number; error?: string } = {};
  try {
    r = JSON.parse(line) as typeof r;
  } catch {
    const msg = Buffer.concat(err).toString('utf8').trim() || `exit status ${code}`;
    throw new ShimLaunchError(`dray-shim: ${msg}`);
  }
  if (!r.ok || typeof r.pid !== 'number' || typeof r.shimPid !== 'number') {
    throw new ShimLaunchError(r.error ?? 'dray-shim failed');
  }
  return { pid: r.pid, shimPid: r.shimPid, socketPath: o.socketPath ?? shimPaths(o.stateDir).socket, stateDir: o.stateDir };
}
