// The container record drayd keeps (dockerd's config.v2.json + hostconfig.json
// in one document). Field names are the Engine API's, so inspect is mostly
// the record itself.
import type { MountPoint } from '../../volumes/mount-spec.ts';

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
}

/** The create body's Config (only the fields drayd reads are typed). */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  [key: string]: unknown;
}

export interface RestartPolicy { Name: string; MaximumRetryCount?: number }
export interface Ulimit { Name: string; Soft: number; Hard: number }

export interface HostConfig {
  /** the OCI runtime by name (docker run --runtime); '' at create: the daemon's default */
  Runtime?: string;
  Binds?: string[] | null;
  NetworkMode?: string;
  PortBindings?: Record<string, unknown> | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Dns?: string[] | null;
  DnsOptions?: string[] | null;
  DnsSearch?: string[] | null;
  ExtraHosts?: string[] | null;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  Tmpfs?: Record<string, string> | null;
  Sysctls?: Record<string, string> | null;
  ShmSize?: number;
  Init?: boolean | null;
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  BlkioWeight?: number;
  OomKillDisable?: boolean | null;
  Ulimits?: Ulimit[] | null;
  LogConfig?: { Type: string; Config: Record<string, string> };
  [key: string]: unknown;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy' | 'none';
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface ContainerRecord {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  /** the image ID (config digest) */
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  NetworkSettings: Record<string, unknown>;
  /** drayd's own bookkeeping (not in inspect) */
  Dray: {
    /** the snapshot key of the container's writable layer */
    snapshot: string;
    /** the image's top chain ID (the snapshot's parent) */
    chainId: string;
    manuallyStopped: boolean;
    startedBefore: boolean;
    /** binds, volumes, tmpfs as the volumes library planned them */
    mountPoints?: MountPoint[];
    /** NetworkingConfig.EndpointsConfig of the create request */
    endpointsConfig?: Record<string, { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null; Links?: string[] | null; MacAddress?: string }>;
    /** Docker's restart back-off, ms */
    backoffMs?: number;
  };
}

export function initialState(): ContainerState {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}
