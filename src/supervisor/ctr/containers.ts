// dray-ctr containers: ls, info, create, rm, label.
import { readFileSync } from 'node:fs';
import { UsageError, parseCommandLine, type FlagSpec } from '../../common/command-line.ts';
import type { Container } from '../api/types.ts';
import type { SupervisorClient } from '../client/client.ts';
import { formatLabels, parseLabels, table, time, listArgs, labelUpdate } from './output.ts';

export const containersHelp = `Usage: dray-ctr containers COMMAND

Commands:
  ls [-q] [FILTER…]        list containers (filters: labels.k==v, image~=re, runtime.name==x)
  info ID                  show a container record as JSON (spec decoded)
  create [OPTIONS] ID      create a container record
      --spec FILE            OCI runtime spec (config.json); "-" reads stdin; default: a minimal spec
      --runtime NAME         runtime name (default "dray")
      --image REF            image reference
      --label KEY=VALUE      label (repeatable)
      --snapshotter NAME, --snapshot-key KEY
  rm ID…                   remove container records
  label ID [KEY=VALUE…]    set labels (KEY= removes one)
`;

const createFlags: FlagSpec[] = [
  { name: 'spec', type: 'string', description: '' },
  { name: 'runtime', type: 'string', default: 'dray', description: '' },
  { name: 'image', type: 'string', default: '', description: '' },
  { name: 'label', type: 'string', multiple: true, description: '' },
  { name: 'snapshotter', type: 'string', default: '', description: '' },
  { name: 'snapshot-key', type: 'string', default: '', description: '' },
];

/** A container record as people read it: the spec as JSON, not bytes. */
export function containerView(c: Container): Record<string, unknown> {
  let spec: unknown = c.spec.toString('utf8');
  try { spec = JSON.parse(spec as string); } catch { /* show as text */ }
  return {
    ID: c.id, Labels: c.labels, Image: c.image,
    Runtime: { Name: c.runtime?.name ?? '', Options: c.runtime?.options?.length ? c.runtime.options.toString('utf8') : undefined },
    SnapshotKey: c.snapshotKey, Snapshotter: c.snapshotter, Sandbox: c.sandbox || undefined,
    CreatedAt: time(c.createdAt), UpdatedAt: time(c.updatedAt),
    Extensions: Object.fromEntries(Object.entries(c.extensions).map(([k, v]) => [k, { TypeUrl: v.typeUrl, Value: v.value.toString('base64') }])),
    Spec: spec,
  };
}

export async function containersCommand(client: SupervisorClient, args: string[], out: NodeJS.WritableStream): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'ls': case 'list': {
      const { quiet, filters } = listArgs(rest);
      const all = await client.containers.list(...filters);
      if (quiet) { for (const c of all) out.write(c.id + '\n'); return 0; }
      table(out, ['CONTAINER', 'IMAGE', 'RUNTIME'], all.map((c) => [c.id, c.image || '-', c.runtime?.name ?? '-']));
      return 0;
    }
    case 'info': {
      const [id] = rest;
      if (!id) throw new UsageError('containers info: ID is required');
      out.write(JSON.stringify(containerView(await client.containers.get(id)), null, 4) + '\n');
      return 0;
    }
    case 'create': case 'c': {
      const { values, positionals } = parseCommandLine({ usage: '', description: '', flags: createFlags }, rest);
      const [id] = positionals;
      if (!id || positionals.length > 1) throw new UsageError('containers create: exactly one ID is required');
      const specPath = values['spec'] as string | undefined;
      const spec = specPath === undefined ? Buffer.from(JSON.stringify({ ociVersion: '1.2.0', process: { args: ['sh'], cwd: '/' }, root: { path: 'rootfs' } }))
        : readFileSync(specPath === '-' ? 0 : specPath);
      await client.containers.create({
        id, spec, runtime: { name: values['runtime'] as string }, image: values['image'] as string,
        labels: parseLabels((values['label'] as string[] | undefined) ?? []),
        snapshotter: values['snapshotter'] as string, snapshotKey: values['snapshot-key'] as string,
      });
      return 0;
    }
    case 'rm': case 'remove': case 'delete': case 'del': {
      if (rest.length === 0) throw new UsageError('containers rm: ID is required');
      for (const id of rest) await client.containers.delete(id);
      return 0;
    }
    case 'label': {
      const [id, ...labels] = rest;
      if (!id || labels.length === 0) throw new UsageError('containers label: ID and at least one KEY=VALUE are required');
      const { set, paths } = labelUpdate(labels);
      const c = await client.containers.update({ id, labels: set }, paths);
      out.write(formatLabels(c.labels) + '\n');
      return 0;
    }
    default:
      out.write(containersHelp);
      return sub === undefined || sub === 'help' ? 0 : 1;
  }
}
