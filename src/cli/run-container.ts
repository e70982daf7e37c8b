// Starting a container attached, as `run` and `start -a` do: attach (hijacked)
// before start, wait for the next exit (or removal with --rm), forward window
// size changes and (without a TTY) signals, and give docker's exit codes.
import { DaemonError, type EngineClient } from './client/client.ts';
import type { WaitResponse } from './client/types.ts';
import { StatusError, type Cli } from './command.ts';
import { pumpStreams } from './hijack-io.ts';

export interface AttachPlan {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  detachKeys: string;
  sigProxy: boolean;
  autoRemove: boolean;
  /** Start the container (false for `attach`). */
  start: boolean;
}

/** Docker's message and exit status for a failed start: 127 not found, 126 cannot invoke, else 125. */
export function startFailure(cli: Cli, e: unknown): never {
  const msg = e instanceof DaemonError ? `Error response from daemon: ${e.message}` : e instanceof Error ? e.message : String(e);
  let status = 125;
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(msg)) status = 127;
  else if (/permission denied|is a directory/.test(msg)) status = 126;
  throw new StatusError(`${cli.prog}: ${msg}\n\nRun '${cli.commandPath} --help' for more information`, status);
}

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export function proxySignals(api: EngineClient, id: string): () => void {
  const handlers = PROXIED.map((sig) => {
    const h = (): void => { api.call('POST', `/containers/${id}/kill`, { query: { signal: sig } }).catch(() => { /* gone already */ }); };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => { for (const [s, h] of handlers) process.removeListener(s, h); };
}

export function resizer(api: EngineClient, path: string): (h: number, w: number) => void {
  return (h, w) => { if (h && w) api.call('POST', path, { query: { h, w } }).catch(() => { /* not running yet or gone */ }); };
}

/** Attaches, starts, streams; resolves to the container's exit status (0 when detached). */
export async function attachAndRun(cli: Cli, id: string, p: AttachPlan): Promise<number> {
  const api = cli.client();
  const anyStream = p.stdin || p.stdout || p.stderr;
  const hijacked = anyStream
    ? await api.hijack(`/containers/${id}/attach`, { query: { stream: true, stdin: p.stdin, stdout: p.stdout, stderr: p.stderr, detachKeys: p.detachKeys } })
    : undefined;
  const waited = p.start
    ? api.json<WaitResponse>('POST', `/containers/${id}/wait`, { query: { condition: p.autoRemove ? 'removed' : 'next-exit' } })
    : undefined;
  waited?.catch(() => { /* reported where awaited */ });
  if (p.start) {
    try {
      await api.call('POST', `/containers/${id}/start`);
    } catch (e) {
      hijacked?.socket.destroy();
      startFailure(cli, e);
    }
  }
  const unproxy = p.sigProxy && !p.tty ? proxySignals(api, id) : () => {};
  try {
    if (hijacked) {
      const io = await pumpStreams(hijacked, {
        tty: p.tty, stdin: p.stdin, detachKeys: p.detachKeys,
        resize: p.tty && process.stdout.isTTY ? resizer(api, `/containers/${id}/resize`) : undefined,
      });
      if (io.detached) return 0;
    }
    const w = await (waited ?? api.json<WaitResponse>('POST', `/containers/${id}/wait`));
    if (w.Error?.Message) cli.err.write(`${w.Error.Message}\n`);
    return w.StatusCode;
  } finally {
    unproxy();
  }
}
