// Validates a parsed config.json against the OCI runtime spec's schema and
// its semantic rules (what the schema cannot say: a hostname needs its own
// UTS namespace, uid mappings need a user namespace, ...). The first problem
// found is thrown as one line naming the field; nothing is changed on disk.
import { ConfigError } from '../errors.ts';
import { CAPABILITIES } from '../plan/capabilities.ts';
import { RLIMITS } from '../plan/rlimits.ts';
import type { Process, Spec } from './types.ts';

export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;
const HOOK_STAGES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
const PROPAGATIONS = ['private', 'shared', 'slave', 'unbindable', 'rprivate', 'rshared', 'rslave', 'runbindable'];
const IOPRIO_CLASSES = ['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'];
const UINT32_MAX = 0xffffffff;

type Obj = Record<string, unknown>;

function fail(path: string, msg: string): never {
  throw new ConfigError(`config.json: ${path}: ${msg}`);
}
function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) fail(path, 'must be an object');
  return v;
}
function optObj(o: Obj, key: string, path: string): Obj | undefined {
  return o[key] === undefined ? undefined : obj(o[key], `${path}.${key}`);
}
function str(o: Obj, key: string, path: string, required = false): string | undefined {
  const v = o[key];
  if (v === undefined) { if (required) fail(`${path}.${key}`, 'is required'); return undefined; }
  if (typeof v !== 'string') fail(`${path}.${key}`, 'must be a string');
  return v;
}
function bool(o: Obj, key: string, path: string): void {
  if (o[key] !== undefined && typeof o[key] !== 'boolean') fail(`${path}.${key}`, 'must be a boolean');
}
function int(o: Obj, key: string, path: string, min: number, max: number, required = false): number | undefined {
  const v = o[key];
  if (v === undefined) { if (required) fail(`${path}.${key}`, 'is required'); return undefined; }
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(`${path}.${key}`, 'must be an integer');
  if (v < min || v > max) fail(`${path}.${key}`, `must be between ${min} and ${max}`);
  return v;
}
function arr(o: Obj, key: string, path: string): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(`${path}.${key}`, 'must be an array');
  return v;
}
function strArr(o: Obj, key: string, path: string): string[] | undefined {
  const a = arr(o, key, path);
  a?.forEach((s, i) => { if (typeof s !== 'string') fail(`${path}.${key}[${i}]`, 'must be a string'); });
  return a as string[] | undefined;
}
function absPath(p: string, path: string): void {
  if (!p.startsWith('/')) fail(path, `${JSON.stringify(p)} must be an absolute path`);
  if (p.includes('\0')) fail(path, 'must not contain NUL');
}

function validateMappings(a: unknown[] | undefined, path: string): void {
  a?.forEach((m, i) => {
    const o = obj(m, `${path}[${i}]`);
    int(o, 'containerID', `${path}[${i}]`, 0, UINT32_MAX, true);
    int(o, 'hostID', `${path}[${i}]`, 0, UINT32_MAX, true);
    int(o, 'size', `${path}[${i}]`, 1, UINT32_MAX, true);
  });
}

/** A process.json for `exec --process`: the spec's process object alone. */
export function validateProcessJson(raw: unknown): Process {
  validateProcess(obj(raw, 'process'));
  return raw as Process;
}

