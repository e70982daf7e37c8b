import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openImageStores } from '../../src/images/metadata/open.ts';
import type { ImageStores } from '../../src/images/metadata/open.ts';
import type { Descriptor } from '../../src/images/content/types.ts';
import { encodeManifest, parseManifest } from '../../src/images/manifest/manifest.ts';
import { MEDIA_TYPE } from '../../src/images/manifest/media-types.ts';
import { writeBlob } from '../../src/images/content/local-store.ts';
import { writeDiffToContent } from '../../src/images/layers/commit.ts';
import { snapshotDiffSource } from '../../src/images/layers/diff.ts';
import type { ImageManifest } from '../../src/images/manifest/manifest.ts';
import { parseImageConfig } from '../../src/images/manifest/config.ts';
import { loadArchive } from '../../src/images/archive/load.ts';
import { saveImages } from '../../src/images/archive/save.ts';
import { importRootfs } from '../../src/images/archive/import.ts';
import { exportSnapshot } from '../../src/images/archive/export.ts';
import { ArchiveError } from '../../src/images/archive/errors.ts';
import { OverlaySnapshotter } from '../../src/images/snapshots/overlay.ts';
import { withMount } from '../../src/images/snapshots/mount.ts';
import { unpack } from '../../src/images/unpack.ts';
import { needsRoot } from '../support/root.ts';
import { testImage } from '../images/index.ts';
import { startDockerd } from '../harness/index.ts';
import { makeTar, tempDir } from './helpers.ts';
import type { Entry, TestContext } from './helpers.ts';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function stores(t: TestContext): ImageStores {
  const s = openImageStores(tempDir(t, 'dray-images-'));
  t.after(() => s.close());
  return s;
}

async function manifestOf(st: ImageStores, target: Descriptor): Promise<ImageManifest> {
  const p = parseManifest(await st.content.readBlob(target), target.mediaType);
  assert.equal(p.kind, 'manifest');
  return (p as { manifest: ImageManifest }).manifest;
}

/** Unpacks an image into a fresh overlay snapshotter and runs busybox in it under chroot. */
async function runsUnderChroot(t: TestContext, st: ImageStores, target: Descriptor, cmd = ['/bin/busybox', 'echo', 'ok']): Promise<string> {
  const m = await manifestOf(st, target);
  const config = parseImageConfig(await st.content.readBlob(m.config));
  const s = new OverlaySnapshotter(tempDir(t, 'dray-snaps-'));
  t.after(() => s.close());
  const r = await unpack({ snapshotter: s, content: st.content, layers: m.layers, diffIds: config.rootfs.diff_ids });
  return withMount(await s.view('run', r.chainId), (mnt) => execFileSync('chroot', [mnt, ...cmd], { encoding: 'utf8' }));
}

function fileSink(path: string): { sink: (c: Buffer) => Promise<void>; close: () => Promise<void> } {
  const ws = createWriteStream(path);
  return {
    sink: (c) => new Promise((resolve, reject) => { ws.write(c, (e) => (e ? reject(e) : resolve())); }),
    close: () => new Promise((resolve) => ws.end(resolve)),
  };
}

/** The busybox test image loaded into fresh stores. */
async function busyboxInStore(t: TestContext) {
  const img = await testImage('busybox');
  const st = stores(t);
  const [busybox] = await loadArchive(createReadStream(img.dockerArchive), { content: st.content });
  return { img, st, busybox };
}

async function saveTo(st: ImageStores, name: string, target: Descriptor, path: string): Promise<void> {
  const f = fileSink(path);
  await saveImages({ content: st.content, images: [{ name, target }] }, f.sink);
  await f.close();
}

