// dray restart: Restart one or more containers.
import type { Command } from '../command.ts';
import { enc, forEach } from '../each.ts';

export const command: Command = {
  use: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Restart one or more containers',
  aliases: ['dray container restart', 'dray restart'],
  flags: [
    { name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' },
    { name: 'time', short: 't', type: 'int', usage: 'Seconds to wait before killing the container' },
  ],
  minArgs: 1,
  async run(cli, f, args) {
    void f;
    await forEach(cli, args, async (name) => {
      await cli.client().call('POST', `/containers/${enc(name)}/restart`, { query: { signal: f.str('signal') || undefined, t: f.changed('time') ? f.int('time') : undefined } });
      return name;
    });
  },
};
