// dray rename: POST /containers/{id}/rename.
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { enc } from '../each.ts';

export const command: Command = {
  use: 'rename CONTAINER NEW_NAME',
  short: 'Rename a container',
  aliases: ['dray container rename', 'dray rename'],
  flags: [],
  minArgs: 2,
  maxArgs: 2,
  async run(cli, _f, args) {
    const [old, name] = [args[0]!.trim(), args[1]!.trim()];
    if (!old || !name) throw new CliError('Error: Neither old nor new names may be empty');
    await cli.client().call('POST', `/containers/${enc(old)}/rename`, { query: { name } });
  },
};
