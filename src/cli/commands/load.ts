// dray load: POST /images/load from -i FILE or stdin.
import { createReadStream, statSync } from 'node:fs';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { isTty, showProgress } from '../progress.ts';

export const command: Command = {
  use: 'load [OPTIONS]',
  short: 'Load an image from a tar archive or STDIN',
  aliases: ['dray image load', 'dray load'],
  flags: [
    { name: 'input', short: 'i', type: 'string', usage: 'Read from tar archive file, instead of STDIN' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the load output' },
  ],
  maxArgs: 0,
  async run(cli, f) {
    const file = f.str('input');
    if (!file && process.stdin.isTTY) throw new CliError('requested load from stdin, but stdin is empty');
    if (file) { try { statSync(file); } catch (e) { throw new CliError(`open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`); } }
    const body = file ? createReadStream(file) : process.stdin;
    const quiet = f.bool('quiet') || !isTty(cli.out);
    const res = await cli.client().request('POST', '/images/load', { query: { quiet }, body });
    await showProgress(cli.out, res);
  },
};
