// drayd against dockerd 20.10, side by side: attach over websocket
// (framing, stdin, the close when the container exits, errors), commit and
// import with --change (the resulting image Config), import from a URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { needsRoot } from '../support/root.ts';
import { startDockerd, waitUntil, type DockerdPeer } from '../harness/index.ts';
import { testImage } from '../images/index.ts';
import { startDrayd, type Drayd } from './support/drayd.ts';

let dray: Drayd;
let real: DockerdPeer;

before(async () => {
  if (needsRoot.skip) return;
  const img = await testImage('busybox');
  // one at a time, each assigned at once: after() must stop whatever did start
  dray = await startDrayd();
  real = await startDockerd();
  await dray.docker(['load', '-i', img.dockerArchive]);
  await real.docker(['load', '-i', img.dockerArchive]);
});

after(async () => {
  await dray?.stop();
  real?.stop();
});

type Side = { name: string; socket: string; docker: (args: string[]) => Promise<string> };
const sides = (): Side[] => [
  { name: 'drayd', socket: dray.socket, docker: (a) => dray.docker(a) },
  { name: 'dockerd', socket: real.socket, docker: (a) => real.docker(a, { cli: 'v28' }) },
];

interface WsSession {
  ws: WebSocket;
  frames: { data: Buffer; binary: boolean }[];
  /** resolves with the close code once the server closed the socket */
  closed: Promise<number>;
  /** resolves when the bytes received so far contain s (bounded) */
  waitFor(s: string): Promise<void>;
  text(): string;
}

/** Opens a websocket attach over the daemon's unix socket. */
function wsAttach(socket: string, path: string): Promise<WsSession> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${socket}:${path}`);
    const frames: WsSession['frames'] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    const text = (): string => Buffer.concat(frames.map((f) => f.data)).toString();
    ws.on('message', (data: Buffer, binary) => frames.push({ data, binary }));
    ws.once('open', () => resolve({
      ws, frames, closed, text,
      waitFor: (s) => waitUntil(`websocket output ${JSON.stringify(s)}`, () => text().includes(s), 10_000),
    }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

/** A plain GET (no websocket handshake): status and body. */
function plainGet(socket: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('attach over websocket: output, stdin to cat, close on exit, logs, framing, errors', needsRoot, async () => {
  const seen: Record<string, unknown>[] = [];
  for (const s of sides()) {
    const r: Record<string, unknown> = {};
    // a cat: what is written over the websocket comes back, binary frames at 1.41
    const id = (await s.docker(['run', '-d', '-i', '--name', 'wscat', 'busybox', 'cat'])).trim();
    const a = await wsAttach(s.socket, `/v1.41/containers/${id.slice(0, 12)}/attach/ws?stream=1&stdin=1&stdout=1&stderr=1`);
    a.ws.send(Buffer.from('hello over ws\n'));
    await a.waitFor('hello over ws\n');
    r['cat'] = a.text();
    r['catBinary'] = a.frames.every((f) => f.binary);
    await s.docker(['kill', 'wscat']);
    r['catClose'] = await a.closed;
    // stdout and stderr, raw (not multiplexed); before 1.42 the stream flags are ignored (stderr comes too); text frames before 1.28
    await s.docker(['run', '-d', '-i', '--name', 'wsread', 'busybox', 'sh', '-c', 'read x; echo "got $x"; sleep 0.2; echo err >&2']);
    const b = await wsAttach(s.socket, `/v1.27/containers/wsread/attach/ws?stream=1&stdin=1&stdout=1`);
    b.ws.send('hi\n');
    r['readClose'] = await b.closed;
    r['read'] = b.text();
    r['readBinary'] = b.frames.some((f) => f.binary);
    // logs of the exited container, then the close
    const c = await wsAttach(s.socket, `/v1.41/containers/wsread/attach/ws?logs=1&stdout=1&stderr=1`);
    r['logsClose'] = await c.closed;
    r['logs'] = c.text();
    // errors: no such container (JSON, before any handshake), a paused one, no handshake at all
    r['missing'] = await wsAttach(s.socket, '/v1.41/containers/nope/attach/ws?stream=1').then(() => 'opened', (e: { status?: number; body?: string }) => `${e.status} ${e.body?.trim()}`);
    await s.docker(['run', '-d', '--name', 'wspause', 'busybox', 'sleep', '100']);
    await s.docker(['pause', 'wspause']);
    r['paused'] = await wsAttach(s.socket, '/v1.41/containers/wspause/attach/ws?stream=1').then(() => 'opened', (e: { status?: number; body?: string }) => `${e.status} ${e.body?.trim()}`);
    await s.docker(['unpause', 'wspause']);
    const p = await plainGet(s.socket, '/v1.41/containers/wspause/attach/ws?stream=1');
    r['plain'] = `${p.status} ${p.body.trim()}`;
    await s.docker(['rm', '-f', 'wscat', 'wsread', 'wspause']);
    seen.push(r);
  }
  const [d, k] = seen;
  assert.equal(d!['cat'], 'hello over ws\n');
  assert.equal(d!['catClose'], 1000);
  assert.equal(d!['catBinary'], true);
  assert.equal(d!['readBinary'], false);
  assert.deepEqual(d, k);
});
