// `commit --change` / `import --change`: Dockerfile instructions applied to
// an image config as dockerd 20.10 does (its builder's BuildFromConfig):
// the lines are parsed as one Dockerfile (comments, blank lines, `\` line
// continuations), only CMD ENTRYPOINT ENV EXPOSE HEALTHCHECK LABEL ONBUILD
// USER VOLUME WORKDIR are allowed (STOPSIGNAL is not, in 20.10), words are
// expanded with the config's Env as it stands before each instruction, and
// every error is a 400 with dockerd's text. Phases run in dockerd's order:
// line syntax, allowed commands, arguments and flags, then the instructions.
import { badRequest } from '../api/errors.ts';
import type { ContainerConfig } from '../../images/manifest/config.ts';

const ALLOWED = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'user', 'volume', 'workdir']);
const NOT_STRINGS = 'when using JSON array syntax, arrays must be comprised of strings only';

interface Line {
  cmd: string; // lower case
  name: string; // upper case, for messages
  flags: string[];
  rest: string;
  original: string;
  pairs?: [string, string][];
  json?: string[];
}

type Instruction =
  | { kind: 'env' | 'label'; pairs: [string, string][] }
  | { kind: 'cmd' | 'entrypoint'; json: boolean; list: string[] | null }
  | { kind: 'expose'; ports: string[] }
  | { kind: 'user' | 'workdir'; value: string }
  | { kind: 'volume'; paths: string[] }
  | { kind: 'onbuild'; expression: string }
  | { kind: 'healthcheck'; health: NonNullable<ContainerConfig['Healthcheck']> };

/** The config with the changes applied; no changes leaves it as it is. Throws Docker's 400. */
export function applyChanges(config: ContainerConfig, changes: string[]): ContainerConfig {
  if (changes.length === 0) return config;
  const lines = parseLines(changes.join('\n'));
  for (const l of lines) if (!ALLOWED.has(l.cmd)) throw badRequest(`${l.cmd} is not a valid change command`);
  const instructions = lines.map(parseInstruction);
  const out: ContainerConfig = structuredClone(config);
  let cmdSet = false;
  for (const ins of instructions) {
    const env = [...(out.Env ?? [])];
    const word = (w: string): string => processWord(w, env);
    switch (ins.kind) {
      case 'env':
        for (const [k, v] of ins.pairs) {
          const key = word(k);
          const entry = `${key}=${word(v)}`;
          const list = out.Env ?? [];
          const i = list.findIndex((e) => e.split('=')[0] === key);
          if (i === -1) list.push(entry); else list[i] = entry;
          out.Env = list;
        }
        break;
      case 'label':
        for (const [k, v] of ins.pairs) out.Labels = { ...(out.Labels ?? {}), [word(k)]: word(v) };
        break;
      case 'cmd':
      case 'entrypoint': {
        const shell = out.Shell?.length ? out.Shell : ['/bin/sh', '-c'];
        const value = ins.list === null ? null : ins.json ? ins.list : [...shell, ...ins.list];
        if (ins.kind === 'cmd') {
          out.Cmd = value;
          if (ins.list && ins.list.length) cmdSet = true;
        } else {
          out.Entrypoint = value;
          if (!cmdSet) out.Cmd = null;
        }
        break;
      }
      case 'expose': {
        const ports = ins.ports.flatMap((p) => word(p).split(/\s+/).filter(Boolean));
        const exposed = { ...(out.ExposedPorts ?? {}) };
        for (const p of ports) for (const k of exposedPorts(p)) exposed[k] = {};
        out.ExposedPorts = exposed;
        break;
      }
      case 'user':
        out.User = word(ins.value);
        break;
      case 'workdir':
        out.WorkingDir = normalizeWorkdir(out.WorkingDir ?? '', word(ins.value));
        break;
      case 'volume': {
        const vols = { ...(out.Volumes ?? {}) };
        for (const p of ins.paths) {
          const v = word(p);
          if (v === '') throw badRequest('VOLUME specified can not be an empty string');
          vols[v] = {};
        }
        out.Volumes = vols;
        break;
      }
      case 'onbuild':
        out.OnBuild = [...(out.OnBuild ?? []), ins.expression];
        break;
      case 'healthcheck':
        out.Healthcheck = ins.health;
        break;
    }
  }
  return out;
}

