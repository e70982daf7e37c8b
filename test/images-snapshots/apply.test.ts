import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { native } from '../../src/common/native.ts';
import { applyLayer, applyWorkerRunning, applyWorkersRunning, DiffIdMismatchError } from '../../src/images/layers/apply.ts';
import { LayerSecurityError } from '../../src/images/layers/paths.ts';
import { TarFormatError } from '../../src/images/layers/tar-reader.ts';
import { OverlaySnapshotter } from '../../src/images/snapshots/overlay.ts';
import { NaiveSnapshotter } from '../../src/images/snapshots/naive.ts';
import { withMount } from '../../src/images/snapshots/mount.ts';
import type { Snapshotter } from '../../src/images/snapshots/types.ts';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { needsRoot } from '../support/root.ts';
import { makeTar, tempDir, treeListing } from './helpers.ts';
import type { Entry, TestContext } from './helpers.ts';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_raw, binary

function open(t: TestContext, kind: 'overlay' | 'naive'): Snapshotter {
  const root = tempDir(t);
  const s = kind === 'overlay' ? new OverlaySnapshotter(root) : new NaiveSnapshotter(root);
  t.after(() => s.close());
  return s;
}

/** Applies each layer into a chain; returns the last committed name. */
async function chain(s: Snapshotter, layers: Buffer[]): Promise<string | undefined> {
  let parent: string | undefined;
  for (let i = 0; i < layers.length; i++) {
    await s.prepare(`l${i}-a`, parent);
    await applyLayer(Readable.from([layers[i] as Buffer]), s.applyTarget(`l${i}-a`));
    await s.commit(`l${i}`, `l${i}-a`);
    parent = `l${i}`;
  }
  return parent;
}

