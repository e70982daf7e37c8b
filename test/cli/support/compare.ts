// Runs the same command line through dray and the docker CLI 28 against one
// daemon (the harness dockerd, or drayd) and compares exit codes and outputs
// modulo IDs, times, and the names each CLI's run chose ({cli} in arguments).
import assert from 'node:assert/strict';
import { DOCKER_CLI, execCommand, type ExecResult } from '../../harness/index.ts';

export const DRAY = new URL('../../../bin/dray', import.meta.url).pathname;
export type Cli = 'docker' | 'dray';
export const CLIS: Cli[] = ['docker', 'dray'];

export interface RunOptions { input?: string | Buffer; cwd?: string; timeoutMs?: number }
export interface SameOptions { stderr?: boolean; input?: string | Buffer; normalize?: (s: string) => string }

/** IDs, times and per-CLI names made comparable. */
export function norm(s: string): string {
  return s
    .replace(/\b[0-9a-f]{64}\b/g, '<ID>')
    .replace(/\b[0-9a-f]{12}\b/g, '<id>')
    .replace(/\b(docker|dray)-cli-/g, 'X-cli-')
    .replace(/\b(docker|dray)\/(bb|nothing)\b/g, 'X/$2')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, '<time>')
    .replace(/(Less than a second|About a minute|About an hour|\d+ (seconds?|minutes?|hours?))( ago)?/g, '<dur>$3')
    // Column widths follow the widest cell, which the replacements above changed.
    .replace(/ {2,}/g, '  ');
}

export function comparer(env: () => NodeJS.ProcessEnv): {
  run: (cli: Cli, args: string[], opts?: RunOptions) => Promise<ExecResult>;
  same: (args: string[], opts?: SameOptions) => Promise<ExecResult>;
} {
  const run = (cli: Cli, args: string[], opts: RunOptions = {}): Promise<ExecResult> =>
    execCommand(cli === 'docker' ? DOCKER_CLI.v28 : DRAY, args, { env: env(), input: opts.input, cwd: opts.cwd, timeoutMs: opts.timeoutMs ?? 60_000 });
  const same = async (args: string[], opts: SameOptions = {}): Promise<ExecResult> => {
    const results: ExecResult[] = [];
    for (const cli of CLIS) results.push(await run(cli, args.map((x) => x.replaceAll('{cli}', cli)), { input: opts.input }));
    const [dk, dr] = results as [ExecResult, ExecResult];
    const n = (s: string): string => (opts.normalize ?? ((x) => x))(norm(s));
    const what = `${args.join(' ')}\n--- docker stderr: ${dk.stderr}\n--- dray stderr: ${dr.stderr}`;
    assert.equal(dr.code, dk.code, `exit code: ${what}`);
    assert.equal(n(dr.stdout), n(dk.stdout), `stdout: ${what}`);
    if (opts.stderr) assert.equal(n(dr.stderr), n(dk.stderr), `stderr: ${what}`);
    return dr;
  };
  return { run, same };
}
