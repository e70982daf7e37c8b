// dray logout: removes the registry's credentials from config.json.
import type { Command } from '../command.ts';
import { loadConfig, saveConfig } from '../config.ts';
import { registryKey } from './login.ts';

export const command: Command = {
  use: 'logout [SERVER]',
  short: 'Log out from a registry',
  flags: [],
  maxArgs: 1,
  async run(cli, _f, args) {
    const key = registryKey(args[0]);
    const c = loadConfig(cli.configDir);
    const keys = Object.keys(c.auths ?? {}).filter((k) => registryKey(k) === key);
    if (keys.length === 0) {
      cli.out.write(`Not logged in to ${args[0] ?? key}\n`);
      return;
    }
    cli.out.write(`Removing login credentials for ${args[0] ?? key}\n`);
    for (const k of keys) delete c.auths![k];
    saveConfig(cli.configDir, c);
  },
};
