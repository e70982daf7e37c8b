// A fault-injecting HTTP proxy in front of the registry, on 127.0.0.1: per
// request it can pass through, answer 500, corrupt a byte, drop the
// connection mid-body, truncate the body cleanly, or serve a fixed body.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';

export type Fault =
  | { kind: 'status'; status: number }
  | { kind: 'corrupt'; at?: number }
  | { kind: 'drop'; after: number }
  | { kind: 'truncate'; after: number }
  | { kind: 'serve'; status: number; headers: Record<string, string>; body: Buffer };

export interface Rule {
  method?: string;
  path: RegExp;
  /** Faults for the 1st, 2nd, ... matching request; after the list, pass through (or `always`). */
  faults: Fault[];
  always?: boolean;
  seen?: number;
}

export interface FaultProxy {
  host: string;
  rules: Rule[];
  log: { method: string; path: string; range?: string; fault?: string }[];
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: { port: number }): Promise<FaultProxy> {
  const rules: Rule[] = [];
  const log: FaultProxy['log'] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const rule = rules.find((r) => (!r.method || r.method === req.method) && r.path.test(path));
    let fault: Fault | undefined;
    if (rule) {
      const n = rule.seen ?? 0;
      rule.seen = n + 1;
      fault = rule.faults[n] ?? (rule.always ? rule.faults[rule.faults.length - 1] : undefined);
    }
    log.push({ method: req.method ?? '', path, ...(req.headers.range ? { range: req.headers.range } : {}), ...(fault ? { fault: fault.kind } : {}) });
    if (fault?.kind === 'status') {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected failure' }] }));
      return;
    }
    if (fault?.kind === 'serve') {
      req.resume();
      res.writeHead(fault.status, { ...fault.headers, 'content-length': String(fault.body.length) }).end(req.method === 'HEAD' ? undefined : fault.body);
      return;
    }
    const up = http.request({ host: '127.0.0.1', port: upstream.port, method: req.method, path, headers: req.headers }, (ur) => {
      const headers = { ...ur.headers };
      if (fault?.kind === 'truncate') headers['content-length'] = String(fault.after);
      res.writeHead(ur.statusCode ?? 502, headers);
      let sent = 0;
      const f = fault;
      const t = new Transform({
        transform(chunk: Buffer, _e, cb) {
          let c = chunk;
          if (f?.kind === 'corrupt') {
            const at = f.at ?? 100;
            if (at >= sent && at < sent + c.length) {
              c = Buffer.from(c);
              c[at - sent] = c[at - sent]! ^ 0xff;
            }
          }
          if ((f?.kind === 'drop' || f?.kind === 'truncate') && sent + c.length > f.after) {
            const part = c.subarray(0, Math.max(0, f.after - sent));
            sent += part.length;
            if (part.length) this.push(part);
            if (f.kind === 'drop') setImmediate(() => res.socket?.destroy());
            else setImmediate(() => res.end());
            ur.destroy();
            cb();
            return;
          }
          sent += c.length;
          cb(null, c);
        },
      });
      ur.pipe(t).pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    rules,
    log,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
