// /containers/...: create, list, inspect, lifecycle verbs, wait, logs,
// attach (hijacked and websocket), resize, top, rename, pause/unpause, prune.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { apiVersionAtLeast } from '../api/api-version.ts';
import { badRequest, conflict, notImplemented } from '../api/errors.ts';
import type { RequestContext } from '../api/context.ts';
import type { Router } from '../api/router.ts';
import type { ContainerManager } from '../containers/manager.ts';
import type { ContainerRecord } from '../containers/types.ts';
import { filterContainers, inspectView, listRow, parseFilters } from '../containers/view.ts';
import type { ImageService } from '../images/service.ts';
import { fixedNano, muxFrame, parseTimestamp, readLogs, type LogEntry } from '../logs/jsonfile.ts';
import type { TaskService } from '../tasks/tasks.ts';

const run = promisify(execFile);

export interface ContainerRouteDeps {
  containers: ContainerManager;
  images: ImageService;
  tasks: TaskService;
}

function optionalInt(ctx: RequestContext, name: string): number | undefined {
  const v = ctx.query.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}`);
  return n;
}

export function containerRoutes(router: Router, d: ContainerRouteDeps): void {
  const { containers } = d;

  router.add('POST', '/containers/create', async (ctx) => {
    const body = await ctx.json();
    const { rec, warnings } = await containers.create(body, ctx.query.get('name') || null, ctx.version);
    ctx.send(201, { Id: rec.Id, Warnings: warnings });
  });

  router.add('GET', '/containers/json', async (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    const imageIds = new Map<string, string | undefined>();
    for (const a of filters.get('ancestor') ?? []) {
      const img = await d.images.find(a).catch(() => undefined);
      imageIds.set(a, img?.id);
    }
    const rows = filterContainers(containers.store.all(), {
      all: ctx.flag('all'),
      limit: ctx.int('limit', -1),
      filters,
      resolve: (ref) => containers.store.resolve(ref),
      imageMatches: (rec, ref) => rec.Image === imageIds.get(ref) || rec.Config.Image === ref,
    });
    ctx.send(200, rows.map(listRow));
  });

  router.add('GET', '/containers/{id}/json', (ctx) => {
    ctx.send(200, inspectView(containers.store.resolve(ctx.param('id')), ctx.version));
  });

  router.add('POST', '/containers/{id}/start', async (ctx) => {
    if (ctx.query.get('checkpoint')) throw notImplemented('checkpoints are not supported by drayd');
    const r = await containers.start(ctx.param('id'));
    if (r === 'already') { ctx.res.writeHead(304); ctx.res.end(); return; }
    ctx.noContent();
  });

  const stopTimeout = (ctx: RequestContext): number | undefined => optionalInt(ctx, 't') ?? optionalInt(ctx, 'timeout');

  router.add('POST', '/containers/{id}/stop', async (ctx) => {
    const r = await containers.stop(ctx.param('id'), stopTimeout(ctx), ctx.query.get('signal') ?? undefined);
    if (r === 'not-running') { ctx.res.writeHead(304); ctx.res.end(); return; }
    ctx.noContent();
  });

  router.add('POST', '/containers/{id}/restart', async (ctx) => {
    await containers.restart(ctx.param('id'), stopTimeout(ctx), ctx.query.get('signal') ?? undefined);
    ctx.noContent();
  });

  router.add('POST', '/containers/{id}/kill', async (ctx) => {
    await containers.kill(ctx.param('id'), ctx.query.get('signal') ?? undefined);
    ctx.noContent();
  });

  router.add('POST', '/containers/{id}/pause', async (ctx) => { await containers.pause(ctx.param('id')); ctx.noContent(); });
  router.add('POST', '/containers/{id}/unpause', async (ctx) => { await containers.unpause(ctx.param('id')); ctx.noContent(); });

  router.add('POST', '/containers/{id}/rename', (ctx) => {
    const name = ctx.query.get('name');
    if (!name) throw badRequest('Neither old nor new names may be empty');
    containers.rename(ctx.param('id'), name);
    ctx.noContent();
  });

  router.add('POST', '/containers/{id}/wait', async (ctx) => {
    const condition = apiVersionAtLeast(ctx.version, '1.30') ? (ctx.query.get('condition') ?? 'not-running') : 'not-running';
    const p = containers.wait(ctx.param('id'), condition);
    // the status line goes out now: the client knows the wait is in place before it starts the container
    ctx.startStream(200, 'application/json');
    const r = await p;
    ctx.res.end(JSON.stringify(apiVersionAtLeast(ctx.version, '1.30') ? r : { StatusCode: r.StatusCode }) + '\n');
  });

  router.add('DELETE', '/containers/{id}', async (ctx) => {
    if (ctx.flag('link')) throw notImplemented('links are not supported by drayd');
    await containers.remove(ctx.param('id'), { force: ctx.flag('force'), volumes: ctx.flag('v') });
    ctx.noContent();
  });

  router.add('POST', '/containers/{id}/resize', async (ctx) => {
    const rec = containers.store.resolve(ctx.param('id'));
    const live = containers.live(rec.Id);
    if (!live) throw conflict(`Container ${rec.Id} is not running`);
    const h = ctx.int('h', 0);
    const w = ctx.int('w', 0);
    if (rec.Config.Tty) await live.client.resize(h, w).catch(() => undefined);
    ctx.send(200, {});
  });

  router.add('GET', '/containers/{id}/logs', async (ctx) => {
    const rec = containers.store.resolve(ctx.param('id'));
    const stdout = ctx.flag('stdout');
    const stderr = ctx.flag('stderr');
    if (!stdout && !stderr) throw badRequest('Bad parameters: you must choose at least one stream');
    const tailQ = ctx.query.get('tail');
    const tail = tailQ === null || tailQ === '' || tailQ === 'all' ? -1 : Number(tailQ);
    if (!Number.isInteger(tail)) throw badRequest(`invalid value for tail: ${tailQ}`);
    const opts = { stdout, stderr, since: parseTimestamp(ctx.query.get('since')), until: parseTimestamp(ctx.query.get('until')), tail, follow: ctx.flag('follow') };
    const timestamps = ctx.flag('timestamps');
    const tty = rec.Config.Tty === true;
    ctx.startStream(200, tty || !apiVersionAtLeast(ctx.version, '1.42') ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    let closed = false;
    ctx.res.on('close', () => { closed = true; });
    const sink = (e: LogEntry): void => {
      const data = timestamps ? Buffer.concat([Buffer.from(`${fixedNano(e.time)} `), e.log]) : e.log;
      ctx.res.write(tty ? data : muxFrame(e.stream === 'stdout' ? 1 : 2, data));
    };
    const stopped = (): boolean => { const cur = containers.store.get(rec.Id); return !cur || (!cur.State.Running && !cur.State.Restarting); };
    await readLogs(rec.LogPath, opts, sink, stopped, () => closed);
    ctx.res.end();
  });

  router.add('POST', '/containers/{id}/attach', async (ctx) => {
    const rec = containers.store.resolve(ctx.param('id'));
    if (rec.State.Paused) throw conflict(`You cannot attach to a paused container, unpause it first`);
    const tty = rec.Config.Tty === true;
    const detachKeys = parseDetachKeys(ctx.query.get('detachKeys'));
    const sock = ctx.hijack(tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    await serveAttach(containers, rec, sock, {
      logs: ctx.flag('logs'), stream: ctx.flag('stream'), stdin: ctx.flag('stdin'), stdout: ctx.flag('stdout'), stderr: ctx.flag('stderr'), detachKeys,
    }, (kind, b) => { if (sock.writable) sock.write(tty ? b : muxFrame(kind, b)); });
  });

  // dockerd's websocket attach (x/net/websocket, no origin check): the
  // container is looked up first (plain JSON errors), then the handshake;
  // stdout and stderr are written raw, never multiplexed, one frame per
  // chunk, binary from API 1.28 (text before); a close frame 1000 when the
  // attach ends. Before 1.42 dockerd ignores stdin/stdout/stderr: all three.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  router.add('GET', '/containers/{id}/attach/ws', async (ctx) => {
    const name = ctx.param('id');
    const rec = containers.store.resolve(name);
    if (rec.State.Paused) throw conflict(`container ${name} is paused, unpause the container before attach`);
    if (rec.State.Restarting) throw conflict(`container ${name} is restarting, wait until the container is running`);
    const detachKeys = parseDetachKeys(ctx.query.get('detachKeys'));
    const bad = wsHandshakeError(ctx);
    if (bad) {
      // x/net/websocket's plain-text answer on a request that is no websocket handshake
      ctx.res.writeHead(bad.status, { 'Content-Type': 'text/plain; charset=utf-8', ...(bad.status === 400 && bad.text.includes('version') ? { 'Sec-WebSocket-Version': '13' } : {}) });
      ctx.res.end(bad.text);
      return;
    }
    const up = ctx.upgrade!;
    (ctx.res as ServerResponse & { hijacked?: boolean }).hijacked = true;
    const ws = await new Promise<WebSocket>((resolve) => wss.handleUpgrade(ctx.req, up.socket, up.head, resolve));
    const sock = wsDuplex(ws, apiVersionAtLeast(ctx.version, '1.28'));
    const all = !apiVersionAtLeast(ctx.version, '1.42');
    await serveAttach(containers, rec, sock, {
      logs: ctx.flag('logs'), stream: ctx.flag('stream'),
      stdin: all || ctx.flag('stdin'), stdout: all || ctx.flag('stdout'), stderr: all || ctx.flag('stderr'), detachKeys,
    }, (_kind, b) => { if (sock.writable) sock.write(b); });
  });

  router.add('GET', '/containers/{id}/top', async (ctx) => {
    const rec = containers.store.resolve(ctx.param('id'));
    if (!rec.State.Running) throw conflict(`Container ${rec.Id} is not running`);
    const pids = new Set(await d.tasks.pids(rec.Id));
    const args = (ctx.query.get('ps_args') || '-ef').split(/\s+/).filter(Boolean);
    let out: string;
    try {
      out = (await run('ps', args)).stdout;
    } catch (err) {
      throw badRequest(`ps: ${(err as { stderr?: string }).stderr?.trim() ?? (err as Error).message}`);
    }
    const lines = out.split('\n').filter(Boolean);
    const titles = (lines[0] ?? '').trim().split(/\s+/);
    const pidCol = titles.indexOf('PID');
    if (pidCol === -1) throw badRequest(`Couldn't find PID field in ps output`);
    const processes: string[][] = [];
    for (const l of lines.slice(1)) {
      const f = l.trim().split(/\s+/);
      if (!pids.has(Number(f[pidCol]))) continue;
      processes.push([...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')]);
    }
    ctx.send(200, { Titles: titles, Processes: processes });
  });

  router.add('POST', '/containers/prune', async (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    const until = filters.get('until')?.[0];
    const untilTs = until ? parseTimestamp(until) : 0;
    const deleted: string[] = [];
    for (const rec of containers.store.all()) {
      if (rec.State.Running || rec.State.Restarting || rec.State.Paused) continue;
      if (untilTs && Date.parse(rec.Created) / 1000 > untilTs) continue;
      const labels = filters.get('label') ?? [];
      if (!labels.every((l) => { const [k, v] = l.split('='); return v === undefined ? k! in (rec.Config.Labels ?? {}) : rec.Config.Labels?.[k!] === v; })) continue;
      await containers.remove(rec.Id).then(() => deleted.push(rec.Id)).catch(() => undefined);
    }
    ctx.send(200, { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: 0 });
  });

}

