// The Docker Engine API over HTTP/1.1: unix sockets, and plain TCP on
// loopback only (a remote TCP endpoint without TLS would hand out root).
import http from 'node:http';
import { chmodSync, mkdirSync, unlinkSync, existsSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { MAX_API_VERSION, MIN_API_VERSION, compareApiVersions, splitVersionedPath } from './api-version.ts';
import { ApiError, badRequest } from './errors.ts';
import { RequestContext } from './context.ts';
import type { Router } from './router.ts';

export interface Listener {
  address: string;
  close(): Promise<void>;
}

export interface ServerLog {
  debug(msg: string): void;
  error(msg: string): void;
}

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse, upgrade?: Upgrade) => void;

/** A request that asked to take the connection over (attach, exec start: `Upgrade: tcp`). */
export interface Upgrade {
  socket: Duplex;
  /** bytes read past the headers (the body, then stream data) */
  head: Buffer;
}

export function createApiHandler(router: Router, log: ServerLog): RequestHandler {
  return (req, res, upgrade) => { void handle(router, log, req, res, upgrade); };
}

function newServer(handler: RequestHandler): http.Server {
  const s = http.createServer(handler);
  // Node hands requests with an Upgrade header to 'upgrade' instead of the
  // request handler: answer them through a response bound to the raw socket,
  // so errors are ordinary HTTP replies and a handler can hijack the socket.
  s.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as net.Socket);
    res.on('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    handler(req, res, { socket, head });
  });
  // Long-lived streams (logs -f, events, attach) must not be cut by Node's defaults.
  s.requestTimeout = 0;
  s.keepAliveTimeout = 60_000;
  return s;
}

async function handle(router: Router, log: ServerLog, req: http.IncomingMessage, res: http.ServerResponse, upgrade?: Upgrade): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://engine');
  const method = req.method ?? 'GET';
  log.debug(`${method} ${url.pathname}${url.search}`);
  res.setHeader('Api-Version', MAX_API_VERSION);
  res.setHeader('Docker-Experimental', 'false');
  res.setHeader('Ostype', 'linux');
  res.setHeader('Server', `Dray (linux)`);
  try {
    const { version, rest } = splitVersionedPath(url.pathname);
    if (version !== undefined) {
      if (compareApiVersions(version, MAX_API_VERSION) > 0) {
        throw badRequest(`client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
      }
      if (compareApiVersions(version, MIN_API_VERSION) < 0) {
        throw badRequest(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
      }
    }
    const m = router.match(method, rest);
    if (m === undefined) throw new ApiError(404, 'page not found');
    if (m === 'method') throw new ApiError(405, `method ${method} not allowed`);
    const ctx = new RequestContext(req, res, m.params, url.searchParams, version ?? MAX_API_VERSION, upgrade);
    await m.handler(ctx);
  } catch (err) {
    // libraries (network, volumes) carry Docker's status as statusCode
    const coded = (err as { statusCode?: unknown }).statusCode;
    const status = err instanceof ApiError ? err.status : typeof coded === 'number' && coded >= 400 && coded < 600 ? coded : 500;
    const message = err instanceof Error ? err.message : String(err);
    if (status >= 500) log.error(`${method} ${url.pathname}: ${message}`);
    if (res.headersSent || ctxHijacked(res)) { res.destroy(); upgrade?.socket.destroy(); return; }
    const text = JSON.stringify({ message }) + '\n';
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function ctxHijacked(res: http.ServerResponse): boolean {
  return (res as http.ServerResponse & { hijacked?: boolean }).hijacked === true;
}

/** Listens on one `-H` address: unix:///path or tcp://127.0.0.1:port. */
export async function listen(handler: RequestHandler, address: string): Promise<Listener> {
  const u = parseHost(address);
  if (u.kind === 'unix') {
    mkdirSync(dirname(u.path), { recursive: true, mode: 0o711 });
    if (existsSync(u.path)) {
      if (await isListening(u.path)) throw new Error(`another daemon is already listening on ${u.path}`);
      unlinkSync(u.path);
    }
    const s = newServer(handler);
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(u.path, resolve); });
    chmodSync(u.path, 0o660);
    return { address, close: () => closeServer(s, () => { try { unlinkSync(u.path); } catch { /* already gone */ } }) };
  }
  const s = newServer(handler);
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(u.port, u.host, resolve); });
  return { address, close: () => closeServer(s, () => undefined) };
}

function closeServer(s: http.Server, after: () => void): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => { after(); resolve(); });
    s.closeAllConnections();
  });
}

export type HostAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseHost(address: string): HostAddress {
  if (address.startsWith('unix://')) {
    const path = address.slice('unix://'.length);
    if (!path.startsWith('/')) throw new Error(`invalid unix socket address ${JSON.stringify(address)}: the path must be absolute`);
    return { kind: 'unix', path };
  }
  if (address.startsWith('tcp://')) {
    const u = new URL(address.replace(/^tcp:/, 'http:'));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = u.port ? Number(u.port) : 2375;
    if (!(host === 'localhost' || host === '::1' || /^127\./.test(host))) {
      throw new Error(`refusing to listen on ${address} without TLS: plain TCP is allowed only on loopback`);
    }
    return { kind: 'tcp', host, port };
  }
  throw new Error(`invalid daemon address ${JSON.stringify(address)}: use unix:///path or tcp://127.0.0.1:port`);
}

function isListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(path);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}
