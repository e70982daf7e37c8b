// An independent model of what a compiled filter must return, evaluated
// directly on the normalised policy with bigint arithmetic (no BPF): the
// oracle the compiler's programs are checked against through the interpreter.
import { ENOSYS, RET, RET_ACTION_MASK, SYSCALLS, X32_SYSCALL_BIT, type Arch } from '../../../src/runtime/seccomp/constants.ts';
import { validateSeccomp, type Condition, type SeccompPolicy } from '../../../src/runtime/seccomp/validate.ts';
import { decode, OP } from '../../../src/runtime/seccomp/bpf.ts';

const M64 = (1n << 64n) - 1n;

/** On a 32-bit architecture only the low words count (libseccomp). */
export function holds(c: Condition, arg: bigint, bits32 = false): boolean {
  const m = bits32 ? 0xffffffffn : M64;
  const a = arg & m;
  const v = c.value & m;
  switch (c.op) {
    case 'SCMP_CMP_EQ': return a === v;
    case 'SCMP_CMP_NE': return a !== v;
    case 'SCMP_CMP_LT': return a < v;
    case 'SCMP_CMP_LE': return a <= v;
    case 'SCMP_CMP_GT': return a > v;
    case 'SCMP_CMP_GE': return a >= v;
    // libseccomp masks valueTwo as well
    case 'SCMP_CMP_MASKED_EQ': return (a & v) === (c.valueTwo & v);
  }
}

/** The action for syscall `nr` of `arch` (an arch compiled into the filter). */
export function expected(spec: unknown, arch: Arch, nr: number, args: readonly bigint[] = []): number {
  const p: SeccompPolicy = validateSeccomp(spec);
  const table = SYSCALLS[arch];
  const names = new Set(Object.keys(table).filter((n) => table[n] === nr));
  let max = -1;
  for (const r of p.rules) for (const n of r.names) if (Object.hasOwn(table, n)) max = Math.max(max, table[n]!);
  const rules = p.rules.filter((r) => r.action !== p.defaultAction && r.names.some((n) => names.has(n)));
  const plain = rules.find((r) => r.args.length === 0);
  if (plain) return plain.action;
  const bits32 = arch === 'i386' || arch === 'x32';
  for (const r of rules) {
    const ok = (c: (typeof r.args)[number]): boolean => holds(c, args[c.index] ?? 0n, bits32);
    // runc: a rule naming one argument twice means "any condition", else "all conditions".
    const repeated = new Set(r.args.map((c) => c.index)).size !== r.args.length;
    if (repeated ? r.args.some(ok) : r.args.every(ok)) return r.action;
  }
  const act = (p.defaultAction & RET_ACTION_MASK) >>> 0;
  const allowLike = act === RET.ALLOW || act === RET.LOG || act === RET.TRACE;
  const unsigned = nr >>> 0;
  if (!allowLike && max >= 0 && unsigned > max) return (RET.ERRNO | ENOSYS) >>> 0;
  return p.defaultAction;
}

export function x32(nr: number): number {
  return (nr | X32_SYSCALL_BIT) >>> 0;
}

/** The kernel's static checks (sk_chk_filter + seccomp's): forward jumps in range, ends in a return. */
export function checkProgram(program: Buffer): void {
  const insns = decode(program);
  if (insns.length === 0 || insns.length > 4096) throw new Error(`bad length ${insns.length}`);
  insns.forEach((n, i) => {
    const cls = n.code & 7;
    if (n.code === OP.JA) {
      if (i + 1 + n.k >= insns.length) throw new Error(`ja past the end at ${i}`);
    } else if (cls === 5) {
      if (i + 1 + n.jt >= insns.length || i + 1 + n.jf >= insns.length) throw new Error(`jump past the end at ${i}`);
    } else if (n.code === OP.LD_W_ABS) {
      if (n.k % 4 || n.k >= 64) throw new Error(`bad load at ${i}`);
    }
  });
  const last = insns[insns.length - 1]!;
  if (last.code !== OP.RET_K && last.code !== OP.RET_A) throw new Error('does not end in a return');
}
