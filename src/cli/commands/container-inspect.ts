// dray container inspect.
import type { Command } from '../command.ts';
import { FORMAT_FLAG, inspectAll } from './inspect.ts';

export const command: Command = {
  use: 'inspect [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Display detailed information on one or more containers',
  flags: [FORMAT_FLAG, { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' }],
  minArgs: 1,
  run: (cli, f, args) => inspectAll(cli, ['container'], args, f.str('format'), f.bool('size')),
};
