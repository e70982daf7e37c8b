// dray rmi / image rm: untag and delete images.
import type { Command } from '../command.ts';
import { forEach } from '../each.ts';

export const command: Command = {
  use: 'rmi [OPTIONS] IMAGE [IMAGE...]',
  short: 'Remove one or more images',
  aliases: ['dray image rm', 'dray image remove', 'dray rmi'],
  flags: [
    { name: 'force', short: 'f', type: 'bool', usage: 'Force removal of the image' },
    { name: 'no-prune', type: 'bool', usage: 'Do not delete untagged parents' },
  ],
  minArgs: 1,
  async run(cli, f, args) {
    await forEach(cli, args, async (name) => {
      const r = await cli.client().json<{ Untagged?: string; Deleted?: string }[]>('DELETE', `/images/${encodeURIComponent(name)}`, {
        query: { force: f.bool('force') || undefined, noprune: f.bool('no-prune') || undefined },
      });
      for (const x of r ?? []) {
        if (x.Untagged) cli.out.write(`Untagged: ${x.Untagged}\n`);
        if (x.Deleted) cli.out.write(`Deleted: ${x.Deleted}\n`);
      }
    });
  },
};
