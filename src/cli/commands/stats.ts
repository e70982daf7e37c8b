// dray stats: CPU, memory, network, block I/O and pids per container, computed
// from the API's stats JSON as docker computes them; --no-stream prints once.
import type { ContainerSummary } from '../client/types.ts';
import type { Command } from '../command.ts';
import { enc } from '../each.ts';
import { bytesSize, humanSize } from '../format/units.ts';
import { truncateId, writeFormatted } from '../output.ts';
import type { Cli } from '../command.ts';

const DEFAULT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const HEADERS = { ID: 'CONTAINER ID', Container: 'CONTAINER', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS' };

interface Stats {
  id?: string;
  name?: string;
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }> | null;
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  pids_stats?: { current?: number };
}

/** One row of docker's stats table from a stats sample. */
export function statsRow(name: string, id: string, s: Stats, trunc = true): Record<string, string> {
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const sysDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const online = cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 0;
  const cpuPct = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const mem = s.memory_stats ?? {};
  let usage = mem.usage ?? 0;
  const st = mem.stats ?? {};
  const inactive = st['total_inactive_file'] ?? st['inactive_file'];
  if (inactive !== undefined && inactive < usage) usage -= inactive;
  const limit = mem.limit ?? 0;
  let rx = 0; let tx = 0;
  for (const n of Object.values(s.networks ?? {})) { rx += n.rx_bytes; tx += n.tx_bytes; }
  let rd = 0; let wr = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') rd += e.value; else if (op === 'write') wr += e.value;
  }
  const running = !!s.read && !s.read.startsWith('0001');
  return {
    ID: trunc ? truncateId(id) : id,
    Container: name,
    Name: name.replace(/^\//, ''),
    CPUPerc: running ? `${cpuPct.toFixed(2)}%` : '--',
    MemUsage: running ? `${bytesSize(usage)} / ${bytesSize(limit)}` : '-- / --',
    MemPerc: running ? `${(limit ? (usage / limit) * 100 : 0).toFixed(2)}%` : '--',
    NetIO: running ? `${humanSize(rx)} / ${humanSize(tx)}` : '--',
    BlockIO: running ? `${humanSize(rd)} / ${humanSize(wr)}` : '--',
    PIDs: running ? String(s.pids_stats?.current ?? 0) : '--',
  };
}

async function sample(cli: Cli, name: string): Promise<Record<string, string>> {
  const s = await cli.client().json<Stats>('GET', `/containers/${enc(name)}/stats`, { query: { stream: false } });
  return statsRow(s.name ?? name, s.id ?? name, s);
}

export const command: Command = {
  use: 'stats [OPTIONS] [CONTAINER...]',
  short: 'Display a live stream of container(s) resource usage statistics',
  aliases: ['dray container stats', 'dray stats'],
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
    { name: 'format', type: 'string', usage: 'Format output using a custom template' },
    { name: 'no-stream', type: 'bool', usage: 'Disable streaming stats and only pull the first result' },
    { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
  ],
  async run(cli, f, args) {
    let names = args;
    if (names.length === 0) {
      const list = await cli.client().json<ContainerSummary[]>('GET', '/containers/json', { query: { all: f.bool('all') || undefined } });
      names = list.map((c) => c.Id);
    }
    const render = async (): Promise<string> => {
      const rows = await Promise.all(names.map((n) => sample(cli, n)));
      const chunks: string[] = [];
      writeFormatted({ write: (s: string) => { chunks.push(s); return true; } } as unknown as NodeJS.WritableStream,
        { format: f.str('format'), defaultFormat: DEFAULT, headers: HEADERS, rows });
      return chunks.join('');
    };
    if (f.bool('no-stream')) { cli.out.write(await render()); return; }
    // Live: redraw about once a second (a sample with stream=false takes about that long); ctrl-c ends it.
    for (;;) cli.out.write(`\x1b[2J\x1b[H${await render()}`);
  },
};

