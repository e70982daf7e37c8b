// dray login: checks the credentials through the daemon (POST /auth) and stores
// them base64-encoded in config.json, as docker does without a credential helper.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { loadConfig, saveConfig } from '../config.ts';
import { StatusError, type Cli } from '../command.ts';

/** One line from the terminal; without echo (raw mode, our own line editing) for passwords. */
function promptLine(cli: Cli, prompt: string, echo: boolean): Promise<string> {
  cli.out.write(prompt);
  const stdin = process.stdin;
  if (!echo) stdin.setRawMode(true);
  return new Promise((resolve, reject) => {
    let line = '';
    const done = (): void => {
      stdin.removeListener('data', onData);
      if (!echo) stdin.setRawMode(false);
      stdin.pause();
      resolve(line);
    };
    const onData = (c: Buffer): void => {
      for (const ch of c.toString('utf8')) {
        if (ch === '\r' || ch === '\n') { done(); return; }
        if (ch === '\u0003') { if (!echo) stdin.setRawMode(false); reject(new StatusError('', 130)); return; }
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

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
    let username = f.str('username');
    if (!username || !password) {
      if (!process.stdin.isTTY) throw new CliError('Error: Cannot perform an interactive login from a non TTY device');
      // On a terminal: prompt as docker does, the password without echo.
      const saved = loadConfig(cli.configDir).auths?.[key]?.auth;
      const savedUser = saved ? Buffer.from(saved, 'base64').toString('utf8').split(':')[0] ?? '' : '';
      if (!username) {
        username = (await promptLine(cli, savedUser ? `Username (${savedUser}): ` : 'Username: ', true)).trim() || savedUser;
        if (!username) throw new CliError('Error: Non-null Username Required');
      }
      if (!password) {
        password = await promptLine(cli, 'Password: ', false);
        cli.out.write('\n');
        if (!password) throw new CliError('Error: Password Required');
      }
    }
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
