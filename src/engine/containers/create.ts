// POST /containers/create: the request body checked, merged with the image's
// config as dockerd merges it (env, cmd/entrypoint, workdir, user, labels,
// ports, volumes, stop signal, healthcheck), and turned into a new record.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { badRequest, notImplemented } from '../api/errors.ts';
import type { EngineImage } from '../images/service.ts';
import { capabilitySet } from './caps.ts';
import { parseCgroupRules, parseDeviceMappings } from './devices.ts';
import { joinedContainer, networkMode } from './spec.ts';
import { initialState, type ContainerConfig, type ContainerRecord, type HostConfig } from './types.ts';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringArray(v: unknown, what: string): string[] | null | undefined {
  if (v === undefined || v === null) return v as null | undefined;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw badRequest(`json: cannot unmarshal ${what}: expected an array of strings`);
  return v as string[];
}

export interface CreateRequest {
  config: ContainerConfig;
  hostConfig: HostConfig;
}

/** Checks the shape of a create body (Config fields at the top level, HostConfig inside). */
export function parseCreateBody(body: unknown): CreateRequest {
  if (body === undefined) throw badRequest('config cannot be empty in order to create a container');
  if (!isObject(body)) throw badRequest('json: cannot unmarshal the request body into a container config');
  const { HostConfig: hc, NetworkingConfig: _net, ...config } = body;
  if (hc !== undefined && hc !== null && !isObject(hc)) throw badRequest('json: cannot unmarshal HostConfig');
  const c = config as ContainerConfig;
  for (const k of ['Env', 'Cmd', 'Entrypoint'] as const) c[k] = stringArray(c[k], k);
  if (c.Image !== undefined && typeof c.Image !== 'string') throw badRequest('json: cannot unmarshal Image: expected a string');
  return { config: c, hostConfig: (hc ?? {}) as HostConfig };
}

/** dockerd's merge: the user's entries as given, then the image's whose names the user did not set. */
function mergeEnv(image: string[] = [], user: string[] = []): string[] {
  if (user.length === 0) return [...image];
  const key = (e: string): string => e.split('=')[0]!;
  const mine = new Set(user.map(key));
  return [...user, ...image.filter((e) => !mine.has(key(e)))];
}

/**
 * dockerd's checks of `--network container:<x>` on the request as sent (before
 * the image's config is merged in: an image's EXPOSE is no conflict).
 */
export function validateContainerNetwork(c: ContainerConfig, hc: HostConfig): void {
  if (joinedContainer(hc) === null) return;
  const conflicting = (what: string): never => { throw badRequest(`conflicting options: ${what}`); };
  if (c.Hostname) conflicting('hostname and the network mode');
  if ((hc['Links'] as unknown[] | null | undefined)?.length) conflicting("container type network can't be used with links. This would result in undefined behavior");
  if (hc.Dns?.length) conflicting('dns and the network mode');
  if (hc.ExtraHosts?.length) conflicting('custom host-to-IP mapping and the network mode');
  if (c['MacAddress']) conflicting('mac-address and the network mode');
  if ((hc.PortBindings && Object.keys(hc.PortBindings).length > 0) || hc['PublishAllPorts'] === true) conflicting('port publishing and the container type network mode');
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length > 0) conflicting('port exposing and the container type network mode');
}

