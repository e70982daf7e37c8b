// Every peer the harness starts is tracked here until stopped, so a test that
// fails (or a process that exits early) still leaves nothing running.
// Stopping is synchronous so it can run from the process 'exit' handler.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
