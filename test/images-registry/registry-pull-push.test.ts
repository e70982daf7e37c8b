// Pull and push against a real registry (distribution 2.8), with skopeo
// moving images in and out of it and to and from OCI layouts, both ways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, skopeo, type Registry } from './support/registry.ts';
import { testStores } from './support/stores.ts';
import { makeImage, makeIndex, makeLayer, randomLayer, storeBlobs, writeOciLayout } from './support/synth.ts';
import { RegistryClient } from '../../src/images/registry/client.ts';
import { closeIdleConnections } from '../../src/images/registry/transport.ts';
import { pull, imageLayers } from '../../src/images/pull.ts';
import { push } from '../../src/images/push.ts';
import { collectGarbage } from '../../src/images/metadata/gc.ts';
import type { ProgressEvent } from '../../src/images/registry/progress.ts';
import { MEDIA_TYPE } from '../../src/images/manifest/media-types.ts';

let reg: Registry;
let tmp: string;
const client = (): RegistryClient => new RegistryClient({ credentials: () => undefined });

before(async () => {
  reg = await startRegistry();
  tmp = mkdtempSync(join(tmpdir(), 'dray-pullpush-'));
});
after(() => {
  closeIdleConnections();
  reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});


test('an image skopeo copied into the registry pulls into Dray intact, with Docker-shaped progress', async (t) => {
  const layers = [await randomLayer(300_000), await makeLayer([{ name: 'etc/hello', content: 'hi\n' }])];
  const img = makeImage(layers);
  const layout = join(tmp, 'oci-in');
  writeOciLayout(layout, img.blobs, img.manifestDesc, 'v1');
  skopeo(['copy', `oci:${layout}:v1`, `docker://${reg.host}/test/oci-in:v1`], ['--dest-tls-verify=false']);

  const s = testStores(tmp, t);
  const events: ProgressEvent[] = [];
  const unpacked: number[] = [];
  const res = await pull(s, client(), `${reg.host}/test/oci-in:v1`, {
    platform: { os: 'linux', architecture: 'amd64' },
    onProgress: (e) => events.push(e),
    unpack: async (l) => {
      unpacked.push(l.index);
    },
  });
  assert.equal(res.name, `${reg.host}/test/oci-in:v1`);
  assert.equal(res.target.digest, img.manifestDesc.digest);
  assert.deepEqual(res.layers.map((l) => l.diffId), layers.map((l) => l.diffId));
  assert.deepEqual(unpacked, [0, 1]);
  for (const [d, b] of img.blobs) assert.deepEqual(await s.content.readBlob({ digest: d }), b);
  assert.deepEqual(s.images.get(res.name)?.target.digest, img.manifestDesc.digest);
  assert.equal(s.leases.list().length, 0);
  const id0 = layers[0]!.desc.digest.slice(7, 19);
  const statuses = events.filter((e) => e.id === id0).map((e) => e.status);
  for (const want of ['Pulling fs layer', 'Downloading', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']) assert.ok(statuses.includes(want as never), `${want} in ${statuses}`);
  const dl = events.filter((e) => e.id === id0 && e.status === 'Downloading').at(-1);
  assert.deepEqual(dl?.progressDetail, { current: layers[0]!.blob.length, total: layers[0]!.blob.length });
  assert.ok(statuses.indexOf('Download complete') < statuses.indexOf('Pull complete'));

  // A second pull finds everything there.
  const again: ProgressEvent[] = [];
  await pull(s, client(), `${reg.host}/test/oci-in:v1`, { platform: { os: 'linux', architecture: 'amd64' }, onProgress: (e) => again.push(e) });
  assert.ok(again.filter((e) => e.status === 'Already exists').length === 2);
  // By digest, and the layers again from the stored image.
  const byDigest = await pull(s, client(), `${reg.host}/test/oci-in@${img.manifestDesc.digest}`);
  assert.equal(byDigest.name, `${reg.host}/test/oci-in@${img.manifestDesc.digest}`);
  const ls = await imageLayers(s, res.target, { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(ls.layers.map((l) => l.descriptor.digest), layers.map((l) => l.desc.digest));
  // GC keeps all of it while the image is recorded.
  assert.deepEqual((await collectGarbage(s.db, s.content)).removed, []);
});

test('a multi-platform index pulls the wanted platform only and records the index', async (t) => {
  // skopeo 1.9 reads only OCI indexes from a layout; the Docker manifest list goes in by Dray's push.
  for (const format of ['oci', 'docker'] as const) {
    const amd = makeImage([await randomLayer(1000)], { format });
    const arm = makeImage([await randomLayer(1000)], { format, architecture: 'arm', variant: 'v7' });
    const idx = makeIndex([{ image: amd, platform: { os: 'linux', architecture: 'amd64' } }, { image: arm, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }], format);
    const repo = `${reg.host}/test/multi-${format}`;
    if (format === 'oci') {
      const layout = join(tmp, 'oci-multi');
      writeOciLayout(layout, idx.blobs, idx.indexDesc, 'multi');
      skopeo(['copy', '--all', `oci:${layout}:multi`, `docker://${repo}:1`], ['--dest-tls-verify=false']);
    } else {
      const src = testStores(tmp, t);
      await storeBlobs(src.content, idx.blobs);
      src.images.put('docker.io/library/list:1', idx.indexDesc);
      await push(src, client(), `${repo}:1`, { source: 'list:1' });
      const raw = JSON.parse(skopeo(['inspect', '--raw', `docker://${repo}:1`], ['--tls-verify=false'])) as { mediaType: string };
      assert.equal(raw.mediaType, MEDIA_TYPE.dockerManifestList);
    }
    const s = testStores(tmp, t);
    const res = await pull(s, client(), `${repo}:1`, { platform: { os: 'linux', architecture: 'armhf' } });
    assert.equal(res.target.digest, idx.indexDesc.digest);
    assert.equal(res.target.mediaType, format === 'oci' ? MEDIA_TYPE.ociIndex : MEDIA_TYPE.dockerManifestList);
    assert.equal(res.manifest.digest, arm.manifestDesc.digest);
    assert.equal(await s.content.exists(arm.layers[0]!.desc.digest), true);
    assert.equal(await s.content.exists(amd.layers[0]!.desc.digest), false);
    await assert.rejects(pull(s, client(), `${repo}:1`, { platform: { os: 'linux', architecture: 's390x' } }), /no matching manifest for linux\/s390x in the manifest list entries/);
    // Pushing that partial image pushes the one platform's manifest (as docker 20.10 does).
    const pushed = await push(s, client(), `${repo}-copy:arm`, { source: `${repo}:1`, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } });
    assert.equal(pushed.digest, arm.manifestDesc.digest);
  }
});

test('Dray pushes (monolithic and chunked) and skopeo copies the image out to an OCI layout identically', async (t) => {
  const s = testStores(tmp, t);
  const layers = [await randomLayer(700_000), await randomLayer(20_000)];
  const img = makeImage(layers, { format: 'docker' });
  await storeBlobs(s.content, img.blobs);
  s.images.put('docker.io/library/local:1', img.manifestDesc);
  const events: ProgressEvent[] = [];
  const r1 = await push(s, client(), `${reg.host}/pushed/mono:1`, { source: 'local:1', onProgress: (e) => events.push(e) });
  assert.equal(r1.digest, img.manifestDesc.digest);
  assert.ok(events.some((e) => e.status === 'Pushed'));
  const r2 = await push(s, client(), `${reg.host}/pushed/chunked:1`, { source: 'local:1', chunkSize: 64 * 1024 });
  assert.equal(r2.digest, img.manifestDesc.digest);
  for (const repo of ['mono', 'chunked']) {
    const out = join(tmp, `out-${repo}`);
    skopeo(['copy', `docker://${reg.host}/pushed/${repo}:1`, `oci:${out}:x`], ['--src-tls-verify=false']);
    for (const l of layers) assert.deepEqual(readFileSync(join(out, 'blobs/sha256', l.desc.digest.slice(7))), l.blob);
    const inspect = JSON.parse(skopeo(['inspect', `docker://${reg.host}/pushed/${repo}:1`], ['--tls-verify=false'])) as { Digest: string; Layers: string[] };
    assert.equal(inspect.Digest, img.manifestDesc.digest);
    assert.deepEqual(inspect.Layers, layers.map((l) => l.desc.digest));
  }
  // Everything already there: a re-push uploads nothing.
  const again: ProgressEvent[] = [];
  await push(s, client(), `${reg.host}/pushed/mono:1`, { source: 'local:1', onProgress: (e) => again.push(e) });
  assert.equal(again.filter((e) => e.status === 'Layer already exists').length, 3);
});

test('push mounts blobs across repositories of the same registry', async (t) => {
  const s = testStores(tmp, t);
  const img = makeImage([await randomLayer(50_000)]);
  await storeBlobs(s.content, img.blobs);
  s.images.put('docker.io/library/m:1', img.manifestDesc);
  await push(s, client(), `${reg.host}/mount/src:1`, { source: 'm:1' });
  // A fresh store pulls it from src, then pushes to dst: the blobs are mounted.
  const s2 = testStores(tmp, t);
  await pull(s2, client(), `${reg.host}/mount/src:1`);
  const events: ProgressEvent[] = [];
  await push(s2, client(), `${reg.host}/mount/dst:1`, { source: `${reg.host}/mount/src:1`, onProgress: (e) => events.push(e) });
  const mounted = events.filter((e) => e.status === 'Mounted from');
  assert.equal(mounted.length, 2);
  assert.equal(mounted[0]!.detail, 'mount/src');
  skopeo(['inspect', `docker://${reg.host}/mount/dst:1`], ['--tls-verify=false']);
});

test('a whole index pushed by Dray is read back by skopeo --all', async (t) => {
  const s = testStores(tmp, t);
  const a = makeImage([await randomLayer(3000)]);
  const b = makeImage([await randomLayer(3000)], { architecture: 'arm64' });
  const idx = makeIndex([{ image: a, platform: { os: 'linux', architecture: 'amd64' } }, { image: b, platform: { os: 'linux', architecture: 'arm64' } }]);
  await storeBlobs(s.content, idx.blobs);
  s.images.put('docker.io/library/idx:1', idx.indexDesc);
  const r = await push(s, client(), `${reg.host}/idx/all:1`, { source: 'idx:1' });
  assert.equal(r.digest, idx.indexDesc.digest);
  const out = join(tmp, 'out-idx');
  skopeo(['copy', '--all', `docker://${reg.host}/idx/all:1`, `oci:${out}:x`], ['--src-tls-verify=false']);
  assert.ok(existsSync(join(out, 'blobs/sha256', b.layers[0]!.desc.digest.slice(7))));
  assert.ok(existsSync(join(out, 'blobs/sha256', idx.indexDesc.digest.slice(7))));
});

test('registry errors are clear: unknown tag, unknown repository, missing local image', async (t) => {
  const s = testStores(tmp, t);
  await assert.rejects(pull(s, client(), `${reg.host}/test/oci-in:nope`), /manifest for 127\.0\.0\.1:\d+\/test\/oci-in:nope not found: manifest unknown/);
  await assert.rejects(pull(s, client(), `${reg.host}/no/such:1`), /not found/);
  await assert.rejects(push(s, client(), `${reg.host}/x:1`), /An image does not exist locally with the tag: 127\.0\.0\.1:\d+\/x:1/);
});
