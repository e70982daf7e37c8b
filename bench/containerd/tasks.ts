// Issue 5's task benchmarks, dray-containerd vs the real containerd 1.6 in
// one run, both through their gRPC APIs (the same grpc-js client), both
// running runc on the same busybox rootfs, plus dray-containerd's built-in
// runtime (plan in-process, the shim runs the executor):
//  - container create + task create + start + wait + task delete + container
//    delete of a busybox `true`, 100 one after another and 50 at once;
//  - resident memory of 50 idle `sleep` containers: the sum over the shims
//    (dray-shim vs containerd-shim-runc-v2), per container.
//
//   node_modules/.bin/node bench/containerd/tasks.ts [--runs 100] [--parallel 50] [--idle 50]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { SupervisorClient } from '../../src/supervisor/client/index.ts';
import { buildBusyboxRootfs } from '../../test/images/busybox-rootfs.ts';
import { median, printTable, type BenchRow } from '../support/stats.ts';
import { containerdClient, containerdStart, drayStart } from './daemons.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '100' }, parallel: { type: 'string', default: '50' }, idle: { type: 'string', default: '50' } } });
const RUNS = Number(values.runs);
const PARALLEL = Number(values.parallel);
const IDLE = Number(values.idle);

interface Side {
  /** create the container and its task, start it, wait for its exit, delete both; returns the exit status */
  run(id: string, args: string[]): Promise<number>;
  /** create and start (no wait) */
  startIdle(id: string): Promise<number>;
  stopIdle(id: string): Promise<void>;
  close(): void;
}

function specFor(base: Record<string, unknown> & { process: Record<string, unknown> }, rootfs: string, args: string[]): Record<string, unknown> {
  return { ...base, process: { ...base.process, args, terminal: false }, root: { path: rootfs, readonly: true } };
}

function draySide(address: string, base: Parameters<typeof specFor>[0], rootfs: string, runtime: string): Side {
  const c = new SupervisorClient(`unix://${address}`, { namespace: 'default' });
  const pre = runtime === 'dray' ? 'b-' : ''; // both dray sides share a namespace
  return {
    async run(bare, args) {
      const id = pre + bare;
      await c.containers.create({ id, runtime: { name: runtime }, spec: specFor(base, rootfs, args) });
      await c.tasks.create(id);
      const waited = c.tasks.start(id).then(() => c.tasks.wait(id));
      const { exitStatus } = await waited;
      await c.tasks.delete(id);
      await c.containers.delete(id);
      return exitStatus;
    },
    async startIdle(bare) {
      const id = pre + bare;
      await c.containers.create({ id, runtime: { name: runtime }, spec: specFor(base, rootfs, ['sleep', '100000']) });
      const { pid } = await c.tasks.create(id);
      await c.tasks.start(id);
      return pid;
    },
    async stopIdle(bare) {
      const id = pre + bare;
      await c.tasks.kill(id, 9);
      await c.tasks.wait(id);
      await c.tasks.delete(id);
      await c.containers.delete(id);
    },
    close: () => c.close(),
  };
}

