// dray-shim against containerd-shim-runc-v2 (real containerd 1.6 started
// here on its own sockets), side by side in one run, both over runc:
//  - resident memory of N idle `sleep` containers' shims (VmRSS and Pss, per
//    shim median and sum);
//  - create+start+wait+delete of a `true` container, one after another
//    (dray: launchShim + ShimClient; containerd: `ctr run --rm`, which adds
//    ctr's own start, so the ratio flatters containerd a little).
// Run as root: node_modules/.bin/node bench/shim/shim-memory.ts [N=20] [runs=20]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxRootfs } from '../../test/images/busybox-rootfs.ts';
import { startContainerd } from '../../test/harness/containerd.ts';
import { ShimClient } from '../../src/shim/client.ts';
import { launchShim } from '../../src/shim/launch.ts';
import { median, printTable, ratio, timeRuns } from '../support/stats.ts';

const N = Number(process.argv[2] ?? 20);
const RUNS = Number(process.argv[3] ?? 20);

function memOf(pid: number): { rss: number; pss: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
  return { rss: kb('Rss'), pss: kb('Pss') };
}

function pidsWhoseCmdline(...parts: string[]): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const c = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      return parts.every((x) => c.includes(x));
    } catch {
      return false;
    }
  }).map(Number);
}

function summary(name: string, mems: Array<{ rss: number; pss: number }>): { rss: number; pss: number } {
  const rss = median(mems.map((m) => m.rss));
  const pss = median(mems.map((m) => m.pss));
  const sumRss = mems.reduce((a, m) => a + m.rss, 0);
  const sumPss = mems.reduce((a, m) => a + m.pss, 0);
  console.log(`${name}: ${mems.length} shims, median VmRSS ${rss} kB, median Pss ${pss} kB, sum VmRSS ${(sumRss / 1024).toFixed(1)} MB, sum Pss ${(sumPss / 1024).toFixed(1)} MB`);
  return { rss, pss };
}

const dir = mkdtempSync(join(tmpdir(), 'bench-shim-'));
const rootfs = join(dir, 'rootfs');
buildBusyboxRootfs(rootfs);
execFileSync('runc', ['spec', '--bundle', dir]);
const baseSpec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { process: { args: string[]; terminal: boolean }; root: { path: string; readonly: boolean } };
const rtRoot = join(dir, 'rt');
mkdirSync(rtRoot);
let seq = 0;

function bundle(args: string[]): string {
  const b = join(dir, `b${++seq}`);
  mkdirSync(b);
  writeFileSync(join(b, 'config.json'), JSON.stringify({ ...baseSpec, process: { ...baseSpec.process, args, terminal: false }, root: { path: rootfs, readonly: true } }));
  return b;
}

const containerd = await startContainerd();
try {
  // memory: dray-shim
  const drayShims: Array<{ id: string; pid: number; sock: string }> = [];
  for (let i = 0; i < N; i++) {
    const id = `bench-${i}`;
    const s = await launchShim({ id, bundle: bundle(['sleep', '1000']), runtime: 'runc', runtimeRoot: rtRoot, stateDir: join(dir, `s${i}`), start: true, log: { path: join(dir, `s${i}`, 'log') } });
    drayShims.push({ id, pid: s.shimPid, sock: s.socketPath });
  }
  const dray = summary('dray-shim', drayShims.map((s) => memOf(s.pid)));
  for (const s of drayShims) {
    const c = await ShimClient.connect(s.sock);
    await c.shutdown();
    c.close();
  }
  // memory: containerd-shim-runc-v2
  for (let i = 0; i < N; i++) await containerd.ctr(['run', '-d', '--rootfs', rootfs, `mem-${i}`, '/bin/sleep', '1000'], { namespace: 'bench' });
  const shimPids = pidsWhoseCmdline('containerd-shim-runc-v2', containerd.address);
  const peer = summary('containerd-shim-runc-v2', shimPids.map(memOf));
  console.log(`per shim: VmRSS ratio ${ratio(dray.rss, peer.rss).toFixed(3)} (1/${(peer.rss / dray.rss).toFixed(1)}), Pss ratio ${ratio(dray.pss, peer.pss).toFixed(3)} (1/${(peer.pss / dray.pss).toFixed(1)})`);
  for (let i = 0; i < N; i++) {
    await containerd.ctrResult(['task', 'kill', '-s', 'KILL', `mem-${i}`], { namespace: 'bench' });
  }
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < 50; k++) {
      if ((await containerd.ctrResult(['task', 'delete', `mem-${i}`], { namespace: 'bench' })).code === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await containerd.ctrResult(['container', 'delete', `mem-${i}`], { namespace: 'bench' });
  }

  // lifecycle time
  let n = 0;
  const drayTimes = await timeRuns(async () => {
    const id = `life-${++n}`;
    const s = await launchShim({ id, bundle: bundle(['true']), runtime: 'runc', runtimeRoot: rtRoot, stateDir: join(dir, `l${n}`), start: true, log: { path: join(dir, `l${n}`, 'log') } });
    const c = await ShimClient.connect(s.socketPath);
    await c.wait();
    await c.delete();
    c.close();
  }, RUNS);
  let m = 0;
  const peerTimes = await timeRuns(async () => {
    await containerd.ctr(['run', '--rm', '--rootfs', rootfs, `life-${++m}`, '/bin/true'], { namespace: 'bench' });
  }, RUNS);
  printTable([{ name: 'create+start+wait+delete `true` (runc)', dray: drayTimes, peer: peerTimes }], 'containerd 1.6');
} finally {
  containerd.stop();
  for (const id of readdirSync(rtRoot)) execFileSync('runc', ['--root', rtRoot, 'delete', '--force', id], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