test('load a docker 25-style archive and a plain OCI layout tar; the image runs', needsRoot, async (t) => {
  const img = await testImage('busybox');
  const st = stores(t);
  const loaded = await loadArchive(createReadStream(img.dockerArchive), { content: st.content, images: st.images });
  assert.deepEqual(loaded.map((l) => [l.name, l.id, l.target.digest]), [['docker.io/library/busybox:latest', img.configDigest, img.manifestDigest]]);
  assert.equal(st.images.get('docker.io/library/busybox:latest')?.target.digest, img.manifestDigest);
  assert.equal(await runsUnderChroot(t, st, loaded[0]!.target), 'ok\n');

  const st2 = stores(t);
  const ociTar = join(tempDir(t), 'oci.tar');
  execFileSync('tar', ['-C', img.ociLayout, '-cf', ociTar, '.']);
  const l2 = await loadArchive(createReadStream(ociTar), { content: st2.content, images: st2.images });
  assert.deepEqual(l2.map((l) => l.name), ['docker.io/library/busybox:latest']);
  assert.equal(l2[0]!.id, img.configDigest);
});

test('save writes manifest.json, repositories and an OCI layout; skopeo and umoci read it; it loads back', needsRoot, async (t) => {
  const { img, st, busybox } = await busyboxInStore(t);
  const dir = tempDir(t);
  const out = join(dir, 'saved.tar');
  await saveTo(st, 'example.com/team/bb:v1', busybox!.target, out);
  const names = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).trim().split('\n');
  for (const n of ['oci-layout', 'index.json', 'manifest.json', 'repositories', `blobs/sha256/${img.manifestDigest.slice(7)}`]) assert.ok(names.includes(n), n);
  const manifestJson = JSON.parse(execFileSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' }));
  assert.deepEqual(manifestJson[0].RepoTags, ['example.com/team/bb:v1']);
  assert.equal(manifestJson[0].Config, `blobs/sha256/${img.configDigest.slice(7)}`);

  // skopeo copies it out of the archive (verifying every digest) into an OCI layout; umoci lists that layout.
  const layout = join(dir, 'layout');
  execFileSync('skopeo', ['copy', '--quiet', `oci-archive:${out}:v1`, `oci:${layout}:copied`]);
  assert.match(execFileSync('umoci', ['ls', '--layout', layout], { encoding: 'utf8' }), /copied/);
  const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${layout}:copied`], { encoding: 'utf8' }));
  assert.deepEqual(inspect.rootfs.diff_ids, img.layers.map((l) => l.diffId));

  const st2 = stores(t);
  const back = await loadArchive(createReadStream(out), { content: st2.content, images: st2.images });
  assert.deepEqual(back.map((b) => [b.name, b.id, b.target.digest]), [['example.com/team/bb:v1', img.configDigest, img.manifestDigest]]);
});

test('real docker: loads and runs an image Dray saved; Dray loads and runs what docker saved', needsRoot, async (t) => {
  const { img, st, busybox } = await busyboxInStore(t);
  const dir = tempDir(t);
  const drayTar = join(dir, 'dray.tar');
  await saveTo(st, 'dray-test/busybox:saved', busybox!.target, drayTar);
  const docker = await startDockerd();
  t.after(() => docker.stop());
  await docker.docker(['load', '-i', drayTar]);
  assert.equal((await docker.docker(['run', '--rm', '--network', 'none', 'dray-test/busybox:saved', 'echo', 'ok'])).trim(), 'ok');
  const id = (await docker.docker(['image', 'inspect', '-f', '{{.Id}}', 'dray-test/busybox:saved'])).trim();
  assert.equal(id, img.configDigest);

  // docker 20.10 saves the old layout: <id>/layer.tar, <id>.json, manifest.json.
  const dockerTar = join(dir, 'docker.tar');
  await docker.docker(['save', '-o', dockerTar, 'dray-test/busybox:saved']);
  const names = execFileSync('tar', ['-tf', dockerTar], { encoding: 'utf8' });
  assert.match(names, /layer\.tar/);
  const st2 = stores(t);
  const loaded = await loadArchive(createReadStream(dockerTar), { content: st2.content, images: st2.images });
  assert.deepEqual(loaded.map((l) => [l.name, l.id]), [['docker.io/dray-test/busybox:saved', img.configDigest]]);
  assert.equal(await runsUnderChroot(t, st2, loaded[0]!.target), 'ok\n');

  // Whiteouts both ways. docker builds layers that delete a file and replace a
  // directory (its diff has .wh.<name> and an opaque dir); Dray applies them.
  const ctx = join(dir, 'build');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Dockerfile'), [
    'FROM dray-test/busybox:saved',
    'RUN mkdir -p /d && echo old > /d/old && echo keep > /keep',
    'RUN rm /bin/ls && rm -rf /d && mkdir /d && echo new > /d/new',
  ].join('\n') + '\n');
  await docker.docker(['build', '--network', 'none', '-q', '-t', 'dray-test/whiteouts:1', ctx]);
  const builtTar = join(dir, 'built.tar');
  await docker.docker(['save', '-o', builtTar, 'dray-test/whiteouts:1']);
  const st3 = stores(t);
  const [built] = await loadArchive(createReadStream(builtTar), { content: st3.content, images: st3.images });
  const builtLayers = (await manifestOf(st3, built!.target)).layers;
  const top = execFileSync('tar', ['-t'], { input: await st3.content.readBlob(builtLayers.at(-1)!), encoding: 'utf8' }).split('\n');
  assert.ok(top.includes('bin/.wh.ls') && top.includes('d/.wh..wh..opq'), top.join(' '));
  assert.equal(await runsUnderChroot(t, st3, built!.target, ['/bin/sh', '-c', 'test ! -e /bin/ls && ls /d && cat /keep']), 'new\nkeep\n');

  // Dray makes the same kind of layer (a diff of a snapshot changed through its
  // mount); docker loads the image and sees the deletions.
  const committed = await commitChange(t, st, busybox!.target, (root) => {
    rmSync(join(root, 'bin/ls'));
    rmSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc/only'), 'dray\n');
  });
  const committedTar = join(dir, 'committed.tar');
  await saveTo(st, 'dray-test/committed:1', committed, committedTar);
  await docker.docker(['load', '-i', committedTar]);
  const out = await docker.docker(['run', '--rm', '--network', 'none', 'dray-test/committed:1', 'sh', '-c', 'test ! -e /bin/ls && test ! -e /etc/passwd && cat /etc/only']);
  assert.equal(out, 'dray\n'); // (docker bind-mounts its own hosts, hostname and resolv.conf into /etc)
});

/**
 * What docker commit does: unpack an image, change its filesystem through
 * the mounted snapshot, store the diff as a new layer and make a new image.
 */
async function commitChange(t: TestContext, st: ImageStores, base: Descriptor, change: (root: string) => void): Promise<Descriptor> {
  const m = await manifestOf(st, base);
  const config = parseImageConfig(await st.content.readBlob(m.config));
  const s = new OverlaySnapshotter(tempDir(t, 'dray-snaps-'));
  t.after(() => s.close());
  const u = await unpack({ snapshotter: s, content: st.content, layers: m.layers, diffIds: config.rootfs.diff_ids });
  await withMount(await s.prepare('ctr', u.chainId), change);
  const layer = await writeDiffToContent(st.content, snapshotDiffSource(s, 'ctr'));
  const cfg = Buffer.from(JSON.stringify({
    ...config,
    rootfs: { type: 'layers', diff_ids: [...config.rootfs.diff_ids, layer.diffId] },
    history: [...(config.history ?? []), { created: new Date().toISOString(), created_by: 'dray commit' }],
  }));
  const cfgDesc = { mediaType: MEDIA_TYPE.ociConfig, digest: sha256(cfg), size: cfg.length };
  await writeBlob(st.content, 'cfg', cfg, cfgDesc);
  const manifest = encodeManifest({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: cfgDesc, layers: [...m.layers, layer.descriptor] });
  const target = { mediaType: MEDIA_TYPE.ociManifest, digest: sha256(manifest), size: manifest.length };
  await writeBlob(st.content, 'manifest', manifest, target);
  return target;
}

test('import a rootfs tarball as a one-layer image; export a snapshot and import it again', needsRoot, async (t) => {
  const img = await testImage('busybox');
  const dir = tempDir(t);
  const rootfsTar = join(dir, 'rootfs.tgz');
  execFileSync('tar', ['--numeric-owner', '-C', img.rootfs, '-czf', rootfsTar, '.']);
  const st = stores(t);
  const r = await importRootfs(createReadStream(rootfsTar), { content: st.content, message: 'from a tarball', config: { Cmd: ['sh'] } });
  const m = await manifestOf(st, r.target);
  assert.equal(m.layers.length, 1);
  const config = parseImageConfig(await st.content.readBlob(m.config));
  assert.deepEqual(config.rootfs.diff_ids, [r.diffId]);
  assert.equal(config.history?.[0]?.comment, 'from a tarball');
  assert.equal(await runsUnderChroot(t, st, r.target), 'ok\n');

  // Export: unpack, write a file in a child snapshot, export the whole filesystem.
  const s = new OverlaySnapshotter(tempDir(t, 'dray-snaps-'));
  t.after(() => s.close());
  const u = await unpack({ snapshotter: s, content: st.content, layers: m.layers, diffIds: config.rootfs.diff_ids });
  await s.prepare('ctr', u.chainId);
  writeFileSync(join(s.dir('ctr'), 'marker'), 'exported\n');
  const chunks: Buffer[] = [];
  await exportSnapshot(s, 'ctr', async (c) => { chunks.push(c); });
  const exported = Buffer.concat(chunks);
  const listing = execFileSync('tar', ['-t'], { input: exported, encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n');
  assert.ok(listing.includes('bin/busybox') && listing.includes('marker'));
  const again = await importRootfs(Readable.from([exported]), { content: st.content });
  assert.equal(await runsUnderChroot(t, st, again.target, ['/bin/busybox', 'cat', '/marker']), 'exported\n');
  await assert.rejects(importRootfs(Readable.from([Buffer.alloc(1024, 7)]), { content: st.content }), /malformed tar/);
});

// Hostile and broken archives: refused with a clear error, no image recorded.
function dockerArchive(manifest: unknown, extra: Entry[]): Promise<Buffer> {
  return makeTar([...extra, { name: 'manifest.json', body: JSON.stringify(manifest) }]);
}

const goodLayer = await makeTar([{ name: 'f', body: 'x' }]);
const goodConfig = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(goodLayer)] } });

const hostile: [string, () => Promise<Buffer>, RegExp][] = [
  ['Config path climbing out', () => dockerArchive([{ Config: '../../../etc/passwd', RepoTags: ['evil:1'], Layers: [] }], []), /outside the archive/],
  ['absolute layer path', () => dockerArchive([{ Config: 'c.json', RepoTags: ['evil:1'], Layers: ['/etc/shadow'] }], [{ name: 'c.json', body: goodConfig }]), /absolute path/],
  ['symlinked layer pointing outside', () => dockerArchive([{ Config: 'c.json', RepoTags: ['evil:1'], Layers: ['l/layer.tar'] }], [
    { name: 'c.json', body: goodConfig }, { name: 'l/layer.tar', type: 'symlink', linkname: '../../../../etc/passwd' }]), /outside the archive/],
  ['symlink to an absolute path', () => dockerArchive([], [{ name: 'x', type: 'symlink', linkname: '/etc/passwd' }]), /absolute path/],
  ['entry named with ..', () => makeTar([{ name: '../escape', body: 'x' }]), /outside the archive/],
  ['blob not matching its digest name', () => makeTar([{ name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' }, { name: `blobs/sha256/${'a'.repeat(64)}`, body: 'not that' }, { name: 'index.json', body: '{"schemaVersion":2,"manifests":[]}' }]), /does not match its digest/],
  ['layer whose diff_id is not the config\'s', () => dockerArchive([{ Config: 'c.json', RepoTags: ['evil:1'], Layers: ['l.tar'] }], [
    { name: 'c.json', body: goodConfig.replace(sha256(goodLayer), sha256('other')) }, { name: 'l.tar', body: goodLayer }]), /the config says/],
  ['missing layer', () => dockerArchive([{ Config: 'c.json', RepoTags: ['evil:1'], Layers: ['nope.tar'] }], [{ name: 'c.json', body: goodConfig }]), /has no "nope.tar"/],
  ['layer count differs from diff_ids', () => dockerArchive([{ Config: 'c.json', RepoTags: ['evil:1'], Layers: [] }], [{ name: 'c.json', body: goodConfig }]), /0 layers but the config lists 1/],
  ['bad image name', () => dockerArchive([{ Config: 'c.json', RepoTags: ['UPPER:case'], Layers: ['l.tar'] }], [{ name: 'c.json', body: goodConfig }, { name: 'l.tar', body: goodLayer }]), /invalid image name/],
  ['index.json without oci-layout', () => makeTar([{ name: 'index.json', body: '{"schemaVersion":2,"manifests":[]}' }]), /without oci-layout/],
  ['neither manifest', () => makeTar([{ name: 'hello', body: 'x' }]), /not a docker save archive/],
  ['a device entry', () => makeTar([{ name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }]), /unexpected char entry/],
];

for (const [name, make, why] of hostile) {
  test(`hostile archive refused: ${name}`, async (t) => {
    const st = stores(t);
    await assert.rejects(loadArchive(Readable.from([await make()]), { content: st.content, images: st.images }), (e: Error) => {
      assert.ok(e instanceof ArchiveError || e.name === 'ManifestError', `${e.name}: ${e.message}`);
      assert.match(e.message, why);
      return true;
    });
    assert.deepEqual(st.images.list(), []);
  });
}

test('a good hand-made old-style archive loads (the hostile tests are not failing for another reason)', async (t) => {
  const st = stores(t);
  const tarball = await dockerArchive([{ Config: 'c.json', RepoTags: ['good:1'], Layers: ['l/layer.tar'] }], [
    { name: 'c.json', body: goodConfig }, { name: 'real/layer.tar', body: goodLayer }, { name: 'l/layer.tar', type: 'symlink', linkname: '../real/layer.tar' }]);
  const r = await loadArchive(Readable.from([tarball]), { content: st.content, images: st.images });
  assert.deepEqual(r.map((x) => [x.name, x.id]), [['docker.io/library/good:1', sha256(goodConfig)]]);
});

test('save: one image under two names is one manifest.json entry with both tags, each blob once', needsRoot, async (t) => {
  const { st, busybox } = await busyboxInStore(t);
  const chunks: Buffer[] = [];
  await saveImages({ content: st.content, images: [{ name: 'a:1', target: busybox!.target }, { name: 'localhost:5000/b:2', target: busybox!.target }] }, async (c) => { chunks.push(c); });
  const tarball = Buffer.concat(chunks);
  const names = execFileSync('tar', ['-t'], { input: tarball, encoding: 'utf8' }).trim().split('\n');
  assert.equal(new Set(names).size, names.length);
  const mj = JSON.parse(execFileSync('tar', ['-xO', 'manifest.json'], { input: tarball, encoding: 'utf8' }));
  assert.equal(mj.length, 1);
  assert.deepEqual(mj[0].RepoTags, ['a:1', 'localhost:5000/b:2']);
  const st2 = stores(t);
  const back = await loadArchive(Readable.from([tarball]), { content: st2.content, images: st2.images });
  assert.deepEqual(back.map((b) => b.name).sort(), ['docker.io/library/a:1', 'localhost:5000/b:2']);
});

/** Stores a blob as-is; returns its descriptor. */
async function put(st: ImageStores, data: Buffer, mediaType: string): Promise<Descriptor> {
  const desc = { mediaType, digest: sha256(data), size: data.length };
  await writeBlob(st.content, `t-${desc.digest}`, data, desc);
  return desc;
}

async function saveToBuffer(st: ImageStores, opts: { name: string; target: Descriptor; allPlatforms?: boolean }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await saveImages({ content: st.content, images: [{ name: opts.name, target: opts.target }], ...(opts.allPlatforms ? { allPlatforms: true } : {}) }, async (c) => { chunks.push(c); });
  return Buffer.concat(chunks);
}

const tarNames = (tarball: Buffer): string[] => execFileSync('tar', ['-t'], { input: tarball, encoding: 'utf8' }).trim().split('\n');
const tarJson = (tarball: Buffer, name: string): unknown => JSON.parse(execFileSync('tar', ['-xO', name], { input: tarball, encoding: 'utf8' }));

test('save allPlatforms: the whole index with the platforms the store has; manifest.json keeps the host one; it loads back', needsRoot, async (t) => {
  const { st, busybox } = await busyboxInStore(t);
  const host = busybox!.target;
  const absent = { mediaType: MEDIA_TYPE.ociManifest, digest: sha256('a platform never pulled'), size: 23, platform: { os: 'linux', architecture: 'arm64' } };
  const index = await put(st, encodeManifest({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [{ ...host, platform: { os: 'linux', architecture: 'amd64' } }, absent] } as never), MEDIA_TYPE.ociIndex);
  const whole = await saveToBuffer(st, { name: 'multi:1', target: index, allPlatforms: true });
  const ix = tarJson(whole, 'index.json') as { manifests: Descriptor[] };
  assert.equal(ix.manifests.length, 1);
  assert.equal(ix.manifests[0]!.digest, index.digest);
  const names = tarNames(whole);
  for (const d of [index.digest, host.digest]) assert.ok(names.includes(`blobs/${d.replace(':', '/')}`), d);
  assert.ok(!names.includes(`blobs/${absent.digest.replace(':', '/')}`));
  const mj = tarJson(whole, 'manifest.json') as { Config: string; RepoTags: string[] }[];
  assert.equal(mj.length, 1);
  assert.equal(mj[0]!.Config, `blobs/${(await manifestOf(st, host)).config.digest.replace(':', '/')}`);
  assert.deepEqual(mj[0]!.RepoTags, ['multi:1']);
  // Without the option: the host's manifest only, as before.
  const one = await saveToBuffer(st, { name: 'multi:1', target: index });
  assert.equal((tarJson(one, 'index.json') as { manifests: Descriptor[] }).manifests[0]!.digest, host.digest);
  assert.ok(!tarNames(one).includes(`blobs/${index.digest.replace(':', '/')}`));
  const st2 = stores(t);
  const [back] = await loadArchive(Readable.from([whole]), { content: st2.content, images: st2.images });
  assert.equal(back!.target.digest, index.digest);
  assert.equal(await runsUnderChroot(t, st2, host), 'ok\n');
});

test('save: a foreign layer the store lacks stays in manifest.json (docker needs every layer listed) with LayerSources, and is not in the archive', needsRoot, async (t) => {
  const { st, busybox } = await busyboxInStore(t);
  const m = await manifestOf(st, busybox!.target);
  const config = parseImageConfig(await st.content.readBlob(m.config));
  const foreign = { mediaType: MEDIA_TYPE.dockerForeignLayerGzip, digest: sha256('windows base layer'), size: 18, urls: ['https://example.invalid/base.tar.gz'] };
  const foreignDiffId = sha256('windows base layer, uncompressed');
  const raw = JSON.parse((await st.content.readBlob(m.config)).toString()) as { rootfs: { diff_ids: string[] } };
  raw.rootfs.diff_ids = [foreignDiffId, ...config.rootfs.diff_ids];
  const cfg = await put(st, Buffer.from(JSON.stringify(raw)), m.config.mediaType);
  const man = await put(st, encodeManifest({ ...m, config: cfg, layers: [foreign, ...m.layers] }), busybox!.target.mediaType);
  const tarball = await saveToBuffer(st, { name: 'withforeign:1', target: man });
  const mj = tarJson(tarball, 'manifest.json') as { Layers: string[]; LayerSources?: Record<string, Descriptor> }[];
  assert.equal(mj[0]!.Layers.length, m.layers.length + 1);
  assert.equal(mj[0]!.Layers[0], `blobs/${foreign.digest.replace(':', '/')}`);
  assert.deepEqual(mj[0]!.LayerSources, { [foreignDiffId]: foreign });
  assert.ok(!tarNames(tarball).includes(`blobs/${foreign.digest.replace(':', '/')}`));
});
