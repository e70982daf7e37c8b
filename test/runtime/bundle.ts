// Test helpers: a busybox bundle in a temp dir (config.json from
// `dray-runc spec`, edited per test) and a runner for the CLI.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../../src/runtime/config/types.ts';
import { buildBusyboxRootfs } from '../images/busybox-rootfs.ts';

export const RUNC = new URL('../../bin/dray-runc', import.meta.url).pathname;

export interface TestBundle {
  dir: string;
  root: string;
  rootfs: string;
  spec(): Spec;
  write(spec: Spec): void;
  /** Writes a config with these process args (non-terminal) and optional edits. */
  configure(args: string[], edit?: (s: Spec) => void): void;
  runc(args: string[], opts?: { input?: string; timeout?: number; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string>;
  cleanup(): void;
}

export function makeBundle(): TestBundle {
  const base = mkdtempSync(join(tmpdir(), 'dray-runtime-'));
  chmodSync(base, 0o711); // a user namespace's root must reach the rootfs
  const dir = join(base, 'bundle');
  const root = join(base, 'state');
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  buildBusyboxRootfs(rootfs);
  // stdout/stderr go to files, not pipes: a detached container inherits them and would hold a pipe open.
  const runc = (args: string[], opts: { input?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> => {
    const outFile = join(base, 'out'), errFile = join(base, 'err');
    const o = openSync(outFile, 'w'), e = openSync(errFile, 'w');
    try {
      const r = spawnSync(RUNC, ['--root', root, ...args], { cwd: dir, encoding: 'utf8', input: opts.input ?? '', timeout: opts.timeout ?? 60000, stdio: ['pipe', o, e], env: opts.env ?? process.env });
      return { ...r, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
    } finally {
      closeSync(o);
      closeSync(e);
    }
  };
  const r = runc(['spec']);
  if (r.status !== 0) throw new Error(`dray-runc spec failed: ${r.stderr}`);
  const pristine = readFileSync(join(dir, 'config.json'), 'utf8');
  const b: TestBundle = {
    dir, root, rootfs,
    spec: () => JSON.parse(pristine) as Spec,
    write: (s) => writeFileSync(join(dir, 'config.json'), JSON.stringify(s)),
    configure(args, edit) {
      const s = b.spec();
      s.process!.terminal = false;
      s.process!.args = args;
      edit?.(s);
      b.write(s);
    },
    runc,
    cleanup() {
      // Anything a failed test left running: force-delete by id.
      const l = runc(['list', '-q']);
      for (const id of l.stdout.split('\n').filter(Boolean)) runc(['delete', '--force', id]);
      stopWarmServers(root);
      rmSync(base, { recursive: true, force: true });
    },
  };
  return b;
}

/** What a state root holds besides the warm runtime server's socket (src/runtime/warm/). */
export function stateEntries(root: string): string[] {
  return readdirSync(root).filter((n) => !n.startsWith('dray-runc@warm-'));
}

/** The pids of warm runtime servers serving this root. */
export function warmServers(root: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(e)) continue;
    let argv: string[];
    try { argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    const i = argv.indexOf('__warm-server');
    if (i >= 0 && argv[i + 1]?.startsWith(`${root}/`)) out.push(Number(e));
  }
  return out;
}

/** Ends the warm runtime servers a test's calls started (they would idle out within seconds anyway). */
export function stopWarmServers(root: string): void {
  for (const pid of warmServers(root)) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  for (let i = 0; i < 200 && warmServers(root).length; i++) spawnSync('sleep', ['0.01']);
}
