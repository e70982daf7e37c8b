// Unpack benchmark: Dray against the real containerd (1.6), in one run:
// import an image archive into an empty store and unpack it into overlayfs
// snapshots (Dray: loadArchive + unpack, in process; containerd:
// `ctr images import`, which ingests and unpacks, against a containerd
// started fresh on an empty root before each run, start not timed).
// Images: the nginx test image (34 MB gzip layer), and a synthetic one of
// 20,000 small files in one layer (metadata-heavy).
// Run (root): node_modules/.bin/node bench/snapshots/unpack.ts [runs]
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalStore } from '../../src/images/content/local-store.ts';
import { loadArchive } from '../../src/images/archive/load.ts';
import { saveImages } from '../../src/images/archive/save.ts';
import { importRootfs } from '../../src/images/archive/import.ts';
import { parseManifest } from '../../src/images/manifest/manifest.ts';
import { parseImageConfig } from '../../src/images/manifest/config.ts';
import { OverlaySnapshotter } from '../../src/images/snapshots/overlay.ts';
import { unpack } from '../../src/images/unpack.ts';
import { startContainerd, stopAllPeers } from '../../test/harness/index.ts';
import { isCached, testImage } from '../../test/images/index.ts';
import { printTable, type BenchRow } from '../support/stats.ts';

const runs = Number(process.argv[2] ?? 5);
const tmp = mkdtempSync(join(tmpdir(), 'dray-bench-unpack-'));

async function syntheticArchive(): Promise<string> {
  const rootfs = join(tmp, 'synthetic-rootfs');
  for (let d = 0; d < 100; d++) {
    mkdirSync(join(rootfs, `d${d}`), { recursive: true });
    for (let f = 0; f < 200; f++) writeFileSync(join(rootfs, `d${d}`, `f${f}`), `file ${d}/${f}\n`.repeat(20));
  }
  const layerTar = join(tmp, 'synthetic.tar');
  execFileSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', layerTar, '.']);
  const store = new LocalStore(join(tmp, 'synthetic-store'));
  const r = await importRootfs(createReadStream(layerTar), { content: store });
  const out = join(tmp, 'synthetic-archive.tar');
  const ws = createWriteStream(out);
  await saveImages({ content: store, images: [{ name: 'bench/synthetic:1', target: r.target }] }, (c) => new Promise((res, rej) => ws.write(c, (e) => (e ? rej(e) : res()))));
  await new Promise((res) => ws.end(res));
  return out;
}

async function drayOnce(archive: string): Promise<number> {
  const root = mkdtempSync(join(tmp, 'dray-'));
  const store = new LocalStore(join(root, 'content'));
  const s = new OverlaySnapshotter(join(root, 'snapshots'));
  try {
    execFileSync('sync');
    const t0 = performance.now();
    const [img] = await loadArchive(createReadStream(archive), { content: store });
    const p = parseManifest(await store.readBlob(img!.target), img!.target.mediaType);
    if (p.kind !== 'manifest') throw new Error('expected a manifest');
    const cfg = parseImageConfig(await store.readBlob(p.manifest.config));
    await unpack({ snapshotter: s, content: store, layers: p.manifest.layers, diffIds: cfg.rootfs.diff_ids });
    execFileSync('sync');
    return performance.now() - t0;
  } finally {
    s.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function containerdOnce(archive: string): Promise<number> {
  const c = await startContainerd();
  try {
    execFileSync('sync');
    const t0 = performance.now();
    await c.ctr(['images', 'import', '--snapshotter', 'overlayfs', archive], { namespace: 'bench' });
    execFileSync('sync');
    return performance.now() - t0;
  } finally {
    c.stop();
  }
}

try {
  const images: { name: string; archive: string }[] = [{ name: 'synthetic 20k small files', archive: await syntheticArchive() }];
  if (isCached('nginx') || process.env.DRAY_BENCH_BUILD_NGINX) images.push({ name: 'nginx test image', archive: (await testImage('nginx')).dockerArchive });
  else console.log('nginx test image not built yet: skipped (DRAY_BENCH_BUILD_NGINX=1 builds it)');
  const rows: BenchRow[] = [];
  for (const img of images) {
    const dray: number[] = [];
    const peer: number[] = [];
    await drayOnce(img.archive); // warm-up: JIT and page cache, for both sides
    for (let i = 0; i < runs; i++) {
      // Alternate who goes first so caches favour neither.
      if (i % 2 === 0) { dray.push(await drayOnce(img.archive)); peer.push(await containerdOnce(img.archive)); }
      else { peer.push(await containerdOnce(img.archive)); dray.push(await drayOnce(img.archive)); }
    }
    rows.push({ name: `import+unpack ${img.name}`, dray, peer });
  }
  printTable(rows, 'containerd');
} finally {
  stopAllPeers();
  rmSync(tmp, { recursive: true, force: true });
}
