// Binds / Mounts / Tmpfs / VolumesFrom parsing, with Docker's messages
// (checked against dockerd 20.10 where it has them) and Dray's refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBind, parseMount, parseVolumesFrom, validateTmpfsDestination, type MountSpec } from '../../src/volumes/mount-spec.ts';
import { tmpfsOptions } from '../../src/volumes/tmpfs-options.ts';
import { errorOf } from './support.ts';

test('Binds: sources, destinations, modes and propagation as docker run -v', () => {
  const rows: [string, Partial<ReturnType<typeof parseBind>>][] = [
    ['/tmp:/data', { Type: 'bind', Source: '/tmp', Destination: '/data', RW: true, Mode: '', Propagation: 'rprivate', CreateSource: true }],
    ['/tmp:/data:ro', { Type: 'bind', RW: false, Mode: 'ro' }],
    ['/tmp:/data:rw,rshared', { Type: 'bind', RW: true, Propagation: 'rshared', Mode: 'rw,rshared' }],
    ['/tmp/./a/../b:/x/../y/', { Type: 'bind', Source: '/tmp/b', Destination: '/y' }],
    ['/tmp:/data:Z', { Type: 'bind', Mode: 'Z', RW: true }],
    ['/tmp:/data:z,ro,slave', { Type: 'bind', RW: false, Propagation: 'slave' }],
    ['foo:/data', { Type: 'volume', Name: 'foo', Destination: '/data', RW: true, CopyData: true, Anonymous: false, Propagation: '' }],
    ['foo:/data:ro,nocopy', { Type: 'volume', Name: 'foo', RW: false, CopyData: false }],
    ['/anon', { Type: 'volume', Name: '', Destination: '/anon', Anonymous: true, CopyData: true }],
    ['/tmp:/proc/cpuinfo:ro', { Type: 'bind', Destination: '/proc/cpuinfo' }],
    ['/sys/fs/cgroup:/sys/fs/cgroup:ro', { Type: 'bind', Destination: '/sys/fs/cgroup' }],
  ];
  for (const [raw, want] of rows) {
    const got = parseBind(raw);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof typeof got], v, `${raw}: ${k}`);
  }
});

test('Binds: Docker\'s errors, and hostile destinations refused', () => {
  const rows: [string, string][] = [
    ['foo:/', "invalid volume specification: 'foo:/': invalid mount config for type \"volume\": invalid specification: destination can't be '/'"],
    ['/tmp:/', "invalid volume specification: '/tmp:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'"],
    ['foo:rel', "invalid volume specification: 'foo:rel': invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute"],
    ['/tmp:/x:rw,ro', 'invalid mode: rw,ro'],
    ['/tmp:/x:bogus', 'invalid mode: bogus'],
    ['/tmp:/x:y:z', "invalid volume specification: '/tmp:/x:y:z'"],
    ['/x:rw', "invalid volume specification: '/x:rw'"],
    [':/x', "invalid volume specification: ':/x'"],
    ['/tmp:/x:z,Z', 'invalid mode: z,Z'],
    ['/tmp:/x:nocopy,nocopy', 'invalid mode: nocopy,nocopy'],
    ['/tmp:/proc', "invalid volume specification: '/tmp:/proc': invalid mount config for type \"bind\": invalid specification: destination can't be '/proc'"],
    ['/tmp:/sys', "invalid volume specification: '/tmp:/sys': invalid mount config for type \"bind\": invalid specification: destination can't be '/sys'"],
    ['/tmp:/proc/sys/kernel', "invalid volume specification: '/tmp:/proc/sys/kernel': invalid mount config for type \"bind\": invalid specification: destination can't be inside /proc: '/proc/sys/kernel'"],
    ['/tmp:/x/../proc/', "invalid volume specification: '/tmp:/x/../proc/': invalid mount config for type \"bind\": invalid specification: destination can't be '/proc'"],
    ['foo:/x/../../', "invalid volume specification: 'foo:/x/../../': invalid mount config for type \"volume\": invalid specification: destination can't be '/'"],
  ];
  for (const [raw, message] of rows) assert.deepEqual(errorOf(() => parseBind(raw)), { status: 400, message }, raw);
});

