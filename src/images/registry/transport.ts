// HTTP(S) to one registry endpoint: keep-alive agents, TLS from certs.d,
// https-then-http for insecure registries, redirects, and authentication
// (Basic or Bearer, answered from a 401 challenge and then sent up front).
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { basicAuthorization, parseWwwAuthenticate, TokenCache, type Challenge } from './auth.ts';
import type { CredentialSource } from './credentials.ts';
import { RegistryError } from './errors.ts';
import { isInsecure, tlsMaterialFor, type Endpoint, type HostsConfig } from './hosts.ts';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under the endpoint (/v2/...), or an absolute URL (upload locations). */
  path: string;
  headers?: Record<string, string>;
  /** A buffer, or a factory so the body can be sent again after a 401. */
  body?: Buffer | (() => Readable);
  /** Scopes the request needs (repository:x:pull). */
  scopes: string[];
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  url: URL;
}

export interface TransportOptions {
  hosts: HostsConfig;
  credentials?: CredentialSource;
  tokens?: TokenCache;
  userAgent?: string;
  /** Per-request time without any data before it fails (ms). */
  timeoutMs?: number;
  agents?: AgentCache;
}

/** Keep-alive agents per origin and TLS settings; one cache per client, so certs.d is read per client. */
export type AgentCache = Map<string, http.Agent>;
const defaultAgents: AgentCache = new Map();
const allCaches = new Set<AgentCache>([defaultAgents]);

export function newAgentCache(): AgentCache {
  const c: AgentCache = new Map();
  allCaches.add(c);
  return c;
}

/** Destroys a cache's agents and forgets the cache (RegistryClient.close). */
export function releaseAgentCache(c: AgentCache): void {
  for (const a of c.values()) a.destroy();
  c.clear();
  if (c !== defaultAgents) allCaches.delete(c);
}

function agentFor(agents: AgentCache, url: URL, verifyTls: boolean, certsDir: string | undefined): http.Agent {
  const key = `${url.protocol}//${url.host}|${verifyTls}|${certsDir ?? ''}`;
  let a = agents.get(key);
  if (!a) {
    if (url.protocol === 'https:') {
      // Unverified (an insecure registry): no CAs to load, only a client pair if certs.d has one.
      const tlsm = tlsMaterialFor(url.host, certsDir, verifyTls);
      a = new https.Agent({
        keepAlive: true, maxSockets: 16, ...(verifyTls ? { ca: tlsm.ca } : {}),
        ...(tlsm.cert ? { cert: tlsm.cert, key: tlsm.key } : {}), rejectUnauthorized: verifyTls,
      });
    } else a = new http.Agent({ keepAlive: true, maxSockets: 16 });
    agents.set(key, a);
  }
  return a;
}

/** Closes idle keep-alive sockets (tests and short-lived tools call this at the end). */
export function closeIdleConnections(): void {
  for (const c of allCaches) {
    for (const a of c.values()) a.destroy();
    c.clear();
  }
}

/** One HTTP exchange; the body is left unread for the caller. */
export function sendOnce(url: URL, method: string, headers: Record<string, string>, body: Buffer | (() => Readable) | undefined, agent: http.Agent, timeoutMs: number): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, { method, headers, agent });
    req.setTimeout(timeoutMs, () => req.destroy(new RegistryError(`${method} ${url.origin}${url.pathname}: no answer in ${timeoutMs} ms`, 0, [], true)));
    req.on('error', reject);
    req.on('response', (res) => {
      res.setTimeout(timeoutMs, () => res.destroy(new RegistryError(`${method} ${url.origin}${url.pathname}: stalled for ${timeoutMs} ms`, 0, [], true)));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
    });
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      const s = body();
      s.on('error', (e) => req.destroy(e));
      s.pipe(req);
    }
  });
}

export async function readBytes(res: HttpResponse, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    n += (c as Buffer).length;
    if (n > max) {
      res.body.destroy();
      throw new RegistryError(`${res.url.origin}${res.url.pathname}: response over ${max} bytes`);
    }
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

/** Reads a (small) body as text, refusing more than `max` bytes. */
export async function readText(res: HttpResponse, max = 1 << 20): Promise<string> {
  return (await readBytes(res, max)).toString('utf8');
}

export function drain(res: HttpResponse): void {
  res.body.resume();
}

/** A connection-level failure where the next scheme (http after https) may work. */
function isSchemeError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const msg = String((e as Error).message ?? '');
  return code === 'EPROTO' || code === 'ECONNRESET' || code.startsWith('ERR_SSL') || /wrong version number|packet length too long|ssl/i.test(msg);
}

export class RegistryTransport {
  readonly endpoint: Endpoint;
  readonly opts: TransportOptions;
  readonly tokens: TokenCache;
  #scheme: 'https' | 'http' | undefined;
  #challenge: Challenge | undefined;

  constructor(endpoint: Endpoint, opts: TransportOptions) {
    this.endpoint = endpoint;
    this.opts = opts;
    this.tokens = opts.tokens ?? new TokenCache();
  }

  get baseUrl(): string {
    return `${this.#scheme ?? this.endpoint.schemes[0]}://${this.endpoint.host}`;
  }

