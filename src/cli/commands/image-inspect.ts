// dray image inspect.
import type { Command } from '../command.ts';
import { FORMAT_FLAG, inspectAll } from './inspect.ts';

export const command: Command = {
  use: 'inspect [OPTIONS] IMAGE [IMAGE...]',
  short: 'Display detailed information on one or more images',
  flags: [FORMAT_FLAG],
  minArgs: 1,
  run: (cli, f, args) => inspectAll(cli, ['image'], args, f.str('format'), false),
};
