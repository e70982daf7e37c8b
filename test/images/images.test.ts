// The test image builder: layer tars, digests, layouts and archives are what
// real tools expect, and a rebuild gives the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { writeLayer } from './layer.ts';
import { testImage } from './index.ts';
import { needsRoot } from '../support/root.ts';

interface Entry { name: string; type: string; linkname: string | null; uid: number; gid: number; mode: number; mtime: number; size: number }

async function listLayer(path: string): Promise<Entry[]> {
  const out: Entry[] = [];
  const ex = tar.extract();
  ex.on('entry', (h, stream, next) => {
    out.push({ name: h.name, type: h.type ?? '', linkname: h.linkname ?? null, uid: h.uid ?? -1, gid: h.gid ?? -1, mode: h.mode ?? 0, mtime: h.mtime?.getTime() ?? 0, size: h.size ?? 0 });
    stream.on('end', () => next());
    stream.resume();
  });
  await pipeline(createReadStream(path), createGunzip(), ex);
  return out;
}

async function sha256File(path: string, gunzip = false): Promise<string> {
  const h = createHash('sha256');
  const src = createReadStream(path);
  if (gunzip) await pipeline(src, createGunzip(), async function* (s: AsyncIterable<Buffer>) { for await (const c of s) h.update(c); });
  else await pipeline(src, async function* (s: AsyncIterable<Buffer>) { for await (const c of s) h.update(c); });
  return `sha256:${h.digest('hex')}`;
}

test('writeLayer: order, hardlinks, symlinks, owners, long names, no special files, clamped mtimes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dray-layer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  const blobs = join(dir, 'blobs');
  mkdirSync(join(root, 'b/sub'), { recursive: true });
  mkdirSync(blobs);
  writeFileSync(join(root, 'b/sub/file'), 'data');
  linkSync(join(root, 'b/sub/file'), join(root, 'a-hardlink'));
  symlinkSync('../b/sub/file', join(root, 'b/link'));
  const long = `${'x'.repeat(120)}/${'y'.repeat(120)}`;
  mkdirSync(join(root, 'x'.repeat(120)));
  writeFileSync(join(root, long), 'long');
  chmodSync(join(root, 'b/sub/file'), 0o4755);
  execFileSync('mkfifo', [join(root, 'fifo')]);
  const old = new Date('2020-01-01T00:00:00Z');
  utimesSync(join(root, 'b'), old, old);
  const clamp = new Date('2022-02-02T00:00:00Z');
  const layer = await writeLayer(root, blobs, { clampMtime: clamp, owner: { uid: 0, gid: 0 } });
  const blob = join(blobs, layer.digest.slice(7));
  assert.equal(await sha256File(blob), layer.digest);
  assert.equal(await sha256File(blob, true), layer.diffId);
  const entries = await listLayer(blob);
  const names = entries.map((e) => e.name);
  assert.deepEqual(names, ['a-hardlink', 'b/', 'b/link', 'b/sub/', 'b/sub/file', `${'x'.repeat(120)}/`, long]);
  const byName = new Map(entries.map((e) => [e.name, e]));
  assert.equal(byName.get('a-hardlink')?.type, 'file');
  assert.equal(byName.get('b/sub/file')?.type, 'link');
  assert.equal(byName.get('b/sub/file')?.linkname, 'a-hardlink');
  assert.equal(byName.get('b/link')?.type, 'symlink');
  assert.equal(byName.get('b/link')?.linkname, '../b/sub/file');
  assert.equal(byName.get('a-hardlink')?.mode, 0o4755);
  assert.equal(byName.get('b/')?.mtime, old.getTime());
  assert.equal(byName.get('b/sub/')?.mtime, clamp.getTime());
  assert.ok(entries.every((e) => e.uid === 0 && e.gid === 0));
  // Same tree, same bytes.
  const again = await writeLayer(root, blobs, { clampMtime: clamp, owner: { uid: 0, gid: 0 } });
  assert.deepEqual(again, layer);
});

for (const name of ['busybox', 'nginx'] as const) {
  test(`test image ${name}: layout, archive, digests and diff_ids agree`, name === 'nginx' ? needsRoot : {}, async () => {
    const image = await testImage(name);
    const index = JSON.parse(readFileSync(join(image.ociLayout, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, image.manifestDigest);
    const blobPath = (d: string): string => join(image.ociLayout, 'blobs/sha256', d.slice(7));
    assert.equal(await sha256File(blobPath(image.manifestDigest)), image.manifestDigest);
    const manifest = JSON.parse(readFileSync(blobPath(image.manifestDigest), 'utf8'));
    assert.equal(manifest.config.digest, image.configDigest);
    assert.equal(await sha256File(blobPath(image.configDigest)), image.configDigest);
    const config = JSON.parse(readFileSync(blobPath(image.configDigest), 'utf8'));
    assert.equal(config.architecture, 'amd64');
    assert.equal(config.os, 'linux');
    assert.equal(config.rootfs.diff_ids.length, manifest.layers.length);
    assert.equal(config.history.filter((h: { empty_layer?: boolean }) => !h.empty_layer).length, manifest.layers.length);
    for (const [i, l] of manifest.layers.entries()) {
      assert.equal(await sha256File(blobPath(l.digest)), l.digest);
      assert.equal(await sha256File(blobPath(l.digest), true), config.rootfs.diff_ids[i]);
      const names = (await listLayer(blobPath(l.digest))).map((e) => e.name.replace(/\/$/, ''));
      const seen = new Set<string>();
      for (const n of names) {
        const parent = n.includes('/') ? n.slice(0, n.lastIndexOf('/')) : '';
        assert.ok(parent === '' || seen.has(parent), `${n} comes after its parent`);
        seen.add(n);
      }
    }
    // The docker save archive names the same blobs.
    const archive = new Map<string, Buffer>();
    const ex = tar.extract();
    ex.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => { if (!h.name.startsWith('blobs/')) chunks.push(c as Buffer); });
      stream.on('end', () => { archive.set(h.name, Buffer.concat(chunks)); next(); });
    });
    await pipeline(createReadStream(image.dockerArchive), ex);
    const dm = JSON.parse(String(archive.get('manifest.json')));
    assert.deepEqual(dm[0].RepoTags, [image.ref]);
    assert.equal(dm[0].Config, `blobs/sha256/${image.configDigest.slice(7)}`);
    assert.deepEqual(dm[0].Layers, manifest.layers.map((l: { digest: string }) => `blobs/sha256/${l.digest.slice(7)}`));
    for (const p of [dm[0].Config, ...dm[0].Layers, 'oci-layout', 'index.json', 'repositories']) assert.ok(archive.has(p), p);
  });
}

test('the busybox image is reproducible: a fresh build gives the same digests', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'dray-images-'));
  t.after(() => rmSync(cache, { recursive: true, force: true }));
  const ours = await testImage('busybox');
  const code = `import { testImage } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
    const i = await testImage('busybox'); console.log(JSON.stringify([i.configDigest, i.manifestDigest, i.dir]));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, DRAY_TEST_IMAGES: cache }, encoding: 'utf8' });
  const [config, manifest, dir] = JSON.parse(out) as string[];
  assert.ok(dir?.startsWith(cache));
  assert.equal(config, ours.configDigest);
  assert.equal(manifest, ours.manifestDigest);
});