function containerdSide(address: string, base: Parameters<typeof specFor>[0], rootfs: string): Side {
  const containers = containerdClient(address, 'containers');
  const tasks = containerdClient(address, 'tasks');
  const create = (id: string, args: string[]) => containers.call('create', { container: {
    id, runtime: { name: 'io.containerd.runc.v2' },
    spec: { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/Spec', value: Buffer.from(JSON.stringify(specFor(base, rootfs, args))) },
  } });
  return {
    async run(id, args) {
      await create(id, args);
      await tasks.call('create', { containerId: id });
      // Wait first, as ctr does, so the exit cannot be missed.
      const waited = tasks.call('wait', { containerId: id }) as Promise<{ exitStatus: number }>;
      await tasks.call('start', { containerId: id });
      const { exitStatus } = await waited;
      await tasks.call('delete', { containerId: id });
      await containers.call('delete', { id });
      return exitStatus;
    },
    async startIdle(id) {
      await create(id, ['sleep', '100000']);
      const r = await tasks.call('create', { containerId: id }) as { pid: number };
      await tasks.call('start', { containerId: id });
      return r.pid;
    },
    async stopIdle(id) {
      const waited = tasks.call('wait', { containerId: id });
      waited.catch(() => {}); // the kill's error is the one to report
      await tasks.call('kill', { containerId: id, signal: 9 });
      await waited;
      await tasks.call('delete', { containerId: id });
      await containers.call('delete', { id });
    },
    close: () => { containers.close(); tasks.close(); },
  };
}

/** Resident set (kB) of each process whose command line contains needle and whose name is comm. */
function rssOf(comm: string, needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const status = readFileSync(`/proc/${e}/status`, 'utf8');
      const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
      if (!comm.startsWith(name)) continue;
      if (!readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(needle)) continue;
      out.push(Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0));
    } catch { /* gone */ }
  }
  return out;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run the bench as root');
  const dir = mkdtempSync(join(tmpdir(), 'dray-bench-tasks-'));
  const rows: BenchRow[] = [];
  const memLines: string[] = [];
  try {
    buildBusyboxRootfs(join(dir, 'rootfs'));
    execFileSync('runc', ['spec', '--bundle', dir]);
    const base = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Parameters<typeof specFor>[0];
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(dir, 'dray'));
    mkdirSync(join(dir, 'containerd'));
    const dray = (await drayStart(join(dir, 'dray'))).daemon;
    const ctrd = (await containerdStart(join(dir, 'containerd'))).daemon;
    // 0: dray-containerd + runc, 1: dray-containerd + built-in runtime, 2: containerd + runc
    const sides: [Side, Side, Side] = [draySide(dray.address, base, rootfs, 'runc'), draySide(dray.address, base, rootfs, 'dray'), containerdSide(ctrd.address, base, rootfs)];
    const labels = ['runc', 'built-in runtime'];
    try {
      // Warm-up, then alternate run by run.
      for (const s of sides) for (let i = 0; i < 3; i++) if (await s.run(`warm-${i}`, ['true']) !== 0) throw new Error('warm-up run failed');
      const seq: [number[], number[], number[]] = [[], [], []];
      for (let i = 0; i < RUNS; i++) {
        for (const k of [0, 1, 2] as const) {
          const t0 = performance.now();
          const code = await sides[k].run(`seq-${i}`, ['true']);
          seq[k].push(performance.now() - t0);
          if (code !== 0) throw new Error(`run ${i} exited ${code}`);
        }
      }
      for (const k of [0, 1] as const) rows.push({ name: `busybox true, one after another (per task), ${labels[k]}`, dray: seq[k], peer: seq[2] });
      const par: [number[], number[], number[]] = [[], [], []];
      for (let round = 0; round < 3; round++) {
        for (const k of [0, 1, 2] as const) {
          const t0 = performance.now();
          const codes = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => sides[k].run(`par-${round}-${i}`, ['true'])));
          par[k].push(performance.now() - t0);
          if (codes.some((c) => c !== 0)) throw new Error('a parallel run failed');
        }
      }
      for (const k of [0, 1] as const) rows.push({ name: `${PARALLEL} busybox true at once (whole batch), ${labels[k]}`, dray: par[k], peer: par[2] });

      // Idle memory: IDLE sleeping containers on each side, shims' RSS summed.
      const ids = Array.from({ length: IDLE }, (_, i) => `idle-${i}`);
      for (const id of ids) await sides[0].startIdle(id);
      for (const id of ids) await sides[2].startIdle(id);
      await new Promise((r) => setTimeout(r, 2000));
      const dShims = rssOf('dray-shim', join(dir, 'dray'));
      const cShims = rssOf('containerd-shim-runc-v2', join(dir, 'containerd'));
      const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
      memLines.push(`idle memory, ${IDLE} sleep containers: dray-shim ${dShims.length} processes, ${(sum(dShims) / 1024).toFixed(1)} MiB in all, ${(sum(dShims) / IDLE / 1024).toFixed(2)} MiB per container (median shim ${(median(dShims) / 1024).toFixed(2)} MiB)`);
      memLines.push(`                                  containerd-shim-runc-v2 ${cShims.length} processes, ${(sum(cShims) / 1024).toFixed(1)} MiB in all, ${(sum(cShims) / IDLE / 1024).toFixed(2)} MiB per container (median shim ${(median(cShims) / 1024).toFixed(2)} MiB)`);
      memLines.push(`                                  ratio (dray / containerd) ${(sum(dShims) / sum(cShims)).toFixed(3)}`);
    } finally {
      // The idle containers go in any case (they outlive their daemons otherwise).
      for (const s of [sides[0], sides[2]]) for (let i = 0; i < IDLE; i++) await s.stopIdle(`idle-${i}`).catch(() => {});
      for (const s of sides) s.close();
      await dray.stop();
      await ctrd.stop();
    }
    printTable(rows, 'containerd 1.6');
    for (const l of memLines) console.log(l);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
