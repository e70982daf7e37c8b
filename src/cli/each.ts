// Commands over several containers or images (stop, rm, kill...): each name
// in turn, its name printed on success, errors printed and the exit status 1
// at the end if any failed, as docker does.
import { DaemonError } from './client/client.ts';
import type { Query } from './client/client.ts';
import { StatusError, type Cli, type Command } from './command.ts';
import type { FlagDef, Flags } from './flags.ts';

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

/** A command that POSTs /containers/{name}/<action> for each name (stop, kill, pause...), printing each name. */
export function containerVerb(spec: { action: string; use: string; short: string; flags?: FlagDef[]; query?: (f: Flags) => Query }): Command {
  return {
    use: spec.use,
    short: spec.short,
    aliases: [`dray container ${spec.action}`, `dray ${spec.action}`],
    flags: spec.flags ?? [],
    minArgs: 1,
    async run(cli, f, args) {
      await forEach(cli, args, async (name) => {
        await cli.client().call('POST', `/containers/${enc(name)}/${spec.action}`, { query: spec.query?.(f) });
        return name;
      });
    },
  };
}

/** --signal and --time of stop and restart. */
export const STOP_FLAGS: FlagDef[] = [
  { name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' },
  { name: 'time', short: 't', type: 'int', usage: 'Seconds to wait before killing the container' },
];

export function stopQuery(f: Flags): Query {
  return { signal: f.str('signal') || undefined, t: f.changed('time') ? f.int('time') : undefined };
}