/**
 * dockerd's merge of the changed config with the container's (commit): what
 * the changes left empty comes from the container; Env, Labels, ports and
 * volumes are unions; Cmd and Entrypoint only when no Entrypoint is set.
 */
export function mergeCommitConfig(user: ContainerConfig, base: ContainerConfig): ContainerConfig {
  const out: ContainerConfig = { ...user };
  if (!out.User) out.User = base.User ?? '';
  out.ExposedPorts = { ...(base.ExposedPorts ?? {}), ...(out.ExposedPorts ?? {}) };
  if (Object.keys(out.ExposedPorts).length === 0) delete out.ExposedPorts;
  if (!out.Env?.length) out.Env = base.Env;
  else for (const e of base.Env ?? []) if (!out.Env.some((u) => u.split('=')[0] === e.split('=')[0])) out.Env = [...out.Env, e];
  out.Labels = { ...(base.Labels ?? {}), ...(out.Labels ?? {}) };
  if (!out.Entrypoint?.length) {
    if (!out.Cmd?.length) out.Cmd = base.Cmd ?? null;
    if (out.Entrypoint === null || out.Entrypoint === undefined) out.Entrypoint = base.Entrypoint ?? null;
  }
  if (base.Healthcheck) {
    // a changed healthcheck takes the container's values for the fields it leaves zero
    const h = { ...(out.Healthcheck ?? {}) };
    const b = base.Healthcheck;
    if (!h.Test?.length && b.Test) h.Test = b.Test;
    for (const k of ['Interval', 'Timeout', 'StartPeriod', 'Retries'] as const) if (!h[k] && b[k]) h[k] = b[k];
    out.Healthcheck = h;
  }
  if (!out.WorkingDir) out.WorkingDir = base.WorkingDir ?? '';
  if (!Object.keys(out.Volumes ?? {}).length) out.Volumes = base.Volumes;
  else out.Volumes = { ...(out.Volumes ?? {}), ...(base.Volumes ?? {}) };
  if (!out.StopSignal && base.StopSignal) out.StopSignal = base.StopSignal;
  return out;
}

// ---- the Dockerfile lines

function parseLines(text: string): Line[] {
  const raw = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const out: Line[] = [];
  const isComment = (l: string): boolean => /^\s*#/.test(l);
  const cont = (l: string): [string, boolean] => { const m = /\\[ \t]*$/.exec(l); return m ? [l.slice(0, m.index), true] : [l, false]; };
  for (let i = 0; i < raw.length; i++) {
    const first = raw[i]!.replace(/^\s+/, '');
    if (first === '' || isComment(first)) continue;
    let [line, more] = cont(first);
    while (more && i + 1 < raw.length) {
      const next = raw[++i]!;
      if (isComment(next) || next.trim() === '') continue;
      const [part, again] = cont(next);
      line += part;
      more = again;
    }
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const m = /^(\S+)(?:[\t\v\f\r ]+([\s\S]*))?$/.exec(trimmed)!;
    const cmd = m[1]!.toLowerCase();
    const { flags, rest } = extractFlags(m[2] ?? '');
    const l: Line = { cmd, name: cmd.toUpperCase(), flags, rest, original: trimmed };
    parseSyntax(l);
    out.push(l);
  }
  if (out.length === 0) throw badRequest('file with no instructions');
  return out;
}

