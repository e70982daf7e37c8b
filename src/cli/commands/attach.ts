// dray attach: our stdin/stdout/stderr to a running container's (hijacked connection).
import type { ContainerInspect } from '../client/types.ts';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { loadConfig } from '../config.ts';
import { enc } from '../each.ts';
import { DEFAULT_DETACH_KEYS } from '../hijack-io.ts';
import { attachAndRun } from '../run-container.ts';

export const command: Command = {
  use: 'attach [OPTIONS] CONTAINER',
  short: 'Attach local standard input, output, and error streams to a running container',
  aliases: ['dray container attach', 'dray attach'],
  flags: [
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'no-stdin', type: 'bool', usage: 'Do not attach STDIN' },
    { name: 'sig-proxy', type: 'bool', default: true, usage: 'Proxy all received signals to the process' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, f, args) {
    const c = await cli.client().json<ContainerInspect>('GET', `/containers/${enc(args[0]!)}/json`);
    if (!c.State.Running) throw new CliError('You cannot attach to a stopped container, start it first');
    if (c.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first');
    const tty = c.Config.Tty === true;
    const stdin = !f.bool('no-stdin') && c.Config.OpenStdin === true;
    if (tty && stdin && !process.stdin.isTTY) throw new CliError('the input device is not a TTY');
    return attachAndRun(cli, c.Id, {
      stdin, stdout: true, stderr: true, tty,
      detachKeys: f.str('detach-keys') || loadConfig(cli.configDir).detachKeys || DEFAULT_DETACH_KEYS,
      sigProxy: f.bool('sig-proxy'), autoRemove: false, start: false,
    });
  },
};
