// A Go text/template subset, for `--format` as docker users write it:
// fields ({{.Names}}, {{.Config.Env}}, map keys), pipelines ({{.X | json}}),
// {{if}}/{{else if}}/{{else}}, {{range}} (with $i, $v), {{with}}, variables,
// trim markers {{- -}}, and the functions docker's CLI adds (json, join,
// split, lower, upper, title, truncate, pad, println, index, len, printf...).
// Written here because no npm package implements Go's template semantics
// (nil printing as <no value>, Go's %v formatting of maps and slices, etc.).

type Value = unknown;

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if'; branches: { cond: Pipeline; body: Node[] }[]; elseBody: Node[] | undefined }
  | { kind: 'range'; pipe: Pipeline; keyVar: string | undefined; valVar: string | undefined; body: Node[]; elseBody: Node[] | undefined }
  | { kind: 'with'; pipe: Pipeline; body: Node[]; elseBody: Node[] | undefined };

/** One pipeline: commands joined by `|`, optionally declaring variables. */
interface Pipeline { decl: string[]; assign: boolean; cmds: Arg[][] }

type Arg =
  | { kind: 'field'; base: 'dot' | string; path: string[] }
  | { kind: 'ident'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'nil' }
  | { kind: 'sub'; pipe: Pipeline; path?: string[] };

export class TemplateError extends Error {}

export type TemplateFunc = (...args: Value[]) => Value;

// ---------- lexing actions ----------

