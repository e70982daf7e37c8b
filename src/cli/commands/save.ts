// dray save: GET /images/get as a tar archive, to -o FILE or stdout.
import { createWriteStream, renameSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';

export const command: Command = {
  use: 'save [OPTIONS] IMAGE [IMAGE...]',
  short: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  aliases: ['dray image save', 'dray save'],
  flags: [
    { name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' },
    { name: 'platform', type: 'string', usage: 'Save only the given platform variant', hidden: true },
  ],
  minArgs: 1,
  async run(cli, f, args) {
    const out = f.str('output');
    if (!out && process.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const res = await cli.client().request('GET', '/images/get', { query: { names: args } });
    if (!out) { await pipeline(res, process.stdout, { end: false }); return; }
    // Written beside the target and renamed: a failed save leaves no half archive.
    const tmp = `${out}.dray-tmp-${process.pid}`;
    await pipeline(res, createWriteStream(tmp));
    renameSync(tmp, out);
  },
};
