// Stream formats of the Engine API: the multiplexed stdout/stderr framing
// (8-byte header: stream id, 3 zero bytes, big-endian payload length) used
// without a TTY, and streams of JSON messages (pull/push progress, events, stats).
import type { Readable } from 'node:stream';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
/** Stream 3 carries an error message from the daemon (API >= 1.42 for exec). */
export const SYSTEMERR = 3;

/** Incremental demultiplexer: feed chunks, get whole frames (a frame may span chunks). */
export class Demuxer {
  // Chunks are kept apart until a whole frame is there: joining on every push
  // would be quadratic when a large frame arrives in small pieces.
  private chunks: Buffer[] = [];
  private len = 0;
  private need = 8;
  private readonly onFrame: (stream: number, payload: Buffer) => void;
  constructor(onFrame: (stream: number, payload: Buffer) => void) { this.onFrame = onFrame; }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.len += chunk.length;
    while (this.len >= this.need) {
      const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.len);
      this.chunks = [buf];
      const stream = buf[0]!;
      if (stream > 3 || buf[1] !== 0 || buf[2] !== 0 || buf[3] !== 0) {
        throw new Error(`Unrecognized input header: ${stream}`);
      }
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) { this.need = 8 + size; return; }
      const rest = buf.subarray(8 + size);
      this.chunks = rest.length ? [rest] : [];
      this.len = rest.length;
      this.need = 8;
      this.onFrame(stream, buf.subarray(8, 8 + size));
    }
  }

  /** Bytes of an incomplete frame at the end (none when the stream ended cleanly). */
  get pending(): number { return this.len; }
}

/** One frame as the daemon writes it (for tests and for drayd's use). */
export function frame(stream: number, payload: Buffer | string): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(p.length, 4);
  return Buffer.concat([h, p]);
}

/** Parses a stream of JSON values (newline separated or just concatenated); timeNano stays exact (as a string). */
export async function* jsonStream<T>(src: Readable): AsyncGenerator<T> {
  let buf = '';
  for await (const chunk of src) {
    buf += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    for (;;) {
      const v = takeJson(buf);
      if (!v) break;
      buf = v.rest;
      yield v.value as T;
    }
  }
  if (buf.trim()) throw new Error(`unexpected end of JSON stream: ${buf.slice(0, 80)}`);
}

/** The first whole JSON value in s, found by scanning brackets outside strings. */
function takeJson(s: string): { value: unknown; rest: string } | undefined {
  const parse = (t: string): unknown => JSON.parse(t.replace(/"timeNano":(\d{16,})/g, '"timeNano":"$1"'));
  let i = 0;
  while (i < s.length && /\s/.test(s[i]!)) i++;
  if (i >= s.length) return undefined;
  let depth = 0;
  let inStr = false;
  for (let j = i; j < s.length; j++) {
    const c = s[j]!;
    if (inStr) {
      if (c === '\\') j++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return { value: parse(s.slice(i, j + 1)), rest: s.slice(j + 1) };
    } else if (depth === 0 && c === '\n') {
      // A bare scalar on its own line.
      return { value: parse(s.slice(i, j)), rest: s.slice(j + 1) };
    }
  }
  return undefined;
}
