// The hooks run in the runtime's namespaces: prestart and createRuntime
// (the container's namespaces exist, its rootfs is mounted, before
// pivot_root), poststart and poststop. The state JSON goes on stdin; a
// timeout kills the hook. createContainer and startContainer run inside the
// container and are carried out by the executor (plan "hook" records).
import type { spawn as Spawn } from 'node:child_process';
import type { Hook } from './config/types.ts';
import { RuntimeError } from './errors.ts';

/** Where hooks write and run: default the runtime's own stdout, stderr and cwd (the warm server passes its caller's). */
export interface HookIo {
  stdout: number;
  stderr: number;
  cwd: string;
}

export async function runHook(stage: string, index: number, h: Hook, state: string, io?: HookIo): Promise<void> {
  const args = h.args ?? [h.path];
  const env: Record<string, string> = {};
  for (const e of h.env ?? []) {
    const i = e.indexOf('=');
    env[e.slice(0, i)] = e.slice(i + 1);
  }
  // child_process (with net and stream under it) loads only when a hook runs:
  // start and delete load this module on every call, mostly without hooks.
  const spawn = (process.getBuiltinModule('node:child_process') as { spawn: typeof Spawn }).spawn;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(h.path, args.slice(1), {
      argv0: args[0] ?? h.path, env, stdio: ['pipe', io?.stdout ?? 'inherit', io?.stderr ?? 'inherit'], ...(io ? { cwd: io.cwd } : {}),
    });
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (h.timeout) timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, h.timeout * 1000);
    child.stdin!.on('error', () => {});
    child.stdin!.end(state);
    child.on('error', (e) => { clearTimeout(timer); reject(new RuntimeError(`${stage} hook #${index} (${h.path}): ${e.message}`)); });
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      if (timedOut) reject(new RuntimeError(`${stage} hook #${index} (${h.path}) timed out after ${h.timeout}s`));
      else if (code === 0) resolve();
      else reject(new RuntimeError(`${stage} hook #${index} (${h.path}) failed: ${code !== null ? `exit status ${code}` : `signal ${sig}`}`));
    });
  });
}

/** Runs the hooks in order; the first failure throws (prestart, createRuntime). */
export async function runHooks(stage: string, hooks: Hook[] | undefined, state: string, io?: HookIo): Promise<void> {
  let i = 0;
  for (const h of hooks ?? []) await runHook(stage, ++i, h, state, io);
}

/** Runs every hook; failures are only warned about (poststart, poststop). */
export async function runHooksWarn(stage: string, hooks: Hook[] | undefined, state: string, warn: (m: string) => void, io?: HookIo): Promise<void> {
  let i = 0;
  for (const h of hooks ?? []) {
    try { await runHook(stage, ++i, h, state, io); } catch (err) { warn((err as Error).message); }
  }
}
