import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { LocalStore, writeBlob } from '../../src/images/content/local-store.ts';
import { MEDIA_TYPE } from '../../src/images/manifest/media-types.ts';
import { parseManifest } from '../../src/images/manifest/manifest.ts';
import { parseImageConfig } from '../../src/images/manifest/config.ts';
import { OverlaySnapshotter } from '../../src/images/snapshots/overlay.ts';
import { withMount } from '../../src/images/snapshots/mount.ts';
import { chainIds, unpack } from '../../src/images/unpack.ts';
import { DiffIdMismatchError } from '../../src/images/layers/apply.ts';
import { needsRoot } from '../support/root.ts';
import { testImage } from '../images/index.ts';
import { makeTar, tempDir } from './helpers.ts';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('chain IDs: the first is the diff_id, then sha256 of "<parent chain> <diff_id>"', () => {
  const a = sha256('a');
  const b = sha256('b');
  const c = sha256('c');
  const ids = chainIds([a, b, c]);
  assert.equal(ids[0], a);
  assert.equal(ids[1], sha256(`${a} ${b}`));
  assert.equal(ids[2], sha256(`${ids[1]} ${c}`));
  assert.deepEqual(chainIds([]), []);
});

test('unpack builds the chain once, shares it, and leaves nothing when a diff_id is wrong', needsRoot, async (t) => {
  const root = tempDir(t);
  const store = new LocalStore(join(root, 'content'));
  const s = new OverlaySnapshotter(join(root, 'snapshots'));
  t.after(() => s.close());
  const tars = [await makeTar([{ name: 'a', body: 'A' }]), await makeTar([{ name: 'b', body: 'B' }])];
  const layers = [];
  for (const [i, raw] of tars.entries()) {
    const blob = i === 0 ? zlib.gzipSync(raw) : raw;
    const digest = sha256(blob);
    await writeBlob(store, `layer-${i}`, blob, { digest });
    layers.push({ mediaType: i === 0 ? MEDIA_TYPE.ociLayerGzip : MEDIA_TYPE.ociLayer, digest, size: blob.length });
  }
  const diffIds = tars.map((x) => sha256(x));
  const events: string[] = [];
  const r = await unpack({ snapshotter: s, content: store, layers, diffIds, onProgress: (p) => events.push(`${p.layer}:${p.state}`) });
  assert.equal(r.applied, 2);
  assert.deepEqual(r.chainIds, chainIds(diffIds));
  // Two layers are applied at once: each layer's events in order, commits in layer order.
  assert.deepEqual(events.filter((e) => e.endsWith(':done')), ['0:done', '1:done']);
  assert.deepEqual(events.filter((e) => e.endsWith(':extracting')), ['0:extracting', '1:extracting']);
  assert.equal(events.length, 4);
  assert.equal(s.stat(r.chainId).parent, diffIds[0]);
  const again = await unpack({ snapshotter: s, content: store, layers, diffIds });
  assert.equal(again.applied, 0);

  // A third layer whose config lies about its diff_id.
  const bad = await makeTar([{ name: 'c', body: 'C' }]);
  await writeBlob(store, 'bad', bad, { digest: sha256(bad) });
  const badLayers = [...layers, { mediaType: MEDIA_TYPE.ociLayer, digest: sha256(bad), size: bad.length }];
  await assert.rejects(unpack({ snapshotter: s, content: store, layers: badLayers, diffIds: [...diffIds, sha256('other')] }), DiffIdMismatchError);
  const keys: string[] = [];
  s.walk((i) => keys.push(`${i.kind}:${i.key}`));
  assert.deepEqual(keys.sort(), r.chainIds.map((c) => `committed:${c}`).sort());
  assert.equal(readdirSync(join(root, 'snapshots', 'snapshots')).length, 2);
  await assert.rejects(unpack({ snapshotter: s, content: store, layers, diffIds: [diffIds[0] as string] }), /2 layers but its config lists 1/);
  await assert.rejects(unpack({ snapshotter: s, content: store, layers: [{ ...layers[0]!, mediaType: 'text/html' }], diffIds: [diffIds[0] as string] }), /unsupported media type/);
});

test('the busybox test image unpacked from its OCI layout runs under chroot', needsRoot, async (t) => {
  const img = await testImage('busybox');
  const store = new LocalStore(img.ociLayout); // read only: blobs/sha256/<hex> is the same layout
  const index = JSON.parse(readFileSync(join(img.ociLayout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const parsed = parseManifest(await store.readBlob({ digest: index.manifests[0]!.digest }));
  assert.equal(parsed.kind, 'manifest');
  if (parsed.kind !== 'manifest') return;
  const config = parseImageConfig(await store.readBlob(parsed.manifest.config));
  const s = new OverlaySnapshotter(tempDir(t));
  t.after(() => s.close());
  const r = await unpack({ snapshotter: s, content: store, layers: parsed.manifest.layers, diffIds: config.rootfs.diff_ids });
  assert.equal(r.chainIds.length, img.layers.length);
  await withMount(await s.prepare('container', r.chainId), (mnt) => {
    assert.equal(execFileSync('chroot', [mnt, '/bin/busybox', 'echo', 'ok'], { encoding: 'utf8' }), 'ok\n');
    assert.equal(execFileSync('chroot', [mnt, '/bin/sh', '-c', 'echo written > /tmp/f && cat /tmp/f'], { encoding: 'utf8' }), 'written\n');
  });
  assert.equal(readFileSync(join(s.dir('container'), 'tmp/f'), 'utf8'), 'written\n');
});
