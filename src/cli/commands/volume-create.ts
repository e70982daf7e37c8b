// dray volume create.
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';

export const command: Command = {
  use: 'create [OPTIONS] [VOLUME]',
  short: 'Create a volume',
  flags: [
    { name: 'driver', short: 'd', type: 'string', default: 'local', usage: 'Specify volume driver name' },
    { name: 'label', type: 'list', usage: 'Set metadata for a volume' },
    { name: 'name', type: 'string', usage: 'Specify volume name', hidden: true },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', usage: 'Set driver specific options' },
  ],
  maxArgs: 1,
  async run(cli, f, args) {
    if (args[0] && f.str('name') && args[0] !== f.str('name')) throw new CliError(`conflicting options: either specify --name or provide positional arg, not both`);
    const kv = (list: string[]): Record<string, string> => Object.fromEntries(list.map((s) => { const i = s.indexOf('='); return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)]; }));
    const r = await cli.client().json<{ Name: string }>('POST', '/volumes/create', {
      body: { Name: args[0] ?? f.str('name'), Driver: f.str('driver'), DriverOpts: kv(f.list('opt')), Labels: kv(f.list('label')) },
    });
    cli.out.write(`${r.Name}\n`);
  },
};
