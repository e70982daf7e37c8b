// create's and run's flags, shared by the CLI (src/cmd/dray-runc.ts) and
// the warm runtime server (src/runtime/warm/server.ts).
import { UsageError } from '../../common/command-line.ts';
import type { GoFlag, GoValues } from './go-flags.ts';

export const str = (v: GoValues, k: string): string | undefined => v[k] as string | undefined;
export const int = (v: GoValues, k: string): number | undefined => {
  const s = str(v, k);
  if (s === undefined) return undefined;
  if (!/^[0-9]+$/.test(s)) throw new UsageError(`invalid value ${JSON.stringify(s)} for --${k}`);
  return Number(s);
};
export const createFlags: GoFlag[] = [
  { name: 'bundle', short: 'b', kind: 'string' }, { name: 'console-socket', kind: 'string' }, { name: 'pid-file', kind: 'string' },
  { name: 'no-pivot', kind: 'bool' }, { name: 'no-new-keyring', kind: 'bool' }, { name: 'preserve-fds', kind: 'string' },
  { name: 'pidfd-socket', kind: 'string' },
];
export const runFlags: GoFlag[] = [...createFlags, { name: 'detach', short: 'd', kind: 'bool' }, { name: 'keep', kind: 'bool' }];
export const createOpts = (v: GoValues, id: string) => ({
  id, bundle: str(v, 'bundle') ?? '.', pidFile: str(v, 'pid-file'), consoleSocket: str(v, 'console-socket'),
  noPivot: v['no-pivot'] === true, noNewKeyring: v['no-new-keyring'] === true, preserveFds: int(v, 'preserve-fds') ?? 0,
});
