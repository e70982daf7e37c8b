// Starts a dray-containerd on its own temp --data-root, --exec-root and
// socket, for tests (and benches) that drive it as a real process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { MNT, native } from '../../src/common/native.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { status } from '@grpc/grpc-js';
import { SupervisorClient, SupervisorError } from '../../src/supervisor/client/index.ts';

const root = new URL('../../', import.meta.url).pathname;

export interface DrayContainerdProcess {
  dir: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  address: string;
  pidfile: string;
  child: ChildProcess;
  /** What the daemon wrote to stderr so far. */
  stderr(): string;
  /** A client bound to namespace (default "default"); closed by stop(). */
  client(namespace?: string): SupervisorClient;
  /** SIGTERM and wait for the exit; returns the exit code (or the signal that ended it). */
  stop(): Promise<number | string | null>;
  /** SIGKILL and wait for the exit. */
  kill9(): Promise<void>;
  /** Starts a new daemon on the same directories (after stop or kill9). */
  restart(): Promise<DrayContainerdProcess>;
  /** Stops the daemon if running and removes the directories. */
  cleanup(): Promise<void>;
}

/** The exit code, or the signal's name when a signal ended the process. */
/** Detaches whatever a failed test left mounted below dir (task rootfs), deepest first. */
function unmountUnder(dir: string): void {
  let lines: string[];
  try { lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n'); } catch { return; }
  const points = lines.map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(dir + '/')).sort((a, b) => b.length - a.length);
  for (const p of points) { try { native().umount2(p, MNT.DETACH); } catch { /* gone meanwhile */ } }
}

function waitExit(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}

export async function startDrayContainerd(opts: { dir?: string; args?: string[]; debug?: boolean } = {}): Promise<DrayContainerdProcess> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'dray-containerd-test-'));
  const dataRoot = join(dir, 'data');
  const execRoot = join(dir, 'exec');
  const socket = join(dir, 'run', 'containerd.sock');
  const pidfile = join(dir, 'run', 'containerd.pid');
  const address = `unix://${socket}`;
  const child = spawn(join(root, 'bin/dray-containerd'), [
    '--data-root', dataRoot, '--exec-root', execRoot, '-H', address, '--pidfile', pidfile, ...(opts.debug ? ['--debug'] : []), ...(opts.args ?? []),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const clients: SupervisorClient[] = [];
  const closeClients = (): void => { for (const c of clients.splice(0)) c.close(); };
  const proc: DrayContainerdProcess = {
    dir, dataRoot, execRoot, socket, address, pidfile, child,
    stderr: () => err,
    client: (namespace = 'default') => {
      const c = new SupervisorClient(address, { namespace });
      clients.push(c);
      return c;
    },
    stop: async () => {
      closeClients();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return waitExit(child);
    },
    kill9: async () => {
      closeClients();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await waitExit(child);
    },
    restart: () => startDrayContainerd({ ...opts, dir }),
    cleanup: async () => {
      await proc.kill9();
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Ready when the "started" line appears (the socket is bound by then); bounded wait.
  const deadline = Date.now() + 15_000;
  while (!err.includes('dray-containerd started')) {
    if (child.exitCode !== null || child.signalCode !== null) {
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
      throw new Error(`dray-containerd exited (${child.exitCode ?? child.signalCode}) before it was ready: ${err}`);
    }
    if (Date.now() > deadline) { await proc.cleanup(); throw new Error(`dray-containerd not ready in 15s: ${err}`); }
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!existsSync(socket)) throw new Error('dray-containerd reported started without its socket');
  return proc;
}

/** A dray-containerd for one test, cleaned up after it. */
export async function withDrayContainerd(t: { after(fn: () => Promise<void>): void }): Promise<DrayContainerdProcess> {
  const d = await startDrayContainerd();
  t.after(() => d.cleanup());
  return d;
}

/** For assert.rejects: a SupervisorError with this status code. */
export const hasCode = (code: status) => (err: unknown): boolean => err instanceof SupervisorError && err.code === code;
