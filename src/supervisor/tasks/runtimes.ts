// Which OCI runtime binary a container's runtime name selects. "dray" or ""
// is the built-in runtime: the plan is computed in-process and the shim runs
// the executor; its bin/dray-runc is only for the verbs the shim still runs
// (exec, kill --all). "io.containerd.runc.v2" is accepted as containerd names runc.
import { accessSync, constants } from 'node:fs';
import { invalidArgument } from '../errors.ts';
import { repoPath } from '../../common/paths.ts';

const DRAY_RUNC = repoPath('bin/dray-runc');

const BY_NAME: Record<string, string> = {
  'dray': DRAY_RUNC,
  'dray-runc': DRAY_RUNC,
  'runc': 'runc',
  'io.containerd.runc.v2': 'runc',
  'io.containerd.runc.v1': 'runc',
  'crun': 'crun',
};

/** The binary (a PATH name or an absolute path) for a runtime name; an absolute path must be an executable file. */
export function runtimeBinary(name: string): string {
  if (name === '') return DRAY_RUNC;
  const known = BY_NAME[name];
  if (known) return known;
  if (name.startsWith('/')) {
    try {
      accessSync(name, constants.X_OK);
    } catch {
      throw invalidArgument(`runtime ${JSON.stringify(name)} is not an executable file`);
    }
    return name;
  }
  throw invalidArgument(`unknown runtime ${JSON.stringify(name)}: use dray, runc, crun, io.containerd.runc.v2 or an absolute path to a runc-compatible binary`);
}

/** The built-in runtime (the runtime library in-process, the executor started by the shim)? */
export function isBuiltin(name: string): boolean {
  return name === 'dray' || name === '';
}

/** A short name for the runtime's --root directory. */
export function runtimeKey(name: string): string {
  if (isBuiltin(name)) return 'dray';
  return (BY_NAME[name] ?? name).replace(/^.*\//, '').replace(/[^A-Za-z0-9_.-]/g, '_') || 'runtime';
}
