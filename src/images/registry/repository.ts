// The OCI distribution API for one repository on one endpoint: resolve a tag,
// fetch manifests and blobs (streamed, size and digest verified, resumed with
// Range after a dropped connection), check blobs, mount, upload (monolithic
// or chunked) and put manifests.
import { PassThrough, type Readable } from 'node:stream';
import type { Descriptor, Provider, Writer } from '../content/types.ts';
import { digestOf, isDigest, shortId } from '../content/digest.ts';
import { isContentError } from '../content/errors.ts';
import { MANIFEST_ACCEPT } from '../manifest/media-types.ts';
import { MAX_MANIFEST_BYTES } from '../manifest/manifest.ts';
import { repositoryScope } from './auth.ts';
import { errorFromResponse, RegistryError } from './errors.ts';
import { isInsecure } from './hosts.ts';
import type { ProgressSink } from './progress.ts';
import { drain, readBytes, readText, type HttpRequest, type HttpResponse, type RegistryTransport } from './transport.ts';

export interface RetryPolicy {
  /** Attempts per blob or manifest (first try included). */
  attempts: number;
  /** First backoff (ms), doubled each time. */
  backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, backoffMs: 200 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isRetryable(e: unknown): boolean {
  if (e instanceof RegistryError) return e.retryable;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const msg = String((e as Error).message ?? '');
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code) || /aborted|socket hang up|premature/i.test(msg);
}

export class Repository {
  readonly transport: RegistryTransport;
  /** Repository path on the registry (library/busybox). */
  readonly path: string;
  readonly retry: RetryPolicy;
  #actions: string[] = ['pull'];

  constructor(transport: RegistryTransport, path: string, retry: RetryPolicy = DEFAULT_RETRY) {
    this.transport = transport;
    this.path = path;
    this.retry = retry;
  }

  /** Asks for push rights from now on (scope escalation pull -> pull,push). */
  forPush(): this {
    this.#actions = ['pull', 'push'];
    return this;
  }

  get host(): string {
    return this.transport.endpoint.host;
  }

  #scopes(extra: string[] = []): string[] {
    return [repositoryScope(this.path, this.#actions), ...extra];
  }

  #req(method: HttpRequest['method'], path: string, o: Partial<HttpRequest> = {}): Promise<HttpResponse> {
    return this.transport.request({ method, path, scopes: o.scopes ?? this.#scopes(), ...(o.headers ? { headers: o.headers } : {}), ...(o.body ? { body: o.body } : {}) });
  }

  async #withRetry<T>(_what: string, fn: (attempt: number) => Promise<T>, onRetry?: (attempt: number, e: unknown) => void): Promise<T> {
    let delay = this.retry.backoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (e) {
        if (attempt >= this.retry.attempts || !isRetryable(e)) {
          if (e instanceof RegistryError && attempt > 1) throw new RegistryError(`${e.message} (after ${attempt} attempts)`, e.status, e.errors, false);
          throw e;
        }
        onRetry?.(attempt, e);
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  /**
   * Resolves a tag or digest to the manifest's descriptor: HEAD with the
   * Accept list, falling back to GET when HEAD gives no digest.
   */
  async resolve(reference: string): Promise<Descriptor> {
    const path = `/v2/${this.path}/manifests/${reference}`;
    const headers = { accept: MANIFEST_ACCEPT.join(', ') };
    return this.#withRetry(`resolve ${reference}`, async () => {
      const head = await this.#req('HEAD', path, { headers });
      drain(head);
      if (head.status === 200) {
        const dgst = String(head.headers['docker-content-digest'] ?? '');
        const size = Number(head.headers['content-length']);
        const mediaType = String(head.headers['content-type'] ?? '').split(';')[0]!.trim();
        if (isDigest(dgst) && Number.isSafeInteger(size) && size > 0 && mediaType) {
          if (isDigest(reference) && dgst !== reference) throw new RegistryError(`${this.path}@${reference}: registry answered digest ${dgst}`);
          return { mediaType, digest: dgst, size };
        }
      } else if (head.status === 404) {
        throw new RegistryError(`manifest for ${this.host}/${this.path}:${reference} not found: manifest unknown: manifest unknown`, 404, [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }]);
      } else if (head.status !== 405 && head.status !== 400) {
        throw errorFromResponse(`resolve ${this.host}/${this.path}:${reference}`, head.status, '');
      }
      const { desc } = await this.#getManifest(reference);
      return desc;
    });
  }

