// dray exec: a command in a running container, attached (hijacked) or detached.
import type { Command } from '../command.ts';
import { CliError, StatusError } from '../command.ts';
import { loadConfig } from '../config.ts';
import { enc } from '../each.ts';
import { DEFAULT_DETACH_KEYS, detachKeyBytes, pumpStreams } from '../hijack-io.ts';
import { resizer } from '../run-container.ts';

export const command: Command = {
  use: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  short: 'Execute a command in a running container',
  aliases: ['dray container exec', 'dray exec'],
  flags: [
    { name: 'detach', short: 'd', type: 'bool', usage: 'Detached mode: run command in the background' },
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'env', short: 'e', type: 'list', usage: 'Set environment variables' },
    { name: 'env-file', type: 'list', usage: 'Read in a file of environment variables' },
    { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
    { name: 'privileged', type: 'bool', usage: 'Give extended privileges to the command' },
    { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
    { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
  ],
  interspersed: false,
  minArgs: 2,
  async run(cli, f, args) {
    const api = cli.client();
    const detach = f.bool('detach');
    const tty = f.bool('tty');
    const interactive = f.bool('interactive');
    if (tty && interactive && !detach && !process.stdin.isTTY) throw new CliError('the input device is not a TTY');
    const detachKeys = f.str('detach-keys') || loadConfig(cli.configDir).detachKeys || DEFAULT_DETACH_KEYS;
    detachKeyBytes(detachKeys);
    const env: string[] = [];
    const { readFileSync } = await import('node:fs');
    for (const file of f.list('env-file')) {
      for (const l of readFileSync(file, 'utf8').split('\n')) if (l.trim() && !l.trimStart().startsWith('#')) env.push(l.trimStart());
    }
    for (const e of f.list('env')) env.push(e.includes('=') ? e : process.env[e] !== undefined ? `${e}=${process.env[e]}` : e);
    const created = await api.json<{ Id: string }>('POST', `/containers/${enc(args[0]!)}/exec`, {
      body: {
        User: f.str('user'), Privileged: f.bool('privileged'), Tty: tty,
        AttachStdin: interactive && !detach, AttachStdout: !detach, AttachStderr: !detach,
        DetachKeys: detachKeys, Env: env, WorkingDir: f.str('workdir'), Cmd: args.slice(1),
      },
    });
    const id = created.Id;
    if (detach) {
      await api.call('POST', `/exec/${id}/start`, { body: { Detach: true, Tty: tty } });
      return 0;
    }
    const h = await api.hijack(`/exec/${id}/start`, { body: { Detach: false, Tty: tty } });
    const io = await pumpStreams(h, {
      tty, stdin: interactive, detachKeys,
      resize: tty && process.stdout.isTTY ? resizer(api, `/exec/${id}/resize`) : undefined,
    });
    if (io.detached) return 0;
    const info = await api.json<{ ExitCode: number | null; Running: boolean }>('GET', `/exec/${id}/json`);
    if (io.systemError) {
      throw new StatusError(io.systemError.trim(), info.ExitCode ?? 126);
    }
    return info.ExitCode ?? 0;
  },
};
