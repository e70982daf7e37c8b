// `docker import <http(s) URL>` (POST /images/create?fromSrc=URL): dockerd
// fetches any http or https URL with Go's default client (redirects
// followed, system CAs; no insecure-registry rules, which are for
// registries), answers HTTP errors with its "failed to GET" text and the
// status mapped (404, 400, 401, 403, else 500), and reports the body's
// progress as "Importing" JSON lines.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { ApiError } from '../api/errors.ts';

export interface Download {
  body: Readable;
  /** Content-Length, or -1 when the server sent none (chunked) */
  size: number;
}

/** The URL dockerd fetches: a source without a scheme is http. */
export function importUrl(fromSrc: string): string {
  return fromSrc.includes('://') ? fromSrc : `http://${fromSrc}`;
}

/** Starts the download; errors before any byte of the body are Docker's plain API errors. */
export async function download(url: string): Promise<Download> {
  let u: URL;
  try { u = new URL(url); } catch { throw new ApiError(400, `parse ${JSON.stringify(url)}: invalid URL`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ApiError(500, `Get ${JSON.stringify(url)}: unsupported protocol scheme ${JSON.stringify(u.protocol.slice(0, -1))}`);
  }
  const res = await get(u, url, 0);
  const code = res.statusCode ?? 0;
  if (code >= 400) {
    let text = '';
    for await (const c of res as AsyncIterable<Buffer>) { if (text.length < 4096) text += c.toString(); }
    const status = [400, 401, 403, 404].includes(code) ? code : 500;
    throw new ApiError(status, `failed to GET ${url} with status ${code} ${res.statusMessage ?? ''}: ${text.trim().slice(0, 4096)}`);
  }
  const len = res.headers['content-length'];
  return { body: res, size: len !== undefined && /^\d+$/.test(len) ? Number(len) : -1 };
}

/** A GET that follows redirects as Go's client does (at most 10). */
function get(u: URL, original: string, redirects: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? https : http).get(u, (res) => {
      const loc = res.headers.location;
      if (loc && [301, 302, 303, 307, 308].includes(res.statusCode ?? 0)) {
        res.resume();
        if (redirects >= 10) { reject(new ApiError(500, `Get ${JSON.stringify(loc)}: stopped after 10 redirects`)); return; }
        resolve(get(new URL(loc, u), original, redirects + 1));
        return;
      }
      resolve(res);
    });
    req.on('error', (err) => reject(new ApiError(500, `Get ${JSON.stringify(original)}: ${dialError(u, err)}`)));
  });
}

/** Go's words for the usual connection failures. */
function dialError(u: URL, err: Error): string {
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ECONNREFUSED': return `dial tcp ${u.hostname}:${port}: connect: connection refused`;
    case 'ENOTFOUND': return `dial tcp: lookup ${u.hostname}: no such host`;
    default: return err.message;
  }
}

/**
 * The body, with progress written as dockerd's progress reader writes it:
 * every 1% (at most every 512 KiB), at most every 100 ms unless complete;
 * with an unknown size one line at the end followed by `{}`.
 */
export function withProgress(d: Download, emit: (line: Record<string, unknown>) => void): AsyncIterable<Buffer> {
  const every = d.size > 0 ? Math.min(512 * 1024, Math.floor(d.size * 0.01)) : 512 * 1024;
  return (async function* () {
    let current = 0;
    let last = 0;
    let lastEmit = 0;
    for await (const c of d.body as AsyncIterable<Buffer>) {
      current += c.length;
      if (current - last > every) {
        const now = Date.now();
        if (current === d.size || now - lastEmit >= 100) { emit(progressLine(current, d.size)); lastEmit = now; }
        last = current;
      }
      yield c;
    }
    if (d.size <= 0 || current < d.size) {
      emit(progressLine(current, d.size));
      emit({});
    }
  })();
}

function progressLine(current: number, total: number): Record<string, unknown> {
  const detail: Record<string, number> = {};
  if (current) detail['current'] = current;
  if (total) detail['total'] = total;
  return { status: 'Importing', progressDetail: detail, progress: progressBar(current, total) };
}

/** jsonmessage's progress text at a server's width: the bar, then sizes. */
function progressBar(current: number, total: number): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  const pct = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] `;
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

/** go-units HumanSize: decimal units, 4 significant digits. */
function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}