/** Leading `--name[=value]` words (any instruction may carry them; only HEALTHCHECK knows any). */
function extractFlags(s: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let rest = s;
  for (;;) {
    const m = /^(--\S*)(?:\s+|$)/.exec(rest);
    if (!m) break;
    rest = rest.slice(m[0].length);
    if (m[1] === '--') break;
    flags.push(m[1]!);
  }
  return { flags, rest };
}

/** The line-level checks of dockerd's parser: ENV/LABEL pairs, JSON arrays of strings. */
function parseSyntax(l: Line): void {
  if (l.cmd === 'env' || l.cmd === 'label') {
    const words = splitWords(l.rest);
    if (words.length === 0) return;
    if (!words[0]!.includes('=')) {
      const parts = l.rest.split(/[\t\v\f\r ]+/);
      if (parts.length < 2) throw badRequest(`${l.name} must have two arguments`);
      const key = parts[0]!;
      l.pairs = [[key, l.rest.slice(key.length).replace(/^[\t\v\f\r ]+/, '')]];
      return;
    }
    l.pairs = words.map((w) => {
      const i = w.indexOf('=');
      if (i === -1) throw badRequest(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
      return [w.slice(0, i), w.slice(i + 1)];
    });
    return;
  }
  const jsonForm = l.cmd === 'cmd' || l.cmd === 'entrypoint' || l.cmd === 'volume' || l.cmd === 'healthcheck';
  if (!jsonForm) return;
  const text = l.cmd === 'healthcheck' ? l.rest.replace(/^\S+\s*/, '') : l.rest;
  const arr = jsonArray(text);
  if (arr) l.json = arr;
}

/** A JSON array of strings, or undefined when the text is no JSON array (shell form); an array of non-strings is an error. */
function jsonArray(text: string): string[] | undefined {
  const t = text.trimStart();
  if (!t.startsWith('[')) return undefined;
  let v: unknown;
  try { v = JSON.parse(t); } catch { return undefined; }
  if (!Array.isArray(v)) return undefined;
  if (v.some((x) => typeof x !== 'string')) throw badRequest(NOT_STRINGS);
  return v as string[];
}

/** Words split on blanks outside quotes; quotes and escapes stay in the words (as dockerd's parseWords). */
function splitWords(s: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote !== "'") {
        if (i + 1 === s.length) continue;
        word += ch;
        word += s[++i]!;
        continue;
      }
      word += ch;
      continue;
    }
    if (/\s/.test(ch)) {
      if (inWord && (blankOk || word.length)) words.push(word);
      word = ''; inWord = false; blankOk = false;
      continue;
    }
    inWord = true;
    if (ch === "'" || ch === '"') { quote = ch; blankOk = true; }
    if (ch === '\\') {
      if (i + 1 === s.length) continue;
      word += ch + s[++i]!;
      continue;
    }
    word += ch;
  }
  if (inWord && (blankOk || word.length)) words.push(word);
  return words;
}

// ---- the instructions' arguments and flags

