// Reading a container's json-file log (written by dray-shim): tail,
// since/until, timestamps, and follow (the file is polled from the last
// offset until the container stops or the client goes away).
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { badRequest } from '../api/errors.ts';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  log: Buffer;
  /** RFC3339Nano as written */
  time: string;
}

export interface ReadLogsOptions {
  stdout: boolean;
  stderr: boolean;
  /** seconds since the epoch (fractional), 0 = no bound */
  since: number;
  until: number;
  /** -1 = all */
  tail: number;
  follow: boolean;
}

/** Docker's timestamp parameters: unix seconds with optional fraction, or RFC 3339. */
export function parseTimestamp(v: string | null, now = Date.now()): number {
  if (v === null || v === '') return 0;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const rel = /^(\d+)(ns|us|ms|s|m|h)$/.exec(v);
  if (rel) {
    const mult = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 }[rel[2] as 'ns' | 'us' | 'ms' | 's' | 'm' | 'h'];
    return now / 1000 - Number(rel[1]) * mult;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw badRequest(`invalid value for since/until: ${v}`);
  return t / 1000;
}

function entryTime(time: string): number {
  // keep nanosecond order where the millisecond parse loses it
  const m = /\.(\d+)Z$/.exec(time);
  const base = Date.parse(time.replace(/\.\d+Z$/, 'Z')) / 1000;
  return m ? base + Number(`0.${m[1]}`) : base;
}

function parseLine(line: string): LogEntry | undefined {
  try {
    const v = JSON.parse(line) as { log?: string; stream?: string; time?: string };
    if (typeof v.log !== 'string' || (v.stream !== 'stdout' && v.stream !== 'stderr')) return undefined;
    return { stream: v.stream, log: Buffer.from(v.log, 'utf8'), time: v.time ?? '' };
  } catch {
    return undefined;
  }
}

function keep(e: LogEntry, o: ReadLogsOptions): boolean {
  if (e.stream === 'stdout' ? !o.stdout : !o.stderr) return false;
  if (o.since > 0 || o.until > 0) {
    const t = entryTime(e.time);
    if (o.since > 0 && t < o.since) return false;
    if (o.until > 0 && t > o.until) return false;
  }
  return true;
}

/** Docker's fixed-width RFC3339Nano (9 fraction digits). */
export function fixedNano(time: string): string {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(time);
  if (!m) return time;
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}Z`;
}

export async function readLogs(
  path: string,
  o: ReadLogsOptions,
  sink: (e: LogEntry) => void,
  stopped: () => boolean,
  aborted: () => boolean,
): Promise<void> {
  // rotated files first, oldest first
  const files: string[] = [];
  for (let i = 9; i >= 1; i--) if (existsSync(`${path}.${i}`)) files.push(`${path}.${i}`);
  let entries: LogEntry[] = [];
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const e = line ? parseLine(line) : undefined;
      if (e && keep(e, o)) entries.push(e);
    }
  }
  let offset = 0;
  let partial = '';
  const readNew = (): LogEntry[] => {
    if (!existsSync(path)) return [];
    const size = statSync(path).size;
    if (size < offset) { offset = 0; partial = ''; } // rotated under us
    if (size === offset) return [];
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size - offset, 8 << 20));
      const n = readSync(fd, buf, 0, buf.length, offset);
      offset += n;
      const text = partial + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      const out: LogEntry[] = [];
      for (const l of lines) {
        const e = l ? parseLine(l) : undefined;
        if (e && keep(e, o)) out.push(e);
      }
      return out;
    } finally {
      closeSync(fd);
    }
  };
  for (let more = readNew(); more.length; more = readNew()) entries.push(...more);
  if (o.tail >= 0) entries = o.tail === 0 ? [] : entries.slice(-o.tail);
  for (const e of entries) sink(e);
  if (!o.follow) return;
  // follow: poll until the container stopped and everything it wrote is read
  for (;;) {
    if (aborted()) return;
    const wasStopped = stopped();
    const more = readNew();
    for (const e of more) {
      if (o.until > 0 && entryTime(e.time) > o.until) return;
      sink(e);
    }
    if (wasStopped && more.length === 0) return;
    if (o.until > 0 && Date.now() / 1000 > o.until) return;
    await new Promise((r) => setTimeout(r, more.length ? 0 : 100));
  }
}

/** The 8-byte header of Docker's multiplexed stream: stream type, 3 zero bytes, big-endian length. */
export function muxFrame(stream: 0 | 1 | 2, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}
