// Flags the way runc (urfave/cli over Go's flag package) reads them: "-name"
// or "--name", "=value" or the next word, parsing stops at the first
// positional argument or "--" (so `exec ID sh -c ...` keeps "-c" for sh).
import { UsageError } from '../../common/command-line.ts';

export interface GoFlag {
  name: string;
  short?: string;
  kind: 'bool' | 'string' | 'list';
}

export type GoValues = Record<string, string | boolean | string[] | undefined>;

export function parseGoFlags(argv: string[], flags: GoFlag[]): { values: GoValues; rest: string[] } {
  const byName = new Map<string, GoFlag>();
  for (const f of flags) {
    byName.set(f.name, f);
    if (f.short) byName.set(f.short, f);
  }
  const values: GoValues = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const f = byName.get(name);
    if (!f) throw new UsageError(`flag provided but not defined: -${name}`);
    if (f.kind === 'bool') {
      const v = eq >= 0 ? body.slice(eq + 1) : 'true';
      if (v !== 'true' && v !== 'false') throw new UsageError(`invalid boolean value ${JSON.stringify(v)} for -${name}`);
      values[f.name] = v === 'true';
      continue;
    }
    let v: string;
    if (eq >= 0) v = body.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      v = argv[++i]!;
    }
    if (f.kind === 'list') values[f.name] = [...((values[f.name] as string[] | undefined) ?? []), v];
    else values[f.name] = v;
  }
  return { values, rest: argv.slice(i) };
}
