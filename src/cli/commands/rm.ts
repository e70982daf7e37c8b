// dray rm: remove containers (-f kills running ones, -v their anonymous volumes).
import type { Command } from '../command.ts';
import { enc, forEach } from '../each.ts';
import { DaemonError } from '../client/client.ts';

export const command: Command = {
  use: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Remove one or more containers',
  aliases: ['dray container rm', 'dray container remove', 'dray rm'],
  flags: [
    { name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of a running container (uses SIGKILL)' },
    { name: 'link', short: 'l', type: 'bool', usage: 'Remove the specified link' },
    { name: 'volumes', short: 'v', type: 'bool', usage: 'Remove anonymous volumes associated with the container' },
  ],
  minArgs: 1,
  async run(cli, f, args) {
    await forEach(cli, args, async (name) => {
      const n = name.replace(/^\//, '');
      try {
        await cli.client().call('DELETE', `/containers/${enc(n)}`, { query: { force: f.bool('force') || undefined, v: f.bool('volumes') || undefined, link: f.bool('link') || undefined } });
      } catch (e) {
        // rm -f of a container that is not there says so but does not fail, as docker's.
        if (f.bool('force') && e instanceof DaemonError && e.status === 404) { cli.err.write(`Error response from daemon: ${e.message}\n`); return; }
        throw e;
      }
      return n;
    });
  },
};
