// Compiles a validated seccomp policy into a classic BPF program for
// seccomp(SECCOMP_SET_MODE_FILTER). Layout:
//   load arch; one `jeq AUDIT_ARCH` per architecture section; else bad-arch.
//   Per section: load nr; a binary search over the syscall number space,
//   split into ranges that share one outcome (a return, or a rule chain for
//   a syscall with argument conditions); the returns the tree jumps to;
//   then the rule chains. Far jumps get trampolines (see bpf.ts).
// Precedence (docs/runtime-seccomp.md): rules whose action equals the default
// are dropped (runc); for one syscall an unconditional rule beats the rules
// with conditions (libseccomp), the first unconditional one wins; otherwise
// the first rule, in config order, whose conditions all hold wins.
import { Assembler, DATA, Label, MAX_INSNS, OP, encode } from './bpf.ts';
import {
  AUDIT_ARCH,
  ENOSYS,
  OCI_ARCHES,
  RET,
  RET_ACTION_MASK,
  X32_SYSCALL_BIT,
  syscallMap,
  nativeArch,
  type Arch,
} from './constants.ts';
import { SeccompError, validateSeccomp, type Condition, type Rule, type SeccompPolicy } from './validate.ts';

export interface CompileOptions {
  /** The architecture the filter runs on (always in the filter); default: this machine's. */
  arch?: Arch;
  /** What a syscall of an architecture outside the filter gets; default KILL_PROCESS. */
  badArchAction?: number;
  /**
   * Numbers above the highest syscall the profile names get ENOSYS when the
   * default action denies, so that libc falls back from syscalls newer than
   * the profile (runc's patchbpf does the same). Default true.
   */
  enosysAboveKnown?: boolean;
}

export interface CompiledSeccomp {
  /** struct sock_filter[], 8 bytes per instruction, host (little-endian) order. */
  program: Buffer;
  /** Number of instructions. */
  length: number;
  /** SECCOMP_FILTER_FLAG_* for seccomp(2); NEW_LISTENER is set when notify. */
  flags: number;
  /** A rule uses SCMP_ACT_NOTIFY: the loader returns a listener fd to send to listenerPath. */
  notify: boolean;
  listenerPath?: string;
  listenerMetadata?: string;
  /** The architectures compiled in, native first. */
  arches: Arch[];
  warnings: string[];
}

type Outcome = { kind: 'ret'; value: number } | { kind: 'chain'; rules: Rule[]; label: Label; bits32: boolean };
interface Segment {
  lo: number;
  hi: number;
  out: Outcome;
}
interface TreeNode {
  label: Label;
  k: number;
  left: TreeNode | Label;
  right: TreeNode | Label;
}

const U32_MAX = 0xffffffff;

function allows(action: number): boolean {
  const a = (action & RET_ACTION_MASK) >>> 0;
  return a === RET.ALLOW || a === RET.LOG || a === RET.TRACE;
}

/**
 * runc's rule: when two conditions of one rule name the same argument, each
 * condition becomes a rule of its own (ORed), as runc has always done;
 * matching runc matters more than the range a reader might expect.
 */
function runcSplit(rule: Rule): Rule[] {
  const seen = new Set<number>();
  const repeated = rule.args.some((a) => seen.size === seen.add(a.index).size);
  return repeated ? rule.args.map((a) => ({ ...rule, args: [a] })) : [rule];
}

/** The outcome of each syscall number the policy names on one architecture, and the highest number named. */
function outcomes(policy: SeccompPolicy, arch: Arch): { byNr: Map<number, Outcome>; max: number | undefined } {
  const table = syscallMap(arch);
  const rulesByNr = new Map<number, Rule[]>();
  let max: number | undefined;
  for (const rule of policy.rules) {
    for (const name of new Set(rule.names)) {
      const nr = table.get(name);
      if (nr === undefined) continue;
      if (max === undefined || nr > max) max = nr;
      // Same action as the default: redundant, and runc drops it (libseccomp refuses it).
      if (rule.action === policy.defaultAction) continue;
      const list = rulesByNr.get(nr) ?? [];
      list.push(...runcSplit(rule));
      rulesByNr.set(nr, list);
    }
  }
  const byNr = new Map<number, Outcome>();
  for (const [nr, rules] of rulesByNr) {
    const plain = rules.find((r) => r.args.length === 0);
    const chain: Outcome = { kind: 'chain', rules, label: new Label(`chain ${nr}`), bits32: arch === 'i386' || arch === 'x32' };
    byNr.set(nr, plain ? { kind: 'ret', value: plain.action } : chain);
  }
  return { byNr, max };
}

