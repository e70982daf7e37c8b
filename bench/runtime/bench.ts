// bench/runtime: dray-runc (CLI, and the library in this already running
// Node process) side by side with runc and crun from Debian, on one
// busybox bundle: medians of `run` (foreground, `true`) and of
// create + start + delete, and the ratios to runc.
//   node bench/runtime/bench.ts [iterations]
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec } from '../../src/runtime/config/default-spec.ts';
import { runtimeContext } from '../../src/runtime/context.ts';
import { create } from '../../src/runtime/verbs/create.ts';
import { del } from '../../src/runtime/verbs/delete.ts';
import { run } from '../../src/runtime/verbs/run.ts';
import { start } from '../../src/runtime/verbs/start.ts';
import { buildBusyboxRootfs } from '../../test/images/busybox-rootfs.ts';

const N = Number(process.argv[2] ?? 15);
const RUNC = new URL('../../bin/dray-runc', import.meta.url).pathname;

const base = mkdtempSync(join(tmpdir(), 'dray-bench-runtime-'));
const bundle = join(base, 'bundle');
mkdirSync(join(bundle, 'rootfs'), { recursive: true });
buildBusyboxRootfs(join(bundle, 'rootfs'));
const spec = defaultSpec();
spec.ociVersion = '1.0.2'; // the newest crun 1.8 accepts
spec.process!.terminal = false;
spec.process!.args = ['true'];
writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

// stderr goes to a file, not a pipe: a created container inherits it and would hold a pipe open.
const errFile = join(base, 'stderr');
const errFd = openSync(errFile, 'w');
function cli(cmd: string[], root: string, args: string[], env?: NodeJS.ProcessEnv): void {
  const r = spawnSync(cmd[0]!, [...cmd.slice(1), '--root', root, ...args], { cwd: bundle, stdio: ['ignore', 'ignore', errFd], env: env ?? process.env });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} ${args.join(' ')}: ${readFileSync(errFile, 'utf8')}`);
}

// crun 1.8 refuses a hybrid host whose unified hierarchy has controllers
// enabled (as this CI host's may, left by other tests): then it runs in a
// mount namespace where a tmpfs hides that hierarchy (it costs an unshare
// and a mount per call, and crun then skips the unified hierarchy), and says so.
let crunName = 'crun';
let crun = ['crun'];
if (readFileSync('/sys/fs/cgroup/unified/cgroup.subtree_control', 'utf8').trim() !== '') {
  crun = ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs none /sys/fs/cgroup/unified && exec crun "$@"', 'crun'];
  crunName = 'crun (unified hidden)';
}

type Runner = { name: string; run(id: string): Promise<void> | void; cycle(id: string): Promise<void> | void };
const runners: Runner[] = [];
// dray-runc three ways: as installed (C fast paths for start/state/kill/delete,
// create/run through the warm runtime server, which the warm-up call starts),
// without the warm server, and with Node for every verb (as before both).
const NO_WARM = { ...process.env, DRAY_RUNC_NO_WARM: '1' };
const ALL_NODE = { ...NO_WARM, DRAY_RUNC_NO_FAST: '1' };
for (const [name, cmd, env] of [['dray-runc', [RUNC], undefined], ['dray-runc, no warm server', [RUNC], NO_WARM],
  ['dray-runc, Node every verb', [RUNC], ALL_NODE], ['runc', ['runc'], undefined], [crunName, crun, undefined]] as const) {
  const root = join(base, `state-${name.replace(/[^a-z]+/g, '-')}`);
  const go = (args: string[]): void => cli([...cmd], root, args, env);
  runners.push({
    name,
    run: (id) => go(['run', id]),
    cycle: (id) => { go(['create', '--bundle', bundle, id]); go(['start', id]); go(['delete', '--force', id]); },
  });
}
// The floor for a CLI in Node: one bare Node start per verb (three for the cycle).
const nodeStart = (): void => { const r = spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' }); if (r.status !== 0) throw new Error('node -e 0 failed'); };
runners.push({ name: 'node -e 0 (floor per verb)', run: nodeStart, cycle: () => { nodeStart(); nodeStart(); nodeStart(); } });
const ctx = runtimeContext({ root: join(base, 'state-lib') });
runners.push({
  name: 'dray-runc library (in-process)',
  run: async (id) => { const code = await run(ctx, { id, bundle, stdio: ['ignore', 'ignore', 'inherit'] }); if (code !== 0) throw new Error(`exit ${code}`); },
  cycle: async (id) => { await create(ctx, { id, bundle, stdio: ['ignore', 'ignore', 'inherit'] }); await start(ctx, id); await del(ctx, id, true); },
});

try {
  // Round-robin, one runtime after the other in each iteration: load from
  // anything else on the machine then weighs on all of them alike.
  const times = runners.map(() => ({ runs: [] as number[], cycles: [] as number[] }));
  for (const [k, r] of runners.entries()) await r.run(`b${process.pid}w${k}`);
  for (let i = 0; i < N; i++) {
    for (const [k, r] of runners.entries()) {
      let t = process.hrtime.bigint();
      await r.run(`b${process.pid}r${k}x${i}`);
      times[k]!.runs.push(ms(t));
      t = process.hrtime.bigint();
      await r.cycle(`b${process.pid}c${k}x${i}`);
      times[k]!.cycles.push(ms(t));
    }
  }
  const results = runners.map((r, k) => ({ name: r.name, run: median(times[k]!.runs), cycle: median(times[k]!.cycles) }));
  const runc = results.find((r) => r.name === 'runc')!;
  console.log(`busybox bundle, ${N} iterations each, medians (ms); ratio to runc`);
  console.log(`${'runtime'.padEnd(32)}${'run'.padStart(10)}${'ratio'.padStart(8)}${'create+start+delete'.padStart(22)}${'ratio'.padStart(8)}`);
  for (const r of results) {
    console.log(`${r.name.padEnd(32)}${r.run.toFixed(1).padStart(10)}${(r.run / runc.run).toFixed(2).padStart(8)}${r.cycle.toFixed(1).padStart(22)}${(r.cycle / runc.cycle).toFixed(2).padStart(8)}`);
  }
} finally {
  closeSync(errFd);
  rmSync(base, { recursive: true, force: true });
}