test('Mounts: bind/volume/tmpfs objects as docker run --mount', () => {
  const b = parseMount({ Type: 'bind', Source: '/tmp', Target: '/data', ReadOnly: true, BindOptions: { Propagation: 'rslave', NonRecursive: true } });
  assert.deepEqual([b.Source, b.Destination, b.RW, b.Propagation, b.NonRecursive, b.CreateSource, b.Mode], ['/tmp', '/data', false, 'rslave', true, false, '']);
  const c = parseMount({ Type: 'bind', Source: '/nonexistent-dray/x', Target: '/data', BindOptions: { CreateMountpoint: true } });
  assert.equal(c.CreateSource, true);
  const v = parseMount({ Type: 'volume', Source: 'foo', Target: '/v', VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs' } }, Subpath: 'sub/dir' } });
  assert.deepEqual([v.Name, v.CopyData, v.VolumeLabels, v.DriverOpts, v.Subpath], ['foo', false, { a: 'b' }, { type: 'tmpfs', device: 'tmpfs' }, 'sub/dir']);
  const t = parseMount({ Type: 'tmpfs', Target: '/tm', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o700 } });
  assert.deepEqual([t.Type, t.Source, t.TmpfsData], ['tmpfs', '', 'mode=700,size=1m']);
  assert.equal(parseMount({ Type: 'tmpfs', Target: '/tm', ReadOnly: true, TmpfsOptions: { SizeBytes: 1000 } }).TmpfsData, 'ro,size=1000');
  assert.equal(parseMount({ Type: 'tmpfs', Target: '/tm', TmpfsOptions: { SizeBytes: 3 * 2 ** 30 } }).TmpfsData, 'size=3g');
});

test('Mounts: Docker\'s errors', () => {
  const rows: [MountSpec, string][] = [
    [{ Type: 'bind', Source: '/tmp', Target: '/' }, "invalid mount config for type \"bind\": invalid specification: destination can't be '/'"],
    [{ Type: 'bind', Source: '/nonexist-dray', Target: '/n' }, 'invalid mount config for type "bind": bind source path does not exist: /nonexist-dray'],
    [{ Type: 'bind', Source: 'rel', Target: '/n' }, "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute"],
    [{ Type: 'bind', Target: '/n' }, 'invalid mount config for type "bind": field Source must not be empty'],
    [{ Type: 'bind', Source: '/tmp' }, 'invalid mount config for type "bind": field Target must not be empty'],
    [{ Type: 'bind', Source: '/tmp', Target: '/n', BindOptions: { Propagation: 'weird' } }, 'invalid mount config for type "bind": invalid propagation mode: weird'],
    [{ Type: 'bind', Source: '/tmp', Target: '/n', VolumeOptions: {} }, 'invalid mount config for type "bind": field VolumeOptions must not be specified'],
    [{ Type: 'volume', Target: '/n', ReadOnly: true }, 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes'],
    [{ Type: 'volume', Source: 'v1', Target: '/n', BindOptions: {} }, 'invalid mount config for type "volume": field BindOptions must not be specified'],
    [{ Type: 'volume', Target: '/n', VolumeOptions: { Subpath: 'x' } }, 'invalid mount config for type "volume": must not set Subpath when using anonymous volumes'],
    [{ Type: 'volume', Source: 'v1', Target: '/n', VolumeOptions: { Subpath: '../x' } }, 'invalid mount config for type "volume": subpath must be a relative path within the volume'],
    [{ Type: 'volume', Source: 'v1', Target: '/n', VolumeOptions: { Subpath: '/etc' } }, 'invalid mount config for type "volume": subpath must be a relative path within the volume'],
    [{ Type: 'volume', Source: 'v1', Target: 'rel' }, "invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute"],
    [{ Type: 'tmpfs', Source: 'x', Target: '/t' }, 'invalid mount config for type "tmpfs": field Source must not be specified'],
    [{ Type: 'tmpfs', Target: '/proc' }, "invalid mount config for type \"tmpfs\": invalid specification: destination can't be '/proc'"],
    [{ Type: 'npipe', Source: 'x', Target: '/t' }, 'invalid mount config for type "npipe": mount type unknown'],
    [{ Type: 'bind', Source: '/tmp', Target: '/n', BindOptions: { ReadOnlyNonRecursive: true } }, "invalid mount config for type \"bind\": option 'ReadOnlyNonRecursive' requires 'ReadOnly' to be set"],
    [{ Type: 'bind', Source: '/tmp', Target: '/n', BindOptions: { ReadOnlyForceRecursive: true } }, "invalid mount config for type \"bind\": option 'ReadOnlyForceRecursive' requires 'ReadOnly' to be set"],
    [{ Type: 'bind', Source: '/tmp', Target: '/n', ReadOnly: true, BindOptions: { ReadOnlyForceRecursive: true, Propagation: 'rshared' } }, "invalid mount config for type \"bind\": option 'ReadOnlyForceRecursive' requires 'BindOptions.Propagation' to be 'rprivate'"],
  ];
  for (const [spec, message] of rows) assert.deepEqual(errorOf(() => parseMount(spec)), { status: 400, message }, JSON.stringify(spec));
  assert.deepEqual(errorOf(() => parseMount({ Type: 'volume', Source: 'v1', Target: '/n', VolumeOptions: { Subpath: 'x' } }, false)),
    { status: 400, message: 'VolumeOptions.Subpath needs API v1.45 or newer' });
});

test('Tmpfs map: destinations checked; options merged over Docker\'s defaults, last one wins', () => {
  assert.deepEqual(tmpfsOptions(''), ['noexec', 'nosuid', 'nodev', 'rprivate']);
  assert.deepEqual(tmpfsOptions('rw,size=64m'), ['noexec', 'nosuid', 'nodev', 'rprivate', 'rw', 'size=64m']);
  assert.deepEqual(tmpfsOptions('exec,size=1m,size=2m,mode=1777,shared'), ['nosuid', 'nodev', 'exec', 'size=2m', 'mode=1777', 'shared']);
  assert.deepEqual(errorOf(() => tmpfsOptions('foo')), { status: 400, message: 'invalid tmpfs option ["foo"]' });
  assert.equal(errorOf(() => tmpfsOptions('size=1m\0x')).status, 400);
  assert.deepEqual(errorOf(() => tmpfsOptions('upperdir=/x')), { status: 400, message: 'invalid tmpfs option ["upperdir" "/x"]' });
  assert.deepEqual(errorOf(() => validateTmpfsDestination('rel')), { status: 400, message: "invalid mount path: 'rel' mount path must be absolute" });
  assert.deepEqual(errorOf(() => validateTmpfsDestination('/')), { status: 400, message: "invalid specification: destination can't be '/'" });
  assert.deepEqual(errorOf(() => validateTmpfsDestination('/sys')), { status: 400, message: "invalid specification: destination can't be '/sys'" });
  validateTmpfsDestination('/run');
});

test('VolumesFrom: container[:ro|rw]; propagation and copy modes refused', () => {
  assert.deepEqual(parseVolumesFrom('c1'), { container: 'c1', mode: 'rw' });
  assert.deepEqual(parseVolumesFrom('c1:ro'), { container: 'c1', mode: 'ro' });
  assert.deepEqual(parseVolumesFrom('c1:rw,z'), { container: 'c1', mode: 'rw,z' });
  assert.deepEqual(errorOf(() => parseVolumesFrom('c1:nocopy')), { status: 400, message: 'invalid mode: nocopy' });
  assert.deepEqual(errorOf(() => parseVolumesFrom('c1:rshared')), { status: 400, message: 'invalid mode: rshared' });
  assert.deepEqual(errorOf(() => parseVolumesFrom('c1:what')), { status: 400, message: 'invalid mode: what' });
  assert.deepEqual(errorOf(() => parseVolumesFrom('')), { status: 400, message: 'volumes-from specification cannot be an empty string' });
});
