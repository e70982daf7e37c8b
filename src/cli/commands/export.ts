// dray export: the container's filesystem as a tar archive, to -o FILE or stdout.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { enc } from '../each.ts';

export const command: Command = {
  use: 'export [OPTIONS] CONTAINER',
  short: "Export a container's filesystem as a tar archive",
  aliases: ['dray container export', 'dray export'],
  flags: [{ name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' }],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, f, args) {
    const out = f.str('output');
    if (!out && process.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const res = await cli.client().request('GET', `/containers/${enc(args[0]!)}/export`);
    await pipeline(res, out ? createWriteStream(out) : process.stdout, { end: !!out });
  },
};