function parseInstruction(l: Line): Instruction {
  const atLeastOne = (): never => { throw badRequest(`${l.name} requires at least one argument`); };
  if (l.cmd !== 'healthcheck' && l.flags.length) throw badRequest(`Unknown flag: ${flagName(l.flags[0]!)}`);
  switch (l.cmd) {
    case 'env':
    case 'label': {
      if (!l.pairs?.length) atLeastOne();
      if (l.pairs!.some(([k]) => k === '')) throw badRequest(`${l.name} names can not be blank`);
      return { kind: l.cmd, pairs: l.pairs! };
    }
    case 'cmd':
    case 'entrypoint': {
      let list: string[] | null = l.json ?? (l.rest === '' ? [] : [l.rest]);
      if (l.cmd === 'entrypoint' && list.length === 0) list = null;
      return { kind: l.cmd, json: l.json !== undefined, list };
    }
    case 'expose': {
      const ports = l.rest.split(/[\t\v\f\r ]+/).filter(Boolean);
      if (!ports.length) atLeastOne();
      return { kind: 'expose', ports };
    }
    case 'user':
    case 'workdir':
      if (l.rest === '') throw badRequest(`${l.name} requires exactly one argument`);
      return { kind: l.cmd, value: l.rest };
    case 'volume': {
      const paths = l.json ?? l.rest.split(/[\t\v\f\r ]+/).filter(Boolean);
      if (!paths.length) atLeastOne();
      return { kind: 'volume', paths };
    }
    case 'onbuild': {
      if (l.rest === '') atLeastOne();
      const trigger = l.rest.split(/\s+/)[0]!.toUpperCase();
      if (trigger === 'ONBUILD') throw badRequest('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw badRequest(`${trigger} isn't allowed as an ONBUILD trigger`);
      return { kind: 'onbuild', expression: l.original.replace(/^\s*ONBUILD\s+/i, '') };
    }
    default:
      return parseHealthcheck(l);
  }
}

function flagName(f: string): string {
  const s = f.slice(2);
  const i = s.indexOf('=');
  return i === -1 ? s : s.slice(0, i);
}

function parseHealthcheck(l: Line): Instruction {
  if (l.rest === '') throw badRequest('HEALTHCHECK requires at least one argument');
  const typ = l.rest.split(/\s/)[0]!.toUpperCase();
  const after = l.rest.slice(typ.length).replace(/^\s+/, '');
  if (typ === 'NONE') {
    if (after !== '') throw badRequest('HEALTHCHECK NONE takes no arguments');
    return { kind: 'healthcheck', health: { Test: ['NONE'] } };
  }
  const values: Record<string, string> = {};
  for (const f of l.flags) {
    const name = flagName(f);
    if (!['interval', 'timeout', 'start-period', 'retries'].includes(name)) throw badRequest(`Unknown flag: ${name}`);
    if (!f.includes('=')) throw badRequest(`Missing a value on flag: ${name}`);
    values[name] = f.slice(f.indexOf('=') + 1);
  }
  if (typ !== 'CMD') throw badRequest(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = l.json ?? (after === '' ? [] : [after]);
  if (cmd.length === 0) throw badRequest('Missing command after HEALTHCHECK CMD');
  const health: NonNullable<ContainerConfig['Healthcheck']> = { Test: [l.json ? 'CMD' : 'CMD-SHELL', ...cmd] };
  const interval = (name: string): number => {
    const v = values[name];
    if (v === undefined || v === '') return 0;
    const ns = parseGoDuration(v);
    if (ns < 1_000_000) throw badRequest(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
    return ns;
  };
  const iv = interval('interval'); if (iv) health.Interval = iv;
  const to = interval('timeout'); if (to) health.Timeout = to;
  const sp = interval('start-period'); if (sp) health.StartPeriod = sp;
  const r = values['retries'];
  if (r !== undefined && r !== '') {
    if (!/^[+-]?\d+$/.test(r)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(r)}: invalid syntax`);
    const n = Number(r);
    if (n < 1) throw badRequest(`--retries must be at least 1 (not ${n})`);
    health.Retries = n;
  }
  return { kind: 'healthcheck', health };
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds, with its error texts. */
export function parseGoDuration(s: string): number {
  const bad = (): never => { throw badRequest(`time: invalid duration ${JSON.stringify(s)}`); };
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) { if (rest[0] === '-') sign = -1; rest = rest.slice(1); }
  if (rest === '0') return 0;
  if (rest === '') bad();
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (m[0] === '' || m[0] === '.') bad();
    rest = rest.slice(m[0].length);
    const u = /^[^\d.]*/.exec(rest)![0];
    if (u === '') throw badRequest(`time: missing unit in duration ${JSON.stringify(s)}`);
    const scale = UNITS[u];
    if (scale === undefined) throw badRequest(`time: unknown unit ${JSON.stringify(u)} in duration ${JSON.stringify(s)}`);
    rest = rest.slice(u.length);
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * scale;
  }
  return sign * Math.round(total);
}

