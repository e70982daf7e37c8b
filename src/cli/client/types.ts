// The Engine API shapes the CLI reads (a subset of the swagger definitions;
// fields the CLI does not use are left out, unknown ones pass through).

export interface Port { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }

export interface MountPoint { Type?: string; Name?: string; Source?: string; Destination: string; RW?: boolean }

export interface ContainerSummary {
  Id: string;
  Names: string[] | null;
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: Port[] | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string> | null;
  State: string;
  Status: string;
  Mounts?: MountPoint[] | null;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
}

export interface ContainerState {
  Status: string;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  ExitCode: number;
  Error?: string;
  StartedAt?: string;
  FinishedAt?: string;
  Pid?: number;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  Config: { Tty?: boolean; OpenStdin?: boolean; AttachStdin?: boolean; Image?: string; Env?: string[] | null; Cmd?: string[] | null; Entrypoint?: string[] | null; Labels?: Record<string, string> | null; StopSignal?: string; [k: string]: unknown };
  HostConfig: { AutoRemove?: boolean; [k: string]: unknown };
  NetworkSettings: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> | null; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string> | null;
  Containers: number;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: string;
  Size: number;
  Config?: { Env?: string[] | null; Cmd?: string[] | null; Entrypoint?: string[] | null; ExposedPorts?: Record<string, unknown> | null; [k: string]: unknown } | null;
  [k: string]: unknown;
}

export interface HistoryItem { Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }

export interface VersionInfo {
  Platform?: { Name: string };
  Components?: { Name: string; Version: string; Details?: Record<string, string> }[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
}

export interface JsonMessage {
  id?: string;
  status?: string;
  stream?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number; start?: number; units?: string; hidecounts?: boolean };
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
  time?: number;
  timeNano?: number;
  from?: string;
}

export interface EventMessage {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> | null };
  scope?: string;
  time: number;
  /** A string when it came through jsonStream (too big for a double). */
  timeNano: number | string;
  status?: string;
  id?: string;
  from?: string;
}

export interface WaitResponse { StatusCode: number; Error?: { Message: string } | null }