export interface AttachOptions { logs: boolean; stream: boolean; stdin: boolean; stdout: boolean; stderr: boolean; detachKeys: Buffer }

const CTRL = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

/** Docker's detach keys (`ctrl-p,ctrl-q` by default; single characters, ctrl-<c>, DEL); bad ones are dockerd's 400. */
export function parseDetachKeys(spec: string | null): Buffer {
  if (!spec) return Buffer.from([16, 17]);
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    if (key.length === 1) codes.push(key.charCodeAt(0));
    else if (key === 'DEL') codes.push(127);
    else if (key.startsWith('ctrl-') && key.length === 6 && CTRL.includes(key[5]!)) codes.push(CTRL.indexOf(key[5]!));
    else throw badRequest(`Invalid detach keys (${spec}) provided`);
  }
  return Buffer.from(codes);
}

/**
 * One attach session on a taken-over connection (hijacked or websocket):
 * the logs first when asked, then the live streams until the container
 * exits; a container that is neither created nor running ends it at once.
 */
export async function serveAttach(
  containers: ContainerManager, rec: ContainerRecord, sock: Duplex, o: AttachOptions,
  write: (kind: 1 | 2, b: Buffer) => void,
): Promise<void> {
  if (o.logs) {
    await readLogs(rec.LogPath, { stdout: o.stdout, stderr: o.stderr, since: 0, until: 0, tail: -1, follow: false }, (e) => write(e.stream === 'stdout' ? 1 : 2, e.log), () => true, () => false);
  }
  if (!o.stream) { sock.end(); return; }
  const cur = containers.store.get(rec.Id);
  if (!cur || (cur.State.Status !== 'created' && !cur.State.Running && !cur.State.Restarting)) { sock.end(); return; }
  attachStreams(containers, rec.Id, sock, {
    stdin: o.stdin && rec.Config.OpenStdin === true, stdout: o.stdout, stderr: o.stderr, stdinOnce: rec.Config.StdinOnce === true,
    ...(rec.Config.Tty === true ? { detachKeys: o.detachKeys } : {}),
  }, write);
}

