// The registry client: one transport per endpoint host (shared token cache,
// credentials from config.json), and the repositories to try for a
// reference: docker.io's mirrors first when pulling, then the registry.
import type { Reference } from '../reference/reference.ts';
import { TokenCache } from './auth.ts';
import { dockerConfigCredentials, type CredentialSource } from './credentials.ts';
import { endpointsFor, type HostsConfig } from './hosts.ts';
import { DEFAULT_RETRY, Repository, type RetryPolicy } from './repository.ts';
import { newAgentCache, releaseAgentCache, RegistryTransport } from './transport.ts';
import { DRAY_VERSION } from '../../common/version.ts';

export interface RegistryClientOptions extends HostsConfig {
  /** Where credentials come from; default: the docker config.json at dockerConfigPath (or ~/.docker/config.json). */
  credentials?: CredentialSource;
  dockerConfigPath?: string;
  userAgent?: string;
  retry?: RetryPolicy;
  timeoutMs?: number;
}

export class RegistryClient {
  readonly opts: RegistryClientOptions;
  readonly tokens = new TokenCache();
  readonly agents = newAgentCache();
  #transports = new Map<string, RegistryTransport>();
  #credentials: CredentialSource;

  constructor(opts: RegistryClientOptions = {}) {
    this.opts = opts;
    this.#credentials = opts.credentials ?? dockerConfigCredentials(opts.dockerConfigPath);
  }

  /** The repositories to try, best first (mirrors, then the registry itself). */
  repositories(ref: Reference, purpose: 'pull' | 'push'): Repository[] {
    return endpointsFor(ref.domain, this.opts, purpose).map((ep) => {
      const key = `${ep.host}|${ep.schemes.join(',')}|${ep.mirror}`;
      let t = this.#transports.get(key);
      if (!t) {
        t = new RegistryTransport(ep, {
          hosts: this.opts,
          credentials: this.#credentials,
          tokens: this.tokens,
          agents: this.agents,
          userAgent: this.opts.userAgent ?? `dray/${DRAY_VERSION}`,
          ...(this.opts.timeoutMs ? { timeoutMs: this.opts.timeoutMs } : {}),
        });
        this.#transports.set(key, t);
      }
      const repo = new Repository(t, ref.path, this.opts.retry ?? DEFAULT_RETRY);
      return purpose === 'push' ? repo.forPush() : repo;
    });
  }

  /** Closes this client's idle keep-alive connections. */
  close(): void {
    releaseAgentCache(this.agents);
  }
}
