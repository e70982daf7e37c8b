// dray update: resources and restart policy of existing containers.
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { ramInBytes } from '../container-opts.ts';
import { enc, forEach } from '../each.ts';

export const command: Command = {
  use: 'update [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Update configuration of one or more containers',
  aliases: ['dray container update', 'dray update'],
  flags: [
    { name: 'blkio-weight', type: 'int', usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable' },
    { name: 'cpu-period', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
    { name: 'cpu-quota', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
    { name: 'cpu-shares', short: 'c', type: 'int', usage: 'CPU shares (relative weight)' },
    { name: 'cpus', type: 'string', valueName: 'decimal', usage: 'Number of CPUs' },
    { name: 'cpuset-cpus', type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
    { name: 'cpuset-mems', type: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
    { name: 'memory', short: 'm', type: 'string', valueName: 'bytes', usage: 'Memory limit' },
    { name: 'memory-reservation', type: 'string', valueName: 'bytes', usage: 'Memory soft limit' },
    { name: 'memory-swap', type: 'string', valueName: 'bytes', usage: "Swap limit equal to memory plus swap: -1 to enable unlimited swap" },
    { name: 'pids-limit', type: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
    { name: 'restart', type: 'string', usage: 'Restart policy to apply when a container exits' },
  ],
  minArgs: 1,
  async run(cli, f, args) {
    const body: Record<string, unknown> = {};
    const int = (flag: string, key: string): void => { if (f.changed(flag)) body[key] = f.int(flag); };
    const bytes = (flag: string, key: string): void => {
      if (!f.changed(flag)) return;
      const v = f.str(flag);
      body[key] = v === '-1' ? -1 : ramInBytes(v);
    };
    int('blkio-weight', 'BlkioWeight'); int('cpu-period', 'CpuPeriod'); int('cpu-quota', 'CpuQuota'); int('cpu-shares', 'CpuShares');
    int('pids-limit', 'PidsLimit');
    if (f.changed('cpuset-cpus')) body['CpusetCpus'] = f.str('cpuset-cpus');
    if (f.changed('cpuset-mems')) body['CpusetMems'] = f.str('cpuset-mems');
    if (f.changed('cpus')) {
      const c = Number(f.str('cpus'));
      if (!Number.isFinite(c) || c < 0) throw new CliError(`invalid argument "${f.str('cpus')}" for "--cpus" flag`);
      body['NanoCpus'] = Math.round(c * 1e9);
    }
    bytes('memory', 'Memory'); bytes('memory-reservation', 'MemoryReservation'); bytes('memory-swap', 'MemorySwap');
    if (f.changed('restart')) {
      const [name, count] = f.str('restart').split(':');
      body['RestartPolicy'] = { Name: name, MaximumRetryCount: count ? Number(count) : 0 };
    }
    if (Object.keys(body).length === 0) throw new CliError('you must provide one or more flags when using this command');
    await forEach(cli, args, async (name) => {
      const r = await cli.client().json<{ Warnings?: string[] | null }>('POST', `/containers/${enc(name)}/update`, { body });
      for (const w of r?.Warnings ?? []) cli.err.write(`${w}\n`);
      return name;
    });
  },
};