function validateProcess(p: Obj): void {
  const path = 'process';
  bool(p, 'terminal', path);
  const cs = optObj(p, 'consoleSize', path);
  if (cs) { int(cs, 'height', `${path}.consoleSize`, 0, 65535, true); int(cs, 'width', `${path}.consoleSize`, 0, 65535, true); }
  const user = obj(p['user'], `${path}.user`);
  int(user, 'uid', `${path}.user`, 0, UINT32_MAX, true);
  int(user, 'gid', `${path}.user`, 0, UINT32_MAX, true);
  int(user, 'umask', `${path}.user`, 0, 0o7777);
  arr(user, 'additionalGids', `${path}.user`)?.forEach((g, i) => {
    if (typeof g !== 'number' || !Number.isInteger(g) || g < 0 || g > UINT32_MAX) fail(`${path}.user.additionalGids[${i}]`, 'must be a uint32');
  });
  const args = strArr(p, 'args', path);
  if (!args || args.length === 0) fail(`${path}.args`, 'must name the program to run');
  strArr(p, 'env', path)?.forEach((e, i) => { if (!e.includes('=') || e.startsWith('=')) fail(`${path}.env[${i}]`, `${JSON.stringify(e)} is not KEY=value`); });
  const cwd = str(p, 'cwd', path, true)!;
  absPath(cwd, `${path}.cwd`);
  const caps = optObj(p, 'capabilities', path);
  if (caps) {
    for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient']) {
      strArr(caps, set, `${path}.capabilities`)?.forEach((c, i) => {
        if (!(c.toUpperCase() in CAPABILITIES)) fail(`${path}.capabilities.${set}[${i}]`, `unknown capability ${JSON.stringify(c)}`);
      });
    }
  }
  const seen = new Set<string>();
  arr(p, 'rlimits', path)?.forEach((r, i) => {
    const o = obj(r, `${path}.rlimits[${i}]`);
    const t = str(o, 'type', `${path}.rlimits[${i}]`, true)!;
    if (!(t in RLIMITS)) fail(`${path}.rlimits[${i}].type`, `unknown rlimit ${JSON.stringify(t)}`);
    if (seen.has(t)) fail(`${path}.rlimits[${i}].type`, `duplicate rlimit ${t}`);
    seen.add(t);
    const soft = int(o, 'soft', `${path}.rlimits[${i}]`, 0, 2 ** 64, true)!;
    const hard = int(o, 'hard', `${path}.rlimits[${i}]`, 0, 2 ** 64, true)!;
    if (soft > hard) fail(`${path}.rlimits[${i}]`, 'soft limit exceeds hard limit');
  });
  bool(p, 'noNewPrivileges', path);
  int(p, 'oomScoreAdj', path, -1000, 1000);
  str(p, 'apparmorProfile', path);
  str(p, 'selinuxLabel', path);
  const io = optObj(p, 'ioPriority', path);
  if (io) {
    const c = str(io, 'class', `${path}.ioPriority`, true)!;
    if (!IOPRIO_CLASSES.includes(c)) fail(`${path}.ioPriority.class`, `unknown class ${JSON.stringify(c)}`);
    int(io, 'priority', `${path}.ioPriority`, 0, 7);
  }
}

function validateHooks(h: Obj): void {
  for (const k of Object.keys(h)) {
    if (!(HOOK_STAGES as readonly string[]).includes(k)) fail(`hooks.${k}`, 'unknown hook stage');
    arr(h, k, 'hooks')?.forEach((x, i) => {
      const path = `hooks.${k}[${i}]`;
      const o = obj(x, path);
      absPath(str(o, 'path', path, true)!, `${path}.path`);
      strArr(o, 'args', path);
      strArr(o, 'env', path);
      int(o, 'timeout', path, 1, 86400);
    });
  }
}