function tokenize(src: string): string[] {
  const toks: string[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"' || c === '`') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += c === '"' && src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new TemplateError('unterminated quoted string');
      toks.push(src.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === '(' || c === ')' || c === '|' || c === ',') {
      toks.push(c);
      i++;
      // (pipeline).Field: a field chained right after the parenthesis (no space) is marked.
      if (c === ')' && src[i] === '.') {
        let j = i;
        while (j < src.length && !/[\s()|,"`]/.test(src[j]!)) j++;
        toks.push(CHAIN + src.slice(i, j));
        i = j;
      }
      continue;
    }
    if (src.startsWith(':=', i)) { toks.push(':='); i += 2; continue; }
    if (c === '=' ) { toks.push('='); i++; continue; }
    let j = i;
    while (j < src.length && !/[\s()|,"`]/.test(src[j]!) && !src.startsWith(':=', j) && src[j] !== '=') j++;
    if (j === i) throw new TemplateError(`unexpected character ${JSON.stringify(c)}`);
    toks.push(src.slice(i, j));
    i = j;
  }
  return toks;
}

/** Marks a token that chains fields onto the parenthesized pipeline before it. */
const CHAIN = '\u0000';

function parsePipeline(toks: string[]): Pipeline {
  let pos = 0;
  const decl: string[] = [];
  let assign = false;
  // `$x := ...`, `$i, $v := ...`
  const declEnd = toks.findIndex((t) => t === ':=' || t === '=');
  if (declEnd > 0 && toks.slice(0, declEnd).every((t) => t.startsWith('$') || t === ',')) {
    for (const t of toks.slice(0, declEnd)) if (t !== ',') decl.push(t);
    assign = toks[declEnd] === '=';
    pos = declEnd + 1;
  }
  const cmds: Arg[][] = [];
  let cur: Arg[] = [];
  const parseArgs = (stop: string | undefined): void => {
    while (pos < toks.length) {
      const t = toks[pos]!;
      if (t === stop) return;
      if (t === '|') {
        if (cur.length === 0) throw new TemplateError('missing command before |');
        cmds.push(cur); cur = []; pos++; continue;
      }
      if (t === '(') {
        pos++;
        const start = pos;
        let depth = 1;
        while (pos < toks.length && depth > 0) {
          if (toks[pos] === '(') depth++;
          if (toks[pos] === ')') depth--;
          pos++;
        }
        if (depth !== 0) throw new TemplateError('unclosed (');
        const inner = parsePipeline(toks.slice(start, pos - 1));
        if (toks[pos]?.startsWith(CHAIN)) {
          cur.push({ kind: 'sub', pipe: inner, path: toks[pos]!.slice(CHAIN.length + 1).split('.') });
          pos++;
        } else cur.push({ kind: 'sub', pipe: inner });
        continue;
      }
      if (t === ')') throw new TemplateError('unexpected )');
      cur.push(parseOperand(t));
      pos++;
    }
  };
  parseArgs(undefined);
  if (cur.length) cmds.push(cur);
  if (cmds.length === 0) throw new TemplateError('missing value for command');
  return { decl, assign, cmds };
}

function parseOperand(t: string): Arg {
  if (t.startsWith('"')) return { kind: 'string', value: JSON.parse(t) as string };
  if (t.startsWith('`')) return { kind: 'string', value: t.slice(1, -1) };
  if (t === 'true' || t === 'false') return { kind: 'bool', value: t === 'true' };
  if (t === 'nil') return { kind: 'nil' };
  if (/^-?\d+(\.\d+)?$/.test(t)) return { kind: 'number', value: Number(t) };
  if (t === '.') return { kind: 'field', base: 'dot', path: [] };
  if (t.startsWith('.')) return { kind: 'field', base: 'dot', path: t.slice(1).split('.') };
  if (t.startsWith('$')) {
    const [v, ...path] = t.split('.');
    return { kind: 'field', base: v!, path };
  }
  if (/^[A-Za-z_]\w*$/.test(t)) return { kind: 'ident', name: t };
  throw new TemplateError(`bad token ${JSON.stringify(t)}`);
}

// ---------- parsing the template ----------

interface RawAction { text: string }

function split(src: string): (string | RawAction)[] {
  const out: (string | RawAction)[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) { out.push(src.slice(i)); break; }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) { text = text.replace(/\s+$/, ''); start += 1; }
    const close = src.indexOf('}}', start);
    if (close < 0) throw new TemplateError('unclosed action');
    let end = close;
    let trimRight = false;
    if (src[close - 1] === '-' && /\s/.test(src[close - 2] ?? '')) { end = close - 1; trimRight = true; }
    if (text) out.push(text);
    const body = src.slice(start, end).trim();
    if (!body.startsWith('/*')) out.push({ text: body });
    i = close + 2;
    if (trimRight) while (i < src.length && /\s/.test(src[i]!)) i++;
  }
  return out;
}

function parse(src: string): Node[] {
  const items = split(src);
  let pos = 0;
  const parseList = (terminators: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < items.length) {
      const it = items[pos++]!;
      if (typeof it === 'string') { nodes.push({ kind: 'text', text: it }); continue; }
      const word = it.text.split(/\s+/)[0]!;
      if (terminators.includes(word)) return { nodes, end: it.text };
      if (word === 'if' || word === 'with') {
        const cond = parsePipeline(tokenize(it.text.slice(word.length)));
        const branches = [{ cond, body: [] as Node[] }];
        let elseBody: Node[] | undefined;
        for (;;) {
          const r = parseList(['else', 'end']);
          branches[branches.length - 1]!.body = r.nodes;
          if (r.end === 'end') break;
          const rest = r.end.slice(4).trim();
          if (word === 'if' && rest.startsWith('if ')) {
            branches.push({ cond: parsePipeline(tokenize(rest.slice(3))), body: [] });
            continue;
          }
          const e = parseList(['end']);
          elseBody = e.nodes;
          break;
        }
        if (word === 'if') nodes.push({ kind: 'if', branches, elseBody });
        else nodes.push({ kind: 'with', pipe: cond, body: branches[0]!.body, elseBody });
        continue;
      }
      if (word === 'range') {
        const pipe = parsePipeline(tokenize(it.text.slice(5)));
        const [a, b] = pipe.decl;
        const r = parseList(['else', 'end']);
        let elseBody: Node[] | undefined;
        if (r.end !== 'end') elseBody = parseList(['end']).nodes;
        nodes.push({ kind: 'range', pipe: { ...pipe, decl: [] }, keyVar: b ? a : undefined, valVar: b ?? a, body: r.nodes, elseBody });
        continue;
      }
      if (word === 'end' || word === 'else') throw new TemplateError(`unexpected {{${word}}}`);
      nodes.push({ kind: 'action', pipe: parsePipeline(tokenize(it.text)) });
    }
    if (terminators.length) throw new TemplateError(`unexpected EOF: missing {{end}}`);
    return { nodes, end: '' };
  };
  return parseList([]).nodes;
}

// ---------- evaluation ----------

/** Go's notion of "empty" for if/with/and/or/not. */
export function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Go's %v rendering, as docker's templates print values. */
export function goString(v: Value): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(goInner).join(' ')}]`;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goInner((v as Record<string, Value>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

function goInner(v: Value): string {
  return v === undefined || v === null ? '<nil>' : goString(v);
}

function fieldOf(v: Value, name: string): Value {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Map) return v.get(name);
  if (typeof v === 'object') {
    const o = v as Record<string, Value>;
    if (name in o) {
      const f = o[name];
      return typeof f === 'function' ? (f as () => Value).call(o) : f;
    }
    return undefined;
  }
  throw new TemplateError(`can't evaluate field ${name} in type ${typeof v}`);
}

