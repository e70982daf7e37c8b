// The volumes on a real kernel (root): data outlives its "containers"
// (bind mounts of the volume made with the addon, as the runtime makes
// them), read-only binds refuse writes, tmpfs- and bind-backed volumes are
// mounted on first use and unmounted after the last, and removing a
// bind-backed volume never deletes the directory it binds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, statSync, statfsSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MS, native } from '../../src/common/native.ts';
import { isMountPoint } from '../../src/volumes/backend.ts';
import { ociMounts, planMounts, type OciMount } from '../../src/volumes/mounts.ts';
import { needsRoot } from '../support/root.ts';
import { tempDir, tempStore } from './support.ts';

/** Mounts one OCI bind mount at `target` the way a runtime does (bind, then a read-only remount). */
function mountOci(m: OciMount, target: string): void {
  mkdirSync(target, { recursive: true });
  native().mount(m.source, target, null, MS.BIND | (m.options.includes('rbind') ? MS.REC : 0), null);
  // ('rro' is mount_setattr's job in the runtime; these binds have no submounts, so a read-only remount is the same.)
  if (m.options.includes('ro') || m.options.includes('rro')) native().mount(null, target, null, MS.REMOUNT | MS.BIND | MS.RDONLY, null);
}

test('named volume data outlives the container that wrote it and is read by the next', needsRoot, async (t) => {
  const { store } = tempStore(t);
  const containers = tempDir(t, 'dray-vol-ctr-');
  // Container 1 writes through its bind mount of the volume.
  const p1 = (await planMounts({ Binds: ['keep:/data'] }, { store, containerId: 'c1' }));
  const m1 = ociMounts(p1.mountPoints, {}, { store, containerId: 'c1' }).mounts[0] as OciMount;
  const root1 = join(containers, 'c1');
  mountOci(m1, join(root1, 'data'));
  try {
    writeFileSync(join(root1, 'data', 'hello.txt'), 'written by c1\n');
  } finally {
    native().umount2(join(root1, 'data'), 0);
  }
  // Container 1 is removed (rm without -v): the named volume stays.
  assert.deepEqual(store.releaseContainer('c1', true), []);
  assert.ok(store.get('keep'));
  // Container 2 mounts it read-only and reads; writing is refused by the kernel.
  const p2 = (await planMounts({ Binds: ['keep:/data:ro'] }, { store, containerId: 'c2' }));
  const m2 = ociMounts(p2.mountPoints, {}, { store, containerId: 'c2' }).mounts[0] as OciMount;
  assert.deepEqual(m2.options, ['rbind', 'rro']);
  const root2 = join(containers, 'c2');
  mountOci(m2, join(root2, 'data'));
  try {
    assert.equal(readFileSync(join(root2, 'data', 'hello.txt'), 'utf8'), 'written by c1\n');
    assert.throws(() => writeFileSync(join(root2, 'data', 'other'), 'x'), { code: 'EROFS' });
  } finally {
    native().umount2(join(root2, 'data'), 0);
  }
  assert.equal(existsSync(join(store.mountpoint('keep'), 'other')), false);
});

test('a read-only host bind refuses writes (EROFS) while the host side stays writable', needsRoot, async (t) => {
  const { store } = tempStore(t);
  const host = tempDir(t);
  const ctr = tempDir(t, 'dray-vol-ctr-');
  writeFileSync(join(host, 'f'), 'host');
  const plan = (await planMounts({ Mounts: [{ Type: 'bind', Source: host, Target: '/ro', ReadOnly: true }] }, { store, containerId: 'c1' }));
  const m = ociMounts(plan.mountPoints, {}, { store, containerId: 'c1' }).mounts[0] as OciMount;
  mountOci(m, join(ctr, 'ro'));
  try {
    assert.equal(readFileSync(join(ctr, 'ro', 'f'), 'utf8'), 'host');
    assert.throws(() => writeFileSync(join(ctr, 'ro', 'f'), 'x'), { code: 'EROFS' });
    assert.throws(() => mkdirSync(join(ctr, 'ro', 'd')), { code: 'EROFS' });
    writeFileSync(join(host, 'g'), 'still writable');
  } finally {
    native().umount2(join(ctr, 'ro'), 0);
  }
});

