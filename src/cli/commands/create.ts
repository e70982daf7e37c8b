// dray create: the container, pulling a missing image first; prints its ID.
import type { Command } from '../command.ts';
import { CliError, StatusError } from '../command.ts';
import { buildCreate, CONTAINER_FLAGS } from '../container-opts.ts';
import { createContainer } from '../create-container.ts';
import { DaemonError } from '../client/client.ts';

export const command: Command = {
  use: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create a new container',
  aliases: ['dray container create', 'dray create'],
  flags: CONTAINER_FLAGS,
  interspersed: false,
  minArgs: 1,
  async run(cli, f, args) {
    try {
      const req = buildCreate(f, args, { detach: true });
      // create attaches nothing, but keeps docker's attach defaults in the config.
      req.body['AttachStdout'] = !f.list('attach').length || f.list('attach').includes('stdout');
      req.body['AttachStderr'] = !f.list('attach').length || f.list('attach').includes('stderr');
      req.body['AttachStdin'] = f.bool('interactive') || f.list('attach').includes('stdin');
      req.body['StdinOnce'] = f.bool('interactive') && req.body['AttachStdin'] === true;
      const id = await createContainer(cli, req, f.str('pull'), f.bool('quiet'));
      cli.out.write(`${id}\n`);
    } catch (e) {
      if (e instanceof DaemonError || e instanceof CliError) {
        const msg = e instanceof DaemonError ? `Error response from daemon: ${e.message}` : e.message;
        throw new StatusError(`${cli.prog}: ${msg}\n\nRun '${cli.commandPath} --help' for more information`, 125);
      }
      throw e;
    }
  },
};
