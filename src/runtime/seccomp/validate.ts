// Validates an OCI `linux.seccomp` object and normalises it into a policy
// the compiler can trust: actions as SECCOMP_RET_* values, values as bigint,
// flags as bits. Every error names the offending field.
import {
  ACTIONS,
  EPERM,
  FILTER_FLAG,
  MAX_ERRNO,
  OCI_ARCHES,
  OCI_FLAGS,
  OPERATORS,
  RET,
  knownSyscall,
  type Operator,
} from './constants.ts';

/** The OCI runtime spec's `linux.seccomp` (config-linux.json). */
export interface LinuxSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: LinuxSyscall[];
}
export interface LinuxSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}
/** value/valueTwo are uint64: pass bigint where JSON numbers would lose precision (> 2^53). */
export interface LinuxSeccompArg {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: string;
}

export interface Condition {
  index: number;
  op: Operator;
  value: bigint;
  valueTwo: bigint;
}
export interface Rule {
  names: string[];
  /** SECCOMP_RET_* with its data (errno, trace value). */
  action: number;
  args: Condition[];
}
export interface SeccompPolicy {
  defaultAction: number;
  /** OCI architecture names as given (SCMP_ARCH_*). */
  architectures: string[];
  /** SECCOMP_FILTER_FLAG_* bits to pass to seccomp(2), NEW_LISTENER included when notify. */
  flags: number;
  notify: boolean;
  listenerPath?: string;
  listenerMetadata?: string;
  rules: Rule[];
  /** What was accepted but ignored (unknown syscall names, flags without effect). */
  warnings: string[];
}

export class SeccompError extends Error {
  constructor(message: string) {
    super(`seccomp: ${message}`);
    this.name = 'SeccompError';
  }
}

const U64_MAX = (1n << 64n) - 1n;
const SYSCALL_NAME = /^[a-z_][a-z0-9_]*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go encoders write absent optional fields as null: treat null as absent. */
function withoutNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
}

function checkKeys(o: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new SeccompError(`${where}: unknown field "${k}"`);
  }
}

function uint32(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new SeccompError(`${where}: must be an integer from 0 to 4294967295, got ${JSON.stringify(v)}`);
  }
  return v;
}

function uint64(v: unknown, where: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  else throw new SeccompError(`${where}: must be an unsigned 64-bit integer, got ${JSON.stringify(v)}`);
  if (b < 0n || b > U64_MAX) throw new SeccompError(`${where}: ${b} is outside 0..2^64-1`);
  return b;
}

/** Resolves an action name and its errno/trace value into SECCOMP_RET_* | data. */
function action(name: unknown, errnoRet: unknown, where: string, errnoField: string): number {
  if (typeof name !== 'string' || !Object.hasOwn(ACTIONS, name)) {
    throw new SeccompError(
      `${where}: unknown action ${JSON.stringify(name)} (expected one of ${Object.keys(ACTIONS).join(', ')})`,
    );
  }
  const ret = ACTIONS[name]!;
  if (ret !== RET.ERRNO && ret !== RET.TRACE) {
    // The runtime spec: an errnoRet on an action without one is an error.
    if (errnoRet !== undefined) throw new SeccompError(`${errnoField}: ${name} takes no errno`);
    return ret;
  }
  const data = errnoRet === undefined ? EPERM : uint32(errnoRet, errnoField);
  if (ret === RET.ERRNO && data > MAX_ERRNO) {
    throw new SeccompError(`${errnoField}: errno ${data} is above the kernel's maximum ${MAX_ERRNO}`);
  }
  if (data > 0xffff) throw new SeccompError(`${errnoField}: ${data} does not fit in 16 bits`);
  return (ret | data) >>> 0;
}

function stringArray(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    throw new SeccompError(`${where}: must be an array of strings`);
  }
  return v as string[];
}

function condition(raw: unknown, where: string): Condition {
  if (!isObject(raw)) throw new SeccompError(`${where}: must be an object`);
  const a = withoutNulls(raw);
  checkKeys(a, ['index', 'value', 'valueTwo', 'op'], where);
  if (a.index === undefined) throw new SeccompError(`${where}.index: required`);
  const index = uint32(a.index, `${where}.index`);
  if (index > 5) throw new SeccompError(`${where}.index: ${index} is not an argument index (0 to 5)`);
  if (typeof a.op !== 'string' || !(OPERATORS as readonly string[]).includes(a.op)) {
    throw new SeccompError(
      `${where}.op: unknown operator ${JSON.stringify(a.op)} (expected one of ${OPERATORS.join(', ')})`,
    );
  }
  if (a.value === undefined) throw new SeccompError(`${where}.value: required`);
  return {
    index,
    op: a.op as Operator,
    value: uint64(a.value, `${where}.value`),
    valueTwo: a.valueTwo === undefined ? 0n : uint64(a.valueTwo, `${where}.valueTwo`),
  };
}

/**
 * Checks `spec` (linux.seccomp of a config.json) and returns the normalised
 * policy, or throws a SeccompError naming the field. Syscall names no table
 * knows are kept and reported in warnings: libseccomp and runc ignore them
 * too, because profiles name syscalls that only exist on other architectures
 * or newer kernels.
 */
