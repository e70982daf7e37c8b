// dray-ctr against a real dray-containerd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDrayContainerd } from '../support/dray-containerd.ts';

const ctrBin = new URL('../../bin/dray-ctr', import.meta.url).pathname;

test('dray-ctr: namespaces, containers, leases, version, and errors with their codes', async (t) => {
  const d = await startDrayContainerd();
  t.after(() => d.cleanup());
  const ctr = (...args: string[]) => spawnSync(ctrBin, ['--address', d.address, ...args], { encoding: 'utf8', timeout: 20_000 });
  const ok = (...args: string[]): string => {
    const r = ctr(...args);
    assert.equal(r.status, 0, `dray-ctr ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  assert.match(ok('version'), /Server:\n {2}Version: {2}\d+\.\d+\.\d+/);
  ok('namespaces', 'create', 'team1', 'owner=me');
  assert.match(ok('ns', 'ls'), /^NAME\s+LABELS\ndefault\s+-\nteam1\s+owner=me\n$/);
  assert.equal(ok('ns', 'ls', '-q'), 'default\nteam1\n');

  const dir = mkdtempSync(join(tmpdir(), 'dray-ctr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ociVersion: '1.2.0', process: { args: ['echo', 'hi'] } }));
  ok('-n', 'team1', 'containers', 'create', '--spec', join(dir, 'config.json'), '--image', 'busybox', '--label', 'app=web', 'web1');
  ok('-n', 'team1', 'c', 'create', '--runtime', 'runc', 'db1');
  assert.match(ok('-n', 'team1', 'c', 'ls'), /^CONTAINER\s+IMAGE\s+RUNTIME\ndb1\s+-\s+runc\nweb1\s+busybox\s+dray\n$/);
  assert.equal(ok('-n', 'team1', 'c', 'ls', '-q', 'labels.app==web'), 'web1\n');
  assert.equal(ok('c', 'ls', '-q'), '', 'the default namespace sees none of team1\'s containers');
  const info = JSON.parse(ok('-n', 'team1', 'c', 'info', 'web1')) as { Spec: { process: { args: string[] } }; Labels: Record<string, string> };
  assert.deepEqual(info.Spec.process.args, ['echo', 'hi']);
  assert.equal(ok('-n', 'team1', 'c', 'label', 'web1', 'app=', 'tier=front'), 'tier=front\n');

  let r = ctr('-n', 'team1', 'c', 'create', 'web1');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^dray-ctr: ALREADY_EXISTS: container "web1"/);
  r = ctr('-n', 'team1', 'c', 'info', 'nope');
  assert.match(r.stderr, /NOT_FOUND/);
  r = ctr('-n', 'nosuch', 'c', 'ls');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /FAILED_PRECONDITION: namespace "nosuch" does not exist/);
  r = ctr('c', 'create', 'bad/id');
  assert.match(r.stderr, /INVALID_ARGUMENT/);
  r = ctr('ns', 'rm', 'team1');
  assert.match(r.stderr, /FAILED_PRECONDITION: namespace "team1" must be empty before deletion, but it still has 2 containers/);
  r = ctr('frobnicate');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unknown command/);

  ok('-n', 'team1', 'c', 'rm', 'web1', 'db1');
  assert.equal(ok('ns', 'rm', 'team1'), 'team1\n');
  assert.equal(ok('leases', 'create', '--id', 'l1', '--label', 'k=v'), 'l1\n');
  assert.match(ok('leases', 'ls'), /\nl1\s+\S+\s+k=v\n/);
  ok('leases', 'rm', 'l1');
  assert.equal(ok('leases', 'ls', '-q'), '');
});

test('dray-ctr: an unreachable daemon is UNAVAILABLE, not a hang', () => {
  const r = spawnSync(ctrBin, ['--address', 'unix:///nonexistent/dray.sock', '--timeout', '5', 'version'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /UNAVAILABLE|DEADLINE_EXCEEDED/);
});