  #credentials(): ReturnType<CredentialSource> {
    // Mirrors and registry-1.docker.io take docker.io's credentials, as in Docker.
    const key = this.endpoint.domain === 'docker.io' && !this.endpoint.mirror ? 'docker.io' : this.endpoint.host;
    return this.opts.credentials?.(key);
  }

  async #authorization(scopes: string[], fresh: boolean): Promise<string | undefined> {
    const ch = this.#challenge;
    if (!ch) return undefined;
    const creds = this.#credentials();
    if (ch.scheme === 'basic') {
      if (!creds || creds.username === undefined) return undefined;
      return basicAuthorization(creds);
    }
    if (ch.scheme === 'bearer') {
      if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
      const want = [...new Set([...scopes, ...(fresh && ch.params['scope'] ? ch.params['scope'].split(' ') : [])])];
      // After a 401 the cached token (if any) was refused: ask again.
      if (fresh) this.tokens.invalidate(ch.params['realm'] ?? '', ch.params['service'] ?? '', want);
      const token = await this.tokens.fetch(ch, want, creds, (url, headers, body) => this.#fetchToken(url, headers, body));
      return `Bearer ${token}`;
    }
    return undefined;
  }

  async #fetchToken(url: URL, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
    if (url.protocol === 'http:' && !isInsecure(url.host, this.opts.hosts)) {
      throw new RegistryError(`authentication: refusing a plain-http token realm on ${url.host} (not an insecure registry)`, 401);
    }
    const agent = agentFor(this.opts.agents ?? defaultAgents, url, !isInsecure(url.host, this.opts.hosts), this.opts.hosts.certsDir);
    const payload = body === undefined ? undefined : Buffer.from(body);
    const h = { ...headers, 'user-agent': this.opts.userAgent ?? 'dray', ...(payload ? { 'content-length': String(payload.length) } : {}) };
    const res = await sendOnce(url, payload ? 'POST' : 'GET', h, payload, agent, this.opts.timeoutMs ?? 30_000);
    return { status: res.status, body: await readText(res) };
  }

  /** Sends a request: scheme fallback, auth challenge and one retry, redirects for GET/HEAD. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const schemes = this.#scheme ? [this.#scheme] : this.endpoint.schemes;
    let lastErr: unknown;
    for (const scheme of schemes) {
      try {
        const res = await this.#requestWithAuth(req, scheme);
        this.#scheme = scheme;
        return res;
      } catch (e) {
        lastErr = e;
        // Only a TLS-level failure moves on to plain http (insecure registries).
        if (!isSchemeError(e)) break;
      }
    }
    throw this.#wrap(lastErr, req);
  }

  #wrap(e: unknown, req: HttpRequest): Error {
    if (e instanceof RegistryError) return e;
    const code = (e as NodeJS.ErrnoException).code;
    const msg = (e as Error).message ?? String(e);
    const retryable = ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code ?? '');
    const tls = /certificate|self.signed|unable to verify/i.test(msg);
    const text = tls ? `${msg} (add the registry's CA as ${this.opts.hosts.certsDir ?? '/etc/docker/certs.d'}/${this.endpoint.host}/ca.crt)` : msg;
    return new RegistryError(`${req.method} ${this.endpoint.host}: ${text}`, 0, [], retryable);
  }

  async #requestWithAuth(req: HttpRequest, scheme: 'https' | 'http'): Promise<HttpResponse> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const headers: Record<string, string> = { 'user-agent': this.opts.userAgent ?? 'dray', ...req.headers };
      const auth = await this.#authorization(req.scopes, attempt > 0);
      if (auth) headers['authorization'] = auth;
      const res = await this.#follow(req, scheme, headers);
      if (res.status !== 401 || attempt > 0) return res;
      const challenges = parseWwwAuthenticate(String(res.headers['www-authenticate'] ?? ''));
      drain(res);
      const ch = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
      if (!ch) return res;
      if (ch.scheme === 'basic' && !this.#credentials()) {
        throw new RegistryError(`${req.method} ${this.endpoint.host}: unauthorized: authentication required (no credentials for ${this.endpoint.host} in config.json)`, 401, [{ code: 'UNAUTHORIZED', message: 'authentication required' }]);
      }
      this.#challenge = ch;
    }
    throw new Error('unreachable');
  }

  async #follow(req: HttpRequest, scheme: 'https' | 'http', headers: Record<string, string>): Promise<HttpResponse> {
    let url = /^https?:\/\//.test(req.path) ? new URL(req.path) : new URL(`${scheme}://${this.endpoint.host}${req.path}`);
    const timeout = this.opts.timeoutMs ?? 30_000;
    // Credentials go only to the registry itself, never to other hosts (redirect targets, foreign-layer URLs).
    const origin = new URL(`${scheme}://${this.endpoint.host}`).origin;
    for (let hops = 0; hops < 6; hops++) {
      const sameOrigin = url.origin === origin;
      const h = sameOrigin ? headers : Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'authorization'));
      if (!Buffer.isBuffer(req.body) && req.body === undefined && (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH')) h['content-length'] ??= '0';
      if (Buffer.isBuffer(req.body)) h['content-length'] = String(req.body.length);
      const verify = sameOrigin ? this.endpoint.verifyTls : !isInsecure(url.host, this.opts.hosts);
      const res = await sendOnce(url, req.method, h, req.body, agentFor(this.opts.agents ?? defaultAgents, url, verify, this.opts.hosts.certsDir), timeout);
      const loc = res.headers.location;
      if ((req.method === 'GET' || req.method === 'HEAD') && [301, 302, 303, 307, 308].includes(res.status) && loc) {
        drain(res);
        const next = new URL(loc, url);
        if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new RegistryError(`redirect to ${next.protocol} refused`);
        if (next.protocol === 'http:' && url.protocol === 'https:' && !isInsecure(next.host, this.opts.hosts)) throw new RegistryError(`redirect from https to plain http ${next.host} refused`);
        url = next;
        continue;
      }
      return res;
    }
    throw new RegistryError(`${req.method} ${req.path}: too many redirects`);
  }
}