/** Splits [lo, hi] into segments: named syscalls, the default below the highest named, ENOSYS or default above. */
function segmentsFor(
  policy: SeccompPolicy,
  arch: Arch,
  lo: number,
  hi: number,
  enosys: boolean,
  out: Segment[],
): void {
  const { byNr, max } = outcomes(policy, arch);
  const deflt: Outcome = { kind: 'ret', value: policy.defaultAction };
  const above: Outcome = enosys && max !== undefined ? { kind: 'ret', value: RET.ERRNO | ENOSYS } : deflt;
  let cur = lo;
  const nrs = [...byNr.keys()].filter((n) => n >= lo && n <= hi).sort((a, b) => a - b);
  for (const nr of nrs) {
    if (nr > cur) out.push({ lo: cur, hi: nr - 1, out: deflt });
    out.push({ lo: nr, hi: nr, out: byNr.get(nr)! });
    cur = nr + 1;
  }
  const limit = max === undefined ? lo - 1 : Math.min(max, hi);
  if (cur <= limit) {
    out.push({ lo: cur, hi: limit, out: deflt });
    cur = limit + 1;
  }
  if (cur <= hi) out.push({ lo: cur, hi, out: above });
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.kind === 'ret' && b.kind === 'ret') return a.value === b.value;
  return a === b;
}

function merge(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if (last && last.hi + 1 === s.lo && sameOutcome(last.out, s.out)) last.hi = s.hi;
    else out.push({ lo: s.lo, hi: s.hi, out: s.out });
  }
  return out;
}

/**
 * Emits the test of one condition: falls through when it holds, jumps to
 * `fail` when not. On 32-bit ABIs (x86, x32) only the low words count, as
 * in libseccomp (arguments are 32 bits there).
 */
function emitCondition(asm: Assembler, c: Condition, fail: Label, bits32: boolean): void {
  if (bits32) {
    const v = Number(c.value & 0xffffffffn);
    asm.load(DATA.argLo(c.index));
    switch (c.op) {
      case 'SCMP_CMP_EQ': asm.jump(OP.JEQ_K, v, null, fail); return;
      case 'SCMP_CMP_NE': asm.jump(OP.JEQ_K, v, fail, null); return;
      case 'SCMP_CMP_GT': asm.jump(OP.JGT_K, v, null, fail); return;
      case 'SCMP_CMP_GE': asm.jump(OP.JGE_K, v, null, fail); return;
      case 'SCMP_CMP_LT': asm.jump(OP.JGE_K, v, fail, null); return;
      case 'SCMP_CMP_LE': asm.jump(OP.JGT_K, v, fail, null); return;
      case 'SCMP_CMP_MASKED_EQ':
        asm.and(v);
        asm.jump(OP.JEQ_K, Number(c.valueTwo & c.value & 0xffffffffn), null, fail);
        return;
    }
  }
  const hi = Number(c.value >> 32n);
  const lo = Number(c.value & 0xffffffffn);
  const pass = new Label('pass');
  let passUsed = false;
  const usePass = () => ((passUsed = true), pass);
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      asm.load(DATA.argHi(c.index));
      asm.jump(OP.JEQ_K, hi, null, fail);
      asm.load(DATA.argLo(c.index));
      asm.jump(OP.JEQ_K, lo, null, fail);
      break;
    case 'SCMP_CMP_NE':
      asm.load(DATA.argHi(c.index));
      asm.jump(OP.JEQ_K, hi, null, usePass());
      asm.load(DATA.argLo(c.index));
      asm.jump(OP.JEQ_K, lo, fail, null);
      break;
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
      asm.load(DATA.argHi(c.index));
      asm.jump(OP.JGT_K, hi, usePass(), null);
      asm.jump(OP.JEQ_K, hi, null, fail);
      asm.load(DATA.argLo(c.index));
      asm.jump(c.op === 'SCMP_CMP_GT' ? OP.JGT_K : OP.JGE_K, lo, null, fail);
      break;
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE':
      asm.load(DATA.argHi(c.index));
      asm.jump(OP.JGT_K, hi, fail, null);
      asm.jump(OP.JEQ_K, hi, null, usePass());
      asm.load(DATA.argLo(c.index));
      // LT fails on lo >= v, LE on lo > v.
      asm.jump(c.op === 'SCMP_CMP_LT' ? OP.JGE_K : OP.JGT_K, lo, fail, null);
      break;
    case 'SCMP_CMP_MASKED_EQ': {
      // (arg & value) == (valueTwo & value), one 32-bit half at a time.
      // libseccomp masks valueTwo too, so bits of valueTwo outside the mask
      // are ignored rather than making the rule never match.
      const want = c.valueTwo & c.value;
      const halves: [number, number, number][] = [
        [DATA.argHi(c.index), Number(c.value >> 32n), Number(want >> 32n)],
        [DATA.argLo(c.index), Number(c.value & 0xffffffffn), Number(want & 0xffffffffn)],
      ];
      for (const [off, mask, w] of halves) {
        if (mask === 0) continue; // always equal
        asm.load(off);
        asm.and(mask);
        asm.jump(OP.JEQ_K, w, null, fail);
      }
      break;
    }
  }
  if (passUsed) asm.label(pass);
}

/**
 * Validates `spec` (an OCI linux.seccomp object) and compiles it for the
 * native architecture plus those it lists. Throws SeccompError.
 */
