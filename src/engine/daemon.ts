// drayd's lifecycle: build the route table, listen on every -H address,
// write the pidfile, and shut down cleanly on SIGTERM/SIGINT.
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DaemonOptions } from '../common/daemon-options.ts';
import { Router } from './api/router.ts';
import { createApiHandler, listen, type Listener } from './api/server.ts';
import { systemRoutes } from './routes/system.ts';

export interface Engine {
  listeners: Listener[];
  stop(): Promise<void>;
}

export async function startEngine(opts: DaemonOptions): Promise<Engine> {
  const log = {
    debug: (m: string) => { if (opts.debug) process.stderr.write(`drayd: debug: ${m}\n`); },
    error: (m: string) => process.stderr.write(`drayd: error: ${m}\n`),
  };
  const router = new Router();
  systemRoutes(router);
  const handler = createApiHandler(router, log);
  mkdirSync(opts.dataRoot, { recursive: true, mode: 0o711 });
  const listeners: Listener[] = [];
  try {
    for (const h of opts.hosts) listeners.push(await listen(handler, h));
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }
  mkdirSync(dirname(opts.pidfile), { recursive: true });
  writeFileSync(opts.pidfile, `${process.pid}\n`);
  return {
    listeners,
    async stop() {
      await Promise.all(listeners.map((l) => l.close()));
      rmSync(opts.pidfile, { force: true });
    },
  };
}