function printf(fmt: string, ...args: Value[]): string {
  let i = 0;
  return fmt.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([vsdqtxXf%])/g, (_m, flags: string, width: string, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let s: string;
    switch (verb) {
      case 'd': s = String(Math.trunc(Number(a))); break;
      case 'f': s = Number(a).toFixed(prec === undefined ? 6 : Number(prec)); break;
      case 'q': s = JSON.stringify(goString(a)); break;
      case 'x': s = typeof a === 'number' ? a.toString(16) : Buffer.from(goString(a)).toString('hex'); break;
      case 'X': s = (typeof a === 'number' ? a.toString(16) : Buffer.from(goString(a)).toString('hex')).toUpperCase(); break;
      default: s = goString(a); if (prec !== undefined && verb === 's') s = s.slice(0, Number(prec));
    }
    const w = Number(width || 0);
    if (s.length < w) s = flags.includes('-') ? s.padEnd(w) : s.padStart(w, flags.includes('0') ? '0' : ' ');
    return s;
  });
}

const BUILTINS: Record<string, TemplateFunc> = {
  json: (v) => JSON.stringify(v === undefined ? null : v),
  join: (list, sep) => (Array.isArray(list) ? list.map(goString).join(String(sep ?? '')) : goString(list)),
  split: (s, sep) => String(s).split(String(sep)),
  lower: (s) => goString(s).toLowerCase(),
  upper: (s) => goString(s).toUpperCase(),
  title: (s) => goString(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  truncate: (s, n) => [...goString(s)].slice(0, Number(n)).join(''),
  pad: (s, l, r) => ' '.repeat(Number(l)) + goString(s) + ' '.repeat(Number(r)),
  println: (...a) => a.map(goString).join(' ') + '\n',
  print: (...a) => a.map(goString).join(''),
  printf: (fmt, ...a) => printf(String(fmt), ...a),
  len: (v) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (v instanceof Map) return v.size;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw new TemplateError(`len of ${goString(v)}`);
  },
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) {
      if (cur === undefined || cur === null) return undefined;
      if (Array.isArray(cur)) {
        const n = Number(k);
        if (!Number.isInteger(n) || n < 0 || n >= cur.length) throw new TemplateError(`index out of range: ${goString(k)}`);
        cur = cur[n];
      } else cur = fieldOf(cur, String(k));
    }
    return cur;
  },
  not: (v) => !truthy(v),
  and: (...a) => { for (const x of a) if (!truthy(x)) return x; return a[a.length - 1]; },
  or: (...a) => { for (const x of a) if (truthy(x)) return x; return a[a.length - 1]; },
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
  lt: (a, b) => (a as number) < (b as number),
  le: (a, b) => (a as number) <= (b as number),
  gt: (a, b) => (a as number) > (b as number),
  ge: (a, b) => (a as number) >= (b as number),
};

class Scope {
  readonly vars: Map<string, Value>[];
  constructor(dot: Value) { this.vars = [new Map([['$', dot]])]; }
  get(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.has(name)) return this.vars[i]!.get(name);
    throw new TemplateError(`undefined variable: ${name}`);
  }
  set(name: string, v: Value, assign: boolean): void {
    if (assign) {
      for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.has(name)) { this.vars[i]!.set(name, v); return; }
      throw new TemplateError(`undefined variable: ${name}`);
    }
    this.vars[this.vars.length - 1]!.set(name, v);
  }
  push(): void { this.vars.push(new Map()); }
  pop(): void { this.vars.pop(); }
}

export class GoTemplate {
  private readonly nodes: Node[];
  private readonly funcs: Record<string, TemplateFunc>;

  constructor(source: string, funcs: Record<string, TemplateFunc> = {}) {
    this.nodes = parse(source);
    this.funcs = { ...BUILTINS, ...funcs };
  }

