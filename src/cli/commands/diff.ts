// dray diff: changes to the container's filesystem (A added, C changed, D deleted).
import type { Command } from '../command.ts';
import { enc } from '../each.ts';

const KINDS = ['C', 'A', 'D'];

export const command: Command = {
  use: 'diff CONTAINER',
  short: "Inspect changes to files or directories on a container's filesystem",
  aliases: ['dray container diff', 'dray diff'],
  flags: [],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, _f, args) {
    const changes = await cli.client().json<{ Path: string; Kind: number }[] | null>('GET', `/containers/${enc(args[0]!)}/changes`);
    for (const c of changes ?? []) cli.out.write(`${KINDS[c.Kind] ?? '?'} ${c.Path}\n`);
  },
};
