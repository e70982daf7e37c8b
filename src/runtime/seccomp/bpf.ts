// Classic BPF for seccomp: opcodes, the seccomp_data layout, and an assembler
// with symbolic forward jumps. Conditional jumps reach at most 255
// instructions; the assembler inserts trampolines (a copy of the return, or
// an unconditional `ja` with its 32-bit offset) where a target is farther.

export const OP = {
  LD_W_ABS: 0x20, // A = seccomp_data[k] (32 bits)
  LD_IMM: 0x00,
  LD_MEM: 0x60,
  LDX_IMM: 0x01,
  LDX_MEM: 0x61,
  ST: 0x02,
  STX: 0x03,
  ALU_AND_K: 0x54,
  JA: 0x05,
  JEQ_K: 0x15,
  JGT_K: 0x25,
  JGE_K: 0x35,
  JSET_K: 0x45,
  RET_K: 0x06,
  RET_A: 0x16,
  TAX: 0x07,
  TXA: 0x87,
} as const;

/** Offsets in struct seccomp_data (little-endian: the low word of an arg comes first). */
export const DATA = {
  NR: 0,
  ARCH: 4,
  IP_LO: 8,
  IP_HI: 12,
  argLo: (i: number) => 16 + 8 * i,
  argHi: (i: number) => 20 + 8 * i,
  SIZE: 64,
} as const;

/** The kernel's BPF_MAXINSNS. */
export const MAX_INSNS = 4096;
const MAX_JUMP = 255;

export interface Insn {
  code: number;
  k: number;
  jt: number;
  jf: number;
}

/** A place in the program; bound to the instruction emitted after label(). */
export class Label {
  insn: Node | null = null;
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

interface Node {
  code: number;
  k: number;
  jt: Label | null;
  jf: Label | null;
  /** For JA: the target. */
  ja: Label | null;
  /** Index in the current layout. */
  pos: number;
  /** A label bound to this node, made on demand. */
  self: Label | null;
}

function node(code: number, k: number, jt: Label | null, jf: Label | null, ja: Label | null): Node {
  return { code, k, jt, jf, ja, pos: 0, self: null };
}

export class Assembler {
  private nodes: Node[] = [];
  private pending: Label[] = [];

  label(l: Label): void {
    if (l.insn !== null || this.pending.includes(l)) throw new Error(`bpf: label ${l.name} bound twice`);
    this.pending.push(l);
  }

  private push(n: Node): void {
    for (const l of this.pending) l.insn = n;
    this.pending = [];
    this.nodes.push(n);
  }

  /** A = seccomp_data[off]. */
  load(off: number): void {
    this.push(node(OP.LD_W_ABS, off, null, null, null));
  }
  and(k: number): void {
    this.push(node(OP.ALU_AND_K, k >>> 0, null, null, null));
  }
  ret(k: number): void {
    this.push(node(OP.RET_K, k >>> 0, null, null, null));
  }
  /** Conditional jump on A against k; null targets mean "the next instruction". */
  jump(code: number, k: number, jt: Label | null, jf: Label | null): void {
    this.push(node(code, k >>> 0, jt, jf, null));
  }
  goto(target: Label): void {
    this.push(node(OP.JA, 0, null, null, target));
  }

  /** Resolves jumps (inserting trampolines for far ones) and returns the instructions. */
  assemble(): Insn[] {
    if (this.pending.length > 0) throw new Error(`bpf: label ${this.pending[0]!.name} bound past the end`);
    const nodes = this.nodes;
    // A null target means the instruction after; make it explicit so that
    // inserting trampolines cannot change its meaning.
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      if (n.code === OP.JA || isCondJump(n.code)) {
        const next = nodes[i + 1];
        if ((n.jt === null || n.jf === null) && isCondJump(n.code) && next === undefined) {
          throw new Error('bpf: a conditional jump falls off the end');
        }
        if (isCondJump(n.code)) {
          if (n.jt === null) n.jt = labelAt(next!);
          if (n.jf === null) n.jf = labelAt(next!);
        }
      }
    }
    // Insertions only lengthen other jumps, so this reaches a fixed point.
    let nodesNow = nodes;
    for (let pass = 0; ; pass++) {
      if (pass > 64) throw new Error('bpf: jump layout does not converge');
      number(nodesNow);
      const out: Node[] = [];
      let changed = false;
      for (let i = 0; i < nodesNow.length; i++) {
        const n = nodesNow[i]!;
        out.push(n);
        if (!isCondJump(n.code)) continue;
        let placed: Node | null = null;
        for (const side of ['jt', 'jf'] as const) {
          const target = n[side]!.insn;
          if (target === null) throw new Error(`bpf: label ${n[side]!.name} never bound`);
          const d = target.pos - i - 1;
          if (d < 0) throw new Error(`bpf: backward jump to ${n[side]!.name}`);
          if (d <= MAX_JUMP) continue;
          // Both sides far to one target: one trampoline.
          if (placed && (placed.ja?.insn === target || (placed.code === OP.RET_K && placed.k === target.k && target.code === OP.RET_K))) {
            n[side] = labelAt(placed);
            continue;
          }
          // A return is copied; anything else is reached by `ja`.
          const t: Node = target.code === OP.RET_K ? node(OP.RET_K, target.k, null, null, null) : node(OP.JA, 0, null, null, n[side]!);
          out.push(t);
          placed = t;
          n[side] = labelAt(t);
          changed = true;
        }
      }
      nodesNow = out;
      if (!changed) break;
    }
    this.nodes = nodesNow;
    number(nodesNow);
    return nodesNow.map((n, i) => {
      if (n.code === OP.JA) return { code: n.code, k: n.ja!.insn!.pos - i - 1, jt: 0, jf: 0 };
      if (isCondJump(n.code)) {
        return { code: n.code, k: n.k, jt: n.jt!.insn!.pos - i - 1, jf: n.jf!.insn!.pos - i - 1 };
      }
      return { code: n.code, k: n.k, jt: 0, jf: 0 };
    });
  }
}

function number(nodes: Node[]): void {
  for (let i = 0; i < nodes.length; i++) nodes[i]!.pos = i;
}

function labelAt(n: Node): Label {
  if (!n.self) {
    n.self = new Label('anon');
    n.self.insn = n;
  }
  return n.self;
}

function isCondJump(code: number): boolean {
  return (code & 0x07) === 0x05 && code !== OP.JA;
}

/** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k, little-endian. */
export function encode(insns: Insn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((n, i) => {
    b.writeUInt16LE(n.code, i * 8);
    b.writeUInt8(n.jt, i * 8 + 2);
    b.writeUInt8(n.jf, i * 8 + 3);
    b.writeUInt32LE(n.k >>> 0, i * 8 + 4);
  });
  return b;
}

export function decode(program: Buffer): Insn[] {
  if (program.length % 8 !== 0) throw new Error(`bpf: program length ${program.length} is not a multiple of 8`);
  const out: Insn[] = [];
  for (let o = 0; o < program.length; o += 8) {
    out.push({
      code: program.readUInt16LE(o),
      jt: program.readUInt8(o + 2),
      jf: program.readUInt8(o + 3),
      k: program.readUInt32LE(o + 4),
    });
  }
  return out;
}
