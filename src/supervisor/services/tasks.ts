// dray.services.tasks.v1.Tasks over the task manager (dray-shim per task).
// Checkpoint is not supported: it answers UNIMPLEMENTED with why.
import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { toTimestamp } from '../api/types.ts';
import { invalidArgument, statusOf, unimplemented } from '../errors.ts';
import type { Mount } from '../../images/snapshots/types.ts';
import type { ProcessView, TaskAttachment, TaskManager } from '../tasks/manager.ts';
import { namespaceFrom, unary } from '../rpc.ts';
import type { ServiceDeps } from './deps.ts';

function processMessage(p: ProcessView): Record<string, unknown> {
  return { containerId: p.containerId, id: p.id, pid: p.pid, status: p.status, terminal: p.terminal, exitStatus: p.exitStatus, exitedAt: p.exitedAt ? toTimestamp(p.exitedAt) : null };
}

/** Metric.data's type: Docker's cgroup stats (cpu_stats, memory_stats, pids_stats, blkio_stats) as JSON. */
export const METRICS_TYPE_URL = 'types.dray.io/docker-cgroup-stats+json';

interface MountMessage { type: string; source: string; target: string; options: string[] }

export function tasksService(d: ServiceDeps, tasks: TaskManager): UntypedServiceImplementation {
  const m = (name: string) => `tasks.${name}`;
  const notYet = (name: string, why: string) => unary(d.rpc, m(name), (_req: unknown, call) => {
    call.namespace();
    throw unimplemented(`tasks.${name}: ${why}`);
  });
  return {
    Create: unary(d.rpc, m('Create'), async (req: { containerId: string; rootfs: MountMessage[]; stdin: string; stdout: string; stderr: string; terminal: boolean }, call) => {
      const rootfs: Mount[] = req.rootfs.map((x) => ({ type: x.type, source: x.source, options: x.options }));
      const r = await tasks.create(call.namespace(), { containerId: req.containerId, rootfs, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal });
      return { containerId: req.containerId, pid: r.pid };
    }),
    Start: unary(d.rpc, m('Start'), async (req: { containerId: string; execId: string }, call) => tasks.start(call.namespace(), req.containerId, req.execId)),
    Delete: unary(d.rpc, m('Delete'), async (req: { containerId: string }, call) => {
      const r = await tasks.delete(call.namespace(), req.containerId);
      return { id: req.containerId, pid: r.pid, exitStatus: r.exitStatus, exitedAt: r.exitedAt ? toTimestamp(r.exitedAt) : null };
    }),
    DeleteProcess: unary(d.rpc, m('DeleteProcess'), async (req: { containerId: string; execId: string }, call) => {
      const r = await tasks.deleteProcess(call.namespace(), req.containerId, req.execId);
      return { id: req.execId, pid: r.pid, exitStatus: r.exitStatus, exitedAt: r.exitedAt ? toTimestamp(r.exitedAt) : null };
    }),
    Get: unary(d.rpc, m('Get'), async (req: { containerId: string; execId: string }, call) => ({ process: processMessage(await tasks.get(call.namespace(), req.containerId, req.execId)) })),
    List: unary(d.rpc, m('List'), async (_req: unknown, call) => ({ tasks: (await tasks.list(call.namespace())).map(processMessage) })),
    Kill: unary(d.rpc, m('Kill'), async (req: { containerId: string; execId: string; signal: number; all: boolean }, call) => {
      await tasks.kill(call.namespace(), req.containerId, req.signal, req.all, req.execId);
      return {};
    }),
    Exec: unary(d.rpc, m('Exec'), (req: { containerId: string; execId: string; spec: Buffer; terminal: boolean; stdin: string; stdout: string; stderr: string }, call) => {
      tasks.exec(call.namespace(), req.containerId, req);
      return {};
    }),
    ResizePty: unary(d.rpc, m('ResizePty'), async (req: { containerId: string; execId: string; width: number; height: number }, call) => {
      await tasks.resize(call.namespace(), req.containerId, req.execId, req.width, req.height);
      return {};
    }),
    CloseIO: unary(d.rpc, m('CloseIO'), async (req: { containerId: string; execId: string }, call) => {
      await tasks.closeIO(call.namespace(), req.containerId, req.execId);
      return {};
    }),
    Wait: unary(d.rpc, m('Wait'), async (req: { containerId: string; execId: string }, call) => {
      const r = await tasks.wait(call.namespace(), req.containerId, req.execId);
      return { exitStatus: r.exitStatus, exitedAt: r.exitedAt ? toTimestamp(r.exitedAt) : null, oomKilled: r.oomKilled };
    }),
    Attach: (call: ServerDuplexStream<AttachRequest, unknown>) => { attachStream(d, tasks, call); },
    Pause: unary(d.rpc, m('Pause'), async (req: { containerId: string }, call) => { await tasks.pause(call.namespace(), req.containerId, true); return {}; }),
    Resume: unary(d.rpc, m('Resume'), async (req: { containerId: string }, call) => { await tasks.pause(call.namespace(), req.containerId, false); return {}; }),
    ListPids: unary(d.rpc, m('ListPids'), async (req: { containerId: string }, call) => ({ processes: (await tasks.pids(call.namespace(), req.containerId)).map((pid) => ({ pid, info: null })) })),
    Update: unary(d.rpc, m('Update'), async (req: { containerId: string; resources: Buffer }, call) => { await tasks.update(call.namespace(), req.containerId, req.resources); return {}; }),
    // data: the cgroup part of Docker's stats object as JSON (what drayd's stats needs)
    Metrics: unary(d.rpc, m('Metrics'), async (req: { filters: string[] }, call) => ({
      metrics: (await tasks.metrics(call.namespace(), req.filters ?? [])).map((x) => ({
        timestamp: toTimestamp(x.at), id: x.id, data: { typeUrl: METRICS_TYPE_URL, value: Buffer.from(JSON.stringify(x.stats)) },
      })),
    })),
    Checkpoint: notYet('Checkpoint', 'checkpoint/restore is not supported by Dray'),
  };
}

