// bench/volume: writing and reading a bounded amount of data (256 MiB in
// 1 MiB blocks, fsync at the end; read back with O_DIRECT so the page
// cache does not answer) from inside a busybox container run by dray-runc,
//   - through a named volume (the planner's bind mount of <root>/volumes/<name>/_data),
//   - through the container's overlay rootfs (lower = busybox rootfs, upper/work in a temp dir),
//   - through a -v bind of a host directory,
// and with the same busybox dd on the host directory directly; beside them
// the real peer, dockerd 20.10 with runc, running the same script in the
// same busybox image through a named volume and through its overlay2
// rootfs. Medians of several interleaved runs, each target's ratio to the host.
//   node bench/volume/volume-io.ts [--runs 5] [--mb 256] [--no-docker] [--only REGEXP]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { native } from '../../src/common/native.ts';
import type { Spec } from '../../src/runtime/config/types.ts';
import { ociMounts, planMounts } from '../../src/volumes/mounts.ts';
import { VolumeStore } from '../../src/volumes/store.ts';
import { removeTree } from '../../test/harness/cleanup.ts';
import { startDockerd, type DockerdPeer } from '../../test/harness/index.ts';
import { testImage } from '../../test/images/index.ts';
import { makeBundle } from '../../test/runtime/bundle.ts';
import { median } from '../support/stats.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, mb: { type: 'string', default: '256' }, 'no-docker': { type: 'boolean', default: false }, only: { type: 'string' } } });
const RUNS = Math.min(Math.max(Number(values.runs), 1), 20);
const MB = Math.min(Math.max(Number(values.mb), 16), 2048);
if (process.getuid?.() !== 0) throw new Error('bench/volume needs root (mounts, containers)');

/** `time -f %e` around each dd: seconds with 10 ms resolution, on stderr as "T <s>". */
const SCRIPT = (dir: string): string => [
  // Nothing left to write back from the previous target while this one is timed.
  `rm -f ${dir}/f`,
  'sync',
  `/bin/busybox time -f 'W %e' /bin/busybox dd if=/dev/zero of=${dir}/f bs=1M count=${MB} conv=fsync 2>&1 | grep '^W'`,
  `/bin/busybox time -f 'R %e' /bin/busybox dd if=${dir}/f of=/dev/null bs=1M iflag=direct 2>&1 | grep '^R'`,
  `rm -f ${dir}/f`,
].join('; ');

function parseTimes(out: string): { write: number; read: number } {
  const w = /^W ([\d.]+)$/m.exec(out);
  const r = /^R ([\d.]+)$/m.exec(out);
  if (!w || !r) throw new Error(`no timings in: ${out}`);
  return { write: Number(w[1]) * 1000, read: Number(r[1]) * 1000 };
}

