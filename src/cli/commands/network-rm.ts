// dray network rm.
import type { Command } from '../command.ts';
import { enc, forEach } from '../each.ts';
import { StatusError } from '../command.ts';

export const command: Command = {
  use: 'rm NETWORK [NETWORK...]',
  short: 'Remove one or more networks',
  aliases: ['dray network rm', 'dray network remove'],
  flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Do not error if the network does not exist' }],
  minArgs: 1,
  async run(cli, f, args) {
    // docker's network rm ends a failed run with this line.
    await forEach(cli, args, async (name) => {
      try {
        await cli.client().call('DELETE', `/networks/${enc(name)}`);
      } catch (e) {
        if (f.bool('force') && (e as { status?: number }).status === 404) return;
        throw e;
      }
      return name;
    }).catch((e: unknown) => { throw e instanceof StatusError ? new StatusError('exit status 1', 1) : e; });
  },
};
