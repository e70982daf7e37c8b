// The two clients the acceptance tests drive drayd with: Dray's own CLI
// (bin/dray) and the real docker CLI 28, both pointed at the test's drayd.
import { execCommand, DOCKER_CLI, type ExecResult } from '../../harness/index.ts';
import type { Drayd } from './drayd.ts';

export type Client = 'dray' | 'docker28';
export const CLIENTS: Client[] = ['dray', 'docker28'];
const DRAY = new URL('../../../bin/dray', import.meta.url).pathname;

export function clientResult(d: Drayd, c: Client, args: string[], timeoutMs = 60_000): Promise<ExecResult> {
  return execCommand(c === 'dray' ? DRAY : DOCKER_CLI.v28, args, { env: d.cliEnv, timeoutMs });
}

/** Runs a command; a non-zero exit is an error naming the client and its stderr. */
export async function client(d: Drayd, c: Client, args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await clientResult(d, c, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${c} ${args.join(' ')} failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}
