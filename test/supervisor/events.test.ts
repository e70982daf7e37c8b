// The events service: filtered subscriptions, publish/forward, and
// subscribers that vanish mid-stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { status } from '@grpc/grpc-js';
import { startDrayContainerd } from '../support/dray-containerd.ts';
import { SupervisorError, type Envelope, type EventStream } from '../../src/supervisor/client/index.ts';

const spec = { ociVersion: '1.2.0' };
const field = (e: Envelope, name: string): unknown => (e.event as Record<string, unknown> | null)?.[name];

/** Collects events until want() is satisfied (bounded by time), then cancels. */
async function collect(stream: EventStream, want: (seen: Envelope[]) => boolean, ms = 10_000): Promise<Envelope[]> {
  const seen: Envelope[] = [];
  const timer = setTimeout(() => stream.cancel(), ms);
  try {
    for await (const e of stream) {
      seen.push(e);
      if (want(seen)) break;
    }
  } finally {
    clearTimeout(timer);
    stream.cancel();
  }
  return seen;
}

test('a subscriber receives /containers/create and /containers/delete, filtered by topic and namespace', async (t) => {
  const d = await startDrayContainerd();
  t.after(() => d.cleanup());
  const c = d.client();
  await c.namespaces.create('other');
  const containerEvents = c.events.subscribe('topic~=^/containers/,namespace==default');
  const deletesOnly = c.events.subscribe('topic==/containers/delete');
  const byId = c.events.subscribe('event.id==b');
  await Promise.all([containerEvents.ready, deletesOnly.ready, byId.ready]);
  await c.withNamespace('other').containers.create({ id: 'x', runtime: { name: 'dray' }, spec });
  await c.containers.create({ id: 'a', runtime: { name: 'dray' }, image: 'busybox', spec });
  await c.containers.create({ id: 'b', runtime: { name: 'dray' }, spec });
  await c.containers.delete('a');
  await c.withNamespace('other').containers.delete('x');

  const got = await collect(containerEvents, (s) => s.length >= 3);
  assert.deepEqual(got.map((e) => [e.namespace, e.topic, field(e, 'id')]), [
    ['default', '/containers/create', 'a'], ['default', '/containers/create', 'b'], ['default', '/containers/delete', 'a'],
  ]);
  const first = got[0]!.event as Record<string, unknown>;
  assert.equal(first['@type'], 'type.googleapis.com/dray.events.v1.ContainerCreate');
  assert.equal(first['image'], 'busybox');
  assert.ok(got[0]!.timestamp!.seconds > 0);

  const dels = await collect(deletesOnly, (s) => s.length >= 2);
  assert.deepEqual(dels.map((e) => `${e.namespace}/${field(e, 'id')}`), ['default/a', 'other/x']);
  const b = await collect(byId, (s) => s.length >= 1);
  assert.deepEqual(b.map((e) => e.topic), ['/containers/create']);
});

test('publish and forward reach subscribers; bad filters are INVALID_ARGUMENT', async (t) => {
  const d = await startDrayContainerd();
  t.after(() => d.cleanup());
  const c = d.client();
  const sub = c.events.subscribe('topic==/tasks/exit');
  await sub.ready;
  await c.events.publish('/tasks/exit', { type: 'TaskExit', payload: { containerId: 'c1', id: 'c1', pid: 42, exitStatus: 3 } });
  await c.events.forward({ namespace: 'default', topic: '/tasks/exit', timestamp: { seconds: 1000, nanos: 0 }, event: { '@type': 'type.googleapis.com/dray.events.v1.TaskExit', containerId: 'c2', exitStatus: 0 } });
  await assert.rejects(c.events.forward({ namespace: 'ghost', topic: '/tasks/exit', timestamp: null, event: { typeUrl: 'x/y', value: Buffer.alloc(0) } }), (e: unknown) => (e as SupervisorError).code === status.FAILED_PRECONDITION);
  const got = await collect(sub, (s) => s.length >= 2);
  assert.deepEqual(got.map((e) => field(e, 'containerId')), ['c1', 'c2']);
  assert.equal(field(got[0]!, 'exitStatus'), 3);
  assert.equal(got[1]!.timestamp!.seconds, 1000, 'forward keeps the envelope\'s own timestamp');

  const bad = c.events.subscribe('topic==');
  await assert.rejects(collect(bad, () => true), (e: unknown) => (e as SupervisorError).code === status.INVALID_ARGUMENT);
});

test('subscribers that disconnect mid-stream do not break the daemon', async (t) => {
  const d = await startDrayContainerd({ debug: true });
  t.after(() => d.cleanup());
  const c = d.client();
  // In-process subscribers cancelled at once, and a subscriber process killed outright.
  for (let i = 0; i < 20; i++) c.events.subscribe().cancel();
  const root = new URL('../../', import.meta.url).pathname;
  const proc = spawn(root + 'bin/dray-ctr', ['--address', d.address, 'events'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => { out += s; });
  const deadline = Date.now() + 10_000;
  for (let i = 0; !out.includes('/containers/create') && Date.now() < deadline; i++) {
    await c.containers.create({ id: `warm-${i}`, runtime: { name: 'dray' }, spec });
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(out, /default \/containers\/create \{"id":"warm-/);
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));
  // The daemon keeps publishing and serving; a fresh subscriber still gets events.
  const sub = c.events.subscribe('event.id==after');
  await sub.ready;
  for (let i = 0; i < 50; i++) await c.containers.update({ id: 'warm-0', labels: { n: String(i) } }, ['labels.n']);
  await c.containers.create({ id: 'after', runtime: { name: 'dray' }, spec });
  const got = await collect(sub, (s) => s.length >= 1);
  assert.equal(got.length, 1);
  assert.equal(await c.health(), 'SERVING');
  assert.equal(d.child.exitCode, null);
  // Every subscriber that went away (cancelled, killed) was dropped, not kept forever.
  const count = (re: RegExp): number => [...d.stderr().matchAll(re)].length;
  const until = Date.now() + 5000;
  while (count(/event subscriber left/g) < count(/event subscriber joined/g) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(count(/event subscriber joined/g) >= 2);
  assert.equal(count(/event subscriber left/g), count(/event subscriber joined/g));
});

test('a stopping daemon ends subscription streams cleanly', async (t) => {
  const d = await startDrayContainerd();
  t.after(() => d.cleanup());
  const c = d.client();
  const sub = c.events.subscribe();
  await sub.ready;
  const ended = (async () => { const n: Envelope[] = []; for await (const e of sub) n.push(e); return n; })();
  const exited = new Promise<number | null>((r) => d.child.once('exit', (code) => r(code)));
  d.child.kill('SIGTERM');
  assert.deepEqual(await ended, [], 'the iteration finished without an error');
  assert.equal(await exited, 0);
});
