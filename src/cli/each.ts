// Commands over several containers or images (stop, rm, kill...): each name
// in turn, its name printed on success, errors printed and the exit status 1
// at the end if any failed, as docker does.
import { DaemonError } from './client/client.ts';
import { StatusError, type Cli } from './command.ts';

export async function forEach(cli: Cli, names: string[], op: (name: string) => Promise<string | void>): Promise<void> {
  let failed = false;
  for (const n of names) {
    try {
      const shown = await op(n);
      if (shown !== undefined) cli.out.write(`${shown}\n`);
    } catch (e) {
      failed = true;
      if (e instanceof DaemonError) cli.err.write(`Error response from daemon: ${e.message}\n`);
      else throw e;
    }
  }
  if (failed) throw new StatusError('', 1);
}

/** Path-safe ID or name in a URL. */
export function enc(name: string): string {
  return encodeURIComponent(name);
}
