// The Docker Engine API over HTTP/1.1: unix sockets and tcp (with TLS), API
// version negotiation through _ping's API-Version header, Docker's error
// bodies turned into DaemonError, and hijacked connections for attach/exec.
import type { Agent as HttpAgent, IncomingMessage, OutgoingHttpHeaders, RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Endpoint } from './host.ts';
import { compareApiVersions } from '../../engine/api/api-version.ts';

/** The newest API version this client speaks (docker CLI 28's). */
export const CLIENT_API_VERSION = '1.50';
/** What a daemon that sends no API-Version header is assumed to speak. */
const FALLBACK_API_VERSION = '1.24';

/** An error status from the daemon, with Docker's message. */
export class DaemonError extends Error {
  readonly status: number;
  constructor(status: number, message: string) { super(message); this.status = status; }
}

/** No daemon answered on the endpoint. */
export class ConnectError extends Error {}

export type Query = Record<string, string | number | boolean | undefined | string[]>;

export interface RequestOpts {
  query?: Query;
  /** JSON-encoded unless a Buffer or a stream. */
  body?: unknown;
  headers?: OutgoingHttpHeaders;
  /** Skip the /v1.xx prefix (only _ping). */
  unversioned?: boolean;
}

export interface Hijacked {
  /** Where our input goes (and, after a 101, the output comes from). */
  socket: Socket;
  /** Bytes the daemon sent right after the 101 response. */
  head: Buffer;
  /** An old daemon that answers 200 instead of 101: its output arrives as this response body. */
  body?: Readable;
}

export class EngineClient {
  readonly endpoint: Endpoint;
  private apiVersion: string | undefined;
  private negotiated: Promise<string> | undefined;
  private readonly agent: HttpAgent;

  constructor(endpoint: Endpoint, opts: { apiVersion?: string } = {}) {
    this.endpoint = endpoint;
    this.apiVersion = opts.apiVersion;
    const tls = endpoint.kind === 'tcp' ? endpoint.tls : undefined;
    // node:https (and TLS with it) is loaded only for TLS endpoints: start-up time.
    this.agent = tls
      ? new (https().Agent)({ keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.verify })
      : new (http().Agent)({ keepAlive: true });
  }

  /** The API version in use: DOCKER_API_VERSION, else min(ours, the daemon's). */
  version(): Promise<string> {
    if (this.apiVersion) return Promise.resolve(this.apiVersion);
    this.negotiated ??= this.ping().then((p) => {
      this.apiVersion = p.apiVersion ? minVersion(p.apiVersion, CLIENT_API_VERSION) : FALLBACK_API_VERSION;
      return this.apiVersion;
    });
    return this.negotiated;
  }

  /** GET /_ping: the daemon's API version and OS. */
  async ping(): Promise<{ apiVersion: string | undefined; osType: string | undefined }> {
    const res = await this.send('GET', '/_ping', { unversioned: true });
    // Read to the end so the keep-alive connection is free for the next request.
    await readAll(res);
    const h = (n: string): string | undefined => { const v = res.headers[n]; return Array.isArray(v) ? v[0] : v; };
    return { apiVersion: h('api-version'), osType: h('ostype') };
  }

  /** A request whose response (status < 400) is returned unread; errors become DaemonError. */
  async request(method: string, path: string, opts: RequestOpts = {}): Promise<IncomingMessage> {
    return this.send(method, path, opts);
  }

