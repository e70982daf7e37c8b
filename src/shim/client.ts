// The supervisor's handle on one dray-shim: a connection to its unix socket
// speaking the framed protocol (./protocol.ts, docs/shim.md). Every request
// is a promise; output streams are ShimStream objects; process exits are
// also pushed to every connected client as 'exit' events.
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { constants } from 'node:os';
import {
  FrameDecoder, Req, Rsp, STDIN_CHUNK, attachPayload, deletePayload, encodeFrame, execPayload, idBytes,
  killPayload, resizePayload, stdinPayload, type Frame,
} from './protocol.ts';

export type ShimProcessStatus = 'created' | 'running' | 'stopped';

/** One process (the container's init, or an exec) as the shim reports it. */
export interface ShimProcessState {
  /** the container id for init, the exec id otherwise */
  id: string;
  pid: number;
  status: ShimProcessStatus;
  /** set once stopped: exit code, 128+signal when killed by a signal */
  exitStatus?: number;
  /** RFC 3339 with nanoseconds, UTC */
  exitedAt?: string;
  oomKilled?: boolean;
}

/** The container as the shim reports it (state of init plus its execs). */
export interface ShimState extends ShimProcessState {
  bundle: string;
  terminal: boolean;
  /** the json-file log, when the shim writes one */
  logPath?: string;
  shimPid: number;
  shimVersion: string;
  /** the protocol revision (1); a supervisor may refuse a shim it does not know */
  protocol: number;
  execs: ShimProcessState[];
}

/** A finished process. */
export interface ShimExit extends ShimProcessState {
  status: 'stopped';
  exitStatus: number;
  exitedAt: string;
  oomKilled: boolean;
}

/** The shim answered a request with an error (the message is the shim's or the runtime's). */
export class ShimError extends Error {
  override name = 'ShimError';
}

/** The connection is gone: the shim exited or died (or close() was called). */
export class ShimConnectionError extends Error {
  override name = 'ShimConnectionError';
}

/** Output of one process: 'stdout' and 'stderr' (Buffer) events, then 'end'.
 * Output that arrives before the first listener (or collect(), or `done`) is
 * held and delivered in order then, so nothing is lost between the reply to
 * exec/attach and the caller's `on(...)`. */
export class ShimStream extends EventEmitter<{ stdout: [Buffer]; stderr: [Buffer]; end: [] }> {
  #queue: Array<['stdout' | 'stderr', Buffer]> = [];
  #flowing = false;
  #ended = false;
  #endEmitted = false;
  #done: Promise<void>;
  #resolve!: () => void;

  constructor() {
    super();
    this.#done = new Promise((resolve) => { this.#resolve = resolve; });
    (this as EventEmitter).on('newListener', () => queueMicrotask(() => this.resume()));
  }

  /** Resolves when the process's output is over (or the connection closed).
   * Awaiting it starts the flow: output nobody listens to is discarded. */
  get done(): Promise<void> {
    queueMicrotask(() => this.resume());
    return this.#done;
  }

  get ended(): boolean {
    return this.#endEmitted;
  }