  async #getManifest(reference: string, expected?: Descriptor): Promise<{ desc: Descriptor; data: Buffer }> {
    const res = await this.#req('GET', `/v2/${this.path}/manifests/${reference}`, { headers: { accept: (expected ? [expected.mediaType, ...MANIFEST_ACCEPT.filter((t) => t !== expected.mediaType)] : MANIFEST_ACCEPT).join(', ') } });
    if (res.status !== 200) {
      const body = await readText(res).catch(() => '');
      if (res.status === 404) throw errorFromResponse(`manifest for ${this.host}/${this.path}:${reference} not found`, 404, body);
      throw errorFromResponse(`fetch manifest ${this.host}/${this.path}:${reference}`, res.status, body);
    }
    const len = Number(res.headers['content-length']);
    if (Number.isSafeInteger(len) && len > MAX_MANIFEST_BYTES) {
      res.body.destroy();
      throw new RegistryError(`manifest ${reference}: ${len} bytes is over the ${MAX_MANIFEST_BYTES}-byte limit`);
    }
    const data = await readBytes(res, MAX_MANIFEST_BYTES);
    const want = expected?.digest ?? (isDigest(reference) ? reference : String(res.headers['docker-content-digest'] ?? ''));
    const algo = isDigest(want) ? (want.startsWith('sha512:') ? 'sha512' : 'sha256') : 'sha256';
    const got = digestOf(data, algo);
    if (isDigest(want) && got !== want) {
      // Verified against what was asked (or what the registry claimed): a mismatch is corruption.
      throw new RegistryError(`manifest ${this.path}:${reference}: digest mismatch: got ${got}, expected ${want}`, 0, [{ code: 'DIGEST_INVALID', message: 'digest mismatch' }], true);
    }
    if (expected && data.length !== expected.size) {
      throw new RegistryError(`manifest ${this.path}@${expected.digest}: size ${data.length}, expected ${expected.size}`, 0, [{ code: 'SIZE_INVALID', message: 'size mismatch' }], true);
    }
    const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim() || expected?.mediaType || '';
    return { desc: { mediaType, digest: got, size: data.length }, data };
  }

  /** Fetches a manifest by descriptor, verifying digest and size (retried on corruption). */
  async fetchManifest(desc: Descriptor): Promise<Buffer> {
    return this.#withRetry(`manifest ${desc.digest}`, async () => (await this.#getManifest(desc.digest, desc)).data);
  }

  /**
   * Streams a blob into `writer`, resuming from the writer's offset with Range,
   * checking size as it goes and digest at commit. Retries dropped connections,
   * 5xx answers, truncation and a digest mismatch (starting over).
   */
  async fetchBlob(desc: Descriptor, writer: Writer, opts: { progress?: ProgressSink; urls?: string[]; labels?: Record<string, string> } = {}): Promise<void> {
    const id = shortId(desc.digest);
    let lastEmit = 0;
    const emit = (current: number, force = false): void => {
      const now = Date.now();
      if (!opts.progress || (!force && now - lastEmit < 100)) return;
      lastEmit = now;
      opts.progress({ id, status: 'Downloading', progressDetail: { current, total: desc.size } });
    };
    await this.#withRetry(
      `blob ${desc.digest}`,
      async () => {
        if (writer.status().offset < desc.size) await this.#download(desc, writer, emit, opts.urls);
        if (writer.status().offset !== desc.size) {
          throw new RegistryError(`blob ${desc.digest}: truncated at ${writer.status().offset} of ${desc.size} bytes`, 0, [{ code: 'BLOB_TRUNCATED', message: 'short read' }], true);
        }
        opts.progress?.({ id, status: 'Verifying Checksum' });
        try {
          await writer.commit(desc.size, desc.digest, opts.labels ? { labels: opts.labels } : {});
        } catch (e) {
          if (isContentError(e, 'already-exists')) return;
          if (isContentError(e, 'failed-precondition') && /unexpected digest/.test((e as Error).message)) {
            await writer.truncate(0);
            const got = /unexpected digest (\S+),/.exec((e as Error).message)?.[1] ?? 'another digest';
            throw new RegistryError(`blob ${desc.digest}: digest mismatch: got ${got}, expected ${desc.digest}`, 0, [{ code: 'DIGEST_INVALID', message: 'digest mismatch' }], true);
          }
          throw e;
        }
      },
      (attempt, e) => opts.progress?.({ id, status: 'Retrying', detail: `attempt ${attempt + 1}: ${(e as Error).message}` }),
    );
  }

  async #download(desc: Descriptor, writer: Writer, emit: (n: number, force?: boolean) => void, urls?: string[]): Promise<void> {
    const offset = writer.status().offset;
    const headers: Record<string, string> = {};
    if (offset > 0) headers['range'] = `bytes=${offset}-`;
    // Foreign layers come from their own URLs; fall back to the registry.
    let res: HttpResponse | undefined;
    for (const u of urls ?? []) {
      const target = new URL(u);
      if (target.protocol === 'http:' && !isInsecure(target.host, this.transport.opts.hosts)) continue;
      try {
        const r = await this.transport.request({ method: 'GET', path: u, headers, scopes: [] });
        if (r.status === 200 || r.status === 206) {
          res = r;
          break;
        }
        drain(r);
      } catch {
        /* next url */
      }
    }
    res ??= await this.#req('GET', `/v2/${this.path}/blobs/${desc.digest}`, { headers });
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== offset) {
        // A range we did not ask for: start over from zero.
        drain(res);
        await writer.truncate(0);
        throw new RegistryError(`blob ${desc.digest}: unexpected Content-Range ${res.headers['content-range']}`, 0, [], true);
      }
    } else if (res.status === 200) {
      if (offset > 0) await writer.truncate(0);
    } else if (res.status === 416) {
      drain(res);
      await writer.truncate(0);
      throw new RegistryError(`blob ${desc.digest}: range not satisfiable`, 416, [], true);
    } else {
      const body = await readText(res).catch(() => '');
      throw errorFromResponse(`fetch blob ${this.host}/${this.path}@${desc.digest}`, res.status, body);
    }
    // Copy socket chunks into one reused 1 MiB buffer and write it when full:
    // few syscalls, and no fresh garbage per write (RSS stays flat).
    const batch = Buffer.allocUnsafe(1 << 20);
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      const n = pendingBytes;
      pendingBytes = 0;
      await writer.write(batch.subarray(0, n));
      emit(writer.status().offset);
    };
    let streamErr: unknown;
    try {
      for await (const c of res.body as AsyncIterable<Buffer>) {
        if (writer.status().offset + pendingBytes + c.length > desc.size) {
          res.body.destroy();
          await writer.truncate(0);
          throw new RegistryError(`blob ${desc.digest}: more data than the ${desc.size} bytes expected`, 0, [{ code: 'SIZE_INVALID', message: 'too long' }], true);
        }
        for (let off = 0; off < c.length; ) {
          const n = Math.min(c.length - off, batch.length - pendingBytes);
          c.copy(batch, pendingBytes, off, off + n);
          pendingBytes += n;
          off += n;
          if (pendingBytes === batch.length) await flush();
        }
      }
    } catch (e) {
      streamErr = e;
    }
    // Keep what arrived before a drop: the next attempt resumes after it.
    // A failing write (a full disk) is the error that counts.
    if (pendingBytes > 0) await flush();
    if (streamErr !== undefined) throw streamErr;
    emit(writer.status().offset, true);
  }

  /** HEAD a blob: its size when present, undefined when not. */
  async blobExists(dgst: string): Promise<number | undefined> {
    return this.#withRetry(`stat ${dgst}`, async () => {
      const res = await this.#req('HEAD', `/v2/${this.path}/blobs/${dgst}`);
      drain(res);
      if (res.status === 200) return Number(res.headers['content-length']);
      if (res.status === 404) return undefined;
      throw errorFromResponse(`check blob ${this.host}/${this.path}@${dgst}`, res.status, '');
    });
  }

  /** Cross-repository mount: true when mounted; false when the registry wants an upload instead. */
  async mountBlob(dgst: string, from: string): Promise<boolean> {
    const res = await this.#req('POST', `/v2/${this.path}/blobs/uploads/?mount=${encodeURIComponent(dgst)}&from=${encodeURIComponent(from)}`, {
      scopes: this.#scopes([repositoryScope(from, ['pull'])]),
    });
    const body = await readText(res).catch(() => '');
    if (res.status === 201) return true;
    if (res.status === 202) {
      // An upload session was opened instead: cancel it, the caller uploads.
      const loc = res.headers.location;
      if (loc) await this.#req('DELETE', new URL(loc, res.url).toString()).then(drain, () => undefined);
      return false;
    }
    throw errorFromResponse(`mount ${dgst} from ${from}`, res.status, body);
  }

  async #startUpload(): Promise<URL> {
    const res = await this.#req('POST', `/v2/${this.path}/blobs/uploads/`);
    const body = await readText(res).catch(() => '');
    if (res.status !== 202 || !res.headers.location) throw errorFromResponse(`start upload to ${this.host}/${this.path}`, res.status, body);
    return new URL(res.headers.location, res.url);
  }

  /**
   * Uploads a blob from `provider`: one PUT, or PATCH chunks of `chunkSize`
   * then a closing PUT. Retries restart the upload session.
   */
  async pushBlob(desc: Descriptor, provider: Provider, opts: { chunkSize?: number; progress?: ProgressSink } = {}): Promise<void> {
    const id = shortId(desc.digest);
    await this.#withRetry(`upload ${desc.digest}`, async () => {
      let loc = await this.#startUpload();
      const withDigest = (u: URL): string => {
        const x = new URL(u);
        x.searchParams.set('digest', desc.digest);
        return x.toString();
      };
      const octet = { 'content-type': 'application/octet-stream' };
      if (!opts.chunkSize || opts.chunkSize >= desc.size) {
        const res = await this.#req('PUT', withDigest(loc), {
          headers: { ...octet, 'content-length': String(desc.size) },
          body: () => this.#providerStream(provider, desc, 0, desc.size),
        });
        const body = await readText(res).catch(() => '');
        if (res.status !== 201) throw errorFromResponse(`upload ${desc.digest} to ${this.host}/${this.path}`, res.status, body);
        opts.progress?.({ id, status: 'Pushing', progressDetail: { current: desc.size, total: desc.size } });
        return;
      }
      for (let start = 0; start < desc.size; start += opts.chunkSize) {
        const end = Math.min(desc.size, start + opts.chunkSize);
        const res = await this.#req('PATCH', loc.toString(), {
          headers: { ...octet, 'content-length': String(end - start), 'content-range': `${start}-${end - 1}` },
          body: () => this.#providerStream(provider, desc, start, end),
        });
        const body = await readText(res).catch(() => '');
        if (res.status !== 202 || !res.headers.location) throw errorFromResponse(`upload chunk ${start}-${end - 1} of ${desc.digest}`, res.status, body);
        loc = new URL(res.headers.location, res.url);
        opts.progress?.({ id, status: 'Pushing', progressDetail: { current: end, total: desc.size } });
      }
      const res = await this.#req('PUT', withDigest(loc));
      const body = await readText(res).catch(() => '');
      if (res.status !== 201) throw errorFromResponse(`finish upload of ${desc.digest} to ${this.host}/${this.path}`, res.status, body);
    });
  }

  #providerStream(provider: Provider, desc: Descriptor, start: number, end: number): Readable {
    // Provider.stream is async; wrap it in a passthrough the transport can pipe now.
    const out = new PassThrough();
    provider.stream(desc, start).then(
      (s) => {
        let left = end - start;
        s.on('data', (c: Buffer) => {
          if (left <= 0) return;
          const part = c.length > left ? c.subarray(0, left) : c;
          left -= part.length;
          if (!out.write(part)) s.pause();
          if (left <= 0) {
            s.destroy();
            out.end();
          }
        });
        out.on('drain', () => s.resume());
        s.on('end', () => out.end());
        s.on('error', (e) => out.destroy(e));
      },
      (e: unknown) => out.destroy(e as Error),
    );
    return out;
  }

  /** PUT a manifest under a tag or its digest; checks the digest the registry computed. */
  async putManifest(reference: string, mediaType: string, data: Buffer): Promise<string> {
    const want = digestOf(data);
    return this.#withRetry(`put manifest ${reference}`, async () => {
      const res = await this.#req('PUT', `/v2/${this.path}/manifests/${reference}`, { headers: { 'content-type': mediaType }, body: data });
      const body = await readText(res).catch(() => '');
      if (res.status !== 201) throw errorFromResponse(`put manifest ${this.host}/${this.path}:${reference}`, res.status, body);
      const got = String(res.headers['docker-content-digest'] ?? want);
      if (got !== want) throw new RegistryError(`put manifest ${reference}: registry stored digest ${got}, expected ${want}`);
      return want;
    });
  }
}
