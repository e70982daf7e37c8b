// dray wait: block until containers stop; print their exit codes.
import type { WaitResponse } from '../client/types.ts';
import type { Command } from '../command.ts';
import { enc, forEach } from '../each.ts';

export const command: Command = {
  use: 'wait CONTAINER [CONTAINER...]',
  short: 'Block until one or more containers stop, then print their exit codes',
  aliases: ['dray container wait', 'dray wait'],
  flags: [],
  minArgs: 1,
  async run(cli, _f, args) {
    await forEach(cli, args, async (name) => {
      const w = await cli.client().json<WaitResponse>('POST', `/containers/${enc(name)}/wait`);
      return String(w.StatusCode);
    });
  },
};
