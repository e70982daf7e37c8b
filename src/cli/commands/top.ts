// dray top: the container's processes (ps on the daemon's side).
import type { Command } from '../command.ts';
import { enc } from '../each.ts';
import { tabwrite } from '../format/tabwriter.ts';

export const command: Command = {
  use: 'top CONTAINER [ps OPTIONS]',
  short: 'Display the running processes of a container',
  aliases: ['dray container top', 'dray top'],
  flags: [],
  interspersed: false,
  minArgs: 1,
  async run(cli, _f, args) {
    const r = await cli.client().json<{ Titles: string[]; Processes: string[][] | null }>('GET', `/containers/${enc(args[0]!)}/top`, {
      query: { ps_args: args.length > 1 ? args.slice(1).join(' ') : undefined },
    });
    const lines = [r.Titles.join('\t'), ...(r.Processes ?? []).map((p) => p.join('\t'))];
    cli.out.write(tabwrite(lines, { minWidth: 20, padding: 3 }));
  },
};