/** Why a request is no websocket handshake, in x/net/websocket's words (what dockerd answers); undefined when it is one. */
function wsHandshakeError(ctx: RequestContext): { status: number; text: string } | undefined {
  const h = ctx.req.headers;
  if (!ctx.upgrade || String(h['upgrade'] ?? '').toLowerCase() !== 'websocket' || !String(h['connection'] ?? '').toLowerCase().includes('upgrade')) {
    return { status: 400, text: 'not websocket protocol' };
  }
  if (h['sec-websocket-version'] !== '13') return { status: 400, text: 'bad websocket protocol version' };
  if (!h['sec-websocket-key']) return { status: 400, text: 'mismatch challenge/response' };
  return undefined;
}

/** A websocket as the byte stream attach works on: each write one frame, each message's payload read as stdin. */
function wsDuplex(ws: WebSocket, binary: boolean): Duplex {
  const d = new Duplex({
    read() { ws.resume(); },
    write(chunk: Buffer, _enc, cb) { ws.send(chunk, { binary }, (err) => cb(err ?? null)); },
    final(cb) { ws.close(1000); cb(); },
    destroy(err, cb) { if (ws.readyState !== ws.CLOSED) ws.terminate(); cb(err); },
  });
  ws.on('message', (data: Buffer) => { if (!d.push(data)) ws.pause(); });
  // the client went away: stdin ends (StdinOnce closes the container's), the writes stop
  ws.on('close', () => { d.push(null); if (!d.writableEnded) d.end(); });
  ws.on('error', () => d.destroy());
  return d;
}

