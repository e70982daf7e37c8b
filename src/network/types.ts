// Docker Engine API shapes the network library produces and consumes.

export interface NetworkCreateRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  EnableIPv6?: boolean;
  CheckDuplicate?: boolean;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet: string; IPRange?: string; Gateway?: string }>; Options?: Record<string, string> };
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

export interface NetworkJson {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: Array<{ Subnet: string; Gateway: string; IPRange?: string }> };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** NetworkSettings.Networks[name] of a container (Interface is Dray's addition: the name inside the container). */
export interface EndpointSettings {
  IPAMConfig: { IPv4Address: string } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  Interface: string;
}

/** One -p: container port (or range), host IP, host port (0 or absent: random) or range. */
export interface PortSpec {
  proto: 'tcp' | 'udp';
  containerPort: number;
  containerPortEnd?: number;
  hostIp?: string;
  hostPort?: number;
  hostPortEnd?: number;
}

export interface PublishedPort { proto: 'tcp' | 'udp'; containerPort: number; hostIp: string; hostPort: number }