test('apply keeps owners, modes, times, xattrs, hardlinks, devices; diff_id for every compression', needsRoot, async (t) => {
  const mtime = new Date('2020-02-02T02:02:02Z');
  const layer = await makeTar([
    { name: './', mode: 0o755 },
    { name: 'bin/', mode: 0o755, mtime },
    { name: 'bin/su', body: 'su', mode: 0o4755, uid: 0, gid: 0 },
    { name: 'bin/ping', body: 'ping', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': CAP.toString('latin1') } },
    { name: 'tmp/', mode: 0o1777 },
    { name: 'home/u/f', body: 'owned', uid: 1234, gid: 4321, mode: 0o640, mtime },
    { name: 'home/u/hard', type: 'link', linkname: 'home/u/f' },
    { name: 'home/u/sym', type: 'symlink', linkname: '../../bin/su' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/fifo', type: 'fifo', mode: 0o600 },
    { name: 'x/user', body: '', pax: { 'SCHILY.xattr.user.k': 'v' } },
  ]);
  // tar-stream writes PAX values as UTF-8: replace the cap with its raw bytes by hand.
  const raw = fixPaxBinary(layer, CAP);
  const encodings: [string, Buffer][] = [['none', raw], ['gzip', zlib.gzipSync(raw)], ['zstd', zlib.zstdCompressSync(raw)]];
  for (const [compression, blob] of encodings) {
    const s = open(t, 'overlay');
    await s.prepare('a');
    const r = await applyLayer(Readable.from([blob]), s.applyTarget('a'), { expectedDiffId: sha256(raw) });
    assert.equal(r.compression, compression);
    assert.equal(r.diffId, sha256(raw));
    assert.equal(r.size, raw.length);
    const d = s.dir('a');
    assert.equal(lstatSync(join(d, 'bin/su')).mode & 0o7777, 0o4755);
    assert.equal(lstatSync(join(d, 'tmp')).mode & 0o7777, 0o1777);
    const f = lstatSync(join(d, 'home/u/f'));
    assert.deepEqual([f.uid, f.gid, f.mode & 0o777, f.mtime.getTime()], [1234, 4321, 0o640, mtime.getTime()]);
    assert.equal(lstatSync(join(d, 'bin')).mtime.getTime(), mtime.getTime());
    assert.equal(lstatSync(join(d, 'home/u/hard')).ino, f.ino);
    assert.equal(readlinkSync(join(d, 'home/u/sym')), '../../bin/su');
    const dev = lstatSync(join(d, 'dev/null'));
    assert.ok(dev.isCharacterDevice());
    assert.equal(dev.rdev, (1 << 8) | 3);
    assert.ok(lstatSync(join(d, 'dev/fifo')).isFIFO());
    assert.deepEqual(native().lgetxattr(join(d, 'bin/ping'), 'security.capability'), CAP);
    assert.deepEqual(native().lgetxattr(join(d, 'x/user'), 'user.k'), Buffer.from('v'));
  }
});

/** Rewrites the UTF-8 encoded cap bytes in tar-stream's PAX record back to raw bytes (same length record fixed up). */
function fixPaxBinary(tar: Buffer, cap: Buffer): Buffer {
  const utf8 = Buffer.from(cap.toString('latin1'), 'utf8');
  const i = tar.indexOf(utf8);
  assert.ok(i > 0);
  const key = Buffer.from(' SCHILY.xattr.security.capability=');
  const start = tar.lastIndexOf(key, i);
  // The record is "<len> key=value\n": rebuild it with the raw value.
  let lenStart = start - 1;
  while (lenStart > 0 && (tar[lenStart - 1] as number) >= 0x30 && (tar[lenStart - 1] as number) <= 0x39) lenStart--;
  const body = Buffer.concat([key, cap, Buffer.from('\n')]);
  let len = body.length + 2;
  if (String(len).length + body.length !== len) len = String(len + 1).length + body.length;
  const rec = Buffer.concat([Buffer.from(String(len)), body]);
  const oldEnd = i + utf8.length + 1;
  const header = Math.floor(lenStart / 512) * 512 - 512; // the 'x' header block before the data
  const data = Buffer.concat([tar.subarray(header + 512, lenStart), rec, tar.subarray(oldEnd, tar.indexOf(0, oldEnd))]);
  const block = Buffer.from(tar.subarray(header, header + 512));
  block.write(data.length.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of block) sum += c;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  const oldDataEnd = header + 512 + Math.ceil(Number.parseInt(tar.subarray(header + 124, header + 135).toString('latin1'), 8) / 512) * 512;
  return Buffer.concat([tar.subarray(0, header), block, padded, tar.subarray(oldDataEnd)]);
}

test('overlay: OCI whiteouts become overlay whiteouts and opaque dirs', needsRoot, async (t) => {
  const s = open(t, 'overlay');
  const l1 = await makeTar([
    { name: 'a/x', body: 'x' }, { name: 'a/y', body: 'y' }, { name: 'b/z', body: 'z' }, { name: 'c/keep', body: 'k' },
  ]);
  const l2 = await makeTar([
    { name: 'a/.wh.x', body: '' }, { name: 'b/', mode: 0o755 }, { name: 'b/.wh..wh..opq', body: '' }, { name: 'b/new', body: 'n' },
    { name: 'c/.wh.keep', body: '' }, { name: 'c/keep', body: 'again' }, // same layer: the entry wins
  ]);
  const top = await chain(s, [l1, l2]);
  const up = s.dir(top as string);
  const wh = lstatSync(join(up, 'a/x'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0);
  assert.equal(native().lgetxattr(join(up, 'b'), 'trusted.overlay.opaque')?.toString(), 'y');
  await withMount(await s.view('v', top), (m) => {
    assert.deepEqual(readdirSync(join(m, 'a')), ['y']);
    assert.deepEqual(readdirSync(join(m, 'b')), ['new']);
    assert.equal(readFileSync(join(m, 'c/keep'), 'utf8'), 'again');
  });
});

test('naive: whiteouts delete, opaque dirs are emptied of lower entries', needsRoot, async (t) => {
  const s = open(t, 'naive');
  const l1 = await makeTar([{ name: 'a/x', body: 'x' }, { name: 'a/y', body: 'y' }, { name: 'b/z', body: 'z' }, { name: 'b/d/deep', body: 'd' }]);
  const l2 = await makeTar([{ name: 'b/new', body: 'n' }, { name: 'a/.wh.x', body: '' }, { name: 'b/.wh..wh..opq', body: '' }]);
  const top = await chain(s, [l1, l2]);
  const d = s.dir(top as string);
  assert.deepEqual(readdirSync(join(d, 'a')), ['y']);
  assert.deepEqual(readdirSync(join(d, 'b')), ['new']);
});

test('a dir replaced by a file, a file by a dir, a symlink by a file', needsRoot, async (t) => {
  for (const kind of ['overlay', 'naive'] as const) {
    const s = open(t, kind);
    const outside = tempDir(t);
    writeFileSync(join(outside, 'victim'), 'safe');
    const l1 = await makeTar([{ name: 'd/f', body: '1' }, { name: 'f', body: 'f' }, { name: 's', type: 'symlink', linkname: join(outside, 'victim') }]);
    const l2 = await makeTar([{ name: 'd', body: 'now a file' }, { name: 'f/', mode: 0o755 }, { name: 'f/in', body: 'in' }, { name: 's', body: 'replaced' }]);
    const top = await chain(s, [l1, l2]);
    const d = s.dir(top as string);
    assert.equal(readFileSync(join(d, 'd'), 'utf8'), 'now a file');
    assert.equal(readFileSync(join(d, 'f/in'), 'utf8'), 'in');
    assert.equal(readFileSync(join(d, 's'), 'utf8'), 'replaced');
    assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'safe');
  }
});

test('a leading "/" is dropped as Docker does: the entry lands inside', needsRoot, async (t) => {
  const s = open(t, 'naive');
  await s.prepare('a');
  await applyLayer(Readable.from([await makeTar([{ name: '/etc/abs', body: 'in' }])]), s.applyTarget('a'));
  assert.equal(readFileSync(join(s.dir('a'), 'etc/abs'), 'utf8'), 'in');
});

// Hostile layers: each must be refused with a clear error and leave everything outside untouched.
const hostile: [string, (outside: string) => Entry[][], RegExp][] = [
  ['dot-dot entry', () => [[{ name: '../evil', body: 'x' }]], /"\.\." in path/],
  ['dot-dot in the middle', () => [[{ name: 'a/../../evil', body: 'x' }]], /"\.\." in path/],
  ['PAX path with dot-dot', () => [[{ name: 'innocent', body: 'x', pax: { path: '../../evil' } }]], /"\.\." in path/],
  ['relative symlink climbing out', () => [[{ name: 'a/esc', type: 'symlink', linkname: '../../../../../../../tmp' }]], /points outside the root/],
  ['hardlink out of the root', () => [[{ name: 'h', type: 'link', linkname: '../../../../etc/passwd' }]], /"\.\." in hardlink target/],
  // lnk/victim is <root>/<outside>/victim, which the layer does not have.
  ['hardlink through a symlinked dir', (o) => [[{ name: 'lnk', type: 'symlink', linkname: o }, { name: 'h', type: 'link', linkname: 'lnk/victim' }]], /does not exist/],
  ['symlink loop as a parent', () => [[{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: 'a' }, { name: 'a/x', body: 'x' }]], /too many levels of symbolic links/],
  ['hardlink to a missing target', () => [[{ name: 'h', type: 'link', linkname: 'nope' }]], /does not exist/],
  ['whiteout named ".."', () => [[{ name: 'a/.wh...', body: '' }]], /"\.\." in whiteout name/],
  ['file under a file', () => [[{ name: 'f', body: 'x' }, { name: 'f/evil', body: 'x' }]], /parent "f" is not a directory/],
];

for (const kind of ['overlay', 'naive'] as const) {
  for (const [name, make, why] of hostile) {
    test(`${kind}: hostile layer refused: ${name}`, needsRoot, async (t) => {
      const s = open(t, kind);
      const outside = tempDir(t, 'dray-outside-');
      writeFileSync(join(outside, 'victim'), 'safe');
      mkdirSync(join(outside, 'dir'));
      const before = treeListing(outside);
      const layers = make(outside);
      const tars = await Promise.all(layers.map(makeTar));
      let parent: string | undefined;
      let err: unknown;
      for (let i = 0; i < tars.length && !err; i++) {
        await s.prepare(`l${i}`, parent);
        try {
          await applyLayer(Readable.from([tars[i] as Buffer]), s.applyTarget(`l${i}`));
          await s.commit(`c${i}`, `l${i}`);
          parent = `c${i}`;
        } catch (e) {
          err = e;
        }
      }
      assert.ok(err instanceof LayerSecurityError, `expected a refusal, got ${String(err)}`);
      assert.match((err as Error).message, why);
      assert.deepEqual(treeListing(outside), before);
      assert.ok(!existsSync(join(outside, '..', 'evil')));
    });
  }
}

// Symlinked parents are followed INSIDE the root, as containerd and Docker do
// (an absolute target starts at the root, ".." stops there): each case lands
// at `where` (relative to the root) and nothing outside changes.
const contained: [string, (outside: string) => Entry[][], (outside: string) => string][] = [
  ['symlink parent in the same layer', (o) => [[{ name: 'lnk', type: 'symlink', linkname: o }, { name: 'lnk/evil', body: 'x' }]], (o) => join(o, 'evil')],
  ['symlink parent in a lower layer', (o) => [[{ name: 'lib', type: 'symlink', linkname: o }], [{ name: 'lib/evil', body: 'x' }]], (o) => join(o, 'evil')],
  ['symlink parent deeper down', (o) => [[{ name: 'a/b', type: 'symlink', linkname: o }], [{ name: 'a/b/c/evil', body: 'x' }]], (o) => join(o, 'c/evil')],
  ['a link to /etc is the root\'s etc', () => [[{ name: 'etc/', mode: 0o755 }, { name: 'e', type: 'symlink', linkname: '/etc' }], [{ name: 'e/dray-evil', body: 'x' }]], () => 'etc/dray-evil'],
  ['an absolute "/../../.." chain clamps at the root', () => [[{ name: 'l', type: 'symlink', linkname: '/../../../../../etc' }], [{ name: 'l/dray-evil', body: 'x' }]], () => 'etc/dray-evil'],
  ['links through links', (o) => [[{ name: 'a', type: 'symlink', linkname: 'b/c' }, { name: 'b', type: 'symlink', linkname: '/d' }, { name: 'd/c', type: 'symlink', linkname: `..${o}` }], [{ name: 'a/evil', body: 'x' }]], (o) => join(o, 'evil')],
  ['whiteout through a symlinked dir', (o) => [[{ name: 'lnk', type: 'symlink', linkname: o }], [{ name: 'lnk/.wh.victim', body: '' }]], (o) => o],
  ['opaque whiteout through a symlinked dir', (o) => [[{ name: 'lnk', type: 'symlink', linkname: o }], [{ name: 'lnk/.wh..wh..opq', body: '' }]], (o) => o],
];

for (const kind of ['overlay', 'naive'] as const) {
  for (const [name, make, where] of contained) {
    test(`${kind}: symlinked parent resolved inside the root: ${name}`, needsRoot, async (t) => {
      const s = open(t, kind);
      const outside = tempDir(t, 'dray-outside-');
      writeFileSync(join(outside, 'victim'), 'safe');
      const before = treeListing(outside);
      const etcBefore = readdirSync('/etc').sort();
      const tars = await Promise.all(make(outside).map(makeTar));
      const top = await chainKeepingTop(s, tars);
      assert.ok(existsSync(join(top, where(outside))), `expected ${where(outside)} inside the root`);
      assert.deepEqual(treeListing(outside), before);
      assert.deepEqual(readdirSync('/etc').sort(), etcBefore);
    });
  }

  test(`${kind}: a relative link planted below that climbs out is clamped at the root`, needsRoot, async (t) => {
    const s = open(t, kind);
    const outside = tempDir(t, 'dray-outside-');
    const before = treeListing(outside);
    await s.prepare('l0-a');
    const d0 = s.applyTarget('l0-a').dir;
    await applyLayer(Readable.from([await makeTar([{ name: 'x/', mode: 0o755 }])]), s.applyTarget('l0-a'));
    // Not possible through a tar (apply refuses it): a tampered lower layer.
    symlinkSync(`../../../../../../../../..${outside}`, join(d0, 'x/up'));
    await s.commit('l0', 'l0-a');
    await s.prepare('l1-a', 'l0');
    await applyLayer(Readable.from([await makeTar([{ name: 'x/up/evil', body: 'x' }])]), s.applyTarget('l1-a'));
    assert.ok(existsSync(join(s.applyTarget('l1-a').dir, outside, 'evil')));
    assert.deepEqual(treeListing(outside), before);
  });

  test(`${kind}: merged /usr: a layer writes lib/... through lib -> usr/lib of a lower layer`, needsRoot, async (t) => {
    const s = open(t, kind);
    const l0 = await makeTar([
      { name: 'usr/', mode: 0o755 }, { name: 'usr/lib/', mode: 0o755, uid: 0, gid: 0 }, { name: 'usr/lib/x86_64-linux-gnu/', mode: 0o755 },
      { name: 'usr/lib/x86_64-linux-gnu/libc.so.6', body: 'libc' },
      { name: 'lib', type: 'symlink', linkname: 'usr/lib' }, { name: 'lib64', type: 'symlink', linkname: '/usr/lib64' },
    ]);
    const l1 = await makeTar([
      { name: 'lib/x86_64-linux-gnu/libfoo.so', body: 'foo', mode: 0o644 },
      { name: 'lib64/ld-linux-x86-64.so.2', body: 'ld' },
      { name: 'lib/x86_64-linux-gnu/.wh.libc.so.6', body: '' },
    ]);
    const top = await chainKeepingTop(s, [l0, l1]);
    assert.equal(readFileSync(join(top, 'usr/lib/x86_64-linux-gnu/libfoo.so'), 'utf8'), 'foo');
    assert.equal(readFileSync(join(top, 'usr/lib64/ld-linux-x86-64.so.2'), 'utf8'), 'ld');
    assert.ok(!existsSync(join(top, 'lib')) || lstatSync(join(top, 'lib')).isSymbolicLink(), 'lib stays a symlink');
    if (kind === 'naive') {
      assert.ok(!existsSync(join(top, 'usr/lib/x86_64-linux-gnu/libc.so.6')));
      return;
    }
    // The whiteout sits next to the real file; the merged view has lib/... through the link.
    assert.ok(lstatSync(join(top, 'usr/lib/x86_64-linux-gnu/libc.so.6')).isCharacterDevice());
    await s.view('v', 'l1');
    await withMount(s.mounts('v'), (root) => {
      assert.equal(readFileSync(join(root, 'lib/x86_64-linux-gnu/libfoo.so'), 'utf8'), 'foo');
      assert.ok(lstatSync(join(root, 'lib')).isSymbolicLink());
      assert.ok(!existsSync(join(root, 'lib/x86_64-linux-gnu/libc.so.6')));
    });
  });
}

/** Applies each layer into a chain; returns the directory the last layer was written into. */
async function chainKeepingTop(s: Snapshotter, layers: Buffer[]): Promise<string> {
  let parent: string | undefined;
  let top = '';
  for (let i = 0; i < layers.length; i++) {
    await s.prepare(`l${i}-a`, parent);
    top = s.applyTarget(`l${i}-a`).dir;
    await applyLayer(Readable.from([layers[i] as Buffer]), s.applyTarget(`l${i}-a`));
    await s.commit(`l${i}`, `l${i}-a`);
    parent = `l${i}`;
  }
  return top;
}

test('overlay xattrs from a layer are ignored (no forged opaque dirs)', needsRoot, async (t) => {
  const s = open(t, 'overlay');
  await s.prepare('a');
  await applyLayer(Readable.from([await makeTar([{ name: 'd/', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } }])]), s.applyTarget('a'));
  assert.equal(native().lgetxattr(join(s.dir('a'), 'd'), 'trusted.overlay.opaque'), null);
});

test('malformed tars and wrong diff_ids are errors', needsRoot, async (t) => {
  const s = open(t, 'naive');
  await s.prepare('a');
  const good = await makeTar([{ name: 'f', body: 'hello' }]);
  const bad = Buffer.from(good);
  bad[0] = 0x41; // breaks the header checksum
  await assert.rejects(applyLayer(Readable.from([bad]), s.applyTarget('a')), TarFormatError);
  await assert.rejects(applyLayer(Readable.from([good.subarray(0, 600)]), s.applyTarget('a')), TarFormatError);
  await assert.rejects(applyLayer(Readable.from([zlib.gzipSync(good).subarray(0, 40)]), s.applyTarget('a')), /unexpected end of file/);
  await assert.rejects(
    applyLayer(Readable.from([good]), s.applyTarget('a'), { expectedDiffId: `sha256:${'0'.repeat(64)}` }),
    DiffIdMismatchError,
  );
  await assert.rejects(applyLayer(Readable.from([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 0, 0])]), s.applyTarget('a')), /xz-compressed/);
});

