// dray tag: POST /images/{name}/tag.
import type { Command } from '../command.ts';
import { parseImageRef } from '../images.ts';
import { fullName, withDefaultTag } from '../reference.ts';
import { CliError } from '../command.ts';

export const command: Command = {
  use: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  aliases: ['dray image tag', 'dray tag'],
  flags: [],
  minArgs: 2,
  maxArgs: 2,
  async run(cli, _f, args) {
    const target = withDefaultTag(parseImageRef(args[1]!));
    if (target.digest) throw new CliError('refusing to create a tag with a digest reference');
    await cli.client().call('POST', `/images/${encodeURIComponent(args[0]!)}/tag`, { query: { repo: fullName(target), tag: target.tag } });
  },
};