// ---- what the instructions do

function normalizeWorkdir(current: string, requested: string): string {
  if (requested === '') throw badRequest('cannot normalize nothing');
  if (requested.startsWith('/')) return requested;
  return cleanPath(`/${current}/${requested}`);
}

function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop(); else out.push(part);
  }
  return '/' + out.join('/');
}

/** EXPOSE's port spec (`[ip:][hostPort:]port[-end][/proto]`) as the ExposedPorts keys it names. */
function exposedPorts(spec: string): string[] {
  const slash = spec.lastIndexOf('/');
  let proto = 'tcp';
  let rest = spec;
  if (slash !== -1) {
    if (spec.slice(slash + 1) !== '') proto = spec.slice(slash + 1).toLowerCase();
    rest = spec.slice(0, slash);
  }
  const container = rest.slice(rest.lastIndexOf(':') + 1);
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw badRequest(`Invalid proto: ${proto}`);
  const m = /^(\d+)(?:-(\d+))?$/.exec(container);
  const start = m ? Number(m[1]) : NaN;
  const end = m?.[2] !== undefined ? Number(m[2]) : start;
  if (!m || start > 65535 || end > 65535 || end < start) throw badRequest(`Invalid containerPort: ${container}`);
  const keys: string[] = [];
  for (let p = start; p <= end; p++) keys.push(`${p}/${proto}`);
  return keys;
}

/**
 * One word as Dockerfile instructions expand them: quotes removed ('...'
 * literal, "..." with \" \$ \\ escapes), backslash escapes, $VAR and ${VAR}
 * with :- :+ - + forms, from env (KEY=value entries).
 */
export function processWord(w: string, env: string[]): string {
  const vars = new Map<string, string>();
  for (const e of env) { const i = e.indexOf('='); if (i > 0) vars.set(e.slice(0, i), e.slice(i + 1)); }
  let i = 0;
  const dollar = (): string => {
    // at w[i] === '$'
    i++;
    if (w[i] === '{') {
      const close = w.indexOf('}', i);
      if (close === -1) throw badRequest("missing '}'");
      const body = w.slice(i + 1, close);
      i = close + 1;
      const m = /^([A-Za-z0-9_]+)(?::?[-+])?/.exec(body);
      if (!m) throw badRequest(`bad substitution`);
      const name = m[1]!;
      const op = body.slice(name.length, m[0].length);
      const word = processWord(body.slice(m[0].length), env);
      const v = vars.get(name);
      switch (op) {
        case '': return v ?? '';
        case ':-': return v ? v : word;
        case '-': return v !== undefined ? v : word;
        case ':+': return v ? word : '';
        default: return v !== undefined ? word : '';
      }
    }
    const m = /^[A-Za-z0-9_]+/.exec(w.slice(i));
    if (!m) return '$';
    i += m[0].length;
    return vars.get(m[0]) ?? '';
  };
  let out = '';
  while (i < w.length) {
    const ch = w[i]!;
    if (ch === "'") {
      const close = w.indexOf("'", i + 1);
      if (close === -1) throw badRequest('unexpected end of statement while looking for matching single-quote');
      out += w.slice(i + 1, close);
      i = close + 1;
    } else if (ch === '"') {
      i++;
      for (;;) {
        if (i >= w.length) throw badRequest('unexpected end of statement while looking for matching double-quote');
        const c = w[i]!;
        if (c === '"') { i++; break; }
        if (c === '\\' && (w[i + 1] === '"' || w[i + 1] === '$' || w[i + 1] === '\\')) { out += w[i + 1]; i += 2; continue; }
        if (c === '$') { out += dollar(); continue; }
        out += c;
        i++;
      }
    } else if (ch === '\\') {
      if (i + 1 < w.length) out += w[i + 1];
      i += 2;
    } else if (ch === '$') {
      out += dollar();
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}
