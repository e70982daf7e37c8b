// dray pause: Pause all processes within one or more containers.
import type { Command } from '../command.ts';
import { enc, forEach } from '../each.ts';

export const command: Command = {
  use: 'pause CONTAINER [CONTAINER...]',
  short: 'Pause all processes within one or more containers',
  aliases: ['dray container pause', 'dray pause'],
  flags: [],
  minArgs: 1,
  async run(cli, f, args) {
    void f;
    await forEach(cli, args, async (name) => {
      await cli.client().call('POST', `/containers/${enc(name)}/pause`);
      return name;
    });
  },
};
