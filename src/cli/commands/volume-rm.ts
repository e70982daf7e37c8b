// dray volume rm.
import type { Command } from '../command.ts';
import { enc, forEach } from '../each.ts';

export const command: Command = {
  use: 'rm [OPTIONS] VOLUME [VOLUME...]',
  short: 'Remove one or more volumes',
  aliases: ['dray volume rm', 'dray volume remove'],
  flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of one or more volumes' }],
  minArgs: 1,
  async run(cli, f, args) {
    await forEach(cli, args, async (name) => {
      await cli.client().call('DELETE', `/volumes/${enc(name)}`, { query: { force: f.bool('force') || undefined } });
      return name;
    });
  },
};
