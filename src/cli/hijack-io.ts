// The terminal side of a hijacked attach/exec connection: output demuxed
// (or raw with a TTY) to our stdout/stderr, our stdin copied in (write half
// closed at EOF), the terminal in raw mode, window size changes forwarded,
// and the detach keys (ctrl-p ctrl-q) ending the session without stopping
// the container.
import type { Hijacked } from './client/client.ts';
import { Demuxer, STDERR, SYSTEMERR } from './client/streams.ts';
import { CliError } from './command.ts';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** "ctrl-p,ctrl-q" -> the bytes 0x10 0x11 (docker's term.ToBytes). */
export function detachKeyBytes(keys: string): Buffer {
  const out: number[] = [];
  for (const k of keys.split(',').map((s) => s.trim())) {
    if (k.length > 5 && k.toLowerCase().startsWith('ctrl-')) {
      const c = k.slice(5);
      if (c.length !== 1) throw new CliError(`Invalid detach keys (${keys}) provided`);
      const ch = c.toLowerCase();
      if (ch >= 'a' && ch <= 'z') out.push(ch.charCodeAt(0) - 96);
      else if (c === '@') out.push(0);
      else if ('[\\]^_'.includes(c)) out.push(27 + '[\\]^_'.indexOf(c));
      else throw new CliError(`Invalid detach keys (${keys}) provided`);
    } else if (k.length === 1) out.push(k.charCodeAt(0));
    else throw new CliError(`Invalid detach keys (${keys}) provided`);
  }
  return Buffer.from(out);
}

/** Scans input for the detach sequence; passes everything else on, holding back a partial match. */
export class EscapeProxy {
  private readonly keys: Buffer;
  private matched = 0;
  constructor(keys: Buffer) { this.keys = keys; }

  /** Returns the bytes to forward, and whether the sequence was completed. */
  feed(chunk: Buffer): { data: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.keys.length && b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { data: Buffer.from(out), detach: true };
        continue;
      }
      if (this.matched) { for (let i = 0; i < this.matched; i++) out.push(this.keys[i]!); this.matched = 0; }
      if (this.keys.length && b === this.keys[0]) { this.matched = 1; continue; }
      out.push(b);
    }
    return { data: Buffer.from(out), detach: false };
  }
}

export interface IoOptions {
  tty: boolean;
  /** Copy our stdin into the connection. */
  stdin: boolean;
  detachKeys: string;
  /** Called with the terminal size now and on each SIGWINCH (tty only). */
  resize?: (h: number, w: number) => void;
}

export interface IoResult {
  detached: boolean;
  /** A message the daemon sent on the error stream (3). */
  systemError?: string;
}

export function pumpStreams(h: Hijacked, o: IoOptions): Promise<IoResult> {
  const { socket } = h;
  const stdin = process.stdin;
  let rawSet = false;
  const onWinch = (): void => {
    const out = process.stdout;
    if (out.isTTY && o.resize) o.resize(out.rows, out.columns);
  };
  return new Promise<IoResult>((resolve, reject) => {
    let systemError = '';
    let finished = false;
    const finish = (detached: boolean): void => {
      if (finished) return;
      finished = true;
      if (rawSet) { try { stdin.setRawMode(false); } catch { /* the terminal is gone */ } }
      process.removeListener('SIGWINCH', onWinch);
      if (o.stdin) { stdin.removeAllListeners('data'); stdin.pause(); }
      resolve(systemError ? { detached, systemError } : { detached });
    };
    const demux = o.tty ? undefined : new Demuxer((stream, payload) => {
      if (stream === SYSTEMERR) systemError += payload.toString('utf8');
      else if (stream === STDERR) process.stderr.write(payload);
      else process.stdout.write(payload);
    });
    const onData = (c: Buffer): void => {
      if (demux) {
        try { demux.push(c); } catch (e) { socket.destroy(); reject(e as Error); }
      } else process.stdout.write(c);
    };
    if (h.head.length) onData(h.head);
    const output = h.body ?? socket;
    output.on('data', onData);
    // Input written as the daemon closes (container gone, stdin EOF racing it)
    // fails with EPIPE/ECONNRESET: the session is over, not broken; the exit
    // status comes from wait/inspect.
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (finished) return;
      if (e.code === 'EPIPE' || e.code === 'ECONNRESET') { finish(false); return; }
      finished = true;
      reject(e);
    });
    output.on(h.body ? 'end' : 'close', () => finish(false));
    const send = (c: Buffer): void => { if (!socket.destroyed && !socket.writableEnded) socket.write(c); };

    if (o.stdin) {
      if (o.tty && stdin.isTTY) { stdin.setRawMode(true); rawSet = true; }
      const proxy = o.tty ? new EscapeProxy(detachKeyBytes(o.detachKeys)) : undefined;
      stdin.on('data', (c: Buffer) => {
        if (!proxy) { send(c); return; }
        const r = proxy.feed(c);
        if (r.data.length) send(r.data);
        if (r.detach) { finish(true); socket.destroy(); }
      });
      stdin.on('end', () => { if (!socket.destroyed && !socket.writableEnded) socket.end(); });
      stdin.resume();
    }
    if (o.tty && o.resize) {
      onWinch();
      process.on('SIGWINCH', onWinch);
    }
  });
}
