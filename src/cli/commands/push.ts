// dray push: POST /images/{name}/push with the registry credentials and docker's progress.
import type { Command } from '../command.ts';
import { authHeaderFor, parseImageRef } from '../images.ts';
import { showProgress } from '../progress.ts';
import { familiarName, fullName } from '../reference.ts';

export const command: Command = {
  use: 'push [OPTIONS] NAME[:TAG]',
  short: 'Upload an image to a registry',
  aliases: ['dray image push', 'dray push'],
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', usage: 'Push all tags of an image to the repository' },
    { name: 'disable-content-trust', type: 'bool', default: true, usage: 'Skip image signing' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress verbose output' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, f, args) {
    const ref = parseImageRef(args[0]!);
    let tag = ref.tag;
    if (!f.bool('all-tags') && tag === undefined) {
      tag = 'latest';
      if (!f.bool('quiet')) cli.out.write('Using default tag: latest\n');
    }
    const res = await cli.client().request('POST', `/images/${fullName(ref).replace(/^docker\.io\//, '')}/push`, {
      query: { tag },
      headers: { 'X-Registry-Auth': authHeaderFor(cli, ref) },
    });
    const quiet = f.bool('quiet');
    await showProgress(cli.out, res, quiet);
    if (quiet) cli.out.write(`${familiarName(ref)}${tag ? `:${tag}` : ''}\n`);
  },
};
