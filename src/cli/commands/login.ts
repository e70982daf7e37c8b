// dray login: checks the credentials through the daemon (POST /auth) and stores
// them base64-encoded in config.json, as docker does without a credential helper.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { loadConfig, saveConfig } from '../config.ts';

const DEFAULT_REGISTRY = 'https://index.docker.io/v1/';

export function registryKey(server: string | undefined): string {
  if (!server) return DEFAULT_REGISTRY;
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io' ? DEFAULT_REGISTRY : host;
}

export const command: Command = {
  use: 'login [OPTIONS] [SERVER]',
  short: 'Authenticate to a registry',
  flags: [
    { name: 'password', short: 'p', type: 'string', usage: 'Password' },
    { name: 'password-stdin', type: 'bool', usage: 'Take the password from stdin' },
    { name: 'username', short: 'u', type: 'string', usage: 'Username' },
  ],
  maxArgs: 1,
  async run(cli, f, args) {
    const key = registryKey(args[0]);
    let password = f.str('password');
    if (f.bool('password-stdin')) {
      if (password) throw new CliError('--password and --password-stdin are mutually exclusive');
      if (!f.str('username')) throw new CliError('Must provide --username with --password-stdin');
      password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    } else if (password) {
      cli.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    }
    const username = f.str('username');
    if (!username || !password) throw new CliError('Error: Cannot perform an interactive login from a non TTY device');
    const r = await cli.client().json<{ Status?: string; IdentityToken?: string }>('POST', '/auth', {
      body: { username, password, serveraddress: key },
    });
    const c = loadConfig(cli.configDir);
    c.auths = { ...c.auths, [key]: r?.IdentityToken ? { auth: '', identitytoken: r.IdentityToken } : { auth: Buffer.from(`${username}:${password}`).toString('base64') } };
    saveConfig(cli.configDir, c);
    cli.err.write(`\nWARNING! Your credentials are stored unencrypted in '${join(cli.configDir, 'config.json')}'.\n`);
    cli.out.write(`${r?.Status || 'Login Succeeded'}\n`);
  },
};
