// What a route handler gets: the parsed request, and helpers to answer it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from './errors.ts';

/** Docker bodies are small JSON documents; this bounds what a client can make us buffer. */
const MAX_JSON_BODY = 16 * 1024 * 1024;

export class RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  /** The API version of this request: from the path, or the newest when unversioned. */
  readonly version: string;

  constructor(req: IncomingMessage, res: ServerResponse, params: Record<string, string>, query: URLSearchParams, version: string) {
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

  send(status: number, body: unknown): void {
    const text = JSON.stringify(body) + '\n';
    this.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    this.res.end(text);
  }

  noContent(): void {
    this.res.writeHead(204);
    this.res.end();
  }
}
