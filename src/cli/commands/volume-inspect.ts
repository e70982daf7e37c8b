// dray volume inspect.
import type { Command } from '../command.ts';
import { FORMAT_FLAG, inspectAll } from './inspect.ts';

export const command: Command = {
  use: 'inspect [OPTIONS] VOLUME [VOLUME...]',
  short: 'Display detailed information on one or more volumes',
  flags: [FORMAT_FLAG],
  minArgs: 1,
  run: (cli, f, args) => inspectAll(cli, ['volume'], args, f.str('format'), false),
};
