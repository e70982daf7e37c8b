// /containers/{id}/exec and /exec/{id}/...: create, start (hijacked or detached), resize, inspect.
import type { Router } from '../api/router.ts';
import type { ContainerManager } from '../containers/manager.ts';
import type { ExecManager } from '../exec/exec.ts';
import { muxFrame } from '../logs/jsonfile.ts';

export function execRoutes(router: Router, d: { containers: ContainerManager; execs: ExecManager }): void {
  router.add('POST', '/containers/{id}/exec', async (ctx) => {
    const ex = d.execs.create(ctx.param('id'), await ctx.json());
    ctx.send(201, { Id: ex.id });
  });

  router.add('POST', '/exec/{id}/start', async (ctx) => {
    const body = ((await ctx.json()) ?? {}) as { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null };
    const ex = d.execs.get(ctx.param('id'));
    const tty = body.Tty ?? ex.config.Tty === true;
    const { output } = await d.execs.start(ex.id, tty);
    if (body.ConsoleSize && tty) await d.execs.resize(ex.id, body.ConsoleSize[0], body.ConsoleSize[1]).catch(() => undefined);
    if (body.Detach) {
      output.resume();
      ctx.send(200, {});
      return;
    }
    const sock = ctx.hijack(tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    const write = (kind: 1 | 2, b: Buffer): void => { if (sock.writable) sock.write(tty ? b : muxFrame(kind, b)); };
    if (ex.config.AttachStdout !== false) output.on('stdout', (b) => write(1, b));
    if (ex.config.AttachStderr !== false) output.on('stderr', (b) => write(2, b));
    output.on('end', () => { void (ex.done ?? Promise.resolve()).finally(() => sock.end()); });
    output.resume();
    sock.on('error', () => undefined);
    if (ex.config.AttachStdin) {
      let chain = Promise.resolve();
      sock.on('data', (b: Buffer) => {
        sock.pause();
        chain = chain.then(() => d.execs.writeStdin(ex, b)).catch(() => undefined).finally(() => sock.resume());
      });
      sock.on('end', () => { chain = chain.then(() => d.execs.closeStdin(ex)).catch(() => undefined); });
    } else {
      sock.resume();
    }
  });

  router.add('POST', '/exec/{id}/resize', async (ctx) => {
    await d.execs.resize(ctx.param('id'), ctx.int('h', 0), ctx.int('w', 0));
    ctx.send(200, {});
  });

  router.add('GET', '/exec/{id}/json', (ctx) => ctx.send(200, d.execs.inspect(ctx.param('id'))));
}
