// The cgroup part of the Docker Engine API's container stats object
// (GET /containers/{id}/stats): what drayd fills from CgroupStats. The
// non-cgroup fields (read, preread, networks, system_cpu_usage, online_cpus)
// are the engine's to add.
import type { BlkioEntry, CgroupStats } from './stats.ts';
import type { CgroupMode } from './mode.ts';

export interface DockerCgroupStats {
  cpu_stats: {
    cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
    throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
  };
  memory_stats: { usage: number; max_usage?: number; limit: number; failcnt?: number; stats: Record<string, number> };
  pids_stats: { current: number; limit?: number };
  blkio_stats: {
    io_service_bytes_recursive: BlkioEntry[] | null;
    io_serviced_recursive: BlkioEntry[] | null;
    io_queue_recursive: null;
    io_service_time_recursive: null;
    io_wait_time_recursive: null;
    io_merged_recursive: null;
    io_time_recursive: null;
    sectors_recursive: null;
  };
}

export function toDockerStats(s: CgroupStats, mode: CgroupMode): DockerCgroupStats {
  const v2 = mode === 'v2';
  // dockerd on v2 reports ops in lower case ("read"), on v1 as the kernel writes them ("Read").
  const ops = (l: BlkioEntry[]): BlkioEntry[] | null => (l.length ? l.map((e) => ({ ...e, op: v2 ? e.op.toLowerCase() : e.op })) : null);
  const cpuUsage: DockerCgroupStats['cpu_stats']['cpu_usage'] = {
    total_usage: s.cpu.usage.total,
    usage_in_kernelmode: s.cpu.usage.kernel,
    usage_in_usermode: s.cpu.usage.user,
  };
  if (!v2 && s.cpu.usage.percpu) cpuUsage.percpu_usage = s.cpu.usage.percpu;
  const mem: DockerCgroupStats['memory_stats'] = { usage: s.memory.usage.usage, limit: s.memory.usage.limit, stats: s.memory.raw };
  if (!v2) {
    mem.max_usage = s.memory.usage.max;
    mem.failcnt = s.memory.usage.failcnt;
  }
  const pids: DockerCgroupStats['pids_stats'] = { current: s.pids.current };
  if (s.pids.limit) pids.limit = s.pids.limit;
  return {
    cpu_stats: { cpu_usage: cpuUsage, throttling_data: s.cpu.throttling },
    memory_stats: mem,
    pids_stats: pids,
    blkio_stats: {
      io_service_bytes_recursive: ops(s.blkio.ioServiceBytesRecursive),
      io_serviced_recursive: ops(s.blkio.ioServicedRecursive),
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
  };
}
