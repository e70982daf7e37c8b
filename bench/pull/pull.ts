// Pull benchmark: Dray against the real dockerd (20.10), in one run, from a
// local registry (distribution 2.8 on 127.0.0.1), each pull from empty
// stores: a synthetic image of ten 20 MB layers and the nginx test image.
// Both sides pull AND unpack (dockerd extracts into overlay2; Dray applies
// each layer into overlay snapshots while it downloads, once the ones below
// it are committed). Times are the wall time of the whole client process (docker CLI;
// a fresh node process for Dray), and Dray's in-process pull time besides;
// a last row shows Dray's pull alone (no unpack) against dockerd's full pull.
// Dray's side runs as an esbuild bundle (build/bench-pull/, made first, not
// timed), as the dray CLI ships (scripts/build-cli.ts): a fresh process then
// loads two plain .mjs files instead of type-stripping dozens of .ts modules
// (~0.2 s of CPU less per pull). DRAY_BENCH_SOURCE=1 runs the .ts sources.
// Node runs with --max-semi-space-size=32 (MB): a pull allocates a young
// object per network and inflate chunk, and V8's default 16 MB semi-space
// made scavenges a fifth of the main thread's time (nginx: -0.2 s of CPU).
// Run (root): node_modules/.bin/node bench/pull/pull.ts [runs]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import { startDockerd, startRegistry, stopAllPeers, execChecked } from '../../test/harness/index.ts';
import { testImage, isCached } from '../../test/images/index.ts';
import { writeBigImageLayout } from '../../test/images-registry/support/big-image.ts';
import { median, printTable, type BenchRow } from '../support/stats.ts';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 5);
const repo = fileURLToPath(new URL('../..', import.meta.url));
let drayPull = 'bench/pull/dray-pull.ts';
const NODE_FLAGS = ['--max-semi-space-size=32'];
if (!process.env['DRAY_BENCH_SOURCE']) {
  // Two levels below the repository, as src/x/y.ts: the addon's relative path holds.
  const outdir = join(repo, 'build/bench-pull');
  await build({
    entryPoints: { 'dray-pull': join(repo, 'bench/pull/dray-pull.ts'), 'apply-worker': join(repo, 'src/images/layers/apply-worker.ts') },
    bundle: true, format: 'esm', platform: 'node', target: 'node24', outdir, outExtension: { '.js': '.mjs' },
    external: ['*.node'], logLevel: 'warning',
    banner: { js: "import { createRequire as __drayRequire } from 'node:module'; const require = __drayRequire(import.meta.url);" },
  });
  drayPull = join(outdir, 'dray-pull.mjs');
}
const tmp = mkdtempSync(join(tmpdir(), 'dray-bench-pull-'));
const reg = await startRegistry();
const dockerd = await startDockerd();
try {
  const images: { name: string; ref: string }[] = [];
  const synth = join(tmp, 'synth');
  await writeBigImageLayout(synth, 10, 20 << 20, 'synth');
  execFileSync('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', `oci:${synth}:synth`, `docker://${reg.host}/bench/synth:1`], { stdio: 'pipe' });
  images.push({ name: 'synthetic 10 x 20 MB', ref: `${reg.host}/bench/synth:1` });
  if (isCached('nginx') || process.env.DRAY_BENCH_BUILD_NGINX) {
    const nginx = await testImage('nginx');
    execFileSync('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', `oci:${nginx.ociLayout}:latest`, `docker://${reg.host}/bench/nginx:latest`], { stdio: 'pipe' });
    images.push({ name: 'nginx test image', ref: `${reg.host}/bench/nginx:latest` });
  } else console.log('nginx test image not built yet: skipped (DRAY_BENCH_BUILD_NGINX=1 builds it)');

  const rows: BenchRow[] = [];
  const inProcess: BenchRow[] = [];
  let peakRssKb = 0;
  for (const img of images) {
    const dray: number[] = [];
    const drayInner: number[] = [];
    const drayPullOnly: number[] = [];
    const docker: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Alternate who goes first so caches favour neither.
      const order = i % 2 === 0 ? ['dray', 'docker'] : ['docker', 'dray'];
      for (const who of order) {
        // Start each pull with no dirty pages from the previous one.
        execFileSync('sync');
        if (who === 'dray') {
          const root = mkdtempSync(join(tmp, 'dray-root-'));
          const t0 = performance.now();
          const out = await execChecked(process.execPath, [...NODE_FLAGS, drayPull, '--root', root, '--ref', img.ref, '--unpack']);
          dray.push(performance.now() - t0);
          const r = JSON.parse(out.trim().split('\n').pop()!) as { ms: number; maxRssKb: number };
          drayInner.push(r.ms);
          peakRssKb = Math.max(peakRssKb, r.maxRssKb);
          execFileSync('sh', ['-c', `umount -R ${root}/snapshots 2>/dev/null; rm -rf ${root}`]);
          // The same pull without unpacking: the registry client's own share.
          execFileSync('sync');
          const root2 = mkdtempSync(join(tmp, 'dray-root-'));
          const out2 = await execChecked(process.execPath, [...NODE_FLAGS, drayPull, '--root', root2, '--ref', img.ref]);
          drayPullOnly.push((JSON.parse(out2.trim().split('\n').pop()!) as { ms: number }).ms);
          rmSync(root2, { recursive: true, force: true });
        } else {
          const t0 = performance.now();
          await dockerd.docker(['pull', '-q', img.ref], { timeoutMs: 600_000 });
          docker.push(performance.now() - t0);
          await dockerd.docker(['rmi', '-f', img.ref]);
        }
      }
    }
    rows.push({ name: `pull+unpack ${img.name}`, dray, peer: docker });
    inProcess.push({ name: `pull+unpack ${img.name} (Dray in-process)`, dray: drayInner, peer: docker });
    inProcess.push({ name: `${img.name}: Dray pull only vs dockerd pull+extract`, dray: drayPullOnly, peer: docker });
  }
  console.log(`\n${runs} runs each, from empty stores; registry ${reg.host}; Dray and dockerd both pull and extract (overlay), 3 parallel downloads.`);
  printTable([...rows, ...inProcess], 'dockerd');
  console.log(`Dray peak RSS: ${(peakRssKb / 1024).toFixed(0)} MB (whole node process)`);
  for (const r of rows) console.log(`${r.name}: dray ${median(r.dray).toFixed(0)} ms, dockerd ${median(r.peer).toFixed(0)} ms, ratio ${(median(r.dray) / median(r.peer)).toFixed(2)} (target <= 0.70)`);
} finally {
  dockerd.stop();
  reg.stop();
  stopAllPeers();
  rmSync(tmp, { recursive: true, force: true });
}