  /** Delivers held output and everything after it. */
  resume(): void {
    if (this.#flowing) return;
    this.#flowing = true;
    for (const [kind, b] of this.#queue) this.emit(kind, b);
    this.#queue = [];
    if (this.#ended) this.#end();
  }

  /** Collects everything until the end. */
  async collect(): Promise<{ stdout: Buffer; stderr: Buffer }> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    this.on('stdout', (b) => out.push(b));
    this.on('stderr', (b) => err.push(b));
    await this.done;
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  }

  /** @internal: from the connection */
  push(kind: 'stdout' | 'stderr', b: Buffer): void {
    if (this.#flowing) this.emit(kind, b);
    else this.#queue.push([kind, b]);
  }

  /** @internal: from the connection */
  finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#flowing) this.#end();
  }

  #end(): void {
    if (this.#endEmitted) return;
    this.#endEmitted = true;
    this.emit('end');
    this.#resolve();
  }
}

export interface ExecOptions {
  /** allocate a pty (the process.json should say terminal: true too) */
  terminal?: boolean;
  /** keep a stdin open for writeStdin/closeStdin */
  stdin?: boolean;
}

interface Waiting {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

function signalNumber(signal: number | NodeJS.Signals): number {
  if (typeof signal === 'number') return signal;
  const n = constants.signals[signal];
  if (n === undefined) throw new Error(`unknown signal ${signal}`);
  return n;
}

export class ShimClient extends EventEmitter<{ exit: [ShimExit]; oom: [{ id: string }]; close: [] }> {
  readonly #sock: Socket;
  readonly #decoder = new FrameDecoder();
  readonly #waiting = new Map<number, Waiting>();
  readonly #streams = new Map<number, ShimStream>();
  #nextTag = 1;
  #closed: Error | null = null;

  private constructor(sock: Socket) {
    super();
    this.#sock = sock;
    sock.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.#decoder.push(chunk);
      } catch (err) {
        this.#fail(err as Error);
        return;
      }
      for (const f of frames) this.#onFrame(f);
    });
    sock.on('error', (err) => this.#fail(new ShimConnectionError(`shim connection: ${err.message}`)));
    sock.on('close', () => this.#fail(new ShimConnectionError('the shim closed the connection')));
  }

  /** Connects to a shim's socket (<state-dir>/shim.sock). Rejects with
   * ShimConnectionError when no shim answers there (a dead shim). */
  static connect(socketPath: string, timeoutMs = 5000): Promise<ShimClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(socketPath);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new ShimConnectionError(`no answer from the shim at ${socketPath}`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new ShimClient(sock));
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(new ShimConnectionError(`cannot reach the shim at ${socketPath}: ${err.message}`));
      });
    });
  }

  /** The container: its init process and its exec processes. */
  state(): Promise<ShimState> {
    return this.#request(Req.STATE, idBytes('')) as Promise<ShimState>;
  }

  /** One exec process. */
  processState(execId: string): Promise<ShimProcessState> {
    return this.#request(Req.STATE, idBytes(execId)) as Promise<ShimProcessState>;
  }

  /** Starts a created container (`runtime start`). */
  async start(): Promise<void> {
    await this.#request(Req.START, Buffer.alloc(0));
  }

  /** Signals the container's init (`runtime kill [--all]`) or an exec process. */
  async kill(signal: number | NodeJS.Signals, opts: { all?: boolean; execId?: string } = {}): Promise<void> {
    await this.#request(Req.KILL, killPayload(signalNumber(signal), opts.all ?? false, opts.execId ?? ''));
  }

  /** Runs `runtime exec --process <processPath> --detach`; the shim monitors the
   * process. Its output comes on the returned stream (from the start). */
  async exec(execId: string, processPath: string, opts: ExecOptions = {}): Promise<{ pid: number; output: ShimStream }> {
    const tag = this.#tag();
    const output = new ShimStream();
    this.#streams.set(tag, output);
    try {
      const r = (await this.#request(Req.EXEC, execPayload(execId, processPath, opts.terminal ?? false, opts.stdin ?? false, true), tag)) as { pid: number };
      return { pid: r.pid, output };
    } catch (err) {
      this.#streams.delete(tag);
      throw err;
    }
  }

  /** Sets the terminal size of a TTY process (TIOCSWINSZ on its pty master). */
  async resize(rows: number, cols: number, execId = ''): Promise<void> {
    await this.#request(Req.RESIZE, resizePayload(rows, cols, execId));
  }

  /** Writes to a process's stdin (the shim queues up to 1 MiB per process). */
  async writeStdin(data: Buffer | string, execId = ''): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < buf.length || off === 0; off += STDIN_CHUNK) {
      await this.#request(Req.STDIN, stdinPayload(execId, buf.subarray(off, off + STDIN_CHUNK)));
      if (buf.length === 0) break;
    }
  }

  /** Closes a process's stdin once what was written is delivered (on a TTY: types ^D). */
  async closeStdin(execId = ''): Promise<void> {
    await this.#request(Req.CLOSE_STDIN, idBytes(execId));
  }

  /** Live output of a process from now on (the container's log file has the past). */
  async attach(execId = '', streams: { stdout?: boolean; stderr?: boolean } = {}): Promise<ShimStream> {
    const tag = this.#tag();
    const s = new ShimStream();
    this.#streams.set(tag, s);
    try {
      await this.#request(Req.ATTACH, attachPayload(streams.stdout ?? true, streams.stderr ?? true, execId), tag);
      return s;
    } catch (err) {
      this.#streams.delete(tag);
      throw err;
    }
  }

  /** Resolves when the process has exited (at once if it has). */
  wait(execId = ''): Promise<ShimExit> {
    return this.#request(Req.WAIT, idBytes(execId)) as Promise<ShimExit>;
  }

  /** Deletes an exec process's record, or the container (`runtime delete`), after
   * which the shim exits and removes its socket. The container must have stopped
   * unless force (then the runtime kills it). Returns the last state. */
  delete(opts: { force?: boolean; execId?: string } = {}): Promise<ShimState> {
    return this.#request(Req.DELETE, deletePayload(opts.force ?? false, opts.execId ?? '')) as Promise<ShimState>;
  }

  /** Kills and deletes the container whatever its state; the shim exits. */
  async shutdown(): Promise<void> {
    await this.#request(Req.SHUTDOWN, Buffer.alloc(0));
  }

  /** Drops the connection (the shim and the container are unaffected). */
  close(): void {
    this.#sock.destroy();
    this.#fail(new ShimConnectionError('the connection was closed'));
  }

  get closed(): boolean {
    return this.#closed !== null;
  }

  #tag(): number {
    const t = this.#nextTag;
    this.#nextTag = this.#nextTag >= 0xffffffff ? 1 : this.#nextTag + 1;
    return t;
  }

  #request(type: number, payload: Buffer, tag = this.#tag()): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#waiting.set(tag, { resolve, reject });
      this.#sock.write(encodeFrame(type, tag, payload));
    });
  }

  #onFrame(f: Frame): void {
    switch (f.type) {
      case Rsp.OK:
      case Rsp.ERROR: {
        const w = this.#waiting.get(f.tag);
        if (!w) return;
        this.#waiting.delete(f.tag);
        let body: unknown;
        try {
          body = JSON.parse(f.payload.toString('utf8'));
        } catch {
          w.reject(new ShimError('unreadable reply from the shim'));
          return;
        }
        if (f.type === Rsp.OK) w.resolve(body);
        else w.reject(new ShimError(String((body as { error?: unknown }).error ?? 'shim error')));
        return;
      }
      case Rsp.STDOUT:
      case Rsp.STDERR:
        this.#streams.get(f.tag)?.push(f.type === Rsp.STDOUT ? 'stdout' : 'stderr', Buffer.from(f.payload));
        return;
      case Rsp.EOF: {
        const s = this.#streams.get(f.tag);
        this.#streams.delete(f.tag);
        s?.finish();
        return;
      }
      case Rsp.EVENT: {
        let ev: { type?: string; process?: ShimExit; id?: string };
        try {
          ev = JSON.parse(f.payload.toString('utf8')) as typeof ev;
        } catch {
          return;
        }
        if (ev.type === 'exit' && ev.process) this.emit('exit', ev.process);
        else if (ev.type === 'oom' && typeof ev.id === 'string') this.emit('oom', { id: ev.id });
        return;
      }
    }
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
    for (const s of this.#streams.values()) s.finish();
    this.#streams.clear();
    this.emit('close');
  }
}
