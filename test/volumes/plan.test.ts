// Mount planning with a real store: what is created and referenced, the
// OCI mounts, container inspect's Mounts, and the failures (nothing left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectMounts, mergeWithDefaults, ociMounts, planMounts, type OciMount } from '../../src/volumes/mounts.ts';
import type { MountPoint } from '../../src/volumes/mount-spec.ts';
import { errorOf, errorOfAsync, tempDir, tempStore } from './support.ts';

test('plan: binds, named/anonymous volumes, --mount, --tmpfs, image VOLUMEs -> OCI mounts and inspect Mounts', async (t) => {
  const { store } = tempStore(t);
  const host = tempDir(t);
  const missing = join(host, 'made/by/-v');
  const plan = (await planMounts({
    Binds: [`${host}:/h:ro`, 'foo:/data', `${missing}:/m`],
    Mounts: [
      { Type: 'tmpfs', Target: '/tm', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o700 } },
      { Type: 'volume', Source: 'mv', Target: '/mv', VolumeOptions: { Labels: { from: 'mount' } } },
      { Type: 'volume', Target: '/data/sub' },
    ],
    Tmpfs: { '/run': 'rw,size=64m' },
    ImageVolumes: { '/anon': {}, '/data': {}, '/run': {} },
  }, { store, containerId: 'c1' }));
  const anon = plan.mountPoints.find((m) => m.Destination === '/anon')?.Name as string;
  const sub = plan.mountPoints.find((m) => m.Destination === '/data/sub')?.Name as string;
  assert.match(anon, /^[0-9a-f]{64}$/);
  assert.deepEqual(plan.volumes.sort(), [anon, sub, 'foo', 'mv'].sort());
  assert.deepEqual(plan.created.sort(), [anon, sub, 'foo', 'mv'].sort());
  assert.deepEqual(store.get('mv')?.Labels, { from: 'mount' });
  for (const n of plan.volumes) assert.deepEqual(store.refs(n), ['c1']);
  assert.equal(existsSync(missing), false, '-v sources are made at start, not at create');

  assert.deepEqual(inspectMounts(plan.mountPoints), [
    { Type: 'volume', Name: anon, Source: store.mountpoint(anon), Destination: '/anon', Driver: 'local', Mode: '', RW: true, Propagation: '' },
    { Type: 'volume', Name: 'foo', Source: store.mountpoint('foo'), Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
    { Type: 'bind', Source: host, Destination: '/h', Mode: 'ro', RW: false, Propagation: 'rprivate' },
    { Type: 'bind', Source: missing, Destination: '/m', Mode: '', RW: true, Propagation: 'rprivate' },
    { Type: 'volume', Name: 'mv', Source: store.mountpoint('mv'), Destination: '/mv', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
    { Type: 'tmpfs', Source: '', Destination: '/tm', Mode: '', RW: true, Propagation: '' },
    { Type: 'volume', Name: sub, Source: store.mountpoint(sub), Destination: '/data/sub', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
  ]);

  const oci = ociMounts(plan.mountPoints, { '/run': 'rw,size=64m' }, { store, containerId: 'c1' });
  assert.ok(existsSync(missing), 'a missing -v source is created at start');
  assert.deepEqual(oci.mounts, [
    { destination: '/anon', type: 'bind', source: store.mountpoint(anon), options: ['rbind'] },
    { destination: '/data', type: 'bind', source: store.mountpoint('foo'), options: ['rbind'] },
    { destination: '/h', type: 'bind', source: host, options: ['rbind', 'rro', 'rprivate'] },
    { destination: '/m', type: 'bind', source: missing, options: ['rbind', 'rprivate'] },
    { destination: '/mv', type: 'bind', source: store.mountpoint('mv'), options: ['rbind'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'rw', 'size=64m'] },
    { destination: '/tm', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'mode=700', 'size=1m'] },
    { destination: '/data/sub', type: 'bind', source: store.mountpoint(sub), options: ['rbind'] },
  ]);
  assert.equal(oci.rootfsPropagation, undefined);
  assert.deepEqual(errorOf(() => store.remove('foo')), { status: 409, message: 'remove foo: volume is in use - [c1]' });
});

test('plan: duplicate destinations are Docker\'s errors, and a failed plan leaves nothing', async (t) => {
  const { store } = tempStore(t);
  const rows: [Parameters<typeof planMounts>[0], string][] = [
    [{ Binds: ['foo:/data', 'bar:/data'] }, 'Duplicate mount point: /data'],
    [{ Binds: ['foo:/data'], Mounts: [{ Type: 'volume', Source: 'bar', Target: '/data/' }] }, 'Duplicate mount point: /data/'],
    [{ Binds: ['foo:/run'], Tmpfs: { '/run': '' } }, 'Duplicate mount point: /run'],
    [{ Mounts: [{ Type: 'tmpfs', Target: '/a' }, { Type: 'tmpfs', Target: '/a' }] }, 'Duplicate mount point: /a'],
    [{ Binds: ['ok1:/ok', '../escape:/x'] }, 'create ../escape: "../escape" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
    [{ Binds: ['ok1:/ok'], Tmpfs: { '/proc': '' } }, "invalid specification: destination can't be '/proc'"],
    [{ Binds: ['ok1:/ok'], ImageVolumes: { '/proc/self': {} } }, `invalid image volume "/proc/self": invalid specification: destination can't be inside /proc: '/proc/self'`],
    [{ Binds: ['ok1:/ok'], ImageVolumes: { 'relative': {} } }, 'invalid image volume: "relative" must be an absolute path other than \'/\''],
    [{ Binds: ['ok1:/ok'], VolumesFrom: ['ghost'] }, 'No such container: ghost'],
    [{ Binds: ['ok1:/ok'], VolumeDriver: 'flocker' }, 'error looking up volume plugin flocker: plugin "flocker" not found'],
  ];
  for (const [input, message] of rows) {
    assert.equal((await errorOfAsync(() => planMounts(input, { store, containerId: 'c1', lookupContainer: () => undefined }))).message, message, JSON.stringify(input));
  }
  assert.deepEqual(store.list(), []);
  // A failure after volumes were made (a subpath that is not there) undoes them.
  assert.match((await errorOfAsync(() => planMounts({
    Binds: ['made:/a', '/b'],
    Mounts: [{ Type: 'volume', Source: 'made', Target: '/c', VolumeOptions: { Subpath: 'nothere' } }],
  }, { store, containerId: 'c1' }))).message, /cannot access path .*nothere: no such file or directory/);
  assert.deepEqual(store.list(), []);
});

test('plan: --volumes-from copies the other container\'s mounts, :ro narrows them; image volumes defer to them', async (t) => {
  const { store } = tempStore(t);
  const host = tempDir(t);
  const first = (await planMounts({ Binds: [`${host}:/h`, 'shared:/s'], ImageVolumes: { '/img': {} } }, { store, containerId: 'c1' }));
  const lookup = (ref: string): { id: string; mountPoints: MountPoint[] } | undefined => (ref === 'one' ? { id: 'c1', mountPoints: first.mountPoints } : undefined);
  const second = (await planMounts({ VolumesFrom: ['one:ro'], ImageVolumes: { '/img': {} } }, { store, containerId: 'c2', lookupContainer: lookup }));
  assert.deepEqual(inspectMounts(second.mountPoints).map((m) => [m.Destination, m.Type, m.RW, m.Name ?? '']),
    inspectMounts(first.mountPoints).map((m) => [m.Destination, m.Type, false, m.Name ?? '']));
  assert.deepEqual(second.created, []);
  assert.deepEqual(store.refs('shared'), ['c1', 'c2']);
  const third = (await planMounts({ VolumesFrom: ['one'], Binds: ['other:/s'] }, { store, containerId: 'c3', lookupContainer: lookup }));
  const s = third.mountPoints.find((m) => m.Destination === '/s');
  assert.equal(s?.Name, 'other', '-v overrides a --volumes-from mount on the same destination');
  assert.equal(third.mountPoints.find((m) => m.Destination === '/h')?.RW, true);
  // The volume behind --volumes-from must still exist.
  store.releaseContainer('c1');
  store.releaseContainer('c2');
  store.releaseContainer('c3');
  store.remove('shared');
  assert.equal((await errorOfAsync(() => planMounts({ VolumesFrom: ['one'] }, { store, containerId: 'c4', lookupContainer: lookup }))).message, 'get shared: no such volume');
});

test('read-only mounts are recursive (rro) from API 1.44; before it binds are read-only at the top only', async (t) => {
  const { store } = tempStore(t);
  const host = tempDir(t);
  const input = { Binds: [`${host}:/a:ro`, 'vol:/v:ro'], Mounts: [{ Type: 'bind', Source: host, Target: '/b', ReadOnly: true }, { Type: 'bind', Source: host, Target: '/c', ReadOnly: true, BindOptions: { ReadOnlyNonRecursive: true } }] };
  const opts = async (apiVersion: string, id: string) => Object.fromEntries(ociMounts((await planMounts(input, { store, containerId: id, apiVersion })).mountPoints, {}, { store, containerId: id })
    .mounts.map((m) => [m.destination, m.options.join(',')]));
  assert.deepEqual(await opts('1.50', 'c1'), { '/a': 'rbind,rro,rprivate', '/b': 'rbind,rro,rprivate', '/c': 'rbind,ro,rprivate', '/v': 'rbind,rro' });
  assert.deepEqual(await opts('1.43', 'c2'), { '/a': 'rbind,ro,rprivate', '/b': 'rbind,ro,rprivate', '/c': 'rbind,ro,rprivate', '/v': 'rbind,rro' });
});

test('plan: a bind of the data root (or above it) propagates rslave; private propagation is refused', async (t) => {
  const { store, root } = tempStore(t);
  const p = (await planMounts({ Binds: [`${root}:/r`] }, { store, containerId: 'c1' }));
  assert.equal(p.mountPoints[0]?.Propagation, 'rslave');
  const e = await errorOfAsync(() => planMounts({ Binds: [`${join(root, 'volumes')}:/r:rprivate`] }, { store, containerId: 'c1' }));
  assert.match(e.message, /^invalid mount config: must use either propagation mode "rslave" or "rshared" when mount source is within the daemon root/);
});

test('plan: volume subpaths stay inside the volume (symlinks too), and need API 1.45', async (t) => {
  const { store } = tempStore(t);
  const v = store.create({ Name: 'data' });
  mkdirSync(join(v.Mountpoint, 'sub'));
  symlinkSync('/etc', join(v.Mountpoint, 'out'));
  symlinkSync('../../..', join(v.Mountpoint, 'up'));
  const ok = (await planMounts({ Mounts: [{ Type: 'volume', Source: 'data', Target: '/d', VolumeOptions: { Subpath: 'sub' } }] }, { store, containerId: 'c1' }));
  assert.equal(ok.mountPoints[0]?.Source, join(v.Mountpoint, 'sub'));
  // 'out' resolves inside the volume (to <volume>/etc, which is not there): refused, never /etc.
  assert.match((await errorOfAsync(() => planMounts({ Mounts: [{ Type: 'volume', Source: 'data', Target: '/d', VolumeOptions: { Subpath: 'out' } }] }, { store, containerId: 'c2' }))).message, /cannot access path/);
  const up = (await planMounts({ Mounts: [{ Type: 'volume', Source: 'data', Target: '/d', VolumeOptions: { Subpath: 'up' } }] }, { store, containerId: 'c3' }));
  assert.equal(up.mountPoints[0]?.Source, v.Mountpoint, '".." links are clamped at the volume root');
  assert.equal((await errorOfAsync(() => planMounts({ Mounts: [{ Type: 'volume', Source: 'data', Target: '/d', VolumeOptions: { Subpath: 'sub' } }] }, { store, containerId: 'c4', apiVersion: '1.44' }))).message,
    'VolumeOptions.Subpath needs API v1.45 or newer');
});

test('ociMounts: --mount bind sources must still exist at start; user mounts replace default ones', async (t) => {
  const { store } = tempStore(t);
  const host = tempDir(t);
  const src = join(host, 'x');
  mkdirSync(src);
  const plan = (await planMounts({ Mounts: [{ Type: 'bind', Source: src, Target: '/x', BindOptions: { NonRecursive: true } }] }, { store, containerId: 'c1' }));
  assert.deepEqual(ociMounts(plan.mountPoints, {}, { store, containerId: 'c1' }).mounts[0]?.options, ['bind', 'rprivate']);
  rmdirSync(src);
  assert.deepEqual(errorOf(() => ociMounts(plan.mountPoints, {}, { store, containerId: 'c1' })),
    { status: 400, message: `invalid mount config for type "bind": bind source path does not exist: ${src}` });
  writeFileSync(join(host, 'f'), '');
  const f = (await planMounts({ Mounts: [{ Type: 'bind', Source: join(host, 'f'), Target: '/f' }] }, { store, containerId: 'c1' }));
  assert.equal(ociMounts(f.mountPoints, {}, { store, containerId: 'c1' }).mounts[0]?.source, join(host, 'f'));
  const defaults: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: [] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: [] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [] },
  ];
  const merged = mergeWithDefaults(defaults, [{ destination: '/dev/shm', type: 'bind', source: '/tmp', options: ['rbind'] }]);
  assert.deepEqual(merged.map((m) => [m.destination, m.type]), [['/dev', 'tmpfs'], ['/proc', 'proc'], ['/dev/shm', 'bind']]);
  assert.deepEqual(mergeWithDefaults(defaults, [{ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }]).map((m) => m.destination), ['/dev', '/proc']);
});
