// The dray-shim wire protocol (docs/shim.md): frames of
//   u32 big-endian length of what follows | u8 type | u32 big-endian tag | payload
// Requests carry fixed binary fields (the C side parses nothing but lengths);
// replies and events carry JSON written by the shim.

export const Req = {
  STATE: 1, START: 2, KILL: 3, EXEC: 4, RESIZE: 5, STDIN: 6,
  CLOSE_STDIN: 7, ATTACH: 8, WAIT: 9, DELETE: 10, SHUTDOWN: 11,
} as const;

export const Rsp = {
  OK: 0x80, ERROR: 0x81, STDOUT: 0x82, STDERR: 0x83, EOF: 0x84, EVENT: 0x85,
} as const;

/** Largest frame the shim accepts from a client (FRAME_MAX in native/shim/shim.h). */
export const FRAME_MAX = 256 * 1024;
/** Stdin is sent in pieces of at most this size. */
export const STDIN_CHUNK = 64 * 1024;
const HEADER = 9;

export interface Frame {
  type: number;
  tag: number;
  payload: Buffer;
}

export function encodeFrame(type: number, tag: number, payload: Buffer): Buffer {
  if (payload.length + 5 > FRAME_MAX) throw new RangeError(`shim frame too large (${payload.length} bytes)`);
  const h = Buffer.alloc(HEADER);
  h.writeUInt32BE(payload.length + 5, 0);
  h.writeUInt8(type, 4);
  h.writeUInt32BE(tag >>> 0, 5);
  return Buffer.concat([h, payload]);
}

/** Incremental decoder: feed bytes as they come, get whole frames back. */
export class FrameDecoder {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const frames: Frame[] = [];
    let off = 0;
    while (this.#pending.length - off >= 4) {
      const len = this.#pending.readUInt32BE(off);
      if (len < 5) throw new Error(`bad frame from the shim (length ${len})`);
      if (this.#pending.length - off < 4 + len) break;
      frames.push({
        type: this.#pending.readUInt8(off + 4),
        tag: this.#pending.readUInt32BE(off + 5),
        payload: this.#pending.subarray(off + HEADER, off + 4 + len),
      });
      off += 4 + len;
    }
    this.#pending = this.#pending.subarray(off);
    return frames;
  }
}

const ID_RE = /^[A-Za-z0-9_.-]{0,64}$/;

/** "" names the container's init; anything else an exec id. */
export function idBytes(id: string): Buffer {
  if (!ID_RE.test(id)) throw new Error(`invalid shim process id ${JSON.stringify(id)}: 0-64 of [A-Za-z0-9_.-]`);
  return Buffer.from(id, 'ascii');
}

export function killPayload(signal: number, all: boolean, id: string): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(signal, 0);
  b.writeUInt8(all ? 1 : 0, 4);
  return Buffer.concat([b, idBytes(id)]);
}

export function execPayload(id: string, processPath: string, terminal: boolean, stdin: boolean, attach: boolean): Buffer {
  const idb = idBytes(id);
  if (!idb.length) throw new Error('an exec needs an id');
  if (!processPath.startsWith('/') || processPath.includes('\0')) throw new Error('the process.json path must be absolute');
  const h = Buffer.from([(terminal ? 1 : 0) | (stdin ? 2 : 0) | (attach ? 4 : 0), idb.length]);
  return Buffer.concat([h, idb, Buffer.from(processPath)]);
}

export function resizePayload(rows: number, cols: number, id: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(rows, 0);
  b.writeUInt16BE(cols, 2);
  return Buffer.concat([b, idBytes(id)]);
}

export function stdinPayload(id: string, data: Buffer): Buffer {
  const idb = idBytes(id);
  return Buffer.concat([Buffer.from([idb.length]), idb, data]);
}

export function attachPayload(stdout: boolean, stderr: boolean, id: string): Buffer {
  return Buffer.concat([Buffer.from([(stdout ? 1 : 0) | (stderr ? 2 : 0)]), idBytes(id)]);
}

export function deletePayload(force: boolean, id: string): Buffer {
  return Buffer.concat([Buffer.from([force ? 1 : 0]), idBytes(id)]);
}
