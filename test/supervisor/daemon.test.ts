// dray-containerd as a process: socket and pidfile handling, graceful stop,
// and records that survive a restart and a kill -9.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDrayContainerd } from '../support/dray-containerd.ts';

const root = new URL('../../', import.meta.url).pathname;
const spec = { ociVersion: '1.2.0', process: { args: ['true'], cwd: '/' } };

test('socket 0660 in a 0711 directory, pidfile, and both removed on SIGTERM', async (t) => {
  const d = await startDrayContainerd();
  t.after(() => d.cleanup());
  assert.equal(statSync(d.socket).mode & 0o777, 0o660);
  assert.equal(statSync(join(d.dir, 'run')).mode & 0o777, 0o711);
  assert.equal(readFileSync(d.pidfile, 'utf8').trim(), String(d.child.pid));
  assert.equal(await d.stop(), 0, d.stderr());
  assert.equal(existsSync(d.socket), false);
  assert.equal(existsSync(d.pidfile), false);
  assert.match(d.stderr(), /level=info msg="shutting down" signal=SIGTERM/);
});

test('a stale socket is replaced; a live one (or a live pidfile) is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dray-containerd-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'run'));
  const sock = join(dir, 'run', 'containerd.sock');
  // A socket file with no listener: the leftover of a process killed while listening.
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`], { timeout: 15000 });
  assert.ok(statSync(sock).isSocket());
  const d = await startDrayContainerd({ dir });
  t.after(() => d.kill9());
  assert.equal(await d.client().health(), 'SERVING');
  // A second daemon on the same socket must not steal it.
  const r = spawnSync(join(root, 'bin/dray-containerd'), ['--data-root', join(dir, 'data2'), '--exec-root', join(dir, 'exec2'), '-H', d.address, '--pidfile', join(dir, 'other.pid')], { encoding: 'utf8', timeout: 15000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /another daemon is listening/);
  assert.equal(await d.client().health(), 'SERVING', 'the first daemon still serves');
  // Nor may one start on the same pidfile.
  const r2 = spawnSync(join(root, 'bin/dray-containerd'), ['--data-root', join(dir, 'data3'), '--exec-root', join(dir, 'exec3'), '-H', `unix://${dir}/other.sock`, '--pidfile', d.pidfile], { encoding: 'utf8', timeout: 15000 });
  assert.notEqual(r2.status, 0);
  assert.match(r2.stderr, /pid file .* names running process/);
});

test('a non-unix --host is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dray-containerd-test-'));
  try {
    const r = spawnSync(join(root, 'bin/dray-containerd'), ['--data-root', join(dir, 'd'), '--exec-root', join(dir, 'e'), '-H', 'tcp://0.0.0.0:1234', '--pidfile', join(dir, 'p')], { encoding: 'utf8', timeout: 15000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unix sockets only/);
    assert.equal(existsSync(join(dir, 'p')), false, 'no pidfile left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('records survive a graceful restart', async (t) => {
  let d = await startDrayContainerd();
  t.after(() => d.cleanup());
  const c = d.client();
  await c.namespaces.create('keep', { x: '1' });
  await c.withNamespace('keep').containers.create({ id: 'kept', runtime: { name: 'dray' }, spec, labels: { a: 'b' } });
  await c.leases.create('kept-lease');
  assert.equal(await d.stop(), 0);
  d = await d.restart();
  const c2 = d.client('keep');
  assert.deepEqual((await c2.containers.get('kept')).labels, { a: 'b' });
  assert.deepEqual((await c2.namespaces.get('keep')).labels, { x: '1' });
  assert.deepEqual((await d.client().leases.list()).map((l) => l.id), ['kept-lease']);
});

test('kill -9 right after a burst of creates loses no acknowledged record', async (t) => {
  let d = await startDrayContainerd();
  t.after(() => d.cleanup());
  const c = d.client();
  const acked: string[] = [];
  // Sequential and concurrent writes; every one acknowledged before the kill must survive it.
  for (let i = 0; i < 30; i++) { await c.containers.create({ id: `seq-${i}`, runtime: { name: 'dray' }, spec }); acked.push(`seq-${i}`); }
  const par = await Promise.all(Array.from({ length: 30 }, (_, i) => c.containers.create({ id: `par-${i}`, runtime: { name: 'dray' }, spec }).then((x) => x.id)));
  acked.push(...par);
  await c.containers.delete('seq-0');
  acked.shift();
  await d.kill9();
  assert.equal(d.child.signalCode, 'SIGKILL');
  assert.ok(existsSync(d.socket), 'the killed daemon left its socket behind');
  d = await d.restart();
  const ids = new Set((await d.client().containers.list()).map((x) => x.id));
  assert.equal(ids.size, acked.length);
  for (const id of acked) assert.ok(ids.has(id), id);
  assert.equal(ids.has('seq-0'), false, 'the acknowledged delete survived too');
});
