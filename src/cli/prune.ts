import type { FlagDef } from './flags.ts';

// What the prune commands print: the deleted objects under a title, as docker.
export type DeletedImage = { Untagged?: string; Deleted?: string };

export function printDeleted(out: NodeJS.WritableStream, title: string, ids: string[] | null | undefined): void {
  if (ids?.length) out.write(`${title}:\n${ids.map((x) => `${x}\n`).join('')}\n`);
}

export function printDeletedImages(out: NodeJS.WritableStream, images: DeletedImage[] | null | undefined): void {
  printDeleted(out, 'Deleted Images', images?.map((d) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted}`)));
}

/** --filter and --force, which every prune command has. */
export const PRUNE_FLAGS: FlagDef[] = [
  { name: 'filter', type: 'list', valueName: 'filter', usage: 'Provide filter values (e.g. "until=<timestamp>")' },
  { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
];
