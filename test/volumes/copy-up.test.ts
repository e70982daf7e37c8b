// Copy-up: an empty volume mounted over image content gets that content
// once, with owners, modes, times, xattrs, symlinks, hardlinks and fifos;
// never again afterwards; not with nocopy; a copy cut short is redone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync, chownSync, lchownSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync,
  statSync, symlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { native } from '../../src/common/native.ts';
import { planMounts } from '../../src/volumes/mounts.ts';
import { needsRoot } from '../support/root.ts';
import { errorOfAsync, tempDir, tempStore } from './support.ts';

const S_IFIFO = 0o010000;

/** An image rootfs with content at /data of every kind copy-up must keep. */
function makeRootfs(root: string): void {
  const data = join(root, 'data');
  mkdirSync(join(data, 'private'), { recursive: true });
  chownSync(data, 33, 34);
  chmodSync(data, 0o750);
  writeFileSync(join(data, 'conf'), 'from the image\n');
  chownSync(join(data, 'conf'), 1000, 1001);
  chmodSync(join(data, 'conf'), 0o640);
  writeFileSync(join(data, 'suid'), '#!/bin/sh\n');
  chownSync(join(data, 'suid'), 0, 0);
  chmodSync(join(data, 'suid'), 0o4755);
  chmodSync(join(data, 'private'), 0o700);
  chownSync(join(data, 'private'), 5, 6);
  writeFileSync(join(data, 'private', 'secret'), 's');
  symlinkSync('conf', join(data, 'link'));
  lchownSync(join(data, 'link'), 7, 8);
  symlinkSync('/etc/passwd', join(data, 'abs-link'));
  linkSync(join(data, 'conf'), join(data, 'hard'));
  native().mknod(join(data, 'fifo'), S_IFIFO | 0o620, 0, 0);
  chmodSync(join(data, 'fifo'), 0o620); // mknod applies the umask
  native().lsetxattr(join(data, 'conf'), 'user.origin', Buffer.from('image'), 0);
  utimesSync(join(data, 'conf'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  utimesSync(join(data, 'private'), new Date('2021-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'));
  writeFileSync(join(root, 'afile'), 'a file, not a directory');
  symlinkSync('/data', join(root, 'via-link'));
  symlinkSync('/proc', join(root, 'to-proc'));
}

test('copy-up keeps owners, modes, times, xattrs, symlinks, hardlinks and fifos; once only', needsRoot, async (t) => {
  const { store } = tempStore(t);
  const rootfs = tempDir(t, 'dray-vol-rootfs-');
  makeRootfs(rootfs);
  (await planMounts({ Binds: ['app:/data'] }, { store, containerId: 'c1', rootfs }));
  const v = store.mountpoint('app');
  const st = (p: string) => lstatSync(join(v, p));
  assert.deepEqual([statSync(v).uid, statSync(v).gid, statSync(v).mode & 0o7777], [33, 34, 0o750], 'the volume root takes the image directory\'s owner and mode');
  assert.equal(readFileSync(join(v, 'conf'), 'utf8'), 'from the image\n');
  assert.deepEqual([st('conf').uid, st('conf').gid, st('conf').mode & 0o7777], [1000, 1001, 0o640]);
  assert.equal(st('suid').mode & 0o7777, 0o4755, 'set-id bits survive the chown');
  assert.deepEqual([st('private').uid, st('private').gid, st('private').mode & 0o7777], [5, 6, 0o700]);
  assert.equal(st('private').mtime.toISOString(), '2021-01-01T00:00:00.000Z');
  assert.equal(st('conf').mtime.toISOString(), '2020-01-02T03:04:05.000Z');
  assert.equal(readlinkSync(join(v, 'link')), 'conf');
  assert.deepEqual([st('link').uid, st('link').gid], [7, 8]);
  assert.equal(readlinkSync(join(v, 'abs-link')), '/etc/passwd', 'symlinks are copied, never followed');
  assert.equal(st('hard').ino, st('conf').ino, 'hardlinks stay hardlinks');
  assert.ok(st('fifo').isFIFO());
  assert.equal(st('fifo').mode & 0o7777, 0o620);
  assert.equal(native().lgetxattr(join(v, 'conf'), 'user.origin')?.toString(), 'image');
  assert.equal(store.copyState('app'), 'done');

  // Once: another container over changed image content copies nothing, even into an emptied volume.
  writeFileSync(join(rootfs, 'data', 'later'), 'new in the image');
  rmSync(join(v, 'conf'));
  (await planMounts({ Binds: ['app:/data'] }, { store, containerId: 'c2', rootfs }));
  assert.deepEqual(readdirSync(v).sort(), ['abs-link', 'fifo', 'hard', 'link', 'private', 'suid']);
  for (const e of readdirSync(v)) rmSync(join(v, e), { recursive: true });
  (await planMounts({ Binds: ['app:/data'] }, { store, containerId: 'c3', rootfs }));
  assert.deepEqual(readdirSync(v), []);
});

test('copy-up: nocopy, a volume with content, image volumes, symlinked destinations, files in the way', needsRoot, async (t) => {
  const { store } = tempStore(t);
  const rootfs = tempDir(t, 'dray-vol-rootfs-');
  makeRootfs(rootfs);
  (await planMounts({ Binds: ['nc:/data:nocopy'] }, { store, containerId: 'c1', rootfs }));
  assert.deepEqual(readdirSync(store.mountpoint('nc')), []);
  (await planMounts({ Mounts: [{ Type: 'volume', Source: 'nc2', Target: '/data', VolumeOptions: { NoCopy: true } }] }, { store, containerId: 'c1', rootfs }));
  assert.deepEqual(readdirSync(store.mountpoint('nc2')), []);

  const own = store.create({ Name: 'own' });
  writeFileSync(join(own.Mountpoint, 'mine'), 'mine');
  (await planMounts({ Binds: ['own:/data'] }, { store, containerId: 'c1', rootfs }));
  assert.deepEqual(readdirSync(own.Mountpoint), ['mine'], 'a volume with content is never copied into');

  const img = (await planMounts({ ImageVolumes: { '/data': {} } }, { store, containerId: 'c1', rootfs }));
  assert.ok(readdirSync(store.mountpoint(img.mountPoints[0]?.Name as string)).includes('conf'), 'image VOLUMEs are populated too');

  // A destination that is a symlink in the image resolves inside the rootfs.
  (await planMounts({ Binds: ['vl:/via-link'] }, { store, containerId: 'c1', rootfs }));
  assert.ok(readdirSync(store.mountpoint('vl')).includes('conf'));
  // ...and one that leads to /proc is refused; a file in the way is Docker's error.
  assert.equal((await errorOfAsync(() => planMounts({ Binds: ['tp:/to-proc'] }, { store, containerId: 'c1', rootfs }))).message,
    "invalid mount config: destination /to-proc resolves to /proc in the container: invalid specification: destination can't be '/proc'");
  // Binds and tmpfs too, and nothing is created for a refused plan.
  assert.match((await errorOfAsync(() => planMounts({ Binds: ['/tmp:/to-proc/sys'] }, { store, containerId: 'c1', rootfs }))).message, /resolves to \/proc\/sys in the container/);
  assert.match((await errorOfAsync(() => planMounts({ Binds: ['first:/x'], Tmpfs: { '/to-proc': '' } }, { store, containerId: 'c1', rootfs }))).message, /resolves to \/proc in the container/);
  assert.equal(store.get('first'), undefined);
  assert.equal((await errorOfAsync(() => planMounts({ ImageVolumes: { '/afile': {} } }, { store, containerId: 'c1', rootfs }))).message,
    `cannot mount volume over existing file, file exists ${join(rootfs, 'afile')}`);
  assert.equal(store.get('tp'), undefined, 'a refused plan removes the volume it made');
  // Nothing at the destination in the image: nothing to copy, and the volume may still take content later.
  (await planMounts({ Binds: ['empty:/nothing-here'] }, { store, containerId: 'c1', rootfs }));
  assert.equal(store.copyState('empty'), null);
});

test('a copy-up cut short (state "copying") is emptied and redone on the next mount', needsRoot, async (t) => {
  const { store } = tempStore(t);
  const rootfs = tempDir(t, 'dray-vol-rootfs-');
  makeRootfs(rootfs);
  const v = store.create({ Name: 'partial' });
  store.setCopyState('partial', 'copying');
  writeFileSync(join(v.Mountpoint, 'half-written'), 'garbage');
  (await planMounts({ Binds: ['partial:/data'] }, { store, containerId: 'c1', rootfs }));
  const names = readdirSync(v.Mountpoint);
  assert.ok(names.includes('conf') && !names.includes('half-written'), names.join(','));
  assert.equal(store.copyState('partial'), 'done');
});
