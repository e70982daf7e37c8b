// A small declarative layer over node:util parseArgs, shared by every thin
// executable: one flag table gives parsing, validation and --help text.
import { parseArgs } from 'node:util';

export interface FlagSpec {
  name: string;
  short?: string;
  type: 'boolean' | 'string';
  multiple?: boolean;
  default?: string | boolean;
  description: string;
  /** Placeholder shown in --help, e.g. "path". */
  value?: string;
}

export interface CommandSpec {
  usage: string;
  description: string;
  flags: FlagSpec[];
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export class UsageError extends Error {}

export function parseCommandLine(spec: CommandSpec, argv: string[]): { values: FlagValues; positionals: string[] } {
  const options: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean; default?: string | boolean }> = {};
  for (const f of spec.flags) {
    options[f.name] = { type: f.type };
    const o = options[f.name]!;
    if (f.short) o.short = f.short;
    if (f.multiple) o.multiple = true;
    if (f.default !== undefined) o.default = f.default;
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as FlagValues, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function helpText(spec: CommandSpec): string {
  const rows = spec.flags.map((f) => {
    const names = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.type === 'string' ? ` ${f.value ?? 'string'}` : ''}`;
    const def = f.default !== undefined && f.default !== false ? ` (default ${JSON.stringify(f.default)})` : '';
    return { names, text: f.description + def };
  });
  const width = Math.max(0, ...rows.map((r) => r.names.length)) + 2;
  return [
    `Usage: ${spec.usage}`,
    '',
    spec.description,
    '',
    'Options:',
    ...rows.map((r) => `  ${r.names.padEnd(width)}${r.text}`),
    '',
  ].join('\n');
}