const base = mkdtempSync(join(tmpdir(), 'dray-bench-volume-'));
const bundle = makeBundle();
const store = new VolumeStore({ root: join(base, 'root'), db: join(base, 'root', 'dray.db') });
const overlay = join(base, 'overlay');
const merged = join(overlay, 'merged');
const hostDir = join(base, 'host');
let n = 0;
let dockerd: DockerdPeer | undefined;
try {
  if (!values['no-docker']) {
    dockerd = await startDockerd();
    await dockerd.docker(['load', '-i', (await testImage('busybox')).dockerArchive]);
  }
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(overlay, d), { recursive: true });
  mkdirSync(hostDir);
  native().mount('overlay', merged, 'overlay', 0, `lowerdir=${bundle.rootfs},upperdir=${join(overlay, 'upper')},workdir=${join(overlay, 'work')}`);
  mkdirSync(join(merged, 'bench'));

  const inContainer = async (rootPath: string, binds: string[], dir: string): Promise<{ write: number; read: number }> => {
    const id = `bench-vol-${process.pid}-${++n}`;
    const plan = await planMounts({ Binds: binds }, { store, containerId: id });
    try {
      const { mounts } = ociMounts(plan.mountPoints, {}, { store, containerId: id });
      bundle.configure(['sh', '-c', SCRIPT(dir)], (s: Spec) => {
        s.root = { path: rootPath, readonly: false };
        s.mounts = [...(s.mounts ?? []), ...mounts];
      });
      const r = bundle.runc(['run', id], { timeout: 300_000 });
      if (r.status !== 0) throw new Error(`container failed (${r.status}): ${r.stderr}${r.stdout}`);
      return parseTimes(r.stdout);
    } finally {
      store.releaseContainer(id);
    }
  };
  const targets: Record<string, () => Promise<{ write: number; read: number }> | { write: number; read: number }> = {
    'named volume (bind of _data)': () => inContainer('rootfs', ['benchvol:/bench'], '/bench'),
    'overlay rootfs (upper in tmp)': () => inContainer(merged, [], '/bench'),
    // The same host directory as below, through -v: separates what the container costs from what the volume costs.
    'host directory bind (-v)': () => inContainer('rootfs', [`${hostDir}:/bench`], '/bench'),
    'host directory (no container)': () => {
      const r = spawnSync('/bin/sh', ['-c', SCRIPT(hostDir)], { encoding: 'utf8', timeout: 300_000 });
      if (r.status !== 0) throw new Error(`host dd failed: ${r.stderr}`);
      return parseTimes(r.stdout);
    },
  };
  const inDocker = async (args: string[], dir: string): Promise<{ write: number; read: number }> => {
    const r = await (dockerd as DockerdPeer).dockerResult(['run', '--rm', ...args, 'busybox', 'sh', '-c', `mkdir -p ${dir}; ${SCRIPT(dir)}`], { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`docker run failed (${r.code}): ${r.stderr}${r.stdout}`);
    return parseTimes(r.stdout);
  };
  if (dockerd) {
    targets['dockerd+runc: named volume'] = () => inDocker(['-v', 'benchvol:/bench'], '/bench');
    targets['dockerd+runc: overlay2 rootfs'] = () => inDocker([], '/bench');
  }
  const names = Object.keys(targets).filter((k) => !values.only || new RegExp(values.only).test(k) || k.startsWith('host directory (no'));
  const samples = new Map(names.map((k) => [k, { write: [] as number[], read: [] as number[] }]));
  await targets[names[0] as string]!(); // warm-up: page tables, the volume's first use
  for (let run = 0; run < RUNS; run++) {
    // Rotate the order so no target always runs right after another's writeback.
    for (let i = 0; i < names.length; i++) {
      const name = names[(run + i) % names.length] as string;
      const t = await targets[name]!();
      samples.get(name)!.write.push(t.write);
      samples.get(name)!.read.push(t.read);
    }
  }
  const host = samples.get('host directory (no container)')!;
  const hw = median(host.write);
  const hr = median(host.read);
  const mbps = (ms: number): string => (ms > 0 ? (MB / (ms / 1000)).toFixed(0) : 'inf');
  const header = ['target', 'write ms', 'write MB/s', 'w/host', 'read ms', 'read MB/s', 'r/host', 'runs'];
  const rows = names.map((k) => {
    const s = samples.get(k)!;
    const w = median(s.write);
    const r = median(s.read);
    return [k, w.toFixed(0), mbps(w), (w / hw).toFixed(2), r.toFixed(0), mbps(r), (r / hr).toFixed(2), String(s.write.length)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`bench/volume: ${MB} MiB in 1 MiB blocks (dd conv=fsync), read back with iflag=direct; medians of ${RUNS} runs; timer resolution 10 ms`);
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(fmt(r));
} finally {
  dockerd?.stop();
  try { native().umount2(merged, 0); } catch { /* not mounted */ }
  store.close();
  bundle.cleanup();
  removeTree(base);
  rmSync(base, { recursive: true, force: true });
}
