// What the API shows of a container: inspect's document, and the rows of
// GET /containers/json with Docker's Status text ("Up 3 seconds").
import { badRequest } from '../api/errors.ts';
import type { ContainerRecord } from './types.ts';
import { inspectMounts, type InspectMount } from '../../volumes/mounts.ts';

export function inspectView(rec: ContainerRecord, apiVersion: string): Record<string, unknown> {
  const { Dray: _d, ...doc } = rec;
  const out: Record<string, unknown> = {
    ...doc,
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    GraphDriver: { Name: 'overlayfs', Data: null },
    Mounts: mountsView(rec),
  };
  const state = { ...rec.State } as Record<string, unknown>;
  if (!rec.State.Health) delete state['Health'];
  out['State'] = state;
  void apiVersion;
  return out;
}

function mountsView(rec: ContainerRecord): InspectMount[] {
  return inspectMounts(rec.Dray.mountPoints ?? []);
}

/** Docker's go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const st = rec.State;
  if (st.Status === 'removing') return 'Removal In Progress';
  if (st.Dead) return 'Dead';
  if (st.Restarting) return `Restarting (${st.ExitCode}) ${humanDuration(now - Date.parse(st.FinishedAt))} ago`;
  if (st.Running) {
    let s = `Up ${humanDuration(now - Date.parse(st.StartedAt))}`;
    if (st.Paused) s += ' (Paused)';
    else if (st.Health && st.Health.Status !== 'none') s += st.Health.Status === 'starting' ? ' (health: starting)' : ` (${st.Health.Status})`;
    return s;
  }
  if (st.StartedAt.startsWith('0001-') && st.FinishedAt.startsWith('0001-')) return 'Created';
  return `Exited (${st.ExitCode}) ${humanDuration(now - Date.parse(st.FinishedAt))} ago`;
}

/** Docker quotes arguments in the list's Command as a POSIX shell would need them. */
export function shellQuote(a: string): string {
  if (a !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(a)) return a;
  return `'${a.replace(/'/g, `'"'"'`)}'`;
}

/** The list's Ports from inspect's NetworkSettings.Ports: one row per host binding, or the bare port when unpublished. */
function listPorts(ports: unknown): Record<string, unknown>[] {
  if (!ports || typeof ports !== 'object') return [];
  const out: Record<string, unknown>[] = [];
  for (const [key, bindings] of Object.entries(ports as Record<string, { HostIp?: string; HostPort?: string }[] | null>)) {
    const [port, type = 'tcp'] = key.split('/');
    const privatePort = Number(port);
    if (!Array.isArray(bindings) || bindings.length === 0) { out.push({ PrivatePort: privatePort, Type: type }); continue; }
    for (const b of bindings) out.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: privatePort, PublicPort: Number(b.HostPort), Type: type });
  }
  return out;
}

export function listRow(rec: ContainerRecord): Record<string, unknown> {
  const cmd = [rec.Path, ...rec.Args].map(shellQuote).join(' ');
  return {
    Id: rec.Id,
    Names: [rec.Name],
    Image: rec.Config.Image ?? rec.Image,
    ImageID: rec.Image,
    Command: cmd,
    Created: Math.floor(Date.parse(rec.Created) / 1000),
    Ports: listPorts(rec.NetworkSettings['Ports']),
    Labels: rec.Config.Labels ?? {},
    State: rec.State.Status,
    Status: statusText(rec),
    HostConfig: { NetworkMode: rec.HostConfig.NetworkMode ?? 'default' },
    NetworkSettings: { Networks: rec.NetworkSettings['Networks'] ?? {} },
    Mounts: mountsView(rec),
  };
}

/** Docker's `filters` query parameter: {"key": ["v", ...]} or the old {"key": {"v": true}}. */
export function parseFilters(raw: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!raw) return out;
  let v: unknown;
  try { v = JSON.parse(raw); } catch { throw badRequest(`invalid filter: ${raw}`); }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest(`invalid filter: ${raw}`);
  for (const [k, vals] of Object.entries(v as Record<string, unknown>)) {
    if (Array.isArray(vals)) out.set(k, vals.map(String));
    else if (typeof vals === 'object' && vals !== null) out.set(k, Object.keys(vals));
    else throw badRequest(`invalid filter: ${raw}`);
  }
  return out;
}

function labelMatch(labels: Record<string, string>, f: string): boolean {
  const i = f.indexOf('=');
  if (i === -1) return f in labels;
  return labels[f.slice(0, i)] === f.slice(i + 1);
}

const CONTAINER_FILTERS = ['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since', 'health', 'isolation', 'network', 'volume', 'publish', 'expose', 'is-task'];

export interface ListOptions {
  all: boolean;
  limit: number;
  filters: Map<string, string[]>;
  resolve: (ref: string) => ContainerRecord | undefined;
  imageMatches: (rec: ContainerRecord, ref: string) => boolean;
}

/** GET /containers/json: newest first, Docker's filters. */
export function filterContainers(all: ContainerRecord[], o: ListOptions): ContainerRecord[] {
  for (const k of o.filters.keys()) if (!CONTAINER_FILTERS.includes(k)) throw badRequest(`invalid filter '${k}'`);
  const f = o.filters;
  const statuses = f.get('status') ?? [];
  for (const s of statuses) if (!['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'].includes(s)) throw badRequest(`invalid filter 'status=${s}'`);
  let before: ContainerRecord | undefined;
  let since: ContainerRecord | undefined;
  if (f.get('before')?.[0]) before = o.resolve(f.get('before')![0]!);
  if (f.get('since')?.[0]) since = o.resolve(f.get('since')![0]!);
  const showAll = o.all || statuses.length > 0 || f.has('exited') || before !== undefined || since !== undefined || o.limit > 0;
  const out: ContainerRecord[] = [];
  for (const rec of all) {
    if (!showAll && !rec.State.Running && !rec.State.Restarting) continue;
    if (before && rec.Created >= before.Created) continue;
    if (since && rec.Created <= since.Created) continue;
    const ids = f.get('id');
    if (ids && !ids.some((v) => rec.Id.startsWith(v))) continue;
    const names = f.get('name');
    if (names && !names.some((v) => { try { return new RegExp(v).test(rec.Name); } catch { return rec.Name.includes(v); } })) continue;
    if (statuses.length && !statuses.includes(rec.State.Status)) continue;
    const exited = f.get('exited');
    if (exited && (rec.State.Status !== 'exited' || !exited.includes(String(rec.State.ExitCode)))) continue;
    const labels = f.get('label');
    if (labels && !labels.every((l) => labelMatch(rec.Config.Labels ?? {}, l))) continue;
    const anc = f.get('ancestor');
    if (anc && !anc.some((a) => o.imageMatches(rec, a))) continue;
    const health = f.get('health');
    if (health && !health.includes(rec.State.Health?.Status ?? 'none')) continue;
    out.push(rec);
    if (o.limit > 0 && out.length >= o.limit) break;
  }
  return out;
}
