// The local driver's options (docker volume create -o type=… -o device=… -o o=…),
// validated as Docker validates them, plus checks Docker leaves to mount time:
// a bind-backed volume's device must be an existing absolute directory
// outside the data root, and tmpfs data must be options tmpfs knows.
import { statSync } from 'node:fs';
import { parseOptions } from '../images/snapshots/mount.ts';
import { badRequest } from '../engine/api/errors.ts';
import { cleanPath, hasDotDot, isWithin, realpathOrUndefined } from './paths.ts';

const VALID = new Set(['type', 'o', 'device', 'size']);
/** Each option needs the ones listed (Docker's mandatoryOpts, checked in this order). */
const MANDATORY: [string, string[]][] = [['device', ['type']], ['type', ['device']], ['o', ['device', 'type']]];
/** Data options a tmpfs accepts (Docker's validFlags for tmpfs). */
export const TMPFS_DATA_KEYS = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/** What acquiring the volume mounts on its _data: flags and data for mount(2). */
export interface BackendMount {
  type: string;
  device: string;
  flags: number;
  data: string;
  bind: boolean;
}

/**
 * Validates a create request's options for volume `name`; throws Docker's
 * 400 errors ("create <name>: invalid option: \"x\""). dataRoot: the daemon's
 * root, which a bind device may not lie in (nor contain).
 */
export function validateDriverOptions(name: string, opts: Record<string, string> | null | undefined, dataRoot: string): void {
  if (!opts) return;
  const fail = (msg: string): never => {
    throw badRequest(`create ${name}: ${msg}`);
  };
  for (const [k, v] of Object.entries(opts)) {
    if (!VALID.has(k)) fail(`invalid option: ${JSON.stringify(k)}`);
    if (typeof v !== 'string' || v.includes('\0')) fail(`invalid value for option ${JSON.stringify(k)}`);
  }
  if ('size' in opts) fail('quota size requested but no quota support');
  for (const [opt, needs] of MANDATORY) {
    if (!(opt in opts)) continue;
    for (const n of needs) if (!(n in opts)) fail(`missing required option: ${JSON.stringify(n)}`);
  }
  const backend = backendMount(opts);
  if (!backend) return;
  if (backend.type === 'tmpfs') {
    for (const d of backend.data ? backend.data.split(',') : []) {
      const key = d.split('=')[0] as string;
      if (!TMPFS_DATA_KEYS.has(key) || !d.includes('=')) fail(`invalid tmpfs option ${JSON.stringify(d)}`);
    }
  }
  if (backend.bind) {
    const dev = backend.device;
    if (!dev.startsWith('/')) fail(`bind device must be an absolute path: ${JSON.stringify(dev)}`);
    if (hasDotDot(dev)) fail(`bind device must not contain '..': ${JSON.stringify(dev)}`);
    const real = realpathOrUndefined(dev);
    if (real === undefined) fail(`bind device path does not exist: ${dev}`);
    if (!statSync(real as string).isDirectory()) fail(`bind device is not a directory: ${dev}`);
    const root = realpathOrUndefined(dataRoot) ?? cleanPath(dataRoot);
    if (isWithin(real as string, root) || isWithin(root, real as string)) {
      fail(`bind device ${dev} must not be inside the data root or contain it (${root})`);
    }
  }
}

/** The mount a volume with these options needs, or null for a plain directory. */
export function backendMount(opts: Record<string, string> | null | undefined): BackendMount | null {
  if (!opts || !opts.type || !opts.device) return null;
  const o = (opts.o ?? '').split(',').filter(Boolean);
  const { flags, data } = parseOptions(o);
  const bind = o.includes('bind') || o.includes('rbind');
  return { type: opts.type, device: opts.device, flags, data: data.join(','), bind };
}
