// dray.services.content.v1.Content over the images library's content store.
// Content is shared by all namespaces (as the store and its GC see it); the
// namespace is still required so every namespaced service behaves alike.
import { status, type ServerDuplexStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { FieldMask, Labels, Timestamp } from '../api/types.ts';
import { toTimestamp } from '../api/types.ts';
import type { Info, Status, Store, Writer } from '../../images/content/types.ts';
import { isDigest } from '../../images/content/digest.ts';
import { ApiError, invalidArgument, statusOf } from '../errors.ts';
import { validateLabels } from '../identifiers.ts';
import { matchAny, objectField, parseFilters } from '../filters.ts';
import { maskPaths } from '../metadata/masks.ts';
import { namespaceFrom, serverStream, unary } from '../rpc.ts';
import type { ServiceDeps } from './deps.ts';

const READ_CHUNK = 1 << 20;
const LIST_BATCH = 100;

interface InfoMessage { digest: string; size: number; createdAt: Timestamp; updatedAt: Timestamp; labels: Labels }
interface StatusMessage { ref: string; offset: number; total: number; expected: string; startedAt: Timestamp; updatedAt: Timestamp }

function infoMessage(i: Info): InfoMessage {
  return { digest: i.digest, size: i.size, createdAt: toTimestamp(i.createdAt), updatedAt: toTimestamp(i.updatedAt), labels: i.labels };
}

function statusMessage(s: Status): StatusMessage {
  return { ref: s.ref, offset: s.offset, total: s.total, expected: s.expected, startedAt: toTimestamp(s.startedAt), updatedAt: toTimestamp(s.updatedAt) };
}

export function checkDigest(d: unknown): string {
  if (!isDigest(d)) throw invalidArgument(`invalid digest ${JSON.stringify(d)}`);
  return d;
}

function checkRef(ref: unknown): string {
  if (typeof ref !== 'string' || ref === '' || ref.length > 4096 || ref.includes('\0')) throw invalidArgument('ingest ref must be 1 to 4096 characters');
  return ref;
}

const infoField = (i: Info, p: readonly string[]): string | undefined => (p[0] === 'labels' && p.length === 2 ? i.labels[p[1]!] : objectField(i, p));

interface WriteRequest { action: 'STAT' | 'WRITE' | 'COMMIT'; ref: string; total: number; expected: string; offset: number; data: Buffer; labels: Labels }

export function contentService(d: ServiceDeps, store: Store): UntypedServiceImplementation {
  const m = (name: string) => `content.${name}`;
  return {
    Info: unary(d.rpc, m('Info'), async (req: { digest: string }, call) => {
      call.namespace();
      return { info: infoMessage(await store.info(checkDigest(req.digest))) };
    }),
    Update: unary(d.rpc, m('Update'), async (req: { info: InfoMessage | null; updateMask: FieldMask | null }, call) => {
      call.namespace();
      if (!req.info) throw invalidArgument('info must be set');
      const paths = maskPaths(req.updateMask) ?? [];
      for (const p of paths) if (p !== 'labels' && !p.startsWith('labels.')) throw invalidArgument(`content: cannot update field ${JSON.stringify(p)}`);
      const labels = validateLabels(`content ${req.info.digest}`, req.info.labels);
      return { info: infoMessage(await store.update({ digest: checkDigest(req.info.digest), labels }, paths)) };
    }),
    List: serverStream(d.rpc, m('List'), async (req: { filters: string[] }, call, write) => {
      call.namespace();
      const filters = parseFilters(req.filters);
      let batch: InfoMessage[] = [];
      await store.walk((i) => {
        if (call.signal.aborted || !matchAny(filters, (p) => infoField(i, p))) return;
        batch.push(infoMessage(i));
        if (batch.length >= LIST_BATCH) { write({ info: batch }); batch = []; }
      });
      if (batch.length > 0) write({ info: batch });
    }),
    Delete: unary(d.rpc, m('Delete'), async (req: { digest: string }, call) => {
      const ns = call.namespace();
      await store.delete(checkDigest(req.digest));
      d.bus.publish(ns, '/content/delete', 'ContentDelete', { digest: req.digest });
      return {};
    }),
    Read: serverStream(d.rpc, m('Read'), async (req: { digest: string; offset: number; size: number }, call, write) => {
      call.namespace();
      const info = await store.info(checkDigest(req.digest));
      if (req.offset < 0 || req.size < 0) throw invalidArgument('offset and size must not be negative');
      if (req.offset > info.size) throw new ApiError(status.OUT_OF_RANGE, `offset ${req.offset} is past the end of ${req.digest} (${info.size} bytes)`);
      const end = req.size > 0 ? Math.min(info.size, req.offset + req.size) : info.size;
      const reader = await store.readerAt({ digest: req.digest });
      try {
        for (let off = req.offset; off < end && !call.signal.aborted;) {
          const buf = Buffer.alloc(Math.min(READ_CHUNK, end - off));
          const n = await reader.readAt(buf, off, buf.length);
          if (n <= 0) break;
          await write({ offset: off, data: buf.subarray(0, n) });
          off += n;
        }
      } finally {
        await reader.close();
      }
    }),
    Status: unary(d.rpc, m('Status'), async (req: { ref: string }, call) => {
      call.namespace();
      return { status: statusMessage(await store.status(checkRef(req.ref))) };
    }),
    ListStatuses: unary(d.rpc, m('ListStatuses'), async (req: { filters: string[] }, call) => {
      call.namespace();
      const filters = parseFilters(req.filters);
      return { statuses: (await store.listStatuses()).filter((s) => matchAny(filters, (p) => objectField(s, p))).map(statusMessage) };
    }),
    Abort: unary(d.rpc, m('Abort'), async (req: { ref: string }, call) => {
      call.namespace();
      await store.abort(checkRef(req.ref));
      return {};
    }),
    Write: (call: ServerDuplexStream<WriteRequest, unknown>) => { void writeStream(d, store, call); },
  };
}

/**
 * One ingestion per stream, as containerd's Write: the first message names
 * the ref (and may carry total/expected); WRITE appends at offset (which
 * must be the current offset, or 0 to start over); COMMIT writes its data
 * and commits with the expected digest. Each message gets one response.
 */
async function writeStream(d: ServiceDeps, store: Store, call: ServerDuplexStream<WriteRequest, unknown>): Promise<void> {
  let writer: Writer | undefined;
  let total = 0;
  let expected = '';
  let committed = false;
  let failed = false;
  const fail = (err: unknown): void => {
    if (failed) return;
    failed = true;
    d.log.debug('content write failed', { error: (err as Error).message });
    call.emit('error', { code: statusOf(err), details: (err as Error).message });
    void writer?.close().catch(() => {});
  };
  const handle = async (msg: WriteRequest): Promise<void> => {
    if (committed) throw invalidArgument('the ingest is committed: nothing may follow COMMIT on its stream');
    if (!writer) {
      const ref = checkRef(msg.ref);
      total = msg.total;
      expected = msg.expected ? checkDigest(msg.expected) : '';
      writer = await store.writer({ ref, ...(total > 0 ? { total } : {}), ...(expected ? { expected } : {}) });
    } else if (msg.ref && msg.ref !== writer.status().ref) {
      throw invalidArgument(`one ref per write stream: got ${JSON.stringify(msg.ref)}, writing ${JSON.stringify(writer.status().ref)}`);
    }
    if (msg.total > 0) total = msg.total;
    if (msg.expected) expected = checkDigest(msg.expected);
    if (msg.action !== 'STAT' && msg.data.length > 0) {
      const cur = writer.status().offset;
      if (msg.offset === 0 && cur > 0) await writer.truncate(0);
      else if (msg.offset !== cur) throw invalidArgument(`write at offset ${msg.offset}, but the ingest is at ${cur}`);
      await writer.write(msg.data);
    }
    const st = writer.status();
    const res: Record<string, unknown> = { action: msg.action, startedAt: toTimestamp(st.startedAt), updatedAt: toTimestamp(st.updatedAt), offset: st.offset, total: total || st.total };
    if (msg.action === 'COMMIT') {
      if (!expected) throw invalidArgument('commit needs the expected digest');
      await writer.commit(total || st.offset, expected, { labels: validateLabels('content', msg.labels) });
      res['digest'] = expected;
      committed = true;
    }
    call.write(res);
  };
  // Messages are handled one at a time (paused while one is in flight); the
  // stream ends when the client half-closes. Errors answer with a status
  // rather than destroying the call, so the client always gets one.
  let chain = Promise.resolve();
  try {
    namespaceFrom(d.rpc, call.metadata);
  } catch (err) {
    fail(err);
    return;
  }
  call.on('data', (msg: WriteRequest) => {
    call.pause();
    chain = chain.then(() => (failed ? undefined : handle(msg))).then(() => { call.resume(); }, fail);
  });
  call.on('end', () => {
    void chain.then(async () => {
      if (failed) return;
      await writer?.close().catch(() => {});
      call.end();
    });
  });
  call.on('cancelled', () => { failed = true; void writer?.close().catch(() => {}); });
}
