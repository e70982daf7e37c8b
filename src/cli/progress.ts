// Pull/push/load progress as docker's jsonmessage renders it: on a terminal
// one line per layer id, rewritten in place (cursor up/down, clear line) with
// a [=====>    ] bar; elsewhere plain status lines, progress updates skipped.
import type { Readable } from 'node:stream';
import { jsonStream } from './client/streams.ts';
import type { JsonMessage } from './client/types.ts';
import { humanSize } from './format/units.ts';
import { StatusError } from './command.ts';

export class StreamError extends Error {}

/** JSONProgress.String(): the bar and the byte counts. */
export function progressString(p: NonNullable<JsonMessage['progressDetail']>, width: number, nowSec = Date.now() / 1000): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  let pct = Math.floor(Math.floor((current / total) * 100) / 2);
  if (pct > 50) pct = 50;
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] `;
  let numbers = '';
  if (!p.hidecounts) {
    if (!p.units) {
      numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
    } else {
      numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
    }
  }
  let left = '';
  if (current > 0 && p.start && p.start > 0 && pct < 50 && width > 50) {
    const per = (nowSec - p.start) / current;
    left = ` ${goDuration(Math.floor((total - current) * per))}`;
  }
  return bar + numbers + left;
}

/** Go's time.Duration.String() for whole seconds. */
function goDuration(sec: number): string {
  if (sec <= 0) return '0s';
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return (h ? `${h}h${m}m` : m ? `${m}m` : '') + `${s}s`;
}

/** Renders a stream of messages; throws StreamError on an error message. Returns aux values seen. */
export class ProgressRenderer {
  private ids = new Map<string, number>();
  private readonly out: NodeJS.WritableStream;
  private readonly tty: boolean;
  private readonly width: number;
  readonly aux: unknown[] = [];

  constructor(out: NodeJS.WritableStream, tty: boolean, width = 200) {
    this.out = out;
    this.tty = tty;
    this.width = tty ? width : 200;
  }

  message(m: JsonMessage): void {
    if (m.error || m.errorDetail?.message) throw new StreamError(m.errorDetail?.message || m.error || 'unknown error');
    if (m.aux !== undefined) { this.aux.push(m.aux); return; }
    let diff = 0;
    const hasProgress = m.progressDetail !== undefined;
    if (m.id && (hasProgress || m.progress)) {
      let line = this.ids.get(m.id);
      if (line === undefined) {
        line = this.ids.size;
        this.ids.set(m.id, line);
        if (this.tty) this.out.write('\n');
      }
      diff = this.ids.size - line;
      if (this.tty) this.out.write(`\x1b[${diff}A`);
    } else {
      this.ids = new Map();
    }
    this.display(m, hasProgress);
    if (m.id && this.tty && diff) this.out.write(`\x1b[${diff}B`);
  }

  private display(m: JsonMessage, hasProgress: boolean): void {
    let endl = '';
    const pstr = hasProgress ? progressString(m.progressDetail!, this.width) : '';
    if (this.tty && !m.stream && hasProgress) {
      this.out.write('\r\x1b[2K');
      endl = '\r';
      this.out.write(endl);
    } else if (hasProgress && pstr !== '') {
      return; // no progress bars off a terminal
    }
    let s = '';
    if (m.id) s += `${m.id}: `;
    if (m.from) s += `(from ${m.from}) `;
    if (hasProgress && this.tty) s += `${m.status ?? ''} ${pstr}${endl}`;
    else if (m.progress) s += `${m.status ?? ''} ${m.progress}${endl}`;
    else if (m.stream) s += `${m.stream}${endl}`;
    else s += `${m.status ?? ''}${endl}\n`;
    this.out.write(s);
  }

  async consume(src: Readable): Promise<void> {
    for await (const m of jsonStream<JsonMessage>(src)) this.message(m);
  }
}

export function isTty(s: NodeJS.WritableStream): boolean {
  return (s as NodeJS.WriteStream).isTTY === true;
}

export function termWidth(out: NodeJS.WritableStream): number {
  return (out as NodeJS.WriteStream).columns || 200;
}

const discard = { write: () => true } as unknown as NodeJS.WritableStream;

/** Renders a progress stream on out (nothing when quiet); an error message ends the command with status 1. */
export async function showProgress(out: NodeJS.WritableStream, src: Readable, quiet = false): Promise<void> {
  const r = new ProgressRenderer(quiet ? discard : out, !quiet && isTty(out), termWidth(out));
  try {
    await r.consume(src);
  } catch (e) {
    if (e instanceof StreamError) throw new StatusError(e.message, 1);
    throw e;
  }
}
