// Real images and the harder pull cases against the real registry: the
// busybox and nginx test images through skopeo both ways, non-distributable
// (foreign) layers, two pulls of one image at once, and GC during a pull.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, skopeo, type Registry } from './support/registry.ts';
import { testStores, seedRegistry } from './support/stores.ts';
import { makeImage, randomLayer, storeBlobs, sha256, tarOf } from './support/synth.ts';
import { zstdCompressSync } from 'node:zlib';
import { testImage } from '../images/index.ts';
import { RegistryClient } from '../../src/images/registry/client.ts';
import { closeIdleConnections } from '../../src/images/registry/transport.ts';
import { pull } from '../../src/images/pull.ts';
import { push } from '../../src/images/push.ts';
import { collectGarbage } from '../../src/images/metadata/gc.ts';
import { MEDIA_TYPE } from '../../src/images/manifest/media-types.ts';
import type { ProgressEvent } from '../../src/images/registry/progress.ts';

let reg: Registry;
const tmp = mkdtempSync(join(tmpdir(), 'dray-images-'));
const client = (): RegistryClient => new RegistryClient({ credentials: () => undefined });

before(async () => {
  reg = await startRegistry({ allowForeignUrls: ['^http://127\\.0\\.0\\.1:'] });
});
after(() => {
  closeIdleConnections();
  reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});


for (const name of ['busybox', 'nginx'] as const) {
  test(`the ${name} test image: skopeo -> registry -> Dray pull -> Dray push -> skopeo, digests unchanged`, async (t) => {
    const img = await testImage(name);
    skopeo(['copy', `oci:${img.ociLayout}:latest`, `docker://${reg.host}/real/${name}:latest`], ['--dest-tls-verify=false']);
    const s = testStores(tmp, t);
    const res = await pull(s, client(), `${reg.host}/real/${name}:latest`);
    assert.equal(res.manifest.digest, img.manifestDigest);
    assert.equal(res.configDesc.digest, img.configDigest);
    assert.deepEqual(res.layers.map((l) => [l.descriptor.digest, l.diffId]), img.layers.map((l) => [l.digest, l.diffId]));
    await push(s, client(), `${reg.host}/real/${name}-copy:1`, { source: `${reg.host}/real/${name}:latest` });
    const inspect = JSON.parse(skopeo(['inspect', `docker://${reg.host}/real/${name}-copy:1`], ['--tls-verify=false'])) as { Digest: string; Layers: string[] };
    assert.equal(inspect.Digest, img.manifestDigest);
    const out = join(tmp, `out-${name}`);
    skopeo(['copy', `docker://${reg.host}/real/${name}-copy:1`, `oci:${out}:x`], ['--src-tls-verify=false']);
    for (const l of img.layers) {
      assert.deepEqual(readFileSync(join(out, 'blobs/sha256', l.digest.slice(7))), await s.content.readBlob({ digest: l.digest }, 1 << 30));
    }
  });
}

