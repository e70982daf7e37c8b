// dray info / dray system info: the client part, then the daemon's GET /info laid out as docker does.
import type { Command } from '../command.ts';
import { bytesSize } from '../format/units.ts';
import { execute, template } from '../output.ts';
import { DRAY_VERSION } from '../../common/version.ts';

type Info = Record<string, unknown>;

function line(out: string[], label: string, v: unknown, indent = 1): void {
  if (v === undefined || v === null) return;
  out.push(`${' '.repeat(indent)}${label}: ${v}`);
}

export function renderServer(i: Info): string[] {
  const o: string[] = [];
  const s = (k: string): unknown => i[k];
  line(o, 'Containers', s('Containers'));
  line(o, 'Running', s('ContainersRunning'), 2);
  line(o, 'Paused', s('ContainersPaused'), 2);
  line(o, 'Stopped', s('ContainersStopped'), 2);
  line(o, 'Images', s('Images'));
  line(o, 'Server Version', s('ServerVersion'));
  line(o, 'Storage Driver', s('Driver'));
  for (const [k, v] of (s('DriverStatus') as [string, string][] | null) ?? []) o.push(`  ${k}: ${v}`);
  line(o, 'Logging Driver', s('LoggingDriver'));
  line(o, 'Cgroup Driver', s('CgroupDriver'));
  line(o, 'Cgroup Version', s('CgroupVersion'));
  const plugins = s('Plugins') as Record<string, string[] | null> | undefined;
  if (plugins) {
    o.push(' Plugins:');
    for (const k of ['Volume', 'Network', 'Authorization', 'Log']) if (plugins[k]?.length) o.push(`  ${k}: ${plugins[k]!.join(' ')}`);
  }
  const swarm = s('Swarm') as { LocalNodeState?: string } | undefined;
  line(o, 'Swarm', swarm?.LocalNodeState);
  const runtimes = s('Runtimes') as Record<string, unknown> | undefined;
  if (runtimes) line(o, 'Runtimes', Object.keys(runtimes).sort().join(' '));
  line(o, 'Default Runtime', s('DefaultRuntime'));
  line(o, 'Init Binary', s('InitBinary'));
  const commit = (k: string): string | undefined => (s(k) as { ID?: string } | undefined)?.ID;
  if (s('ContainerdCommit')) line(o, 'containerd version', commit('ContainerdCommit'));
  if (s('RuncCommit')) line(o, 'runc version', commit('RuncCommit'));
  if (s('InitCommit')) line(o, 'init version', commit('InitCommit'));
  const sec = s('SecurityOptions') as string[] | null | undefined;
  if (sec?.length) {
    o.push(' Security Options:');
    for (const opt of sec) {
      const kv = Object.fromEntries(opt.split(',').map((p) => { const j = p.indexOf('='); return [p.slice(0, j), p.slice(j + 1)]; }));
      o.push(`  ${kv['name'] ?? opt}`);
      for (const [k, v] of Object.entries(kv)) if (k !== 'name') o.push(`   ${k[0]!.toUpperCase()}${k.slice(1)}: ${v}`);
    }
  }
  line(o, 'Kernel Version', s('KernelVersion'));
  line(o, 'Operating System', s('OperatingSystem'));
  line(o, 'OSType', s('OSType'));
  line(o, 'Architecture', s('Architecture'));
  line(o, 'CPUs', s('NCPU'));
  if (typeof s('MemTotal') === 'number') line(o, 'Total Memory', bytesSize(s('MemTotal') as number));
  line(o, 'Name', s('Name'));
  line(o, 'ID', s('ID'));
  line(o, 'Docker Root Dir', s('DockerRootDir'));
  line(o, 'Debug Mode', s('Debug'));
  const labels = s('Labels') as string[] | null | undefined;
  if (labels?.length) { o.push(' Labels:'); for (const l of labels) o.push(`  ${l}`); }
  line(o, 'Experimental', s('ExperimentalBuild'));
  const reg = s('RegistryConfig') as { InsecureRegistryCIDRs?: string[]; IndexConfigs?: Record<string, { Secure?: boolean }>; Mirrors?: string[] } | undefined;
  if (reg) {
    const insecure = [...Object.entries(reg.IndexConfigs ?? {}).filter(([, v]) => v.Secure === false).map(([k]) => k), ...(reg.InsecureRegistryCIDRs ?? [])];
    if (insecure.length) { o.push(' Insecure Registries:'); for (const r of insecure) o.push(`  ${r}`); }
    if (reg.Mirrors?.length) { o.push(' Registry Mirrors:'); for (const m of reg.Mirrors) o.push(`  ${m}`); }
  }
  line(o, 'Live Restore Enabled', s('LiveRestoreEnabled'));
  const pools = s('DefaultAddressPools') as { Base: string; Size: number }[] | null | undefined;
  if (pools?.length) { o.push(' Default Address Pools:'); for (const p of pools) o.push(`   Base: ${p.Base}, Size: ${p.Size}`); }
  for (const w of (s('Warnings') as string[] | null) ?? []) o.push(w);
  return o;
}

export const command: Command = {
  use: 'info [OPTIONS]',
  short: 'Display system-wide information',
  aliases: ['dray system info', 'dray info'],
  flags: [{ name: 'format', short: 'f', type: 'string', usage: "Format output using a custom template: 'json' or a Go template" }],
  maxArgs: 0,
  async run(cli, f) {
    const format = f.str('format');
    let info: Info | undefined;
    let failure: unknown;
    try { info = await cli.client().json<Info>('GET', '/info'); } catch (e) { failure = e; }
    if (format) {
      if (failure) throw failure;
      const t = template(format === 'json' ? '{{json .}}' : format);
      cli.out.write(`${execute(t, info)}\n`);
      return;
    }
    const out = ['Client: Dray', ` Version:    ${DRAY_VERSION}`, ' Context:    default', ' Debug Mode: false', ''];
    if (info) out.push('Server:', ...renderServer(info));
    cli.out.write(`${out.join('\n')}\n`);
    if (failure) throw failure;
    if (info) cli.out.write('\n');
  },
};
