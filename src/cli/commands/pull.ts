// dray pull: POST /images/create with docker's progress output.
import type { Command } from '../command.ts';
import { pullImage, parseImageRef } from '../images.ts';
import { fullString, withDefaultTag } from '../reference.ts';
import { StatusError } from '../command.ts';

export const command: Command = {
  use: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
  short: 'Download an image from a registry',
  aliases: ['dray image pull', 'dray pull'],
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', usage: 'Download all tagged images in the repository' },
    { name: 'disable-content-trust', type: 'bool', default: true, usage: 'Skip image verification' },
    { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress verbose output' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, f, args) {
    const ref = parseImageRef(args[0]!);
    const all = f.bool('all-tags');
    if (all && (ref.tag !== undefined || ref.digest !== undefined)) throw new StatusError('tag can\'t be used with --all-tags/-a', 1);
    if (!all && ref.tag === undefined && ref.digest === undefined && !f.bool('quiet')) cli.out.write('Using default tag: latest\n');
    await pullImage(cli, args[0]!, cli.out, { all, platform: f.str('platform'), quiet: f.bool('quiet') });
    cli.out.write(`${all ? `${ref.domain}/${ref.path}` : fullString(withDefaultTag(ref))}\n`);
  },
};