test('foreign layers: skipped on pull and push by default, fetched from their urls (verified) when allowed', async (t) => {
  const base = await randomLayer(2000);
  const foreign = await randomLayer(3000, 'foreign.bin', MEDIA_TYPE.dockerForeignLayerGzip);
  let served = 0;
  let body = foreign.blob;
  const srv = http.createServer((_req, res) => {
    served++;
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/foreign.tar.gz`;
  const img = makeImage([base, { ...foreign, desc: { ...foreign.desc, urls: [url] } }], { format: 'docker' });
  const seed = testStores(tmp, t);
  await storeBlobs(seed.content, new Map([...img.blobs].filter(([d]) => d !== foreign.desc.digest)));
  seed.images.put('docker.io/library/win:1', img.manifestDesc);
  const pushEvents: ProgressEvent[] = [];
  await push(seed, client(), `${reg.host}/foreign/img:1`, { source: 'win:1', onProgress: (e) => pushEvents.push(e) });
  assert.ok(pushEvents.some((e) => e.status === 'Skipped foreign layer'));
  assert.equal(await client().repositories({ domain: reg.host, path: 'foreign/img' }, 'pull')[0]!.blobExists(foreign.desc.digest), undefined);

  const s = testStores(tmp, t);
  const events: ProgressEvent[] = [];
  const res = await pull(s, client(), `${reg.host}/foreign/img:1`, { onProgress: (e) => events.push(e) });
  assert.equal(res.layers[1]!.skipped, true);
  assert.equal(res.layers[1]!.descriptor.urls?.[0], url);
  assert.equal(await s.content.exists(foreign.desc.digest), false);
  assert.equal(served, 0);
  assert.ok(events.some((e) => e.status === 'Skipped foreign layer'));

  const s2 = testStores(tmp, t);
  const res2 = await pull(s2, client(), `${reg.host}/foreign/img:1`, { allowNondistributableUrls: true });
  assert.equal(res2.layers[1]!.skipped, undefined);
  assert.deepEqual(await s2.content.readBlob({ digest: foreign.desc.digest }), foreign.blob);
  assert.equal(served, 1);
  // A URL serving other bytes: refused by digest, nothing stored.
  body = Buffer.from(foreign.blob).fill(1, 100, 101);
  const s3 = testStores(tmp, t);
  await assert.rejects(pull(s3, new RegistryClient({ credentials: () => undefined, retry: { attempts: 2, backoffMs: 5 } }), `${reg.host}/foreign/img:1`, { allowNondistributableUrls: true }), /digest mismatch/);
  assert.equal(await s3.content.exists(foreign.desc.digest), false);
});

test('two pulls of one image into one store at once both succeed, each blob written once', async (t) => {
  const img = makeImage([await randomLayer(500_000), await randomLayer(500_000), await randomLayer(1000)]);
  await seedRegistry(tmp, client(), img, `${reg.host}/twice/img:1`);
  const s = testStores(tmp, t);
  const [a, b] = await Promise.all([pull(s, client(), `${reg.host}/twice/img:1`), pull(s, client(), `${reg.host}/twice/img:1`)]);
  assert.equal(a.target.digest, b.target.digest);
  for (const [d, blob] of img.blobs) assert.deepEqual(await s.content.readBlob({ digest: d }), blob);
  assert.equal((await s.content.listStatuses()).length, 0);
  assert.equal(s.leases.list().length, 0);
});

test('garbage collection during a pull leaves the pulled content alone (the lease holds it)', async (t) => {
  const img = makeImage([await randomLayer(50_000), await randomLayer(50_000)]);
  await seedRegistry(tmp, client(), img, `${reg.host}/gc/img:1`);
  const s = testStores(tmp, t);
  let removedMidPull: string[] = [];
  await pull(s, client(), `${reg.host}/gc/img:1`, {
    unpack: async (layer) => {
      if (layer.index === 0) removedMidPull = (await collectGarbage(s.db, s.content)).removed;
    },
  });
  assert.deepEqual(removedMidPull, []);
  for (const [d, blob] of img.blobs) assert.deepEqual(await s.content.readBlob({ digest: d }), blob);
  // Without the image record, the next collection takes it all.
  s.images.delete(`${reg.host}/gc/img:1`);
  assert.equal((await collectGarbage(s.db, s.content)).removed.length, img.blobs.size);
});

test('an unpack that fails fails the pull: no image recorded, no lease left', async (t) => {
  const img = makeImage([await randomLayer(10_000), await randomLayer(10_000)]);
  await seedRegistry(tmp, client(), img, `${reg.host}/unpack/img:1`);
  const s = testStores(tmp, t);
  await assert.rejects(pull(s, client(), `${reg.host}/unpack/img:1`, {
    unpack: async (l) => {
      if (l.index === 0) throw new Error('layer refused by the unpacker');
    },
  }), /layer refused by the unpacker/);
  assert.equal(s.images.list().length, 0);
  assert.equal(s.leases.list().length, 0);
});

test('layers of every kind travel: zstd, uncompressed and gzip', async (t) => {
  const zt = await tarOf([{ name: 'z.txt', content: 'zstd layer\n' }]);
  const z = zstdCompressSync(zt);
  const pt = await tarOf([{ name: 'p.txt', content: 'plain layer\n' }]);
  const layers = [
    { tar: zt, blob: z, diffId: sha256(zt), desc: { mediaType: MEDIA_TYPE.ociLayerZstd, digest: sha256(z), size: z.length } },
    { tar: pt, blob: pt, diffId: sha256(pt), desc: { mediaType: MEDIA_TYPE.ociLayer, digest: sha256(pt), size: pt.length } },
    await randomLayer(1000),
  ];
  const img = makeImage(layers);
  await seedRegistry(tmp, client(), img, `${reg.host}/kinds/img:1`);
  const s = testStores(tmp, t);
  const res = await pull(s, client(), `${reg.host}/kinds/img:1`);
  assert.deepEqual(res.layers.map((l) => l.descriptor.mediaType), [MEDIA_TYPE.ociLayerZstd, MEDIA_TYPE.ociLayer, MEDIA_TYPE.ociLayerGzip]);
  for (const [d, b] of img.blobs) assert.deepEqual(await s.content.readBlob({ digest: d }), b);
});
