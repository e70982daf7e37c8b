// dray version: the client part always, the server part when a daemon answers.
import { CLIENT_API_VERSION } from '../client/client.ts';
import type { VersionInfo } from '../client/types.ts';
import type { Command } from '../command.ts';
import { DRAY_VERSION } from '../../common/version.ts';
import { tabwrite } from '../format/tabwriter.ts';
import { execute, template } from '../output.ts';

const GO_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

export function clientVersionLine(): string {
  return `Dray version ${DRAY_VERSION}, build node${process.versions.node}`;
}

export const command: Command = {
  use: 'version [OPTIONS]',
  short: 'Show the Dray version information',
  flags: [{ name: 'format', short: 'f', type: 'string', usage: "Format output using a custom template: 'json' or a Go template" }],
  maxArgs: 0,
  async run(cli, f) {
    const client = {
      Platform: { Name: 'Dray' },
      Version: DRAY_VERSION,
      ApiVersion: process.env['DOCKER_API_VERSION'] || CLIENT_API_VERSION,
      DefaultAPIVersion: CLIENT_API_VERSION,
      GitCommit: 'dray',
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: GO_ARCH[process.arch] ?? process.arch,
      BuildTime: '',
      Context: 'default',
    };
    let server: VersionInfo | undefined;
    let failure: unknown;
    try {
      const api = cli.client();
      client.ApiVersion = await api.version();
      server = await api.json<VersionInfo>('GET', '/version');
    } catch (e) {
      failure = e;
    }
    const format = f.str('format');
    if (format) {
      const data = { Client: goFields(client), Server: server ? goFields(server) : null };
      const t = template(format === 'json' ? '{{json .}}' : format);
      cli.out.write(`${execute(t, data)}\n`);
    } else {
      const lines = [
        `Client:${client.Platform.Name ? ` ${client.Platform.Name}` : ''}`,
        ` Version:\t${client.Version}`,
        ` API version:\t${client.ApiVersion}${client.ApiVersion !== client.DefaultAPIVersion ? ` (downgraded from ${client.DefaultAPIVersion})` : ''}`,
        ` Go version:\t${client.GoVersion}`,
        ` Git commit:\t${client.GitCommit}`,
        ` Built:\t${client.BuildTime}`,
        ` OS/Arch:\t${client.Os}/${client.Arch}`,
        ` Context:\t${client.Context}`,
      ];
      if (server) {
        lines.push('', `Server:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}`);
        const components = server.Components ?? [{ Name: 'Engine', Version: server.Version, Details: {
          ApiVersion: server.ApiVersion, MinAPIVersion: server.MinAPIVersion ?? '', GoVersion: server.GoVersion,
          GitCommit: server.GitCommit, BuildTime: server.BuildTime ?? '', Os: server.Os, Arch: server.Arch, Experimental: String(server.Experimental ?? false),
        } }];
        for (const c of components) {
          const d = c.Details ?? {};
          lines.push(` ${c.Name}:`);
          if (c.Name === 'Engine') {
            lines.push(
              `  Version:\t${c.Version}`,
              `  API version:\t${d['ApiVersion'] ?? ''} (minimum version ${d['MinAPIVersion'] ?? ''})`,
              `  Go version:\t${d['GoVersion'] ?? ''}`,
              `  Git commit:\t${d['GitCommit'] ?? ''}`,
              `  Built:\t${ansic(d['BuildTime'] ?? '')}`,
              `  OS/Arch:\t${d['Os'] ?? ''}/${d['Arch'] ?? ''}`,
              `  Experimental:\t${d['Experimental'] ?? ''}`,
            );
          } else {
            lines.push(`  Version:\t${c.Version}`);
            for (const k of Object.keys(d).sort()) lines.push(`  ${k}:\t${d[k]}`);
          }
        }
      }
      cli.out.write(tabwrite(lines, { minWidth: 20, padding: 1 }));
    }
    if (failure) throw failure;
  },
};

/** Go's time.ANSIC ("Thu May  7 21:09:36 2026") for an RFC 3339 time, as docker's CLI reformats BuildTime. */
export function ansic(s: string): string {
  const t = Date.parse(s);
  if (!/^\d{4}-\d\d-\d\dT/.test(s) || Number.isNaN(t)) return s;
  const d = new Date(t - new Date(t).getTimezoneOffset() * 60_000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** Templates name docker's Go struct fields (APIVersion, MinAPIVersion); JSON keeps the API's names. */
function goFields<T extends object>(o: T): T {
  const r = { ...o } as Record<string, unknown>;
  const alias = (goName: string, key: string): void => {
    if (key in r) Object.defineProperty(r, goName, { value: r[key], enumerable: false });
  };
  alias('APIVersion', 'ApiVersion');
  alias('DefaultAPIVersion', 'DefaultAPIVersion');
  return r as T;
}
