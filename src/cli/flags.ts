// Command-line flags with docker's (spf13/pflag's) semantics, which
// node:util parseArgs does not give: combined short flags (-it, -itd),
// attached values (-eA=1, -p8080:80, --name=x), repeated flags collected in
// order, bool flags taking only the `=` form (--rm=false), `--` ending the
// options, and "non-interspersed" commands (run, exec) whose options stop at
// the first positional so `dray run busybox ls -l` passes -l to the container.

export type FlagType = 'bool' | 'string' | 'list' | 'int';

export interface FlagDef {
  name: string;
  short?: string;
  type: FlagType;
  /** Shown in help (and used when the flag is absent). */
  default?: string | number | boolean;
  usage: string;
  /** Placeholder shown in help: "string", "list", "int"... */
  valueName?: string;
  hidden?: boolean;
}

export type FlagValue = string | number | boolean | string[];

export class FlagError extends Error {}

export interface Parsed {
  /** Values by long name; absent flags hold their default (lists: []). */
  values: Map<string, FlagValue>;
  /** Long names of the flags given on the command line. */
  changed: Set<string>;
  args: string[];
}

export interface ParseOptions {
  /** false: the first positional ends the options (docker run/exec/create). */
  interspersed?: boolean;
}

export const HELP_FLAG: FlagDef = { name: 'help', type: 'bool', usage: 'Print usage' };

/** Parses argv against flags (plus --help); throws FlagError with pflag's messages. */
export function parseFlags(defs: FlagDef[], argv: string[], opts: ParseOptions = {}): Parsed {
  const all = defs.some((d) => d.name === 'help') ? defs : [...defs, HELP_FLAG];
  const byLong = new Map(all.map((d) => [d.name, d]));
  const byShort = new Map(all.filter((d) => d.short).map((d) => [d.short!, d]));
  const values = new Map<string, FlagValue>();
  for (const d of all) values.set(d.name, initial(d));
  const changed = new Set<string>();
  const args: string[] = [];
  const interspersed = opts.interspersed ?? true;

  const set = (d: FlagDef, raw: string, shown: string): void => {
    changed.add(d.name);
    switch (d.type) {
      case 'bool': {
        const b = parseBool(raw);
        if (b === undefined) throw new FlagError(`invalid argument ${JSON.stringify(raw)} for ${shown} flag: strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
        values.set(d.name, b);
        break;
      }
      case 'int': {
        if (!/^[-+]?\d+$/.test(raw)) throw new FlagError(`invalid argument ${JSON.stringify(raw)} for ${shown} flag: strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
        values.set(d.name, Number(raw));
        break;
      }
      case 'list': {
        const cur = values.get(d.name) as string[];
        values.set(d.name, [...cur, raw]);
        break;
      }
      default: values.set(d.name, raw);
    }
  };
  const describe = (d: FlagDef): string => (d.short ? `"-${d.short}, --${d.name}"` : `"--${d.name}"`);

  let i = 0;
  while (i < argv.length) {
    const a = argv[i++]!;
    if (a === '--') { args.push(...argv.slice(i)); break; }
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      if (!interspersed) { args.push(...argv.slice(i)); break; }
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const d = byLong.get(name);
      if (!d || name.length === 0) throw new FlagError(`unknown flag: --${name}`);
      if (eq >= 0) set(d, a.slice(eq + 1), describe(d));
      else if (d.type === 'bool') set(d, 'true', describe(d));
      else {
        if (i >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
        set(d, argv[i++]!, describe(d));
      }
      continue;
    }
    // Short flags: -abc, -e=V, -eV, -e V.
    let rest = a.slice(1);
    while (rest.length > 0) {
      const c = rest[0]!;
      const d = byShort.get(c);
      if (!d) throw new FlagError(`unknown shorthand flag: '${c}' in ${a}`);
      if (rest[1] === '=') { set(d, rest.slice(2), describe(d)); break; }
      if (d.type === 'bool') { set(d, 'true', describe(d)); rest = rest.slice(1); continue; }
      if (rest.length > 1) { set(d, rest.slice(1), describe(d)); break; }
      if (i >= argv.length) throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
      set(d, argv[i++]!, describe(d));
      break;
    }
  }
  return { values, changed, args };
}

function initial(d: FlagDef): FlagValue {
  if (d.type === 'list') return [];
  if (d.type === 'bool') return d.default === true;
  if (d.type === 'int') return typeof d.default === 'number' ? d.default : 0;
  return d.default === undefined ? '' : String(d.default);
}

function parseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** Typed access to a parse result. */
export class Flags {
  readonly parsed: Parsed;
  constructor(parsed: Parsed) { this.parsed = parsed; }
  bool(name: string): boolean { return this.parsed.values.get(name) === true; }
  str(name: string): string { const v = this.parsed.values.get(name); return typeof v === 'string' ? v : v === undefined ? '' : String(v); }
  int(name: string): number { const v = this.parsed.values.get(name); return typeof v === 'number' ? v : Number(v ?? 0); }
  list(name: string): string[] { const v = this.parsed.values.get(name); return Array.isArray(v) ? v : []; }
  changed(name: string): boolean { return this.parsed.changed.has(name); }
}

/** The "Options:" block of --help, laid out as cobra does. */
export function flagUsages(defs: FlagDef[]): string {
  const rows = [...defs, HELP_FLAG].filter((d) => !d.hidden).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((d) => {
    const vn = d.type === 'bool' ? '' : ` ${d.valueName ?? (d.type === 'list' ? 'list' : d.type)}`;
    const left = d.short ? `  -${d.short}, --${d.name}${vn}` : `      --${d.name}${vn}`;
    const def = d.default !== undefined && d.default !== '' && d.default !== false && d.default !== 0
      ? typeof d.default === 'string' ? ` (default "${d.default}")` : ` (default ${d.default})` : '';
    return [left, d.usage + def] as const;
  });
  const w = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([l, r]) => `${l.padEnd(w)}   ${r}`).join('\n');
}
