// System routes that need no other layer: _ping and version.
import os from 'node:os';
import { DRAY_VERSION } from '../../common/version.ts';
import { MAX_API_VERSION, MIN_API_VERSION } from '../api/api-version.ts';
import type { Router } from '../api/router.ts';

export function systemRoutes(router: Router): void {
  const ping = (ctx: { res: import('node:http').ServerResponse; req: import('node:http').IncomingMessage }): void => {
    ctx.res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      'Builder-Version': '1',
      Swarm: 'inactive',
      'Content-Length': '2',
    });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
  };
  router.add('GET', '/_ping', ping);
  router.add('HEAD', '/_ping', ping);
  router.add('GET', '/version', (ctx) => ctx.send(200, versionInfo()));
}

export function versionInfo(): Record<string, unknown> {
  const details = {
    ApiVersion: MAX_API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: 'dray',
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: goArch(process.arch),
    KernelVersion: os.release(),
    BuildTime: '',
  };
  return {
    Platform: { Name: 'Dray' },
    // Components' details are all strings; the top-level Experimental is a boolean.
    Components: [{ Name: 'Engine', Version: DRAY_VERSION, Details: { ...details, Experimental: 'false' } }],
    Version: DRAY_VERSION,
    ...details,
    Experimental: false,
  };
}

/** Node's names for architectures, in Go's (and so Docker's) spelling. */
export function goArch(arch: string): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
}