test('an xattr namespace the filesystem does not support is skipped, not fatal', needsRoot, async (t) => {
  const s = open(t, 'naive');
  await s.prepare('a');
  await applyLayer(Readable.from([await makeTar([{ name: 'f', body: 'x', pax: { 'SCHILY.xattr.nosuchns.k': 'v', 'SCHILY.xattr.user.k': 'kept' } }])]), s.applyTarget('a'));
  assert.deepEqual(native().llistxattr(join(s.dir('a'), 'f')), ['user.k']);
});

test('entries in any order: children before their directories, a directory twice', needsRoot, async (t) => {
  for (const kind of ['overlay', 'naive'] as const) {
    const s = open(t, kind);
    await s.prepare('a');
    const mtime = new Date('2021-01-01T00:00:00Z');
    await applyLayer(Readable.from([await makeTar([
      { name: 'x/y/z/f', body: 'deep' }, { name: 'x/y/', mode: 0o750, mtime }, { name: 'x/', mode: 0o711 }, { name: 'x/y/', mode: 0o755, mtime },
      { name: 'x/y/z/f', body: 'again' },
    ])]), s.applyTarget('a'));
    const d = s.dir('a');
    assert.equal(readFileSync(join(d, 'x/y/z/f'), 'utf8'), 'again');
    assert.equal(lstatSync(join(d, 'x')).mode & 0o777, 0o711);
    assert.equal(lstatSync(join(d, 'x/y')).mode & 0o777, 0o755);
    assert.equal(lstatSync(join(d, 'x/y')).mtime.getTime(), mtime.getTime());
  }
});

