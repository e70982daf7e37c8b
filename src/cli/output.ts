// Output as docker's formatter writes it: --format templates with the
// `table` directive and header names, `json`, tab-aligned tables, ID
// truncation, ellipsis, and JSON encoded as Go's encoder does (<, >, &
// escaped as \u003c, \u003e, \u0026).
import { GoTemplate, TemplateError, goString, type TemplateFunc } from './format/go-template.ts';
import { tabwrite } from './format/tabwriter.ts';
import { CliError } from './command.ts';

/** JSON as Go's encoding/json writes it (HTML-safe escapes). */
export function goJson(v: unknown, indent?: string): string {
  const s = JSON.stringify(v === undefined ? null : v, null, indent) ?? 'null';
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export const TEMPLATE_FUNCS: Record<string, TemplateFunc> = {
  json: (v) => goJson(v),
};

export function template(src: string): GoTemplate {
  try {
    return new GoTemplate(src, TEMPLATE_FUNCS);
  } catch (e) {
    if (e instanceof TemplateError) throw new CliError(`template parsing error: template: :1: ${e.message}`);
    throw e;
  }
}

/** Runs a template, turning its errors into docker's message. */
export function execute(t: GoTemplate, data: unknown): string {
  try {
    return t.execute(data);
  } catch (e) {
    if (e instanceof TemplateError) throw new CliError(`template: :1: executing "" at <.>: ${e.message}`);
    throw e;
  }
}

/** "sha256:abc…" -> first 12 hex digits. */
export function truncateId(id: string): string {
  const s = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return s.slice(0, 12);
}

export function stripAlgo(id: string): string {
  return id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
}

/** Docker's Ellipsis: at most max display characters, the last one "…" when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 1) return chars.slice(0, max).join('');
  return chars.slice(0, max - 1).join('') + '…';
}

/** Go's strconv.Quote for the strings docker quotes (COMMAND column). */
export function goQuote(s: string): string {
  return goJson(s).replace(/\\u003c/g, '<').replace(/\\u003e/g, '>').replace(/\\u0026/g, '&');
}

export interface FormatSpec<Row> {
  /** --format as given ("" for the default). */
  format: string;
  /** "table {{.ID}}\t..." */
  defaultFormat: string;
  /** Field name -> header text. */
  headers: Record<string, string>;
  quiet?: boolean;
  /** The template used with -q. */
  quietFormat?: string;
  rows: Row[];
}

/** Writes rows through the format, as docker's formatter.Context does. */
export function writeFormatted<Row>(out: NodeJS.WritableStream, spec: FormatSpec<Row>): void {
  let fmt = spec.format;
  if (spec.quiet && (!fmt || fmt === 'table')) fmt = spec.quietFormat ?? '{{.ID}}';
  else if (!fmt) fmt = spec.defaultFormat;
  if (fmt === 'table') fmt = spec.defaultFormat;
  if (fmt === 'json') fmt = '{{json .}}';
  const isTable = fmt.startsWith('table');
  let body = isTable ? fmt.slice(5) : fmt;
  body = body.trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const t = template(body);
  if (!isTable) {
    out.write(spec.rows.map((r) => `${execute(t, r)}\n`).join(''));
    return;
  }
  const lines: string[] = [];
  let header = '';
  try { header = t.execute(spec.headers); } catch { header = ''; }
  const rows = spec.rows.map((r) => execute(t, r));
  // tabwriter works on lines; a row template may itself produce several.
  const text = [header, ...rows].join('\n');
  for (const l of text.split('\n')) lines.push(l);
  out.write(tabwrite(lines));
}

/** --format for inspect-like commands: one template run per object, or JSON indented. */
export function writeInspect(out: NodeJS.WritableStream, objects: unknown[], format: string): void {
  if (!format) {
    out.write(`${goJson(objects, '    ')}\n`);
    return;
  }
  if (format === 'json') format = '{{json .}}';
  const t = template(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
  for (const o of objects) out.write(`${execute(t, o)}\n`);
}

export { goString };

/** go-units HumanSize (4 significant digits): "1.986MB", as VIRTUAL SIZE and `stats` print. */
export function humanSize4(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let i = 0;
  let n = bytes;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}
