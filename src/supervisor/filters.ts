// The filter syntax of containerd's API, the subset Dray serves:
//   filter    := selector ("," selector)*        (all must match)
//   selector  := fieldpath [op value]            (no op: the field is present)
//   fieldpath := field ("." field)*
//   field     := [A-Za-z_][A-Za-z0-9_]* | quoted
//   op        := "==" | "!=" | "~="              (~= is a regular expression)
//   value     := quoted | [^,\s]+
//   quoted    := "..." with JSON escapes
// A list of filters matches when any one of them matches (or when empty).
import { invalidArgument } from './errors.ts';

export interface Selector { path: string[]; op: '==' | '!=' | '~=' | 'present'; value: string; re?: RegExp }
export type Filter = Selector[];

/** Reads one field of the object being filtered; undefined when absent. */
export type FieldAdaptor = (path: string[]) => string | undefined;

class Scanner {
  pos = 0;
  readonly src: string;
  constructor(src: string) { this.src = src; }
  skipSpace(): void { while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++; }
  done(): boolean { this.skipSpace(); return this.pos >= this.src.length; }
  peek(s: string): boolean { this.skipSpace(); return this.src.startsWith(s, this.pos); }
  fail(what: string): never { throw invalidArgument(`filter ${JSON.stringify(this.src)}: ${what} at position ${this.pos}`); }
  quoted(): string {
    const start = this.pos;
    this.pos++;
    while (this.pos < this.src.length && this.src[this.pos] !== '"') this.pos += this.src[this.pos] === '\\' ? 2 : 1;
    if (this.pos >= this.src.length) this.fail('unterminated quote');
    this.pos++;
    try {
      return JSON.parse(this.src.slice(start, this.pos)) as string;
    } catch {
      return this.fail('bad escape in quoted string');
    }
  }
  field(): string {
    this.skipSpace();
    if (this.src[this.pos] === '"') return this.quoted();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a field name');
    this.pos += m[0].length;
    return m[0];
  }
  value(): string {
    this.skipSpace();
    if (this.src[this.pos] === '"') return this.quoted();
    const m = /^[^,\s]+/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a value');
    this.pos += m[0].length;
    return m[0];
  }
}

export function parseFilter(src: string): Filter {
  const s = new Scanner(src);
  const selectors: Selector[] = [];
  for (let guard = 0; guard < 1000; guard++) {
    const path = [s.field()];
    while (s.peek('.')) { s.pos++; path.push(s.field()); }
    let sel: Selector = { path, op: 'present', value: '' };
    for (const op of ['==', '!=', '~='] as const) {
      if (s.peek(op)) {
        s.pos += 2;
        const value = s.value();
        sel = { path, op, value };
        if (op === '~=') {
          try { sel.re = new RegExp(value); } catch { s.fail(`bad regular expression ${JSON.stringify(value)}`); }
        }
        break;
      }
    }
    selectors.push(sel);
    if (s.done()) return selectors;
    if (!s.peek(',')) s.fail('expected "," or an operator');
    s.pos++;
  }
  return s.fail('too many selectors');
}

export function parseFilters(srcs: readonly string[]): Filter[] {
  return srcs.filter((f) => f.trim() !== '').map(parseFilter);
}

export function matchFilter(filter: Filter, adapt: FieldAdaptor): boolean {
  return filter.every((sel) => {
    const v = adapt(sel.path);
    switch (sel.op) {
      case 'present': return v !== undefined;
      case '==': return v === sel.value;
      case '!=': return v !== sel.value;
      case '~=': return v !== undefined && sel.re!.test(v);
    }
  });
}

export function matchAny(filters: readonly Filter[], adapt: FieldAdaptor): boolean {
  return filters.length === 0 || filters.some((f) => matchFilter(f, adapt));
}

/** snake_case field names as written in filters, to the camelCase of the JS objects. */
export function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Walks a plain object by path (accepting snake_case names); scalars become strings. */
export function objectField(obj: unknown, path: readonly string[]): string | undefined {
  let node: unknown = obj;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    const rec = node as Record<string, unknown>;
    node = part in rec ? rec[part] : rec[camel(part)];
  }
  if (node === undefined || node === null) return undefined;
  if (typeof node === 'object') return Buffer.isBuffer(node) ? node.toString() : JSON.stringify(node);
  return String(node);
}