/** Wires a hijacked connection to a container's live streams (and its stdin). */
export function attachStreams(
  containers: ContainerManager, id: string, sock: Duplex,
  o: { stdin: boolean; stdout: boolean; stderr: boolean; stdinOnce: boolean; detachKeys?: Buffer },
  write: (kind: 1 | 2, b: Buffer) => void,
): void {
  const hub = containers.hub(id);
  const onOut = (b: Buffer): void => write(1, b);
  const onErr = (b: Buffer): void => write(2, b);
  const detach = (): void => {
    hub.off('stdout', onOut);
    hub.off('stderr', onErr);
    hub.off('end', onEnd);
  };
  const onEnd = (): void => {
    detach();
    sock.end();
  };
  if (o.stdout) hub.on('stdout', onOut);
  if (o.stderr) hub.on('stderr', onErr);
  hub.on('end', onEnd);
  sock.on('close', detach);
  sock.on('error', detach);
  if (!o.stdin) {
    sock.resume(); // drain and ignore whatever the client sends
    return;
  }
  // stdin: written in order; before start, wait for the task to exist
  let chain = Promise.resolve();
  const client = async () => {
    for (let i = 0; i < 600; i++) {
      const l = containers.live(id);
      if (l) return l.client;
      await new Promise<void>((r) => { const t = setTimeout(r, 100); hub.once('started', () => { clearTimeout(t); r(); }); });
    }
    return undefined;
  };
  // With a TTY, dockerd's escape proxy: a key of the sequence read alone (a
  // one-byte read) is held back; the whole sequence detaches the client
  // (the container runs on, its stdin stays open); anything else releases
  // what was held.
  const keys = o.detachKeys;
  let held = 0;
  let detached = false;
  sock.on('data', (b: Buffer) => {
    if (detached) return;
    if (keys?.length) {
      if (b.length === 1 && b[0] === keys[held]) {
        if (held === keys.length - 1) { detached = true; onEnd(); return; }
        held++;
        return;
      }
      if (held) { b = Buffer.concat([keys.subarray(0, held), b]); held = 0; }
    }
    sock.pause();
    chain = chain.then(async () => {
      const c = await client();
      await c?.writeStdin(b).catch(() => undefined);
    }).finally(() => sock.resume());
  });
  sock.on('end', () => {
    chain = chain.then(async () => {
      if (!o.stdinOnce || detached) return;
      const c = containers.live(id)?.client;
      await c?.closeStdin().catch(() => undefined);
    });
  });
}
