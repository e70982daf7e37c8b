// The pure TypeScript side, without root: config validation, mount
// options, the plan and its wire format, runc-style flags, signals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MS } from '../../src/common/native.ts';
import { defaultSpec } from '../../src/runtime/config/default-spec.ts';
import { validateSpec } from '../../src/runtime/config/validate.ts';
import { parseGoFlags } from '../../src/runtime/cli/go-flags.ts';
import { buildCreatePlan } from '../../src/runtime/plan/build.ts';
import { capMask } from '../../src/runtime/plan/capabilities.ts';
import { decodePlan, encodePlan } from '../../src/runtime/plan/encode.ts';
import { parseMountOptions } from '../../src/runtime/plan/mount-options.ts';
import { parseSignal } from '../../src/runtime/signals.ts';
import { parseBytes } from '../../src/runtime/verbs/update.ts';

// any: a fixture each case edits freely, wherever its field is.
const valid = () => JSON.parse(JSON.stringify(defaultSpec())) as Record<string, any>;

describe('config.json validation', () => {
  it('accepts the default spec', () => {
    assert.equal(validateSpec(valid(), { needProcess: true }).process!.args![0], 'sh');
  });
  const bad: [string, (s: Record<string, any>) => void, RegExp][] = [ // any: as above
    ['not an object', (s) => { s['process'] = 3; }, /process: must be an object/],
    ['an unknown namespace', (s) => { s['linux'].namespaces.push({ type: 'nope' }); }, /linux\.namespaces\[6\]\.type: unknown namespace type "nope"/],
    ['a duplicate namespace', (s) => { s['linux'].namespaces.push({ type: 'pid' }); }, /duplicate namespace pid/],
    ['a relative cwd', (s) => { s['process'].cwd = 'tmp'; }, /process\.cwd: "tmp" must be an absolute path/],
    ['empty args', (s) => { s['process'].args = []; }, /process\.args/],
    ['an env entry without =', (s) => { s['process'].env.push('JUSTKEY'); }, /process\.env\[2\]/],
    ['an unknown capability', (s) => { s['process'].capabilities.bounding.push('CAP_BOGUS'); }, /unknown capability "CAP_BOGUS"/],
    ['an unknown rlimit', (s) => { s['process'].rlimits.push({ type: 'RLIMIT_X', soft: 1, hard: 1 }); }, /unknown rlimit/],
    ['soft above hard', (s) => { s['process'].rlimits = [{ type: 'RLIMIT_NOFILE', soft: 9, hard: 1 }]; }, /soft limit exceeds hard/],
    ['uid maps without a user namespace', (s) => { s['linux'].uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]; }, /needs a new user namespace/],
    ['a user namespace without maps', (s) => { s['linux'].namespaces.push({ type: 'user' }); }, /needs uidMappings and gidMappings/],
    ['a net sysctl without a network namespace', (s) => {
      s['linux'].namespaces = s['linux'].namespaces.filter((n: { type: string }) => n.type !== 'network');
      s['linux'].sysctl = { 'net.ipv4.ip_forward': '1' };
    }, /needs a new network namespace/],
    ['a sysctl name with odd characters', (s) => { s['linux'].sysctl = { 'kernel.x y': '1' }; }, /bad sysctl name/],
    ['a relative mount destination', (s) => { s['mounts'].push({ destination: 'mnt', type: 'tmpfs' }); }, /mounts\[7\]\.destination/],
    ['an idmapped mount', (s) => { s['mounts'].push({ destination: '/m', type: 'bind', source: '/x', options: ['idmap'] }); }, /idmapped mounts are not supported/],
    ['an unknown hook stage', (s) => { s['hooks'] = { prestop: [] }; }, /hooks\.prestop: unknown hook stage/],
    ['a relative hook path', (s) => { s['hooks'] = { prestart: [{ path: 'x' }] }; }, /hooks\.prestart\[0\]\.path/],
    ['a bad ociVersion', (s) => { s['ociVersion'] = '2.0.0'; }, /unsupported version/],
    ['timeOffsets without a time namespace', (s) => { s['linux'].timeOffsets = { monotonic: { secs: 1 } }; }, /needs a new time namespace/],
  ];
  for (const [what, edit, msg] of bad) {
    it(`refuses ${what} with one line naming the field`, () => {
      const s = valid();
      edit(s);
      assert.throws(() => validateSpec(s, { needProcess: true }), (e: Error) => msg.test(e.message) && !e.message.includes('\n'));
    });
  }
});

