// Test fixtures for dray-shim: a busybox rootfs shared by the bundles of one
// test file, a bundle per container (config.json from `runc spec`, adjusted),
// and cleanup of everything a test started even when it fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { buildBusyboxRootfs } from '../images/busybox-rootfs.ts';
import { alive } from '../harness/cleanup.ts';
import { ShimClient } from '../../src/shim/client.ts';
import { launchShim, type ShimLaunchOptions, type ShimLaunched } from '../../src/shim/launch.ts';

const repo = new URL('../../', import.meta.url).pathname;

/** The runtimes every scenario runs with: runc, crun, and dray-runc once it
 * can create and start a container (probed, so it joins when it lands;
 * DRAY_SHIM_TEST_DRAY_RUNC=0 leaves it out, =1 insists on it). */
export function runtimes(): string[] {
  const list = ['runc', crunHybridRefusal() ? join(repo, 'test/shim/crun-v1.sh') : 'crun'];
  const dray = join(repo, 'bin/dray-runc');
  const want = process.env['DRAY_SHIM_TEST_DRAY_RUNC'];
  if (want === '1' || (want !== '0' && process.getuid?.() === 0 && drayRuncWorks(dray))) list.push(dray);
  return list;
}

/** Can this dray-runc create and start a busybox `true` (with runc's flags)? */
function drayRuncWorks(bin: string): boolean {
  if (!existsSync(bin)) return false;
  const dir = mkdtempSync(join(tmpdir(), 'shim-probe-'));
  const id = `shim-probe-${process.pid}`;
  const run = (args: string[]): boolean =>
    spawnSync(bin, ['--root', join(dir, 'rt'), ...args], { cwd: dir, stdio: 'ignore', timeout: 20000 }).status === 0;
  try {
    const base = rootfs();
    const spec = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')) as Spec;
    spec.process.args = ['true'];
    spec.process.terminal = false;
    spec.root = { path: join(base, 'rootfs'), readonly: true };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
    return run(['create', '--bundle', dir, '--pid-file', join(dir, 'pid'), id]) && run(['start', id]);
  } catch {
    return false;
  } finally {
    run(['delete', '--force', id]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** True where crun would refuse the host: cgroup v1 plus a v2 tree with controllers. */
function crunHybridRefusal(): boolean {
  try {
    return readFileSync('/sys/fs/cgroup/unified/cgroup.subtree_control', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

let sharedRoot: string | undefined;

/** One busybox rootfs for the whole test file (read-only in every bundle). */
function rootfs(): string {
  if (!sharedRoot) {
    sharedRoot = mkdtempSync(join(tmpdir(), 'shim-rootfs-'));
    buildBusyboxRootfs(join(sharedRoot, 'rootfs'));
    execFileSync('runc', ['spec', '--bundle', sharedRoot]);
    process.on('exit', () => rmSync(sharedRoot!, { recursive: true, force: true }));
  }
  return sharedRoot;
}

export interface Spec {
  process: { args: string[]; terminal: boolean; [k: string]: unknown };
  root: { path: string; readonly: boolean };
  [k: string]: unknown;
}

let seq = 0;

/** A temp dir with a runtime root and bundles; everything it started is removed after the test. */
export class ShimEnv {
  readonly dir: string;
  readonly runtimeRoot: string;
  readonly runtime: string;
  readonly #shims: ShimLaunched[] = [];
  readonly #ids: string[] = [];
  readonly #clients: ShimClient[] = [];

  constructor(t: TestContext, runtime: string) {
    this.runtime = runtime;
    this.dir = mkdtempSync(join(tmpdir(), 'shim-'));
    this.runtimeRoot = join(this.dir, 'rt');
    mkdirSync(this.runtimeRoot);
    t.after(() => this.cleanup());
  }

  /** A bundle whose config.json runs `args` (the spec from `runc spec`). */
  bundle(args: string[], opts: { terminal?: boolean; edit?: (s: Spec) => void } = {}): string {
    const base = rootfs();
    const b = join(this.dir, `b${++seq}`);
    mkdirSync(b);
    const spec = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')) as Spec;
    spec.process.args = args;
    spec.process.terminal = opts.terminal ?? false;
    spec.root = { path: join(base, 'rootfs'), readonly: true };
    opts.edit?.(spec);
    writeFileSync(join(b, 'config.json'), JSON.stringify(spec, null, 2));
    return b;
  }

  /** A process.json for an exec. */
  processFile(args: string[], terminal = false): string {
    const spec = JSON.parse(readFileSync(join(rootfs(), 'config.json'), 'utf8')) as Spec;
    const p = { ...spec.process, args, terminal };
    const f = join(this.dir, `p${++seq}.json`);
    writeFileSync(f, JSON.stringify(p));
    return f;
  }

  newId(): string {
    return `shimtest-${process.pid}-${++seq}`;
  }

  stateDir(id: string): string {
    return join(this.dir, `s-${id.split('-').pop()}`);
  }

  /** Launches a shim for a new container; returns it with a connected client. */
  async launch(args: string[], opts: Partial<ShimLaunchOptions> & { bundleOpts?: { terminal?: boolean; edit?: (s: Spec) => void } } = {}): Promise<{ id: string; shim: ShimLaunched; client: ShimClient; opts: ShimLaunchOptions }> {
    const id = opts.id ?? this.newId();
    this.#ids.push(id);
    const full: ShimLaunchOptions = {
      id,
      bundle: opts.bundle ?? this.bundle(args, { terminal: opts.terminal ?? false, ...opts.bundleOpts }),
      runtime: this.runtime,
      runtimeRoot: this.runtimeRoot,
      stateDir: this.stateDir(id),
      log: { path: join(this.stateDir(id), 'container.log') },
      ...opts,
    };
    const shim = await launchShim(full);
    this.#shims.push(shim);
    const client = await this.connect(shim);
    return { id, shim, client, opts: full };
  }

  adopt(shim: ShimLaunched, id: string): void {
    this.#shims.push(shim);
    this.#ids.push(id);
  }

  async connect(shim: ShimLaunched): Promise<ShimClient> {
    const c = await ShimClient.connect(shim.socketPath);
    this.#clients.push(c);
    return c;
  }

  cleanup(): void {
    for (const c of this.#clients) c.close();
    for (const id of this.#ids) {
      spawnSync(this.runtime, ['--root', this.runtimeRoot, 'delete', '--force', id], { stdio: 'ignore' });
    }
    for (const s of this.#shims) {
      try {
        process.kill(s.shimPid, 'SIGKILL');
      } catch {
        // already gone: the usual case
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export { alive };

/** valgrind's report for `pid` (run with --log-file=<prefix>.%p), once it has finished writing it. */
export function valgrindReport(prefix: string, pid: number): Promise<string> {
  return until(() => {
    const f = `${prefix}.${pid}`;
    const text = existsSync(f) ? readFileSync(f, 'utf8') : '';
    return text.includes('ERROR SUMMARY') ? text : null;
  }, 20000);
}

/** Polls `f` every 50 ms until it returns a value, at most `ms`. */
export async function until<T>(f: () => T | undefined | null | false, ms = 10000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LogEntry {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

export function readLog(path: string): LogEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogEntry);
}
