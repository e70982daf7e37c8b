// Runs a command and collects its output, with a time bound.
import { spawn } from 'node:child_process';

export interface ExecResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export interface ExecOptions {
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Killed (SIGKILL) after this long; default 120 s. */
  timeoutMs?: number;
  cwd?: string;
}

export function execCommand(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => { /* the command may not read its input */ });
    child.stdin.end(opts.input ?? '');
  });
}

/** Like execCommand, but a non-zero exit is an error carrying the command's stderr. Resolves to stdout. */
export async function execChecked(cmd: string, args: string[], opts: ExecOptions = {}): Promise<string> {
  const r = await execCommand(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}

/** Polls `probe` until it returns true, at most `timeoutMs`; `failed` may abort early with a reason. */
export async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number, failed?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    const reason = failed?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    try {
      if (await probe()) return;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
}