test('the apply worker thread ends when idle and starts again for the next apply', { skip: needsRoot.skip || process.env['DRAY_APPLY_INLINE'] === '1' || availableParallelism() < 2 }, async (t) => {
  const s = open(t, 'naive');
  const layer = await makeTar([{ name: 'a', body: 'one' }]);
  await chain(s, [layer]);
  assert.equal(applyWorkerRunning(), true, 'the first apply started the worker');
  // Bounded wait: the worker retires after its idle period (2 s).
  for (let i = 0; i < 100 && applyWorkerRunning(); i++) await sleep(100);
  assert.equal(applyWorkerRunning(), false, 'an idle worker ends');
  await s.prepare('again-a', 'l0');
  const target = s.applyTarget('again-a');
  await applyLayer(Readable.from([await makeTar([{ name: 'b', body: 'two' }])]), target);
  assert.equal(applyWorkerRunning(), true, 'the next apply started it again');
  assert.equal(readFileSync(join(target.dir, 'b'), 'utf8'), 'two');
  await s.commit('again', 'again-a');
});

test('two applications at once run on two apply workers, and a source that fails mid-layer is the error', { skip: needsRoot.skip || process.env['DRAY_APPLY_INLINE'] === '1' || availableParallelism() < 2 }, async (t) => {
  const s = open(t, 'overlay');
  await s.prepare('a');
  await s.prepare('b');
  const tars = [await makeTar([{ name: 'x', body: 'one' }]), await makeTar([{ name: 'y', body: 'two' }])];
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let started = 0;
  // Each source gives half its tar, then waits until both applications are running.
  const src = (tar: Buffer, fail: boolean) => (async function* () {
    yield tar.subarray(0, 512);
    started++;
    await gate;
    if (fail) throw new Error('connection dropped');
    yield tar.subarray(512);
  })();
  const one = applyLayer(src(tars[0]!, false), s.applyTarget('a'));
  const two = applyLayer(src(tars[1]!, true), s.applyTarget('b'));
  for (let i = 0; i < 100 && started < 2; i++) await sleep(20);
  assert.equal(applyWorkersRunning(), 2);
  release();
  await one;
  await assert.rejects(two, /connection dropped/);
  assert.equal(readFileSync(join(s.dir('a'), 'x'), 'utf8'), 'one');
});
