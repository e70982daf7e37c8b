// What a route handler gets: the parsed request, and helpers to answer it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { badRequest } from './errors.ts';
import type { Upgrade } from './server.ts';

/** Docker bodies are small JSON documents; this bounds what a client can make us buffer. */
const MAX_JSON_BODY = 16 * 1024 * 1024;

export class RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  /** The API version of this request: from the path, or the newest when unversioned. */
  readonly version: string;

  readonly upgrade: Upgrade | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, params: Record<string, string>, query: URLSearchParams, version: string, upgrade?: Upgrade) {
    this.upgrade = upgrade;
    this.req = req;
    this.res = res;
    this.params = params;
    this.query = query;
    this.version = version;
  }

  param(name: string): string {
    const v = this.params[name];
    if (v === undefined) throw new Error(`route has no parameter ${name}`);
    return v;
  }

  /** A boolean query flag as Docker reads them: 1/true/True are true, 0/false/empty are false. */
  flag(name: string, dflt = false): boolean {
    const v = this.query.get(name);
    if (v === null) return dflt;
    const l = v.toLowerCase();
    if (l === '' || l === '0' || l === 'false' || l === 'no') return false;
    return true;
  }

  int(name: string, dflt: number): number {
    const v = this.query.get(name);
    if (v === null || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}`);
    return n;
  }

  /** Reads a JSON body; an empty body is `undefined`. Bad JSON is Docker's 400. */
  async json(): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    if (this.upgrade) return this.#upgradeJson();
    for await (const c of this.req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_JSON_BODY) throw badRequest('request body too large');
      chunks.push(c);
    }
    if (size === 0) return undefined;
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch (err) {
      throw badRequest(`invalid JSON: ${(err as Error).message}`);
    }
  }

  /** With `Upgrade:`, Node leaves the body on the socket: read Content-Length bytes, leave the rest for the stream. */
  async #upgradeJson(): Promise<unknown> {
    const up = this.upgrade!;
    const len = Number(this.req.headers['content-length'] ?? 0);
    if (!Number.isInteger(len) || len < 0 || len > MAX_JSON_BODY) throw badRequest('bad Content-Length');
    let buf = up.head;
    while (buf.length < len) {
      const chunk = await new Promise<Buffer | null>((resolve) => {
        const onData = (b: Buffer): void => { cleanup(); up.socket.pause(); resolve(b); };
        const onEnd = (): void => { cleanup(); resolve(null); };
        const cleanup = (): void => { up.socket.off('data', onData); up.socket.off('end', onEnd); up.socket.off('close', onEnd); };
        up.socket.on('data', onData);
        up.socket.once('end', onEnd);
        up.socket.once('close', onEnd);
        up.socket.resume();
      });
      if (chunk === null) throw badRequest('unexpected end of request body');
      buf = Buffer.concat([buf, chunk]);
    }
    up.head = buf.subarray(len);
    if (len === 0) return undefined;
    try {
      return JSON.parse(buf.subarray(0, len).toString('utf8')) as unknown;
    } catch (err) {
      throw badRequest(`invalid JSON: ${(err as Error).message}`);
    }
  }

  send(status: number, body: unknown): void {
    const text = JSON.stringify(body) + '\n';
    this.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    this.res.end(text);
  }

  /**
   * Takes the connection over for a raw stream (attach, exec start). With
   * `Upgrade: tcp` Docker's `101 UPGRADED` handshake and the socket itself;
   * without, a 200 response whose body is the stream and whose input is the
   * request body (clients that do not hijack, e.g. dockerode's hijack: false).
   */
  hijack(contentType = 'application/vnd.docker.raw-stream'): Duplex {
    (this.res as ServerResponse & { hijacked?: boolean }).hijacked = true;
    if (this.upgrade) {
      const { socket, head } = this.upgrade;
      socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
      if (head.length) socket.unshift(head);
      return socket;
    }
    this.res.writeHead(200, { 'Content-Type': contentType });
    this.res.flushHeaders();
    return Duplex.from({ readable: this.req, writable: this.res });
  }

  /** Sends the status line and headers now (wait, streams): the client knows the request is registered. */
  startStream(status: number, contentType: string): void {
    this.res.writeHead(status, { 'Content-Type': contentType });
    this.res.flushHeaders();
  }

  noContent(): void {
    this.res.writeHead(204);
    this.res.end();
  }
}
