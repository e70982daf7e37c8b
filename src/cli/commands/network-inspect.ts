// dray network inspect.
import type { Command } from '../command.ts';
import { FORMAT_FLAG, inspectAll } from './inspect.ts';

export const command: Command = {
  use: 'inspect [OPTIONS] NETWORK [NETWORK...]',
  short: 'Display detailed information on one or more networks',
  flags: [FORMAT_FLAG],
  minArgs: 1,
  run: (cli, f, args) => inspectAll(cli, ['network'], args, f.str('format'), false),
};
