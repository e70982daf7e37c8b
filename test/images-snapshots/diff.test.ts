import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { native } from '../../src/common/native.ts';
import tar from 'tar-stream';
import { applyLayer } from '../../src/images/layers/apply.ts';
import { Dir, snapshotDiffSource, writeDiff } from '../../src/images/layers/diff.ts';
import { writeDiffToContent } from '../../src/images/layers/commit.ts';
import { LocalStore, writeBlob } from '../../src/images/content/local-store.ts';
import { unpack } from '../../src/images/unpack.ts';
import { OverlaySnapshotter } from '../../src/images/snapshots/overlay.ts';
import { NaiveSnapshotter } from '../../src/images/snapshots/naive.ts';
import { mountAll, unmount, withMount } from '../../src/images/snapshots/mount.ts';
import type { Snapshotter } from '../../src/images/snapshots/types.ts';
import { needsRoot } from '../support/root.ts';
import { makeTar, tempDir, treeListing, unmountAfter } from './helpers.ts';
import type { TestContext } from './helpers.ts';

function open(t: TestContext, kind: 'overlay' | 'naive'): Snapshotter {
  const root = tempDir(t);
  const s = kind === 'overlay' ? new OverlaySnapshotter(root) : new NaiveSnapshotter(root);
  t.after(() => s.close());
  return s;
}

async function diffBytes(s: Snapshotter, key: string, compression: 'gzip' | 'none' = 'none') {
  const chunks: Buffer[] = [];
  const r = await writeDiff(snapshotDiffSource(s, key), async (c) => { chunks.push(c); }, { compression });
  return { ...r, data: Buffer.concat(chunks) };
}

/** Entry names and types of a tar, read by tar-stream (an independent reader). */
async function listTar(data: Buffer): Promise<string[]> {
  const ex = tar.extract();
  const names: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      names.push(`${h.type}:${h.name}${h.linkname ? `->${h.linkname}` : ''}`);
      stream.on('end', next);
      stream.resume();
    });
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  ex.end(data);
  await done;
  return names;
}

const BASE = [
  { name: 'etc/', mode: 0o755 }, { name: 'etc/keep', body: 'keep' }, { name: 'etc/gone', body: 'gone' },
  { name: 'var/', mode: 0o755 }, { name: 'var/cache/a', body: 'a' }, { name: 'var/cache/b', body: 'b' },
  { name: 'usr/bin/tool', body: 'tool', mode: 0o755 },
];

/** The same change made through a mounted snapshot: the kernel writes overlay's whiteouts and opaque dirs. */
function change(root: string): void {
  rmSync(join(root, 'etc/gone'));
  rmSync(join(root, 'var/cache'), { recursive: true });
  mkdirSync(join(root, 'var/cache'));
  writeFileSync(join(root, 'var/cache/new'), 'new');
  writeFileSync(join(root, 'usr/bin/tool'), 'tool v2');
  const long = join(root, 'x'.repeat(90), 'y'.repeat(90), 'ünïcødé-name');
  mkdirSync(join(long, '..'), { recursive: true });
  writeFileSync(long, 'long');
  symlinkSync('/etc/keep', join(root, 'link'));
  writeFileSync(join(root, 'h1'), 'hard');
  linkSync(join(root, 'h1'), join(root, 'h2'));
  native().lsetxattr(join(root, 'h1'), 'user.note', Buffer.from('hello'), 0);
}

/**
 * Applies BASE into a committed snapshot (named `name`, default its diff_id),
 * prepares "c" on it and makes change() through the mount. Returns the tree
 * the mount showed, the base layer and its diff_id.
 */
async function changedSnapshot(t: TestContext, s: Snapshotter, name?: string) {
  const base = await makeTar(BASE);
  await s.prepare('b');
  const r = await applyLayer(Readable.from([base]), s.applyTarget('b'));
  await s.commit(name ?? r.diffId, 'b');
  const mounts = await s.prepare('c', name ?? r.diffId);
  const mnt = tempDir(t, 'dray-mnt-');
  mountAll(mounts, mnt);
  unmountAfter(t, mnt);
  change(mnt);
  const want = treeListing(mnt);
  unmount(mnt);
  return { want, base, baseDiffId: r.diffId };
}