  /** A request whose JSON answer is parsed (an empty body gives undefined). */
  async json<T>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    const text = (await readAll(res)).toString('utf8');
    return (text.trim() ? JSON.parse(text) : undefined) as T;
  }

  /** A request whose body is drained and ignored. */
  async call(method: string, path: string, opts: RequestOpts = {}): Promise<void> {
    const res = await this.send(method, path, opts);
    await readAll(res);
  }

  /** POST with `Upgrade: tcp`: after 101 the socket carries the raw (or multiplexed) stream both ways. */
  async hijack(path: string, opts: RequestOpts = {}): Promise<Hijacked> {
    const full = await this.fullPath(path, opts);
    const body = encodeBody(opts.body);
    return new Promise<Hijacked>((resolve, reject) => {
      const req = this.raw({
        method: 'POST', path: full,
        headers: { ...body.headers, ...opts.headers, Connection: 'Upgrade', Upgrade: 'tcp' },
        agent: false,
      });
      req.on('upgrade', (_res, socket, head) => { socket.setNoDelay(true); resolve({ socket, head }); });
      req.on('response', (res) => {
        // Errors, or an old daemon that hijacks without 101: read-only then.
        if ((res.statusCode ?? 500) >= 400) { errorFrom(res).then(reject, reject); return; }
        resolve({ socket: res.socket, head: Buffer.alloc(0), body: res });
      });
      req.on('error', (err) => reject(this.connectError(err)));
      req.end(body.data);
    });
  }

  private async fullPath(path: string, opts: RequestOpts): Promise<string> {
    const qs = encodeQuery(opts.query);
    if (opts.unversioned) return path + qs;
    return `/v${await this.version()}${path}${qs}`;
  }

  private async send(method: string, path: string, opts: RequestOpts): Promise<IncomingMessage> {
    const full = await this.fullPath(path, opts);
    const body = encodeBody(opts.body);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = this.raw({ method, path: full, headers: { ...body.headers, ...opts.headers } });
      req.on('response', (res) => {
        if ((res.statusCode ?? 500) >= 400) errorFrom(res).then(reject, reject);
        else resolve(res);
      });
      req.on('error', (err) => reject(this.connectError(err)));
      if (body.stream) { body.stream.on('error', (e) => req.destroy(e)); body.stream.pipe(req); } else req.end(body.data);
    });
  }

  private raw(o: RequestOptions): ReturnType<typeof import('node:http').request> {
    const e = this.endpoint;
    const base: RequestOptions = { agent: this.agent, ...o, headers: { 'User-Agent': 'Dray-Client/1.0 (linux)', ...o.headers } };
    if (e.kind === 'unix') return http().request({ ...base, socketPath: e.socketPath, host: 'api.moby.localhost' });
    if (e.tls) return https().request({ ...base, host: e.host, port: e.port });
    return http().request({ ...base, host: e.host, port: e.port });
  }

  private connectError(err: NodeJS.ErrnoException): Error {
    if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') {
      return new ConnectError(`Cannot connect to the Dray daemon at ${this.endpoint.url}. Is the drayd daemon running?`);
    }
    if (err.code === 'EACCES') {
      return new ConnectError(`permission denied while trying to connect to the Dray daemon socket at ${this.endpoint.url}: ${err.message}`);
    }
    return new ConnectError(`error during connect: ${err.message}`);
  }
}

// Builtins through getBuiltinModule, not `import`: an ESM import of node:http
// builds its namespace eagerly, running lazy getters that load undici and
// crypto (about 15 ms of every start-up).
function http(): typeof import('node:http') {
  return process.getBuiltinModule('node:http');
}

function https(): typeof import('node:https') {
  return process.getBuiltinModule('node:https');
}

function encodeQuery(q: Query | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

function encodeBody(body: unknown): { data?: Buffer; stream?: Readable; headers: OutgoingHttpHeaders } {
  if (body === undefined) return { headers: {} };
  if (Buffer.isBuffer(body)) return { data: body, headers: { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } };
  if (isReadable(body)) return { stream: body, headers: { 'Content-Type': 'application/x-tar' } };
  const data = Buffer.from(JSON.stringify(body));
  return { data, headers: { 'Content-Type': 'application/json', 'Content-Length': data.length } };
}

function isReadable(x: unknown): x is Readable {
  return typeof x === 'object' && x !== null && typeof (x as Readable).pipe === 'function' && typeof (x as Readable).on === 'function';
}

export function readAll(res: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/** Docker's {"message": "..."} error body (or plain text) as a DaemonError. */
async function errorFrom(res: IncomingMessage): Promise<DaemonError> {
  const status = res.statusCode ?? 500;
  const text = (await readAll(res)).toString('utf8').trim();
  let message = text;
  try {
    const j = JSON.parse(text) as { message?: unknown };
    if (typeof j.message === 'string') message = j.message;
  } catch { /* not JSON: keep the text */ }
  if (!message) message = `${status} ${res.statusMessage ?? ''}`.trim();
  return new DaemonError(status, message);
}

/** The lower of two "1.xx" versions. */
export function minVersion(a: string, b: string): string {
  return compareApiVersions(a, b) <= 0 ? a : b;
}