describe('mount options', () => {
  it('maps flags, clears, propagation, recursive attributes and data', () => {
    const f = parseMountOptions(['ro', 'nosuid', 'rw', 'rbind', 'rslave', 'rro', 'mode=755', 'size=1m']);
    assert.equal(f.flags, MS.NOSUID | MS.BIND | MS.REC);
    assert.equal(f.propagation, MS.SLAVE | MS.REC);
    assert.equal(f.attrSet, 1);
    assert.deepEqual(f.data, ['mode=755', 'size=1m']);
    assert.equal(parseMountOptions(['rnoatime']).attrClr, 0x70);
  });
});

describe('the plan', () => {
  it('round-trips through the wire format, binary fields included', () => {
    const recs = [['mode', 'create'], ['seccomp', Buffer.from([0, 1, 2, 255]), 0], ['env', 'A=b c']];
    const d = decodePlan(encodePlan(recs));
    assert.deepEqual(d[0], ['mode', 'create']);
    assert.deepEqual(d[2], ['env', 'A=b c']);
    assert.throws(() => encodePlan([['arg', 'a\0b']]), /NUL/);
  });
  it('resolves bind sources against the bundle, orders mounts, adds /dev, maps and capability masks', () => {
    const s = validateSpec(valid(), { needProcess: true });
    s.mounts!.push({ destination: '/data', type: 'bind', source: 'rel/dir', options: ['rbind', 'ro'] });
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 2000, size: 10 }];
    const plan = decodePlan(encodePlan(buildCreatePlan({ spec: s, bundle: '/b', rootfs: '/b/rootfs', execFifo: '/r/id/exec.fifo', preserveFds: 0 })));
    const ops = plan.map((r) => r[0]);
    assert.deepEqual(plan.find((r) => r[0] === 'uid_map'), ['uid_map', '0 1000 10\n']);
    const mounts = plan.filter((r) => r[0] === 'mount').map((r) => r[2]);
    assert.deepEqual(mounts.slice(0, 4), ['/proc', '/dev', '/dev/pts', '/dev/shm']);
    const data = plan.find((r) => r[0] === 'mount' && r[2] === '/data')!;
    assert.equal(data[1], '/b/rel/dir');
    assert.equal(Number(data[4]), MS.BIND | MS.REC | MS.RDONLY);
    // With its own network namespace, sysfs is mounted even in a user namespace.
    assert.equal(plan.find((r) => r[0] === 'mount' && r[2] === '/sys')![3], 'sysfs');
    // In a user namespace the device nodes are bind mounts of the host's.
    assert.ok(plan.filter((r) => r[0] === 'dev').every((r) => r[8] === '1'));
    assert.ok(ops.indexOf('dev') > ops.lastIndexOf('mount') - 2);
    const caps = plan.find((r) => r[0] === 'caps')!;
    assert.equal(caps[1], String(capMask(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'])));
    assert.equal(caps[1], String((1n << 29n) | (1n << 5n) | (1n << 10n)));
  });
});

describe('runc-style command lines', () => {
  it('parses -name and --name, =value, lists, and stops at the first positional', () => {
    const r = parseGoFlags(['-d', '--pid-file=/p', '-e', 'A=1', '--env', 'B=2', 'id', 'sh', '-c', 'echo'], [
      { name: 'detach', short: 'd', kind: 'bool' }, { name: 'pid-file', kind: 'string' }, { name: 'env', short: 'e', kind: 'list' },
    ]);
    assert.deepEqual(r.values, { detach: true, 'pid-file': '/p', env: ['A=1', 'B=2'] });
    assert.deepEqual(r.rest, ['id', 'sh', '-c', 'echo']);
    assert.throws(() => parseGoFlags(['--nope'], []), /flag provided but not defined: -nope/);
  });
  it('takes signals by name, SIG name and number; refuses others', () => {
    assert.equal(parseSignal('KILL'), 9);
    assert.equal(parseSignal('SIGHUP'), 1);
    assert.equal(parseSignal('15'), 15);
    assert.equal(parseSignal('RTMIN+2'), 36);
    assert.throws(() => parseSignal('SIGNOPE'), /invalid signal/);
    assert.throws(() => parseSignal('99'), /invalid signal/);
  });
  it('reads sizes as runc does', () => {
    assert.equal(parseBytes('64m'), 64 * 1024 * 1024);
    assert.equal(parseBytes('1g'), 1024 ** 3);
    assert.equal(parseBytes('-1'), -1);
    assert.throws(() => parseBytes('lots'), /invalid size/);
  });
});
