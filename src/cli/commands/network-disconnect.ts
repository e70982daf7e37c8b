// dray network disconnect.
import type { Command } from '../command.ts';
import { enc } from '../each.ts';

export const command: Command = {
  use: 'disconnect [OPTIONS] NETWORK CONTAINER',
  short: 'Disconnect a container from a network',
  flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Force the container to disconnect from a network' }],
  minArgs: 2,
  maxArgs: 2,
  async run(cli, f, args) {
    await cli.client().call('POST', `/networks/${enc(args[0]!)}/disconnect`, { body: { Container: args[1], Force: f.bool('force') } });
  },
};
