// dray import: a filesystem tarball (file, URL or - for stdin) as an image.
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { showProgress } from '../progress.ts';
import { parseImageRef } from '../images.ts';
import { fullName } from '../reference.ts';

export const command: Command = {
  use: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  short: 'Import the contents from a tarball to create a filesystem image',
  aliases: ['dray image import', 'dray import'],
  flags: [
    { name: 'change', short: 'c', type: 'list', usage: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', usage: 'Set commit message for imported image' },
    { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
  ],
  minArgs: 1,
  maxArgs: 2,
  async run(cli, f, args) {
    const src = args[0]!;
    let body: Readable | undefined;
    let fromSrc = '-';
    if (src === '-') body = process.stdin;
    else if (/^https?:\/\//.test(src)) fromSrc = src;
    else {
      try { statSync(src); } catch { throw new CliError(`open ${src}: no such file or directory`); }
      body = createReadStream(src);
    }
    let repo: string | undefined;
    let tag: string | undefined;
    if (args[1]) { const r = parseImageRef(args[1]); repo = fullName(r); tag = r.tag; }
    const res = await cli.client().request('POST', '/images/create', {
      query: { fromSrc, repo, tag, message: f.str('message') || undefined, changes: f.list('change'), platform: f.str('platform') || undefined },
      body,
    });
    await showProgress(cli.out, res);
  },
};