interface AttachRequest { containerId: string; execId: string; stdin: Buffer; closeStdin: boolean }

/**
 * One Attach stream: the first message names the process; an empty answer
 * says the output is wired (a client may then Start); output follows as it
 * comes, stdin requests are written in order; the server ends the stream
 * when the output ends, and detaches when the client goes.
 */
function attachStream(d: ServiceDeps, tasks: TaskManager, call: ServerDuplexStream<AttachRequest, unknown>): void {
  let attachment: TaskAttachment | undefined;
  let done = false;
  const finish = (err?: unknown): void => {
    if (done) return;
    done = true;
    attachment?.detach();
    if (err) {
      d.rpc.log.debug('attach failed', { error: (err as Error).message });
      call.emit('error', { code: statusOf(err), details: (err as Error).message });
    } else {
      call.end();
    }
  };
  let chain: Promise<void> = Promise.resolve();
  const handle = async (msg: AttachRequest): Promise<void> => {
    if (!attachment) {
      if (!msg.containerId) throw invalidArgument('attach: the first message must name container_id');
      const a = await tasks.attach(namespaceFrom(d.rpc, call.metadata), msg.containerId, msg.execId);
      attachment = a;
      if (done) { a.detach(); return; }
      call.write({});
      a.output.on('stdout', (b) => { if (!done) call.write({ stream: 1, data: b }); });
      a.output.on('stderr', (b) => { if (!done) call.write({ stream: 2, data: b }); });
      a.output.on('end', () => { void chain.then(() => finish()); });
    }
    if (msg.stdin.length > 0) await attachment.write(msg.stdin);
    if (msg.closeStdin) await attachment.closeStdin();
  };
  call.on('data', (msg: AttachRequest) => {
    chain = chain.then(() => (done ? undefined : handle(msg))).catch(finish);
  });
  // The client half-closing only means no more stdin; output keeps flowing.
  call.on('end', () => {});
  call.on('cancelled', () => { done = true; attachment?.detach(); });
  call.on('error', () => { done = true; attachment?.detach(); });
}
