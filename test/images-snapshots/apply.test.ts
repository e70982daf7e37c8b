import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { native } from '../../src/common/native.ts';
import { applyLayer, DiffIdMismatchError } from '../../src/images/layers/apply.ts';
import { LayerSecurityError } from '../../src/images/layers/paths.ts';
import { TarFormatError } from '../../src/images/layers/tar-reader.ts';
import { OverlaySnapshotter } from '../../src/images/snapshots/overlay.ts';
import { NaiveSnapshotter } from '../../src/images/snapshots/naive.ts';
import { withMount } from '../../src/images/snapshots/mount.ts';
import type { Snapshotter } from '../../src/images/snapshots/types.ts';
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
  ['symlink parent in the same layer', (o) => [[{ name: 'lnk', type: 'symlink', linkname: o }, { name: 'lnk/evil', body: 'x' }]], /parent "lnk" is a symlink/],
  ['symlink parent in a lower layer', (o) => [[{ name: 'lib', type: 'symlink', linkname: o }], [{ name: 'lib/evil', body: 'x' }]], /parent "lib" is a symlink/],
  ['symlink parent deeper down', (o) => [[{ name: 'a/b', type: 'symlink', linkname: o }], [{ name: 'a/b/c/evil', body: 'x' }]], /parent "a\/b" is a symlink/],
  ['relative symlink climbing out', () => [[{ name: 'a/esc', type: 'symlink', linkname: '../../../../../../../tmp' }]], /points outside the root/],
  ['hardlink out of the root', () => [[{ name: 'h', type: 'link', linkname: '../../../../etc/passwd' }]], /"\.\." in hardlink target/],
  ['hardlink through a symlinked dir', (o) => [[{ name: 'lnk', type: 'symlink', linkname: o }, { name: 'h', type: 'link', linkname: 'lnk/victim' }]], /parent "lnk" is a symlink/],
  ['hardlink to a missing target', () => [[{ name: 'h', type: 'link', linkname: 'nope' }]], /does not exist/],
  ['whiteout through a symlinked dir', (o) => [[{ name: 'lnk', type: 'symlink', linkname: o }], [{ name: 'lnk/.wh.victim', body: '' }]], /parent "lnk" is a symlink/],
  ['opaque whiteout through a symlinked dir', (o) => [[{ name: 'lnk', type: 'symlink', linkname: o }], [{ name: 'lnk/.wh..wh..opq', body: '' }]], /parent "lnk" is a symlink/],
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
