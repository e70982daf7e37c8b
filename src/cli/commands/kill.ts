// dray kill: Kill one or more running containers.
import type { Command } from '../command.ts';
import { enc, forEach } from '../each.ts';

export const command: Command = {
  use: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Kill one or more running containers',
  aliases: ['dray container kill', 'dray kill'],
  flags: [
    { name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' },
  ],
  minArgs: 1,
  async run(cli, f, args) {
    void f;
    await forEach(cli, args, async (name) => {
      await cli.client().call('POST', `/containers/${enc(name)}/kill`, { query: { signal: f.str('signal') || undefined } });
      return name;
    });
  },
};
