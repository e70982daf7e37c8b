// Registry authentication: WWW-Authenticate parsing, Basic, and the Bearer
// token flow (token endpoint with service and scopes, tokens cached until
// they expire, scope escalation from pull to pull,push).
import type { Credentials } from './credentials.ts';
import { RegistryError } from './errors.ts';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header (several challenges, quoted strings with escapes). */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const token = (): string => {
    const m = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(s.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  for (let guard = 0; i < s.length && guard < 1000; guard++) {
    skipWs();
    while (s[i] === ',') {
      i++;
      skipWs();
    }
    const scheme = token();
    if (!scheme) break;
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    for (let g2 = 0; g2 < 100; g2++) {
      skipWs();
      const save = i;
      const key = token();
      skipWs();
      if (!key || s[i] !== '=') {
        i = save;
        break;
      }
      i++;
      skipWs();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++;
      } else value = token();
      ch.params[key.toLowerCase()] = value;
      skipWs();
      if (s[i] === ',') i++;
    }
  }
  return out;
}

export interface TokenResponse {
  token: string;
  expiresAt: number;
}

/** GET `url`, or POST the form `body` (the OAuth2 refresh-token grant). */
export type TokenFetcher = (url: URL, headers: Record<string, string>, body?: string) => Promise<{ status: number; body: string }>;

/** Caches tokens per realm, service and scope set until their expiry. */
export class TokenCache {
  #tokens = new Map<string, TokenResponse>();
  #now: () => number;
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  static key(realm: string, service: string, scopes: string[]): string {
    return `${realm}\n${service}\n${[...scopes].sort().join(' ')}`;
  }

  get(realm: string, service: string, scopes: string[]): string | undefined {
    const k = TokenCache.key(realm, service, scopes);
    const t = this.#tokens.get(k);
    if (!t) return undefined;
    if (t.expiresAt <= this.#now()) {
      this.#tokens.delete(k);
      return undefined;
    }
    return t.token;
  }

  invalidate(realm: string, service: string, scopes: string[]): void {
    this.#tokens.delete(TokenCache.key(realm, service, scopes));
  }

  /** Gets a token from the realm (GET with service and scope parameters, Basic credentials when known). */
  async fetch(challenge: Challenge, scopes: string[], creds: Credentials | undefined, fetcher: TokenFetcher): Promise<string> {
    const realm = challenge.params['realm'];
    if (!realm) throw new RegistryError('authentication: bearer challenge without a realm', 401);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(`authentication: invalid token realm ${JSON.stringify(realm)}`, 401);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RegistryError(`authentication: token realm must be http(s): ${realm}`, 401);
    const service = challenge.params['service'] ?? '';
    const cached = this.get(realm, service, scopes);
    if (cached) return cached;
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (creds?.identityToken) {
      // An identity token (docker login's refresh token): the OAuth2 POST grant, as Docker does.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'dray' });
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      body = form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (creds?.username !== undefined && creds.password !== undefined) {
        headers['authorization'] = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      }
    }
    const res = await fetcher(url, headers, body);
    if (res.status !== 200) {
      throw new RegistryError(`authentication: token endpoint ${url.origin}${url.pathname} answered ${res.status}${res.body ? `: ${res.body.slice(0, 200).trim()}` : ''}`, res.status === 401 ? 401 : res.status, [{ code: 'UNAUTHORIZED', message: 'token request refused' }]);
    }
    let obj: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      obj = JSON.parse(res.body) as typeof obj;
    } catch {
      throw new RegistryError('authentication: token endpoint answered with invalid JSON', 401);
    }
    const token = typeof obj.token === 'string' && obj.token ? obj.token : typeof obj.access_token === 'string' ? obj.access_token : '';
    if (!token) throw new RegistryError('authentication: token endpoint answered without a token', 401);
    // Docker's default and minimum lifetime is 60 s; keep a margin for clock skew.
    const expiresIn = typeof obj.expires_in === 'number' && obj.expires_in > 0 ? Math.max(obj.expires_in, 60) : 60;
    const issued = typeof obj.issued_at === 'string' && !Number.isNaN(Date.parse(obj.issued_at)) ? Math.min(Date.parse(obj.issued_at), this.#now()) : this.#now();
    this.#tokens.set(TokenCache.key(realm, service, scopes), { token, expiresAt: issued + expiresIn * 1000 - 5000 });
    return token;
  }
}

export function basicAuthorization(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username ?? ''}:${creds.password ?? ''}`).toString('base64')}`;
}

/** `repository:<path>:<actions>` */
export function repositoryScope(path: string, actions: string[]): string {
  return `repository:${path}:${actions.join(',')}`;
}
