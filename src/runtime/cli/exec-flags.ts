// exec's flags and options, shared by the CLI (src/cmd/dray-runc.ts) and the
// warm runtime server (src/runtime/warm/server.ts).
import { UsageError } from '../../common/command-line.ts';
import type { ExecOptions } from '../verbs/exec.ts';
import type { GoFlag, GoValues } from './go-flags.ts';
import { int, str } from './create-flags.ts';

export const execFlags: GoFlag[] = [
  { name: 'console-socket', kind: 'string' }, { name: 'cwd', kind: 'string' }, { name: 'env', short: 'e', kind: 'list' },
  { name: 'tty', short: 't', kind: 'bool' }, { name: 'user', short: 'u', kind: 'string' }, { name: 'additional-gids', short: 'g', kind: 'list' },
  { name: 'process', short: 'p', kind: 'string' }, { name: 'detach', short: 'd', kind: 'bool' }, { name: 'pid-file', kind: 'string' },
  { name: 'process-label', kind: 'string' }, { name: 'apparmor', kind: 'string' }, { name: 'no-new-privs', kind: 'bool' },
  { name: 'cap', short: 'c', kind: 'list' }, { name: 'preserve-fds', kind: 'string' }, { name: 'cgroup', kind: 'list' },
  { name: 'ignore-paused', kind: 'bool' }, { name: 'pidfd-socket', kind: 'string' },
];

/** args: the container id, then the command (without --process). */
export function execOpts(v: GoValues, args: string[]): ExecOptions {
  const gids = ((v['additional-gids'] as string[] | undefined) ?? []).map((g) => {
    if (!/^[0-9]+$/.test(g)) throw new UsageError(`invalid additional gid ${JSON.stringify(g)}`);
    return Number(g);
  });
  return {
    id: args[0]!, args: args.slice(1), processFile: str(v, 'process'), tty: v['tty'] === true, consoleSocket: str(v, 'console-socket'),
    detach: v['detach'] === true, pidFile: str(v, 'pid-file'), env: v['env'] as string[] | undefined, cwd: str(v, 'cwd'),
    user: str(v, 'user'), additionalGids: gids, caps: v['cap'] as string[] | undefined, noNewPrivs: v['no-new-privs'] === true,
    preserveFds: int(v, 'preserve-fds') ?? 0, ignorePaused: v['ignore-paused'] === true,
  };
}