export function validateSeccomp(raw: unknown, where = 'linux.seccomp'): SeccompPolicy {
  if (!isObject(raw)) throw new SeccompError(`${where}: must be an object`);
  const spec = withoutNulls(raw);
  checkKeys(
    spec,
    ['defaultAction', 'defaultErrnoRet', 'architectures', 'flags', 'listenerPath', 'listenerMetadata', 'syscalls'],
    where,
  );
  if (spec.defaultAction === undefined) throw new SeccompError(`${where}.defaultAction: required`);
  const defaultAction = action(spec.defaultAction, spec.defaultErrnoRet, `${where}.defaultAction`, `${where}.defaultErrnoRet`);
  if (defaultAction === RET.USER_NOTIF) {
    // The notifying process could not even send its listener fd (runc refuses it too).
    throw new SeccompError(`${where}.defaultAction: SCMP_ACT_NOTIFY cannot be the default action`);
  }
  const warnings: string[] = [];

  const architectures = spec.architectures === undefined ? [] : stringArray(spec.architectures, `${where}.architectures`);
  architectures.forEach((a, i) => {
    if (!Object.hasOwn(OCI_ARCHES, a)) {
      throw new SeccompError(
        `${where}.architectures[${i}]: unknown architecture ${JSON.stringify(a)} (expected SCMP_ARCH_*, e.g. ${Object.keys(OCI_ARCHES).slice(0, 4).join(', ')})`,
      );
    }
  });

  let flags = 0;
  const flagNames = spec.flags === undefined ? [] : stringArray(spec.flags, `${where}.flags`);
  flagNames.forEach((f, i) => {
    if (!Object.hasOwn(OCI_FLAGS, f)) {
      throw new SeccompError(
        `${where}.flags[${i}]: unknown flag ${JSON.stringify(f)} (expected one of ${Object.keys(OCI_FLAGS).join(', ')})`,
      );
    }
    flags |= OCI_FLAGS[f]!;
  });

  if (spec.syscalls !== undefined && !Array.isArray(spec.syscalls)) {
    throw new SeccompError(`${where}.syscalls: must be an array`);
  }
  const rules: Rule[] = [];
  const unknown = new Set<string>();
  let notify = false;
  ((spec.syscalls ?? []) as unknown[]).forEach((rawCall: unknown, i: number) => {
    const w = `${where}.syscalls[${i}]`;
    if (!isObject(rawCall)) throw new SeccompError(`${w}: must be an object`);
    const s = withoutNulls(rawCall);
    checkKeys(s, ['names', 'action', 'errnoRet', 'args'], w);
    if (s.names === undefined) throw new SeccompError(`${w}.names: required`);
    const names = stringArray(s.names, `${w}.names`);
    if (names.length === 0) throw new SeccompError(`${w}.names: must name at least one syscall`);
    names.forEach((n, j) => {
      if (!SYSCALL_NAME.test(n)) throw new SeccompError(`${w}.names[${j}]: ${JSON.stringify(n)} is not a syscall name`);
      if (!knownSyscall(n)) unknown.add(n);
    });
    if (s.action === undefined) throw new SeccompError(`${w}.action: required`);
    const act = action(s.action, s.errnoRet, `${w}.action`, `${w}.errnoRet`);
    if (act === RET.USER_NOTIF) {
      notify = true;
      // The runtime writes the listener fd's number over a pipe before exec.
      if (names.includes('write')) throw new SeccompError(`${w}: SCMP_ACT_NOTIFY cannot be used for write`);
    }
    if (s.args !== undefined && !Array.isArray(s.args)) throw new SeccompError(`${w}.args: must be an array`);
    const args = (s.args ?? []).map((a: unknown, j: number) => condition(a, `${w}.args[${j}]`));
    rules.push({ names, action: act, args });
  });
  if (unknown.size > 0) warnings.push(`unknown syscalls ignored: ${[...unknown].join(', ')}`);

  if (spec.listenerPath !== undefined && (typeof spec.listenerPath !== 'string' || spec.listenerPath === '')) {
    throw new SeccompError(`${where}.listenerPath: must be a non-empty string`);
  }
  if (spec.listenerMetadata !== undefined && typeof spec.listenerMetadata !== 'string') {
    throw new SeccompError(`${where}.listenerMetadata: must be a string`);
  }
  if (spec.listenerMetadata !== undefined && spec.listenerPath === undefined) {
    throw new SeccompError(`${where}.listenerMetadata: set without listenerPath`);
  }
  if (notify && spec.listenerPath === undefined) {
    throw new SeccompError(`${where}.listenerPath: required when a rule uses SCMP_ACT_NOTIFY`);
  }
  if (notify) {
    flags |= FILTER_FLAG.NEW_LISTENER;
    // TSYNC and NEW_LISTENER together need TSYNC_ESRCH (the executor is single-threaded anyway).
    if (flags & FILTER_FLAG.TSYNC) flags |= FILTER_FLAG.TSYNC_ESRCH;
  } else if (flags & FILTER_FLAG.WAIT_KILLABLE_RECV) {
    // The kernel refuses it without a listener; it has no meaning there.
    flags &= ~FILTER_FLAG.WAIT_KILLABLE_RECV;
    warnings.push('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no rule uses SCMP_ACT_NOTIFY');
  }

  const policy: SeccompPolicy = { defaultAction, architectures, flags, notify, rules, warnings };
  if (typeof spec.listenerPath === 'string') policy.listenerPath = spec.listenerPath;
  if (typeof spec.listenerMetadata === 'string') policy.listenerMetadata = spec.listenerMetadata;
  return policy;
}
