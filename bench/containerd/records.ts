// dray-containerd vs the real containerd 1.6, side by side in one run:
// daemon start-up (exec to a socket that accepts connections) and the
// latency of container-record CRUD through each daemon's gRPC API (the same
// grpc-js client library on both sides). The task benchmarks of issue 5
// (create+start+wait+delete of busybox tasks, shim memory) come with the
// tasks service.
//
//   node_modules/.bin/node bench/containerd/records.ts [--runs N] [--starts N]
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { loadPackageDefinition, credentials, Metadata, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { SupervisorClient } from '../../src/supervisor/client/index.ts';
import { printTable, type BenchRow } from '../support/stats.ts';

const root = new URL('../../', import.meta.url).pathname;
const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' }, starts: { type: 'string', default: '10' } } });
const RUNS = Number(values.runs);
const STARTS = Number(values.starts);
const spec = { ociVersion: '1.0.2', process: { args: ['true'], cwd: '/' }, root: { path: 'rootfs' }, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } };

interface Daemon { address: string; stop(): Promise<void> }

function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

async function startTimed(cmd: string, args: string[], socket: string): Promise<{ ms: number; daemon: Daemon }> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  for (let i = 0; ; i++) {
    if (i > 20_000) throw new Error(`${cmd} did not start`);
    if (child.exitCode !== null) throw new Error(`${cmd} exited ${child.exitCode}`);
    if (await socketAccepts(socket)) break;
    await new Promise((r) => setTimeout(r, 1));
  }
  const ms = performance.now() - t0;
  return {
    ms,
    daemon: {
      address: socket,
      stop: () => new Promise<void>((resolve) => {
        if (child.exitCode !== null) { resolve(); return; }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
    },
  };
}

function drayStart(dir: string): Promise<{ ms: number; daemon: Daemon }> {
  const sock = join(dir, 'dray.sock');
  return startTimed(join(root, 'bin/dray-containerd'), ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', `unix://${sock}`, '--pidfile', join(dir, 'dray.pid')], sock);
}

function containerdStart(dir: string): Promise<{ ms: number; daemon: Daemon }> {
  const sock = join(dir, 'containerd.sock');
  mkdirSync(join(dir, 'root'), { recursive: true });
  mkdirSync(join(dir, 'state'), { recursive: true });
  const cfg = join(dir, 'config.toml');
  writeFileSync(cfg, [
    'version = 2', `root = ${JSON.stringify(join(dir, 'root'))}`, `state = ${JSON.stringify(join(dir, 'state'))}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]', `  address = ${JSON.stringify(sock)}`, '[ttrpc]', `  address = ${JSON.stringify(sock + '.ttrpc')}`,
    '[metrics]', '  address = ""', '[plugins."io.containerd.internal.v1.opt"]', `  path = ${JSON.stringify(join(dir, 'opt'))}`, '',
  ].join('\n'));
  return startTimed('/usr/bin/containerd', ['--config', cfg], sock);
}

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
  const def = loadSync(join(root, 'bench/containerd/containerd-containers.proto'), { keepCase: false, longs: Number, defaults: true });
  const pkg = loadPackageDefinition(def) as unknown as { containerd: { services: { containers: { v1: { Containers: ServiceClientConstructor } } } } };
  const client = new pkg.containerd.services.containers.v1.Containers(`unix://${address}`, credentials.createInsecure()) as unknown as Record<string, (req: object, md: Metadata, cb: (e: ServiceError | null, r: unknown) => void) => void>;
  const md = new Metadata();
  md.set('containerd-namespace', 'bench');
  const call = (method: string, req: object): Promise<unknown> => new Promise((resolve, reject) => {
    client[method]!.call(client, req, md, (e, r) => (e ? reject(e) : resolve(r)));
  });
  const specAny = { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/Spec', value: Buffer.from(JSON.stringify(spec)) };
  return {
    create: (id) => call('create', { container: { id, runtime: { name: 'io.containerd.runc.v2' }, spec: specAny, image: 'docker.io/library/busybox:latest', labels: { bench: '1' } } }),
    get: (id) => call('get', { id }),
    list: () => call('list', {}),
    delete: (id) => call('delete', { id }),
    close: () => (client as unknown as { close(): void }).close(),
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
