// Client of dray.services.content.v1.Content.
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { Labels, Timestamp } from '../api/types.ts';
import type { Caller } from './caller.ts';
import { collectStream, iterate } from './connection.ts';
import { fromServiceError } from './errors.ts';

export interface ContentInfo { digest: string; size: number; createdAt: Timestamp | null; updatedAt: Timestamp | null; labels: Labels }
export interface IngestStatus { ref: string; offset: number; total: number; expected: string; startedAt: Timestamp | null; updatedAt: Timestamp | null }

const CHUNK = 1 << 20;

export class ContentApi {
  private readonly c: Caller;
  constructor(c: Caller) { this.c = c; }

  async info(digest: string): Promise<ContentInfo> {
    return (await this.c.unary<{ info: ContentInfo }>('content', 'Info', { digest })).info;
  }

  /** Replaces the labels; with paths ("labels.<key>"), only those keys. */
  async update(digest: string, labels: Labels, paths?: string[]): Promise<ContentInfo> {
    return (await this.c.unary<{ info: ContentInfo }>('content', 'Update', { info: { digest, labels }, updateMask: paths ? { paths } : null })).info;
  }

  async list(...filters: string[]): Promise<ContentInfo[]> {
    const batches = await collectStream<{ info: ContentInfo[] }>(this.c.stream('content', 'List', { filters }));
    return batches.flatMap((b) => b.info);
  }

  async delete(digest: string): Promise<void> {
    await this.c.unary('content', 'Delete', { digest });
  }

  /** The blob's bytes from offset (size 0: to the end), chunk by chunk. */
  async *read(digest: string, offset = 0, size = 0): AsyncGenerator<Buffer> {
    for await (const msg of iterate<{ data: Buffer }>(this.c.stream('content', 'Read', { digest, offset, size }), () => false)) yield msg.data;
  }

  async readAll(digest: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const b of this.read(digest)) parts.push(b);
    return Buffer.concat(parts);
  }

  async status(ref: string): Promise<IngestStatus> {
    return (await this.c.unary<{ status: IngestStatus }>('content', 'Status', { ref })).status;
  }

  async listStatuses(...filters: string[]): Promise<IngestStatus[]> {
    return (await this.c.unary<{ statuses: IngestStatus[] }>('content', 'ListStatuses', { filters })).statuses;
  }

  async abort(ref: string): Promise<void> {
    await this.c.unary('content', 'Abort', { ref });
  }

  /**
   * Writes data under ref and commits it as expected; resumes an earlier
   * partial ingest of the same ref when its offset matches what the server has.
   * Returns the committed digest.
   */
  async write(ref: string, data: Buffer, expected: string, labels: Labels = {}): Promise<string> {
    const call = this.c.duplex('content', 'Write');
    const responses = responsesOf(call);
    const send = async (msg: object): Promise<{ offset: number; digest: string }> => {
      if (!call.write(msg)) await new Promise((r) => call.once('drain', r));
      const next = await responses.next();
      if (next.done) throw new Error('content write: the server ended the stream early');
      return next.value as { offset: number; digest: string };
    };
    try {
      const st = await send({ action: 'STAT', ref, total: data.length, expected });
      let off = st.offset <= data.length ? st.offset : 0;
      while (data.length - off > CHUNK) {
        const r = await send({ action: 'WRITE', ref, offset: off, data: data.subarray(off, off + CHUNK) });
        off = r.offset;
      }
      const done = await send({ action: 'COMMIT', ref, offset: off, data: data.subarray(off), total: data.length, expected, labels });
      call.end();
      // Wait for the server's status, so the call is complete when this returns.
      const rest = await responses.next();
      if (!rest.done) throw new Error('content write: unexpected message after commit');
      return done.digest;
    } catch (err) {
      call.cancel();
      throw err;
    }
  }
}

function responsesOf(call: ClientDuplexStream<unknown, unknown>): AsyncIterator<unknown> {
  const it = (async function* () {
    try {
      for await (const msg of call) yield msg;
    } catch (err) {
      throw fromServiceError(err as Error);
    }
  })();
  return it;
}