export function compileSeccomp(spec: unknown, opts: CompileOptions = {}): CompiledSeccomp {
  const policy = validateSeccomp(spec);
  const native = opts.arch ?? nativeArch();
  const badArch = opts.badArchAction ?? RET.KILL_PROCESS;
  const enosys = (opts.enosysAboveKnown ?? true) && !allows(policy.defaultAction);
  const warnings = [...policy.warnings];

  const arches: Arch[] = [native];
  for (const name of policy.architectures) {
    const a = OCI_ARCHES[name];
    if (a === null || a === undefined) {
      warnings.push(`${name}: no syscall table, its syscalls get the bad-architecture action`);
    } else if (!arches.includes(a)) arches.push(a);
  }

  const asm = new Assembler();

  // One section per audit arch: x86_64 and x32 share AUDIT_ARCH_X86_64 and
  // are told apart by the x32 bit of the syscall number.
  const sections: { audit: number; label: Label; segs: Segment[] }[] = [];
  for (const arch of arches) {
    const audit = AUDIT_ARCH[arch];
    if (sections.some((s) => s.audit === audit)) continue;
    const segs: Segment[] = [];
    if (arch === 'x86_64' || arch === 'x32') {
      const bad: Outcome = { kind: 'ret', value: badArch };
      if (arches.includes('x86_64')) segmentsFor(policy, 'x86_64', 0, X32_SYSCALL_BIT - 1, enosys, segs);
      else segs.push({ lo: 0, hi: X32_SYSCALL_BIT - 1, out: bad });
      if (arches.includes('x32')) segmentsFor(policy, 'x32', X32_SYSCALL_BIT, U32_MAX, enosys, segs);
      else {
        // An x32 syscall when x32 is not allowed is a foreign ABI; nr -1 (a
        // tracer skipping the call) is not, and gets the default (libseccomp).
        segs.push({ lo: X32_SYSCALL_BIT, hi: U32_MAX - 1, out: bad });
        segs.push({ lo: U32_MAX, hi: U32_MAX, out: { kind: 'ret', value: policy.defaultAction } });
      }
    } else {
      segmentsFor(policy, arch, 0, U32_MAX, enosys, segs);
    }
    sections.push({ audit, label: new Label(`arch ${arch}`), segs: merge(segs) });
  }

  asm.load(DATA.ARCH);
  for (const s of sections) asm.jump(OP.JEQ_K, s.audit, s.label, null);
  asm.ret(badArch);

  for (const s of sections) {
    asm.label(s.label);
    asm.load(DATA.NR);
    // The section's returns follow its search tree, so that the tree's
    // jumps to them stay short.
    const retLabels = new Map<number, Label>();
    const outLabel = (o: Outcome): Label => {
      if (o.kind === 'chain') return o.label;
      let l = retLabels.get(o.value >>> 0);
      if (!l) retLabels.set(o.value >>> 0, (l = new Label(`ret ${o.value}`)));
      return l;
    };
    const build = (lo: number, hi: number): TreeNode | Label => {
      if (lo === hi) return outLabel(s.segs[lo]!.out);
      const mid = (lo + hi) >> 1;
      return { label: new Label('node'), k: s.segs[mid]!.hi, left: build(lo, mid), right: build(mid + 1, hi) };
    };
    const emit = (n: TreeNode | Label): void => {
      if (n instanceof Label) return;
      asm.label(n.label);
      const target = (c: TreeNode | Label) => (c instanceof Label ? c : c.label);
      asm.jump(OP.JGT_K, n.k, target(n.right), target(n.left));
      emit(n.left);
      emit(n.right);
    };
    const root = build(0, s.segs.length - 1);
    if (root instanceof Label) asm.goto(root);
    else emit(root);

    for (const [v, l] of retLabels) {
      asm.label(l);
      asm.ret(v);
    }

    const chains = new Set<Outcome>();
    for (const seg of s.segs) if (seg.out.kind === 'chain') chains.add(seg.out);
    for (const ch of chains) {
      if (ch.kind !== 'chain') continue;
      asm.label(ch.label);
      // Each chain ends in its own copy of the default return: its
      // conditions then never jump far (far jumps cost trampolines).
      for (const rule of ch.rules) {
        const next = new Label('next rule');
        for (const c of rule.args) emitCondition(asm, c, next, ch.bits32);
        asm.ret(rule.action);
        asm.label(next);
      }
      asm.ret(policy.defaultAction);
    }
  }

  const insns = asm.assemble();
  if (insns.length > MAX_INSNS) {
    throw new SeccompError(`the filter needs ${insns.length} instructions, more than the kernel's ${MAX_INSNS}`);
  }
  const result: CompiledSeccomp = {
    program: encode(insns),
    length: insns.length,
    flags: policy.flags,
    notify: policy.notify,
    arches,
    warnings,
  };
  if (policy.listenerPath !== undefined) result.listenerPath = policy.listenerPath;
  if (policy.listenerMetadata !== undefined) result.listenerMetadata = policy.listenerMetadata;
  return result;
}
