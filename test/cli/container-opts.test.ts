// run/create flags to the container create body, as docker's CLI builds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCreate, CONTAINER_FLAGS, parsePublish, ramInBytes } from '../../src/cli/container-opts.ts';
import { Flags, parseFlags } from '../../src/cli/flags.ts';

const build = (argv: string[], detach = false): ReturnType<typeof buildCreate> => {
  const p = parseFlags(CONTAINER_FLAGS, argv, { interspersed: false });
  return buildCreate(new Flags(p), p.args, { detach });
};

test('sizes and ports as docker parses them', () => {
  assert.equal(ramInBytes('512m'), 512 * 1024 ** 2);
  assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('100'), 100);
  assert.equal(ramInBytes('64MB'), 64 * 1024 ** 2);
  assert.throws(() => ramInBytes('lots'), /invalid size/);
  assert.deepEqual(parsePublish('127.0.0.1:8080:80/udp'), [{ ip: '127.0.0.1', hostPort: '8080', containerPort: '80', proto: 'udp' }]);
  assert.deepEqual(parsePublish('80'), [{ ip: '', hostPort: '', containerPort: '80', proto: 'tcp' }]);
  assert.deepEqual(parsePublish('8000-8001:80-81').map((p) => `${p.hostPort}->${p.containerPort}`), ['8000->80', '8001->81']);
  assert.deepEqual(parsePublish('[::1]:9000:90')[0], { ip: '::1', hostPort: '9000', containerPort: '90', proto: 'tcp' });
  assert.throws(() => parsePublish('80/xtp'), /invalid proto/);
  assert.throws(() => parsePublish('99999'), /invalid containerPort/);
});

test('the create body: attach streams, env, ports, binds, restart, resources, entrypoint reset', () => {
  process.env['DRAY_TEST_FROM_ENV'] = 'yes';
  const r = build(['-i', '--name', 'n', '-e', 'A=1', '-e', 'DRAY_TEST_FROM_ENV', '-e', 'UNSET_DRAY_X', '-p', '8080:80', '-v', '/h:/c:ro', '-v', '/anon',
    '--restart', 'on-failure:3', '-m', '64m', '--cpus', '1.5', '--entrypoint=', '-l', 'a=b', '--tmpfs', '/run:size=1m', '--health-cmd', 'true', '--health-interval', '2s',
    'busybox', 'sh', '-c', 'x']);
  const b = r.body;
  const h = b['HostConfig'] as Record<string, unknown>;
  assert.equal(r.name, 'n');
  assert.deepEqual([b['AttachStdin'], b['AttachStdout'], b['AttachStderr'], b['OpenStdin'], b['StdinOnce']], [true, true, true, true, true]);
  assert.deepEqual(b['Env'], ['A=1', 'DRAY_TEST_FROM_ENV=yes', 'UNSET_DRAY_X']);
  assert.deepEqual(b['Cmd'], ['sh', '-c', 'x']);
  assert.deepEqual(b['Entrypoint'], ['']);
  assert.deepEqual(b['ExposedPorts'], { '80/tcp': {} });
  assert.deepEqual(h['PortBindings'], { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
  assert.deepEqual(h['Binds'], ['/h:/c:ro']);
  assert.deepEqual(b['Volumes'], { '/anon': {} });
  assert.deepEqual(h['RestartPolicy'], { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(h['Memory'], 64 * 1024 ** 2);
  assert.equal(h['NanoCpus'], 1.5e9);
  assert.deepEqual(h['Tmpfs'], { '/run': 'size=1m' });
  assert.deepEqual(b['Labels'], { a: 'b' });
  assert.deepEqual(b['Healthcheck'], { Test: ['CMD-SHELL', 'true'], Interval: 2e9, Timeout: undefined, Retries: undefined, StartPeriod: undefined });
  const d = build(['busybox'], true).body;
  assert.deepEqual([d['AttachStdout'], d['Cmd'], d['Entrypoint']], [false, null, null]);
  assert.throws(() => build(['--rm', '--restart', 'always', 'busybox']), /Conflicting options: --restart and --rm/);
  assert.throws(() => build(['-a', 'stdout', 'busybox'], true), /Conflicting options: -a and -d/);
  assert.throws(() => build(['--restart', 'sometimes', 'busybox']), /invalid restart policy/);
});