test('tmpfs volume: mounted on first use with its size and mode, unmounted after the last user, empty again', needsRoot, async (t) => {
  const { store } = tempStore(t);
  const v = store.create({ Name: 'scratch', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=2m,mode=0710,uid=1234' } });
  assert.equal(isMountPoint(v.Mountpoint), false, 'not mounted before use');
  store.acquire('scratch', 'c1');
  store.acquire('scratch', 'c2');
  try {
    assert.ok(isMountPoint(v.Mountpoint));
    const st = statSync(v.Mountpoint);
    assert.equal(st.mode & 0o7777, 0o710);
    assert.equal(st.uid, 1234);
    const fs = statfsSync(v.Mountpoint);
    assert.equal(fs.blocks * fs.bsize, 2 * 1024 * 1024);
    writeFileSync(join(v.Mountpoint, 'f'), 'x');
    assert.throws(() => writeFileSync(join(v.Mountpoint, 'big'), Buffer.alloc(3 * 1024 * 1024)), { code: 'ENOSPC' });
    store.release('scratch', 'c1');
    assert.ok(isMountPoint(v.Mountpoint), 'still used by c2');
  } finally {
    store.release('scratch', 'c2');
  }
  assert.equal(isMountPoint(v.Mountpoint), false);
  assert.deepEqual(readdirSync(v.Mountpoint), []);
  store.remove('scratch');
});

test('bind-backed volume (o=bind): the directory shows through; removing the volume leaves it intact', needsRoot, async (t) => {
  const { store } = tempStore(t);
  const dev = tempDir(t);
  writeFileSync(join(dev, 'precious'), 'do not delete');
  const v = store.create({ Name: 'bound', DriverOpts: { type: 'none', device: dev, o: 'bind' } });
  store.acquire('bound', 'c1');
  assert.equal(readFileSync(join(v.Mountpoint, 'precious'), 'utf8'), 'do not delete');
  writeFileSync(join(v.Mountpoint, 'new'), 'through the volume');
  store.release('bound', 'c1');
  assert.equal(isMountPoint(v.Mountpoint), false);
  // Even mounted by hand at removal time, the bound directory is never deleted through.
  store.acquire('bound', 'c2');
  native().mount(dev, v.Mountpoint, null, MS.BIND, null);
  store.release('bound', 'c2');
  store.remove('bound');
  assert.deepEqual(readdirSync(dev).sort(), ['new', 'precious']);
  assert.equal(readFileSync(join(dev, 'new'), 'utf8'), 'through the volume');
});

test('a tmpfs volume that cannot mount reports Docker\'s error and takes no reference', needsRoot, async (t) => {
  const { store } = tempStore(t);
  store.create({ Name: 'broken', DriverOpts: { type: 'nosuchfs', device: 'none' } });
  assert.throws(() => store.acquire('broken', 'c1'), (err: Error & { status?: number }) => {
    assert.equal(err.status, 500);
    assert.match(err.message, /^error while mounting volume '.*broken\/_data': failed to mount local volume: mount none:.*broken\/_data, flags: 0x0, data: : /);
    return true;
  });
  assert.deepEqual(store.refs('broken'), []);
  store.remove('broken');
});

test('shared/slave bind propagation needs a propagating source mount, and asks for a matching rootfs propagation', needsRoot, async (t) => {
  const { store } = tempStore(t);
  const src = tempDir(t);
  native().mount(src, src, null, MS.BIND, null); // unmounted by tempDir's cleanup
  native().mount(null, src, null, MS.PRIVATE, null);
  const plan = (await planMounts({ Binds: [`${src}:/s:rshared`] }, { store, containerId: 'c1' }));
  assert.throws(() => ociMounts(plan.mountPoints, {}, { store, containerId: 'c1' }), { status: 500, message: `path ${src} is mounted on ${src} but it is not a shared mount` });
  native().mount(null, src, null, MS.SHARED, null);
  const shared = ociMounts(plan.mountPoints, {}, { store, containerId: 'c1' });
  assert.deepEqual(shared.mounts[0]?.options, ['rbind', 'rshared']);
  assert.equal(shared.rootfsPropagation, 'rshared');
  const slave = ociMounts((await planMounts({ Binds: [`${src}:/s:rslave`] }, { store, containerId: 'c2' })).mountPoints, {}, { store, containerId: 'c2' });
  assert.equal(slave.rootfsPropagation, 'rslave');
});
