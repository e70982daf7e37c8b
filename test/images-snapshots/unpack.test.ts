import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { LocalStore, writeBlob } from '../../src/images/content/local-store.ts';
import { MEDIA_TYPE } from '../../src/images/manifest/media-types.ts';
import { parseManifest } from '../../src/images/manifest/manifest.ts';
import { parseImageConfig } from '../../src/images/manifest/config.ts';
import { OverlaySnapshotter } from '../../src/images/snapshots/overlay.ts';
import { withMount } from '../../src/images/snapshots/mount.ts';
import { chainIds, unpack, unpackLayer } from '../../src/images/unpack.ts';
import { native } from '../../src/common/native.ts';
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

/** Every entry of a snapshot's own tree: type+mode, owner, size, mtime (from the layer; 'now' when made at apply time), links, device, target or content, opaque. */
const testStart = Date.now() - 60_000;
function fullListing(root: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string): void => {
    const st = lstatSync(p);
    let extra = '';
    if (st.isSymbolicLink()) extra = `-> ${readlinkSync(p)}`;
    else if (st.isFile()) extra = createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16);
    const opaque = st.isDirectory() && native().lgetxattr(p, 'trusted.overlay.opaque')?.toString() === 'y' ? ' opaque' : '';
    out.push(`${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isDirectory() ? '' : st.size} ${st.mtimeMs < testStart ? Math.floor(st.mtimeMs) : 'now'} n${st.isDirectory() ? '' : st.nlink} r${st.rdev} ${extra}${opaque}`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n), rel ? `${rel}/${n}` : n);
  };
  walk(root, '');
  return out;
}

/** Layers that exercise what applying without the lowers must get right. */
async function trickyLayers(): Promise<Buffer[]> {
  const t = new Date('2023-05-06T07:08:09Z');
  return [
    await makeTar([
      { name: 'usr/', mode: 0o755 }, { name: 'usr/lib/', mode: 0o750, uid: 7, gid: 8, mtime: t },
      { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
      { name: 'etc/', mode: 0o755 }, { name: 'etc/a', body: 'a', uid: 3 }, { name: 'etc/b', body: 'b' },
      { name: 'keep/', mode: 0o711 }, { name: 'keep/x', body: 'x' }, { name: 'big', body: 'lower file' },
    ]),
    // Only its own entries: whiteouts, an opaque directory, hardlinks within the layer, symlinks, a device.
    await makeTar([
      { name: 'etc/', mode: 0o755, mtime: t }, { name: 'etc/.wh.a', body: '' }, { name: 'etc/c', body: 'c', mode: 0o4755 },
      { name: 'etc/c2', type: 'link', linkname: 'etc/c' }, { name: 'keep/', mode: 0o711 }, { name: 'keep/.wh..wh..opq', body: '' },
      { name: 'keep/y', body: 'y' }, { name: 'abs', type: 'symlink', linkname: '/etc/c' }, { name: 'null', type: 'character-device', devmajor: 1, devminor: 3 },
    ]),
    // No parent directory entries: one below is a directory (copied up), one a symlink (followed), one new.
    await makeTar([{ name: 'usr/lib/libz.so', body: 'z' }, { name: 'lib/libq.so', body: 'q' }, { name: 'new/dir/f', body: 'f' }]),
    // A hardlink to a file only a lower layer has (copied).
    await makeTar([{ name: 'big2', type: 'link', linkname: 'big' }, { name: 'etc/', mode: 0o700 }]),
  ];
}

async function storeLayers(root: string, tars: Buffer[]): Promise<{ store: LocalStore; layers: { mediaType: string; digest: string; size: number }[]; diffIds: string[] }> {
  const store = new LocalStore(join(root, 'content'));
  const layers = [];
  for (const [i, raw] of tars.entries()) {
    const blob = zlib.gzipSync(raw);
    await writeBlob(store, `layer-${i}`, blob, { digest: sha256(blob) });
    layers.push({ mediaType: MEDIA_TYPE.ociLayerGzip, digest: sha256(blob), size: blob.length });
  }
  return { store, layers, diffIds: tars.map((x) => sha256(x)) };
}

test('layers applied before their parent is committed give the same snapshots as applied in order', needsRoot, async (t) => {
  const tars = await trickyLayers();
  const trees: string[][][] = [];
  for (const early of [false, true]) {
    const root = tempDir(t);
    const { store, layers, diffIds } = await storeLayers(root, tars);
    const s = new OverlaySnapshotter(join(root, 'snapshots'));
    t.after(() => s.close());
    const ids = chainIds(diffIds);
    // early: every layer is applied first, all at once, and waits for its parent only to commit.
    const tasks: Promise<boolean>[] = [];
    for (let i = 0; i < layers.length; i++) {
      const below = tasks[i - 1];
      const task = unpackLayer(s, {
        layer: i, desc: layers[i]!, diffId: diffIds[i]!, chainId: ids[i]!, ...(i > 0 ? { parent: ids[i - 1]! } : {}),
        open: () => store.stream(layers[i]!),
        ...(early && below ? { below: () => below } : {}),
      });
      tasks.push(task);
      if (!early) await task;
    }
    assert.deepEqual(await Promise.all(tasks), layers.map(() => true));
    trees.push(ids.map((id) => fullListing(s.dir(id))));
    if (early) {
      // Nothing staged is left over, and the chain is the chain.
      assert.deepEqual(readdirSync(join(root, 'snapshots', 'snapshots')).filter((n) => !/^\d+$/.test(n)), []);
      assert.deepEqual(s.parents(ids[3]!), [ids[2], ids[1], ids[0]]);
    }
  }
  assert.deepEqual(trees[1], trees[0]);
  // What the tricky layers must have made, so the comparison is about something.
  const l2 = trees[0]![2]!.join('\n');
  assert.match(l2, /^usr\/lib\/libq\.so /m, 'a file below a symlinked parent lands where the link points');
  assert.match(l2, /^usr\/lib 40750 7:8 /m, 'a parent missing from the layer is copied up from below');
  assert.match(l2, /^new\/dir 40755 0:0 /m);
  assert.match(trees[0]![1]!.join('\n'), /^etc\/a 20000 0:0 .* r0 $/m, 'a whiteout');
  assert.match(trees[0]![1]!.join('\n'), /^keep 40711 .* opaque$/m, 'an opaque directory');
  assert.match(trees[0]![3]!.join('\n'), /^big2 100644 0:0 10 .* n1 /m, 'a hardlink to a lower file is a copy');
});

test('a layer applied early that fails leaves no snapshot and no staging directory; the layers above it neither', needsRoot, async (t) => {
  const root = tempDir(t);
  const tars = await trickyLayers();
  const { store, layers, diffIds } = await storeLayers(root, tars);
  const s = new OverlaySnapshotter(join(root, 'snapshots'));
  t.after(() => s.close());
  // Layer 2's diff_id is wrong: it fails while layer 1 is still unpacking, and layer 3 is refused after it.
  const lying = [...diffIds];
  lying[2] = sha256('other');
  await assert.rejects(unpack({ snapshotter: s, content: store, layers, diffIds: lying }), DiffIdMismatchError);
  const keys: string[] = [];
  s.walk((i) => keys.push(`${i.kind}:${i.key}`));
  const ids = chainIds(lying);
  assert.deepEqual(keys.sort(), [`committed:${ids[0]}`, `committed:${ids[1]}`].sort());
  assert.equal(readdirSync(join(root, 'snapshots', 'snapshots')).length, 2, 'only the two committed snapshots have directories');
});
