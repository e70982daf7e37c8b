// drayd against dockerd 20.10, side by side: attach over websocket
// (framing, stdin, the close when the container exits, errors), commit and
// import with --change (the resulting image Config), import from a URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { needsRoot } from '../support/root.ts';
import { waitUntil, type DockerdPeer } from '../harness/index.ts';
import type { Drayd } from './support/drayd.ts';
import { startDaemonPair, type DaemonPair } from './support/pair.ts';

let dray: Drayd;
let real: DockerdPeer;
let pair: DaemonPair | undefined;
let work: string;

before(async () => {
  if (needsRoot.skip) return;
  pair = await startDaemonPair();
  ({ dray, real } = pair);
  work = mkdtempSync(join(tmpdir(), 'drayd-ws-'));
  writeFileSync(join(work, 'hello'), 'hello\n');
  writeFileSync(join(work, 'big'), randomBytes(300_000));
  execFileSync('tar', ['-C', work, '-cf', join(work, 'root.tar'), 'hello']);
  execFileSync('tar', ['-C', work, '-cf', join(work, 'big.tar'), 'hello', 'big']);
});

after(async () => {
  await pair?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
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
    // a TTY: the detach keys (each key its own message, as dockerd's escape proxy reads them) end the session, the container runs on
    await s.docker(['run', '-d', '-it', '--name', 'wstty', 'busybox', 'sh']);
    const t = await wsAttach(s.socket, '/v1.41/containers/wstty/attach/ws?stream=1&stdin=1&stdout=1&detachKeys=ctrl-x,x');
    t.ws.send('echo tty$((6*7))\r');
    await t.waitFor('tty42');
    t.ws.send(Buffer.from([24]));
    t.ws.send('x');
    r['ttyClose'] = await t.closed;
    r['ttyRunning'] = (await s.docker(['inspect', '--format', '{{.State.Running}}', 'wstty'])).trim();
    r['badKeys'] = await wsAttach(s.socket, '/v1.41/containers/wstty/attach/ws?stream=1&detachKeys=ctrl-1').then(() => 'opened', (e: { status?: number; body?: string }) => `${e.status} ${e.body?.trim()}`);
    await s.docker(['rm', '-f', 'wscat', 'wsread', 'wspause', 'wstty']);
    seen.push(r);
  }
  const [d, k] = seen;
  assert.equal(d!['cat'], 'hello over ws\n');
  assert.equal(d!['catClose'], 1000);
  assert.equal(d!['catBinary'], true);
  assert.equal(d!['readBinary'], false);
  assert.deepEqual(d, k);
  // from API 1.42 (newer than dockerd 20.10) the stream flags count, as in later dockerd: stdout only
  await dray.docker(['run', '-d', '-i', '--name', 'wsnew', 'busybox', 'sh', '-c', 'read x; echo out; echo err >&2']);
  try {
    const n = await wsAttach(dray.socket, '/v1.43/containers/wsnew/attach/ws?stream=1&stdin=1&stdout=1');
    n.ws.send('go\n');
    assert.equal(await n.closed, 1000);
    assert.equal(n.text(), 'out\n');
  } finally {
    await dray.docker(['rm', '-f', 'wsnew']);
  }
});

const CONFIG_FIELDS = ['Cmd', 'Entrypoint', 'Env', 'ExposedPorts', 'Labels', 'User', 'Volumes', 'WorkingDir', 'OnBuild', 'Healthcheck', 'StopSignal'];
const CHANGE_SETS: string[][] = [
  ['CMD echo "hi there" $HOME', 'ENV A=1 B="two words" C=\'$A\' D=$A E="${A}x"', 'ENV legacy value with  spaces', 'ENV PATH=$PATH:/extra F=${A:-dflt}',
    'LABEL a=b "c d"="e f" g=', 'LABEL legacy some value', 'EXPOSE 80 443/udp 8000-8002/tcp', 'USER nobody:nogroup', 'WORKDIR /a/../b/', 'WORKDIR c/./d',
    'VOLUME /a /b', 'VOLUME ["/c", "/d e"]', 'ONBUILD run echo hi', 'HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost || exit 1'],
  ['ENTRYPOINT /bin/e -x'],
  ['CMD ["x"]', 'entrypoint ["/bin/e"]'],
  ['ENTRYPOINT []'],
  ['# a comment', 'ENV X=1 \\', '  Y=2', 'HEALTHCHECK NONE', 'EXPOSE 127.0.0.1:80:90/udp', 'CMD []'],
  ['ENV K=v', 'LABEL k=$K', 'USER ${K}', 'WORKDIR rel'],
  ['HEALTHCHECK --retries=2 CMD ["x"]'],
];
const BAD_CHANGES: string[][] = [
  ['RUN echo'], ['STOPSIGNAL SIGKILL'], ['ENV A'], ['ENV A=1 B'], ['ENV =x'], ['EXPOSE abc'], ['EXPOSE 80/foo'], ['VOLUME [""]'], ['CMD ["a", 1]'],
  ['ONBUILD ONBUILD RUN x'], ['ONBUILD FROM x'], ['HEALTHCHECK --interval=1ns CMD x'], ['HEALTHCHECK --bogus=1 CMD x'], ['HEALTHCHECK foo'], ['USER'], [''],
];

/** The fields --change can touch; sortEnv for commits (a container's Env order comes from create, not from the changes). */
function pick(configJson: string, sortEnv = false): Record<string, unknown> {
  const c = JSON.parse(configJson) as Record<string, unknown>;
  if (sortEnv && Array.isArray(c['Env'])) c['Env'] = [...(c['Env'] as string[])].sort();
  return Object.fromEntries(CONFIG_FIELDS.map((k) => [k, c[k] ?? null]));
}

