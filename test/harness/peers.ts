// Every peer the harness starts is tracked here until stopped, so a test that
// fails (or a process that exits early) still leaves nothing running.
// Stopping is synchronous so it can run from the process 'exit' handler.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { logTail } from './cleanup.ts';
import { waitUntil } from './exec.ts';

export interface Peer {
  /** What it is, for messages: "dockerd", "containerd", "registry". */
  readonly kind: string;
  /** Stops the peer and removes everything it left (idempotent). */
  stop(): void;
}

const running = new Set<Peer>();
let handlersInstalled = false;

export function track(peer: Peer): void {
  running.add(peer);
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', stopAllPeers);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      stopAllPeers();
      process.kill(process.pid, sig);
    });
  }
}

export function untrack(peer: Peer): void {
  running.delete(peer);
}

/** Stops every peer still running (newest first); errors are reported, not thrown. */
export function stopAllPeers(): void {
  for (const p of [...running].reverse()) {
    try {
      p.stop();
    } catch (err) {
      process.stderr.write(`harness: stopping ${p.kind} failed: ${(err as Error).message}\n`);
    }
    running.delete(p);
  }
}

/** Peers not stopped yet. */
export function runningPeers(): Peer[] {
  return [...running];
}

/** A fresh private folder for one peer. Short, because unix socket paths are limited to 107 bytes. */
export function peerDir(kind: string): string {
  return mkdtempSync(join(tmpdir(), `dray-${kind}-`));
}

/** A daemon started detached (its own process group), output to its log file, not keeping this process alive. */
export interface Launched {
  pid: number;
  /** Why it is gone, once it has exited (or failed to start). */
  exited(): string | undefined;
}

export const PEER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function launch(cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): Launched {
  const log = openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', log, log], detached: true, env });
  closeSync(log);
  child.unref();
  let why: string | undefined;
  const name = basename(cmd);
  child.on('exit', (code, sig) => { why = `${name} exited (${sig ?? code})`; });
  child.on('error', (e) => { why = `${name} did not start: ${e.message}`; });
  return { pid: child.pid ?? -1, exited: () => why };
}

/** Waits until `probe` says the peer is ready; on failure stops it and throws with its log's tail. */
export async function awaitReady(peer: Peer, launched: Launched, logFile: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  try {
    await waitUntil(peer.kind, probe, timeoutMs, launched.exited);
  } catch (err) {
    const tail = logTail(logFile);
    peer.stop();
    throw new Error(`${(err as Error).message}\n--- ${peer.kind} log (last lines) ---\n${tail}`);
  }
}
