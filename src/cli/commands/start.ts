// dray start: start containers; with -a, attached like run (one container).
import type { ContainerInspect } from '../client/types.ts';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { loadConfig } from '../config.ts';
import { enc, forEach } from '../each.ts';
import { DEFAULT_DETACH_KEYS } from '../hijack-io.ts';
import { attachAndRun } from '../run-container.ts';

export const command: Command = {
  use: 'start [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Start one or more stopped containers',
  aliases: ['dray container start', 'dray start'],
  flags: [
    { name: 'attach', short: 'a', type: 'bool', usage: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'interactive', short: 'i', type: 'bool', usage: "Attach container's STDIN" },
  ],
  minArgs: 1,
  async run(cli, f, args) {
    if (f.bool('attach') || f.bool('interactive')) {
      if (args.length > 1) throw new CliError('you cannot start and attach multiple containers at once');
      const c = await cli.client().json<ContainerInspect>('GET', `/containers/${enc(args[0]!)}/json`);
      return attachAndRun(cli, c.Id, {
        stdin: f.bool('interactive') && c.Config.OpenStdin === true, stdout: true, stderr: true, tty: c.Config.Tty === true,
        detachKeys: f.str('detach-keys') || loadConfig(cli.configDir).detachKeys || DEFAULT_DETACH_KEYS,
        sigProxy: true, autoRemove: c.HostConfig.AutoRemove === true, start: true,
      });
    }
    await forEach(cli, args, async (name) => {
      await cli.client().call('POST', `/containers/${enc(name)}/start`);
      return name;
    });
    return 0;
  },
};