const changeArgs = (changes: string[]): string[] => changes.flatMap((c) => ['--change', c]);

test('commit --change and import --change: the same image Config as dockerd, the same errors', needsRoot, async () => {
  for (const s of [dray, real]) await s.docker(['run', '--name', 'chsrc', '-e', 'FOO=1', '-w', '/tmp', '--label', 'from=ctr', '--health-cmd', 'true', '--health-interval', '7s', 'busybox', 'true'], { cli: 'v28' });
  try {
    for (const [i, changes] of CHANGE_SETS.entries()) {
      const got: Record<string, unknown>[] = [];
      for (const s of [dray, real]) {
        await s.docker(['commit', ...changeArgs(changes), 'chsrc', `committed:${i}`], { cli: 'v28' });
        await s.docker(['import', ...changeArgs(changes), join(work, 'root.tar'), `imported:${i}`], { cli: 'v28' });
        got.push({
          commit: pick(await s.docker(['inspect', '--format', '{{json .Config}}', `committed:${i}`], { cli: 'v28' }), true),
          import: pick(await s.docker(['inspect', '--format', '{{json .Config}}', `imported:${i}`], { cli: 'v28' })),
        });
      }
      assert.deepEqual(got[0], got[1], `--change ${JSON.stringify(changes)}`);
    }
    // the changes take effect: the committed image runs with its new Cmd and Env
    assert.equal(await dray.docker(['run', '--rm', '-w', '/', '--entrypoint', '', 'committed:0', 'sh', '-c', 'echo "$B,$legacy"']), 'two words,value with  spaces\n');
    for (const changes of BAD_CHANGES) {
      const [dc, rc] = await Promise.all([dray, real].map((s) => s.dockerResult(['commit', ...changeArgs(changes), 'chsrc', 'bad:1'], { cli: 'v28' })));
      assert.deepEqual([dc!.code, dc!.stderr], [rc!.code, rc!.stderr], `commit --change ${JSON.stringify(changes)}`);
      const [di, ri] = await Promise.all([dray, real].map((s) => s.dockerResult(['import', ...changeArgs(changes), join(work, 'root.tar'), 'bad:1'], { cli: 'v28' })));
      assert.deepEqual([di!.code, di!.stderr], [ri!.code, ri!.stderr], `import --change ${JSON.stringify(changes)}`);
      assert.notEqual(di!.code, 0);
    }
    // nothing was made by a refused change
    const [dl, rl] = await Promise.all([dray, real].map((s) => s.docker(['images', '-q', 'bad'], { cli: 'v28' })));
    assert.equal(dl, '');
    assert.equal(rl, '');
  } finally {
    for (const s of [dray, real]) await s.dockerResult(['rm', '-f', 'chsrc']);
  }
});

/** POSTs to the API and returns the status and the JSON lines of the answer. */
function postLines(socket: string, path: string): Promise<{ status: number; lines: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'POST' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, lines: body.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('import from an http URL: the progress stream, the image, the errors as dockerd', needsRoot, async (t) => {
  const tar = readFileSync(join(work, 'big.tar'));
  const srv = createServer((req, res) => {
    if (req.url === '/big.tar') res.end(tar);
    else if (req.url === '/chunked.tar') { res.write(tar.subarray(0, 1000)); res.end(tar.subarray(1000)); }
    else if (req.url === '/moved') { res.writeHead(302, { Location: '/big.tar' }); res.end(); }
    else { res.writeHead(404); res.end('nothing here\n'); }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const base = `127.0.0.1:${(srv.address() as { port: number }).port}`;
  const seen: unknown[] = [];
  for (const s of [dray, real]) {
    const r: Record<string, unknown> = {};
    for (const [i, src] of [`http://${base}/big.tar`, `${base}/chunked.tar`, `http://${base}/moved`].entries()) {
      const a = await postLines(s.socket, `/v1.41/images/create?fromSrc=${encodeURIComponent(src)}&repo=fromurl&tag=${i}&changes=${encodeURIComponent('CMD ["/x"]')}`);
      const id = (await s.docker(['inspect', '--format', '{{.Id}}', `fromurl:${i}`], { cli: 'v28' })).trim();
      assert.deepEqual(a.lines.at(-1), { status: id });
      // the intermediate progress lines depend on read sizes and timing: the first, the last, the end
      const importing = a.lines.filter((l) => l['status'] === 'Importing');
      r[src] = { status: a.status, first: a.lines[0], last: importing.at(-1), rest: a.lines.slice(a.lines.indexOf(importing.at(-1)!) + 1, -1) };
      r[`${src} image`] = await s.docker(['inspect', '--format', '{{.Comment}} {{json .RootFS.Layers}} {{json .Config.Cmd}}', `fromurl:${i}`], { cli: 'v28' });
    }
    // the CLI takes a URL as the source
    r['cli'] = /^sha256:[0-9a-f]{64}$/.test((await s.docker(['import', `http://${base}/big.tar`, 'fromurl:cli'], { cli: 'v28' })).trim().split('\n').at(-1)!);
    for (const bad of [`http://${base}/missing`, 'http://127.0.0.1:1/x.tar', `ftp://${base}/x`]) {
      r[bad] = await postLines(s.socket, `/v1.41/images/create?fromSrc=${encodeURIComponent(bad)}&repo=bad`);
    }
    seen.push(r);
  }
  assert.deepEqual(seen[0], seen[1]);
  assert.equal((seen[0] as Record<string, unknown>)['cli'], true);
  assert.equal(await dray.docker(['images', '-q', 'bad']), '');
});
