// Exec instances: created on a running container, started once (attached
// through a hijacked connection or detached), run by the container's shim.
import { randomBytes } from 'node:crypto';
import { badRequest, conflict, notFound } from '../api/errors.ts';
import type { ContainerManager } from '../containers/manager.ts';
import { containerEnv, processSpec } from '../containers/spec.ts';
import type { EventBus } from '../events/bus.ts';
import type { ShimStream } from '../../shim/client.ts';

export interface ExecConfig {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  Tty?: boolean;
  Env?: string[] | null;
  Cmd?: string[];
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

export interface ExecInstance {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  /** resolves when the process has exited and its output is over */
  done?: Promise<void>;
}

export class ExecManager {
  readonly #execs = new Map<string, ExecInstance>();
  readonly #containers: ContainerManager;
  readonly #events: EventBus;

  constructor(containers: ContainerManager, events: EventBus) {
    this.#containers = containers;
    this.#events = events;
  }

  create(ref: string, body: unknown): ExecInstance {
    const rec = this.#containers.store.resolve(ref);
    if (typeof body !== 'object' || body === null) throw badRequest('exec config must be a JSON object');
    const cfg = body as ExecConfig;
    if (!Array.isArray(cfg.Cmd) || cfg.Cmd.length === 0 || cfg.Cmd.some((c) => typeof c !== 'string')) throw badRequest('No exec command specified');
    if (!rec.State.Running) throw conflict(`Container ${rec.Id} is not running`);
    if (rec.State.Paused) throw conflict(`Container ${rec.Id} is paused, unpause the container before exec`);
    if (rec.State.Restarting) throw conflict(`Container ${rec.Id} is restarting, wait until the container is running`);
    const ex: ExecInstance = { id: randomBytes(32).toString('hex'), containerId: rec.Id, config: cfg, running: false, started: false, exitCode: null, pid: 0 };
    this.#execs.set(ex.id, ex);
    this.#events.publish('container', `exec_create: ${cfg.Cmd.join(' ')}`, rec.Id, { execID: ex.id, image: rec.Config.Image ?? '', name: rec.Name.slice(1) });
    return ex;
  }

  get(id: string): ExecInstance {
    const ex = this.#execs.get(id);
    if (!ex) throw notFound(`No such exec instance: ${id}`);
    return ex;
  }

  /** Starts the process; its output (when attached) comes on the returned stream. */
  async start(id: string, tty: boolean): Promise<{ ex: ExecInstance; output: ShimStream }> {
    const ex = this.get(id);
    if (ex.started) throw conflict(`Error: Exec command ${id} has already run`);
    const rec = this.#containers.store.resolve(ex.containerId);
    const live = this.#containers.live(rec.Id);
    const rootfs = this.#containers.rootfsOf(rec.Id);
    if (!live || !rootfs) throw conflict(`Container ${rec.Id} is not running`);
    ex.started = true;
    const cfg = ex.config;
    const userRec = { ...rec, Config: { ...rec.Config, User: cfg.User || rec.Config.User, Tty: tty }, HostConfig: { ...rec.HostConfig, Privileged: rec.HostConfig.Privileged || cfg.Privileged === true } };
    const proc = processSpec({ rec: userRec, rootfs, cgroupsPath: '' }, cfg.Cmd!);
    proc.env = [...containerEnv(userRec), ...(cfg.Env ?? [])];
    proc.cwd = cfg.WorkingDir || rec.Config.WorkingDir || '/';
    proc.terminal = tty;
    let r;
    try {
      r = await live.client.exec(ex.id, proc, { terminal: tty, stdin: cfg.AttachStdin === true });
    } catch (err) {
      ex.exitCode = 126;
      throw conflict(`OCI runtime exec failed: ${(err as Error).message}: unknown`);
    }
    ex.running = true;
    ex.pid = r.pid;
    this.#events.publish('container', `exec_start: ${cfg.Cmd!.join(' ')}`, rec.Id, { execID: ex.id, image: rec.Config.Image ?? '', name: rec.Name.slice(1) });
    ex.done = live.client.wait(ex.id).then((exit) => {
      ex.running = false;
      ex.exitCode = exit.exitStatus;
      this.#events.publish('container', 'exec_die', rec.Id, { execID: ex.id, exitCode: String(exit.exitStatus), image: rec.Config.Image ?? '', name: rec.Name.slice(1) });
      void live.client.delete({ execId: ex.id }).catch(() => undefined);
    }, () => { ex.running = false; });
    return { ex, output: r.output };
  }

  inspect(id: string): Record<string, unknown> {
    const ex = this.get(id);
    const cfg = ex.config;
    return {
      ID: ex.id, Running: ex.running, ExitCode: ex.exitCode, ProcessConfig: { tty: cfg.Tty === true, entrypoint: cfg.Cmd![0], arguments: cfg.Cmd!.slice(1), privileged: cfg.Privileged === true, user: cfg.User ?? '' },
      OpenStdin: cfg.AttachStdin === true, OpenStderr: cfg.AttachStderr === true, OpenStdout: cfg.AttachStdout === true,
      CanRemove: false, ContainerID: ex.containerId, DetachKeys: cfg.DetachKeys ?? '', Pid: ex.pid,
    };
  }

  async writeStdin(ex: ExecInstance, data: Buffer): Promise<void> {
    await this.#containers.live(ex.containerId)?.client.writeStdin(data, ex.id);
  }

  async closeStdin(ex: ExecInstance): Promise<void> {
    await this.#containers.live(ex.containerId)?.client.closeStdin(ex.id);
  }

  async resize(id: string, h: number, w: number): Promise<void> {
    const ex = this.get(id);
    const live = this.#containers.live(ex.containerId);
    if (!live || !ex.running) throw conflict(`Exec ${id} is not running`);
    await live.client.resize(h, w, ex.id).catch(() => undefined);
  }
}
