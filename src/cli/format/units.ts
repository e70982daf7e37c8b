// Human sizes and durations exactly as docker prints them (go-units).

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Go's %.4g: at most `precision` significant digits, no trailing zeros. */
function significant(n: number, precision: number): string {
  return String(Number(n.toPrecision(precision)));
}

function scaled(size: number, base: number, units: string[], precision: number): string {
  let i = 0;
  while (size >= base && i < units.length - 1) { size /= base; i++; }
  return `${significant(size, precision)}${units[i]}`;
}

/** "1.23kB", "12.3MB": docker images, ps --size, system df (go-units HumanSizeWithPrecision(n, 3)). */
export function humanSize(bytes: number): string {
  return scaled(bytes, 1000, DECIMAL, 3);
}

/** "1.5MiB": docker stats memory (go-units BytesSize). */
export function bytesSize(bytes: number): string {
  return scaled(bytes, 1024, BINARY, 4);
}

/** "Less than a second", "About a minute", "3 hours": go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(ms / 60_000);
  const hours = Math.round(ms / 3_600_000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** "2 hours ago" as the CREATED columns print it. */
export function timeAgo(then: Date, now = new Date()): string {
  return `${humanDuration(now.getTime() - then.getTime())} ago`;
}
