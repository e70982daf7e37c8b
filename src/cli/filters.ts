// --filter key=value flags as the API's `filters` query value: {"key": {"value": true}}.
import { CliError } from './command.ts';

export function filtersJson(list: string[]): string | undefined {
  if (list.length === 0) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const f of list) {
    const i = f.indexOf('=');
    if (i <= 0) throw new CliError(`bad format of filter (expected name=value)`);
    const k = f.slice(0, i).trim().toLowerCase();
    (out[k] ??= {})[f.slice(i + 1)] = true;
  }
  return JSON.stringify(out);
}