  execute(data: Value): string {
    const out: string[] = [];
    this.run(this.nodes, data, new Scope(data), out);
    return out.join('');
  }

  private run(nodes: Node[], dot: Value, scope: Scope, out: string[]): void {
    for (const n of nodes) {
      switch (n.kind) {
        case 'text': out.push(n.text); break;
        case 'action': {
          const v = this.pipe(n.pipe, dot, scope);
          if (n.pipe.decl.length === 0) out.push(goString(v));
          break;
        }
        case 'if': {
          const b = n.branches.find((br) => truthy(this.pipe(br.cond, dot, scope)));
          const body = b ? b.body : n.elseBody;
          if (body) { scope.push(); this.run(body, dot, scope, out); scope.pop(); }
          break;
        }
        case 'with': {
          const v = this.pipe(n.pipe, dot, scope);
          scope.push();
          if (truthy(v)) this.run(n.body, v, scope, out);
          else if (n.elseBody) this.run(n.elseBody, dot, scope, out);
          scope.pop();
          break;
        }
        case 'range': {
          const v = this.pipe(n.pipe, dot, scope);
          const entries: [Value, Value][] = Array.isArray(v)
            ? v.map((x, i) => [i, x])
            : v instanceof Map ? [...v.entries()].sort((a, b) => String(a[0]).localeCompare(String(b[0])))
            : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => [k, (v as Record<string, Value>)[k]])
            : typeof v === 'number' ? Array.from({ length: v }, (_x, i) => [i, i])
            : [];
          if (entries.length === 0) { if (n.elseBody) this.run(n.elseBody, dot, scope, out); break; }
          for (const [k, x] of entries) {
            scope.push();
            if (n.keyVar) scope.set(n.keyVar, k, false);
            if (n.valVar) scope.set(n.valVar, x, false);
            this.run(n.body, x, scope, out);
            scope.pop();
          }
          break;
        }
      }
    }
  }

  private pipe(p: Pipeline, dot: Value, scope: Scope): Value {
    let prev: Value;
    let first = true;
    for (const cmd of p.cmds) {
      prev = this.command(cmd, dot, scope, first ? [] : [prev]);
      first = false;
    }
    if (p.decl.length) scope.set(p.decl[0]!, prev, p.assign);
    return prev;
  }

  private command(cmd: Arg[], dot: Value, scope: Scope, piped: Value[]): Value {
    const head = cmd[0]!;
    if (head.kind === 'ident') {
      const f = this.funcs[head.name];
      if (!f) throw new TemplateError(`function "${head.name}" not defined`);
      const args = [...cmd.slice(1).map((a) => this.arg(a, dot, scope)), ...piped];
      return f(...args);
    }
    if (cmd.length > 1 || piped.length) {
      // A method with arguments, as {{.Label "com.example"}} on docker's ps rows.
      if (head.kind === 'field' && head.path.length > 0) {
        let recv = head.base === 'dot' ? dot : scope.get(head.base);
        for (const name of head.path.slice(0, -1)) recv = fieldOf(recv, name);
        const m = recv !== null && typeof recv === 'object' ? (recv as Record<string, Value>)[head.path[head.path.length - 1]!] : undefined;
        if (typeof m === 'function') {
          const args = [...cmd.slice(1).map((a) => this.arg(a, dot, scope)), ...piped];
          return (m as (...a: Value[]) => Value).apply(recv, args);
        }
      }
      throw new TemplateError(`can't give argument to non-function ${describe(head)}`);
    }
    return this.arg(head, dot, scope);
  }

  private arg(a: Arg, dot: Value, scope: Scope): Value {
    switch (a.kind) {
      case 'string': case 'number': case 'bool': return a.value;
      case 'nil': return null;
      case 'sub': {
        let v = this.pipe(a.pipe, dot, scope);
        for (const name of a.path ?? []) v = fieldOf(v, name);
        return v;
      }
      case 'ident': {
        const f = this.funcs[a.name];
        if (!f) throw new TemplateError(`function "${a.name}" not defined`);
        return f();
      }
      case 'field': {
        let v = a.base === 'dot' ? dot : scope.get(a.base);
        for (const name of a.path) v = fieldOf(v, name);
        return v;
      }
    }
  }
}

function describe(a: Arg): string {
  return a.kind === 'field' ? (a.base === 'dot' ? '.' + a.path.join('.') : [a.base, ...a.path].join('.')) : a.kind;
}
