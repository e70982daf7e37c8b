// run: create + start. In the foreground the executor stays as a monitor,
// signals sent to us are forwarded to the container, and the container's
// exit status is returned once it is gone (and deleted).
import type { RuntimeContext } from '../context.ts';
import { create, type CreateOptions } from './create.ts';
import { del } from './delete.ts';
import { start } from './start.ts';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  /** Foreground: told the container's pid; the caller then forwards signals itself (the warm server's launcher does). */
  onCreated?: (pid: number) => void;
}

export async function run(ctx: RuntimeContext, o: RunOptions): Promise<number> {
  const { record, launched, consoleMaster } = await create(ctx, { ...o, monitor: !o.detach });
  if (o.detach) {
    await start(ctx, o.id);
    return 0;
  }
  const forward = (sig: NodeJS.Signals): void => { try { process.kill(record.pid, sig); } catch { /* gone */ } };
  const signals = o.onCreated ? [] : FORWARDED;
  o.onCreated?.(record.pid);
  for (const s of signals) process.on(s, forward);
  try {
    try {
      await start(ctx, o.id);
    } catch (err) {
      await del(ctx, o.id, true);
      throw err;
    }
    const code = consoleMaster !== undefined ? await proxied(consoleMaster, launched.exited) : await launched.exited;
    await del(ctx, o.id, true);
    return code;
  } finally {
    for (const s of signals) process.off(s, forward);
  }
}

async function proxied(master: number, exited: Promise<number>): Promise<number> {
  const { proxyConsole } = await import('../process/console.ts');
  await proxyConsole(master, exited);
  return exited;
}