function validateLinux(l: Obj, spec: Obj): void {
  const path = 'linux';
  const types = new Set<string>();
  arr(l, 'namespaces', path)?.forEach((n, i) => {
    const o = obj(n, `${path}.namespaces[${i}]`);
    const t = str(o, 'type', `${path}.namespaces[${i}]`, true)!;
    if (!(NAMESPACE_TYPES as readonly string[]).includes(t)) fail(`${path}.namespaces[${i}].type`, `unknown namespace type ${JSON.stringify(t)}`);
    if (types.has(t)) fail(`${path}.namespaces[${i}].type`, `duplicate namespace ${t}`);
    types.add(t);
    const p = str(o, 'path', `${path}.namespaces[${i}]`);
    if (p !== undefined && p !== '') absPath(p, `${path}.namespaces[${i}].path`);
  });
  const ownNs = (t: string): boolean => {
    const n = (l['namespaces'] as Obj[] | undefined)?.find((x) => x['type'] === t);
    return n !== undefined && !n['path'];
  };
  for (const k of ['uidMappings', 'gidMappings']) {
    const m = arr(l, k, path);
    validateMappings(m, `${path}.${k}`);
    if (m && m.length > 0 && !ownNs('user')) fail(`${path}.${k}`, 'needs a new user namespace');
  }
  if (ownNs('user') && !(arr(l, 'uidMappings', path)?.length && arr(l, 'gidMappings', path)?.length)) fail(`${path}.uidMappings`, 'a new user namespace needs uidMappings and gidMappings');
  if (spec['hostname'] !== undefined && spec['hostname'] !== '' && !ownNs('uts')) fail('hostname', 'setting the hostname needs a new uts namespace');
  if (spec['domainname'] !== undefined && spec['domainname'] !== '' && !ownNs('uts')) fail('domainname', 'setting the domainname needs a new uts namespace');
  const to = optObj(l, 'timeOffsets', path);
  if (to) {
    if (!ownNs('time')) fail(`${path}.timeOffsets`, 'needs a new time namespace');
    for (const [k, v] of Object.entries(to)) {
      if (k !== 'monotonic' && k !== 'boottime') fail(`${path}.timeOffsets.${k}`, 'must be monotonic or boottime');
      const o = obj(v, `${path}.timeOffsets.${k}`);
      int(o, 'secs', `${path}.timeOffsets.${k}`, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      int(o, 'nanosecs', `${path}.timeOffsets.${k}`, 0, 999999999);
    }
  }
  arr(l, 'devices', path)?.forEach((d, i) => {
    const p = `${path}.devices[${i}]`;
    const o = obj(d, p);
    const t = str(o, 'type', p, true)!;
    if (!['c', 'b', 'u', 'p'].includes(t)) fail(`${p}.type`, `unknown device type ${JSON.stringify(t)}`);
    absPath(str(o, 'path', p, true)!, `${p}.path`);
    if (t !== 'p') { int(o, 'major', p, 0, UINT32_MAX, true); int(o, 'minor', p, 0, UINT32_MAX, true); }
    int(o, 'fileMode', p, 0, 0o7777);
    int(o, 'uid', p, 0, UINT32_MAX);
    int(o, 'gid', p, 0, UINT32_MAX);
  });
  str(l, 'cgroupsPath', path);
  optObj(l, 'resources', path);
  const rp = str(l, 'rootfsPropagation', path);
  if (rp !== undefined && rp !== '' && !PROPAGATIONS.includes(rp)) fail(`${path}.rootfsPropagation`, `unknown propagation ${JSON.stringify(rp)}`);
  const sc = optObj(l, 'seccomp', path);
  if (sc) str(sc, 'defaultAction', `${path}.seccomp`, true);
  const sys = optObj(l, 'sysctl', path);
  if (sys) {
    for (const [k, v] of Object.entries(sys)) {
      if (typeof v !== 'string') fail(`${path}.sysctl.${k}`, 'must be a string');
      if (!/^[a-zA-Z0-9_.\-/]+$/.test(k) || k.split(/[./]/).includes('..')) fail(`${path}.sysctl`, `bad sysctl name ${JSON.stringify(k)}`);
      if (k.startsWith('net.') && !ownNs('network')) fail(`${path}.sysctl.${k}`, 'needs a new network namespace');
      if ((k.startsWith('kernel.shm') || k.startsWith('kernel.msg') || k === 'kernel.sem' || k.startsWith('fs.mqueue.')) && !ownNs('ipc')) fail(`${path}.sysctl.${k}`, 'needs a new ipc namespace');
      if ((k === 'kernel.hostname' || k === 'kernel.domainname') && !ownNs('uts')) fail(`${path}.sysctl.${k}`, 'needs a new uts namespace');
    }
  }
  for (const k of ['maskedPaths', 'readonlyPaths']) strArr(l, k, path)?.forEach((p, i) => absPath(p, `${path}.${k}[${i}]`));
  const pers = optObj(l, 'personality', path);
  if (pers) {
    const d = str(pers, 'domain', `${path}.personality`, true)!;
    if (d !== 'LINUX' && d !== 'LINUX32') fail(`${path}.personality.domain`, `unknown domain ${JSON.stringify(d)}`);
  }
}

/** Returns the config typed as a Spec, or throws a ConfigError naming the first bad field. */
export function validateSpec(raw: unknown, opts: { needProcess: boolean }): Spec {
  const spec = obj(raw, '(root)');
  const v = str(spec, 'ociVersion', '(root)', true)!;
  if (!/^1\.[0-9]+\.[0-9]+(-.+)?$/.test(v)) fail('ociVersion', `unsupported version ${JSON.stringify(v)} (dray-runc runs 1.x)`);
  const root = obj(spec['root'], 'root');
  const rp = str(root, 'path', 'root', true)!;
  if (rp === '') fail('root.path', 'must not be empty');
  bool(root, 'readonly', 'root');
  str(spec, 'hostname', '(root)');
  str(spec, 'domainname', '(root)');
  arr(spec, 'mounts', '(root)')?.forEach((m, i) => {
    const p = `mounts[${i}]`;
    const o = obj(m, p);
    absPath(str(o, 'destination', p, true)!, `${p}.destination`);
    str(o, 'type', p);
    str(o, 'source', p);
    const opts2 = strArr(o, 'options', p);
    if (opts2?.some((x) => x === 'idmap' || x === 'ridmap') || o['uidMappings'] !== undefined) fail(p, 'idmapped mounts are not supported');
  });
  if (spec['process'] !== undefined) validateProcess(obj(spec['process'], 'process'));
  else if (opts.needProcess) fail('process', 'is required to create a container');
  const hooks = optObj(spec, 'hooks', '(root)');
  if (hooks) validateHooks(hooks);
  const ann = optObj(spec, 'annotations', '(root)');
  if (ann) for (const [k, val] of Object.entries(ann)) if (typeof val !== 'string') fail(`annotations.${k}`, 'must be a string');
  const linux = optObj(spec, 'linux', '(root)');
  if (linux) validateLinux(linux, spec);
  else if (spec['hostname']) fail('hostname', 'setting the hostname needs a new uts namespace');
  return spec as unknown as Spec;
}
