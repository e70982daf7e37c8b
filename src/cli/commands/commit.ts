// dray commit: a new image from the container's changes.
import type { Command } from '../command.ts';
import { parseImageRef } from '../images.ts';
import { fullName } from '../reference.ts';

export const command: Command = {
  use: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  short: "Create a new image from a container's changes",
  aliases: ['dray container commit', 'dray commit'],
  flags: [
    { name: 'author', short: 'a', type: 'string', usage: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', type: 'list', usage: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', usage: 'Commit message' },
    { name: 'pause', short: 'p', type: 'bool', default: true, usage: 'Pause container during commit' },
  ],
  minArgs: 1,
  maxArgs: 2,
  async run(cli, f, args) {
    let repo: string | undefined;
    let tag: string | undefined;
    if (args[1]) { const r = parseImageRef(args[1]); repo = fullName(r); tag = r.tag; }
    const r = await cli.client().json<{ Id: string }>('POST', '/commit', {
      query: { container: args[0]!, repo, tag, comment: f.str('message') || undefined, author: f.str('author') || undefined, pause: f.bool('pause'), changes: f.list('change') },
      body: {},
    });
    cli.out.write(`${r.Id}\n`);
  },
};
