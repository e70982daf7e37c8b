// Times as docker prints them: Go's time.Time.String() for CreatedAt columns,
// and RFC 3339 parsing of the API's timestamps.

/** "2026-11-28 07:39:34 +0000 UTC" (the local zone, as Go prints it). */
export function goTimeString(d: Date): string {
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60_000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  let zone = 'UTC';
  if (off !== 0) {
    const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName');
    zone = part?.value ?? `${sign}${p(Math.floor(a / 60))}${p(a % 60)}`;
  }
  return `${local.getUTCFullYear()}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())} ${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())} ${sign}${p(Math.floor(a / 60))}${p(a % 60)} ${zone}`;
}

/** Go's zero time (0001-01-01T00:00:00Z) means "never". */
export function isZeroTime(s: string | undefined): boolean {
  return !s || s.startsWith('0001-01-01');
}

/**
 * --since/--until values: RFC 3339 dates, Unix seconds (with fractions), or
 * durations relative to now ("10m", "1h30m"); as the API's seconds string.
 */
export function timestampArg(value: string, now = Date.now()): string {
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  const dur = parseGoDuration(value);
  if (dur !== undefined) return ((now - dur) / 1000).toFixed(9);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new Error(`invalid value for "since": ${value}`);
  return (t / 1000).toFixed(9);
}

/** Go's time.ParseDuration: "1h30m", "10s", "250ms"; undefined if not one. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([+-])?((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(s);
  if (!m) return s === '0' ? 0 : undefined;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * unit[part[2]!]!;
  return m[1] === '-' ? -total : total;
}
