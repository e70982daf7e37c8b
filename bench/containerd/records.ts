// dray-containerd vs the real containerd 1.6, side by side in one run:
// daemon start-up (exec to a socket that accepts connections) and the
// latency of container-record CRUD through each daemon's gRPC API (the same
// grpc-js client library on both sides). The task benchmarks are in tasks.ts.
//
//   node_modules/.bin/node bench/containerd/records.ts [--runs N] [--starts N]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { SupervisorClient } from '../../src/supervisor/client/index.ts';
import { printTable, type BenchRow } from '../support/stats.ts';
import { containerdClient, containerdStart, drayStart } from './daemons.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' }, starts: { type: 'string', default: '10' } } });
const RUNS = Number(values.runs);
const STARTS = Number(values.starts);
const spec = { ociVersion: '1.0.2', process: { args: ['true'], cwd: '/' }, root: { path: 'rootfs' }, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } };

/** The CRUD operations under test, one implementation per daemon. */
interface Crud { create(id: string): Promise<unknown>; get(id: string): Promise<unknown>; list(): Promise<unknown>; delete(id: string): Promise<unknown>; close(): void }

function drayCrud(address: string): Crud {
  const c = new SupervisorClient(`unix://${address}`);
  return {
    create: (id) => c.containers.create({ id, runtime: { name: 'dray' }, spec, image: 'docker.io/library/busybox:latest', labels: { bench: '1' } }),
    get: (id) => c.containers.get(id),
    list: () => c.containers.list(),
    delete: (id) => c.containers.delete(id),
    close: () => c.close(),
  };
}

function containerdCrud(address: string): Crud {
  const { call, close } = containerdClient(address, 'containers');
  const specAny = { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/Spec', value: Buffer.from(JSON.stringify(spec)) };
  return {
    create: (id) => call('create', { container: { id, runtime: { name: 'io.containerd.runc.v2' }, spec: specAny, image: 'docker.io/library/busybox:latest', labels: { bench: '1' } } }),
    get: (id) => call('get', { id }),
    list: () => call('list', {}),
    delete: (id) => call('delete', { id }),
    close,
  };
}

/**
 * Each operation alternates between the two daemons, call by call, so load
 * from anything else on the machine falls on both sides alike.
 */
async function crudRows(a: Crud, b: Crud): Promise<Record<string, [number[], number[]]>> {
  // Warm both connections and the daemons' code paths.
  for (const c of [a, b]) for (let i = 0; i < 20; i++) { await c.create(`warm-${i}`); await c.get(`warm-${i}`); await c.delete(`warm-${i}`); }
  const r: Record<string, [number[], number[]]> = {};
  const phase = async (name: string, n: number, op: (c: Crud, i: number) => Promise<unknown>): Promise<void> => {
    const ta: number[] = [];
    const tb: number[] = [];
    for (let i = 0; i < n; i++) {
      let t0 = performance.now();
      await op(a, i);
      ta.push(performance.now() - t0);
      t0 = performance.now();
      await op(b, i);
      tb.push(performance.now() - t0);
    }
    r[name] = [ta, tb];
  };
  await phase('create', RUNS, (c, i) => c.create(`c-${i}`));
  await phase('get', RUNS, (c, i) => c.get(`c-${i}`));
  await phase(`list (${RUNS} records)`, Math.min(RUNS, 50), (c) => c.list());
  await phase('delete', RUNS, (c, i) => c.delete(`c-${i}`));
  const batch = (verb: 'create' | 'delete') => (c: Crud, round: number) => Promise.all(Array.from({ length: 50 }, (_, i) => c[verb](`p-${round}-${i}`)));
  const creates: [number[], number[]] = [[], []];
  const deletes: [number[], number[]] = [[], []];
  for (let round = 0; round < 10; round++) {
    for (const [k, c] of [[0, a], [1, b]] as const) {
      let t0 = performance.now();
      await batch('create')(c, round);
      creates[k].push(performance.now() - t0);
      t0 = performance.now();
      await batch('delete')(c, round);
      deletes[k].push(performance.now() - t0);
    }
  }
  r['50 creates at once (whole batch)'] = creates;
  r['50 deletes at once (whole batch)'] = deletes;
  return r;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the bench starts containerd: run it as root');
  const base = mkdtempSync(join(tmpdir(), 'dray-bench-containerd-'));
  const rows: BenchRow[] = [];
  try {
    // Start-up as a daemon restarts: on its existing directories (the first,
    // cold start unmeasured), alternating between the two.
    const starts = { dray: [] as number[], peer: [] as number[] };
    for (let i = -1; i < STARTS; i++) {
      for (const which of ['dray', 'peer'] as const) {
        const dir = join(base, `start-${which}`);
        mkdirSync(dir, { recursive: true });
        const { ms, daemon } = await (which === 'dray' ? drayStart(dir) : containerdStart(dir));
        if (i >= 0) starts[which].push(ms);
        await daemon.stop();
      }
    }
    rows.push({ name: 'daemon restart (exec to socket accepting)', ...starts });

    // CRUD on one long-running daemon each.
    const dDir = join(base, 'crud-dray');
    const cDir = join(base, 'crud-containerd');
    mkdirSync(dDir);
    mkdirSync(cDir);
    const dray = (await drayStart(dDir)).daemon;
    const ctrd = (await containerdStart(cDir)).daemon;
    try {
      const dc = drayCrud(dray.address);
      const cc = containerdCrud(ctrd.address);
      const res = await crudRows(dc, cc);
      dc.close();
      cc.close();
      for (const [k, [dray, peer]] of Object.entries(res)) rows.push({ name: `container record: ${k}`, dray, peer });
    } finally {
      await dray.stop();
      await ctrd.stop();
    }
    printTable(rows, 'containerd 1.6');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
