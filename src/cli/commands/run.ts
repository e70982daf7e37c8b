// dray run: create (pulling a missing image), then start detached or attached.
import type { Command } from '../command.ts';
import { CliError, StatusError } from '../command.ts';
import { loadConfig } from '../config.ts';
import { buildCreate, CONTAINER_FLAGS } from '../container-opts.ts';
import { createContainer } from '../create-container.ts';
import { DEFAULT_DETACH_KEYS, detachKeyBytes } from '../hijack-io.ts';
import { attachAndRun, startFailure } from '../run-container.ts';
import { DaemonError } from '../client/client.ts';

export const command: Command = {
  use: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create and run a new container from an image',
  aliases: ['dray container run', 'dray run'],
  flags: [
    ...CONTAINER_FLAGS,
    { name: 'detach', short: 'd', type: 'bool', usage: 'Run container in background and print container ID' },
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'sig-proxy', type: 'bool', default: true, usage: 'Proxy received signals to the process' },
  ],
  interspersed: false,
  minArgs: 1,
  async run(cli, f, args) {
    const detach = f.bool('detach');
    let req;
    try {
      req = buildCreate(f, args, { detach });
    } catch (e) {
      if (e instanceof CliError) throw new StatusError(`${cli.prog}: ${e.message}\n\nRun '${cli.commandPath} --help' for more information`, e.status === 1 ? 125 : e.status);
      throw e;
    }
    const body = req.body;
    const tty = body['Tty'] === true;
    const stdin = body['AttachStdin'] === true;
    if (tty && stdin && !process.stdin.isTTY) throw new StatusError(`${cli.prog}: the input device is not a TTY`, 1);
    const detachKeys = f.str('detach-keys') || loadConfig(cli.configDir).detachKeys || DEFAULT_DETACH_KEYS;
    detachKeyBytes(detachKeys);
    let id: string;
    try {
      id = await createContainer(cli, req, f.str('pull'), f.bool('quiet'));
    } catch (e) {
      if (e instanceof DaemonError || e instanceof CliError) {
        const msg = e instanceof DaemonError ? `Error response from daemon: ${e.message}` : e.message;
        throw new StatusError(`${cli.prog}: ${msg}\n\nRun '${cli.commandPath} --help' for more information`, 125);
      }
      if (e instanceof StatusError) throw new StatusError(`${cli.prog}: ${e.message}`, 125);
      throw e;
    }
    if (detach) {
      try {
        await cli.client().call('POST', `/containers/${id}/start`);
      } catch (e) {
        startFailure(cli, e);
      }
      cli.out.write(`${id}\n`);
      return 0;
    }
    const host = body['HostConfig'] as { AutoRemove?: boolean };
    return attachAndRun(cli, id, {
      stdin, stdout: body['AttachStdout'] === true, stderr: body['AttachStderr'] === true, tty,
      detachKeys, sigProxy: f.bool('sig-proxy'), autoRemove: host.AutoRemove === true, start: true,
    });
  },
};