for (const kind of ['overlay', 'naive'] as const) {
  test(`${kind}: diff of changes made through the mount, applied elsewhere, gives the same tree`, needsRoot, async (t) => {
    const s = open(t, kind);
    const { want } = await changedSnapshot(t, s, 'base');

    const d = await diffBytes(s, 'c');
    const names = await listTar(d.data);
    assert.ok(names.includes('file:etc/.wh.gone'), names.join('\n'));
    assert.ok(names.includes('file:var/cache/.wh..wh..opq') || (kind === 'naive' && names.includes('file:var/cache/.wh.a')), names.join('\n'));
    assert.ok(names.includes('link:h2->h1'));
    assert.ok(names.includes('symlink:link->/etc/keep'));
    assert.ok(!names.some((n) => n.includes('keep') && !n.includes('link')), 'unchanged files are not in the diff');
    assert.equal(names.indexOf('directory:etc/') < names.indexOf('file:etc/.wh.gone'), true);
    // Deterministic: the same snapshot gives the same bytes.
    assert.equal((await diffBytes(s, 'c')).diffId, d.diffId);

    // Apply the diff on a fresh copy of the base: the merged tree must be the same.
    await s.prepare('c2', 'base');
    const r = await applyLayer(Readable.from([d.data]), s.applyTarget('c2'), { expectedDiffId: d.diffId });
    assert.equal(r.diffId, d.diffId);
    await s.commit('C2', 'c2');
    await withMount(await s.view('v', 'C2'), (m) => {
      assert.deepEqual(treeListing(m), want);
      assert.equal(native().lgetxattr(join(m, 'h1'), 'user.note')?.toString(), 'hello');
    });
  });
}

test('gzip diff: digest and size are the blob\'s, diff_id the tar\'s; GNU tar reads it', async (t) => {
  const s = open(t, 'naive');
  await s.prepare('a');
  writeFileSync(join(s.dir('a'), 'f'), 'data');
  mkdirSync(join(s.dir('a'), 'd'));
  const d = await diffBytes(s, 'a', 'gzip');
  assert.equal(d.size, d.data.length);
  const raw = zlib.gunzipSync(d.data);
  assert.equal(d.diffId, `sha256:${createHash('sha256').update(raw).digest('hex')}`);
  assert.equal(d.digest, `sha256:${createHash('sha256').update(d.data).digest('hex')}`);
  const file = join(tempDir(t), 'layer.tgz');
  writeFileSync(file, d.data);
  assert.deepEqual(execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).trim().split('\n'), ['d/', 'f']);
  const out = tempDir(t);
  execFileSync('tar', ['-xzf', file, '-C', out]);
  assert.equal(readFileSync(join(out, 'f'), 'utf8'), 'data');
});

test('a walked directory swapped for a symlink is not followed (fd-relative resolution)', async (t) => {
  const root = tempDir(t);
  const outside = tempDir(t, 'dray-outside-');
  writeFileSync(join(outside, 'f'), 'HOST SECRET');
  mkdirSync(join(root, 'a'));
  writeFileSync(join(root, 'a', 'f'), 'container file');
  const dir = Dir.open(join(root, 'a'));
  try {
    // What a container could do between our open of a/ and our reads below it.
    renameSync(join(root, 'a'), join(root, 'moved'));
    symlinkSync(outside, join(root, 'a'));
    assert.equal(readFileSync(dir.child('f'), 'utf8'), 'container file');
    assert.throws(() => Dir.open(join(root, 'a')), { code: 'ENOTDIR' });
  } finally {
    dir.close();
  }
});

test('a diff written into the content store unpacks onto the parent as the same tree', needsRoot, async (t) => {
  const store = new LocalStore(tempDir(t));
  const s = open(t, 'overlay');
  const { want, base, baseDiffId } = await changedSnapshot(t, s); // the base named by its chain ID, as unpack names it
  const stored = await writeDiffToContent(store, snapshotDiffSource(s, 'c'));
  assert.equal((await store.info(stored.descriptor.digest)).labels['containerd.io/uncompressed'], stored.diffId);
  const baseDigest = `sha256:${createHash('sha256').update(base).digest('hex')}`;
  await writeBlob(store, 'base', base, { digest: baseDigest });
  const s2 = open(t, 'overlay');
  const r = await unpack({
    snapshotter: s2, content: store,
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: baseDigest, size: base.length }, stored.descriptor],
    diffIds: [baseDiffId, stored.diffId],
  });
  await withMount(await s2.view('v', r.chainId), (m) => assert.deepEqual(treeListing(m), want));
});
