// dray-containerd as a process: directories, pidfile, the supervisor on its
// sockets, and a graceful stop on SIGTERM/SIGINT (a second signal forces it).
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DaemonOptions } from '../common/daemon-options.ts';
import { Logger } from '../common/log.ts';
import { DRAY_VERSION } from '../common/version.ts';
import { openMetadata } from './metadata/metadata.ts';
import { Supervisor } from './supervisor.ts';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Writes the pidfile, refusing when it names another live process. */
export function writePidfile(path: string): void {
  let old: number | undefined;
  try { old = Number.parseInt(readFileSync(path, 'utf8').trim(), 10); } catch { /* none */ }
  if (old && old !== process.pid && alive(old)) throw new Error(`pid file ${path} names running process ${old}: is another dray-containerd running?`);
  mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
  writeFileSync(path, `${process.pid}\n`, { mode: 0o644 });
}

function removePidfile(path: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
  } catch { /* already gone */ }
}

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const log = new Logger(opts.debug ? 'debug' : 'info');
  if (opts.configFile) throw new Error('--config-file is not supported by dray-containerd yet: use flags');
  mkdirSync(opts.dataRoot, { recursive: true, mode: 0o711 });
  mkdirSync(opts.execRoot, { recursive: true, mode: 0o711 });
  writePidfile(opts.pidfile);
  let supervisor: Supervisor | undefined;
  try {
    const metadata = openMetadata(opts.dataRoot);
    supervisor = new Supervisor({ metadata, dataRoot: opts.dataRoot, execRoot: opts.execRoot, log });
    const adopted = await supervisor.adoptTasks();
    if (adopted > 0) log.info('re-adopted tasks', { count: adopted });
    await supervisor.listen(opts.hosts);
  } catch (err) {
    removePidfile(opts.pidfile);
    throw err;
  }
  log.info('dray-containerd started', { version: DRAY_VERSION, pid: process.pid, data_root: opts.dataRoot, startup_ms: Math.round(performance.now()) });
  const sup = supervisor;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) {
        log.warn('second signal: exiting now', { signal: sig });
        removePidfile(opts.pidfile);
        process.exit(1);
      }
      stopping = true;
      log.info('shutting down', { signal: sig });
      sup.stop().then(() => {
        removePidfile(opts.pidfile);
        log.info('stopped');
        resolve(0);
      }, (err: unknown) => {
        log.error('shutdown failed', { error: String(err) });
        removePidfile(opts.pidfile);
        resolve(1);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