/** Validations dockerd makes at create time, so a bad config fails before anything exists. */
export function validateHostConfig(hc: HostConfig, withNetwork = false): void {
  if (!withNetwork) networkMode(hc);
  capabilitySet(hc.CapAdd ?? [], hc.CapDrop ?? [], hc.Privileged === true);
  const rp = hc.RestartPolicy;
  if (rp && rp.Name && !['no', 'always', 'unless-stopped', 'on-failure'].includes(rp.Name)) throw badRequest(`invalid restart policy '${rp.Name}'`);
  if (rp && rp.Name !== 'on-failure' && (rp.MaximumRetryCount ?? 0) > 0) throw badRequest(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  if (rp && (rp.MaximumRetryCount ?? 0) < 0) throw badRequest('invalid restart policy: maximum retry count cannot be negative');
  if (hc.AutoRemove && rp && rp.Name && rp.Name !== 'no') throw badRequest("can't create 'AutoRemove' container with restart policy");
  const pb = hc.PortBindings;
  if (!withNetwork && pb && Object.values(pb).some((v) => Array.isArray(v) && v.length > 0)) throw notImplemented('publishing ports (-p) is not supported by drayd yet: it needs the bridge network');
  if (hc.LogConfig && hc.LogConfig.Type && hc.LogConfig.Type !== 'json-file') throw notImplemented(`logging driver ${hc.LogConfig.Type} is not supported by drayd: only json-file`);
  parseDeviceMappings(hc['Devices']);
  parseCgroupRules(hc['DeviceCgroupRules']);
  if (hc.Memory && hc.Memory < 6 * 1024 * 1024) throw badRequest('Minimum memory limit allowed is 6MB');
  if (hc.MemorySwap && hc.MemorySwap > 0 && hc.Memory && hc.MemorySwap < hc.Memory) throw badRequest('Minimum memoryswap limit should be larger than memory limit, see usage');
}

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export function buildRecord(req: CreateRequest, image: EngineImage, imageRef: string, name: string, containersRoot: string, withNetwork = false, id = newContainerId()): ContainerRecord {
  const c = { ...req.config };
  const hc: HostConfig = { NetworkMode: 'default', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, LogConfig: { Type: 'json-file', Config: {} }, ...req.hostConfig };
  if (!hc.NetworkMode) hc.NetworkMode = 'default';
  if (!hc.RestartPolicy || !hc.RestartPolicy.Name) hc.RestartPolicy = { Name: 'no', MaximumRetryCount: 0 };
  if (!hc.LogConfig || !hc.LogConfig.Type) hc.LogConfig = { Type: 'json-file', Config: {} };
  validateContainerNetwork(req.config, hc);
  validateHostConfig(hc, withNetwork);
  const ic = image.config.config ?? {};
  const userCmdGiven = (c.Cmd?.length ?? 0) > 0;
  const userEntrypointGiven = c.Entrypoint !== undefined && c.Entrypoint !== null;
  if (!userEntrypointGiven) c.Entrypoint = ic.Entrypoint ?? null;
  if (!userCmdGiven && !userEntrypointGiven) c.Cmd = ic.Cmd ?? null;
  if (userEntrypointGiven && c.Entrypoint!.length === 1 && c.Entrypoint![0] === '') c.Entrypoint = null;
  c.Env = mergeEnv(ic.Env ?? [], c.Env ?? []);
  if (!c.WorkingDir) c.WorkingDir = ic.WorkingDir ?? '';
  if (c.WorkingDir && !c.WorkingDir.startsWith('/')) throw badRequest(`the working directory '${c.WorkingDir}' is invalid, it needs to be an absolute path`);
  if (!c.User) c.User = ic.User ?? '';
  c.Labels = { ...(ic.Labels ?? {}), ...(c.Labels ?? {}) };
  c.ExposedPorts = ic.ExposedPorts || c.ExposedPorts ? { ...(ic.ExposedPorts ?? {}), ...(c.ExposedPorts ?? {}) } : c.ExposedPorts;
  c.Volumes = ic.Volumes || c.Volumes ? { ...(ic.Volumes ?? {}), ...(c.Volumes ?? {}) } : c.Volumes ?? null;
  if (!c.StopSignal && ic.StopSignal) c.StopSignal = ic.StopSignal;
  if (!c.Healthcheck && ic.Healthcheck) c.Healthcheck = ic.Healthcheck;
  if (c.OnBuild === undefined) c.OnBuild = ic.OnBuild ?? null;
  c.Image = imageRef;
  const hostNet = hc.NetworkMode === 'host';
  if (!c.Hostname) c.Hostname = hostNet ? hostname() : id.slice(0, 12);
  // a container that joins another's namespace uses that one's /etc files, known at start (empty until then, as dockerd)
  const joins = joinedContainer(hc) !== null;
  for (const k of ['AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce'] as const) c[k] = c[k] === true;
  if (c.Domainname === undefined) c.Domainname = '';
  const argv = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (argv.length === 0) throw badRequest('No command specified');
  const dir = join(containersRoot, id);
  return {
    Id: id,
    Created: new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z'),
    Path: argv[0]!,
    Args: argv.slice(1),
    State: initialState(),
    Image: image.id,
    ResolvConfPath: joins ? '' : join(dir, 'resolv.conf'),
    HostnamePath: joins ? '' : join(dir, 'hostname'),
    HostsPath: joins ? '' : join(dir, 'hosts'),
    LogPath: join(dir, `${id}-json.log`),
    Name: name,
    RestartCount: 0,
    Driver: 'overlayfs',
    Platform: 'linux',
    Config: c,
    HostConfig: hc,
    NetworkSettings: { Bridge: '', SandboxID: '', Ports: {}, SandboxKey: '', Networks: {} },
    Dray: { snapshot: id, chainId: image.chainId, manuallyStopped: false, startedBefore: false },
  };
}
